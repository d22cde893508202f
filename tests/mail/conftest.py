"""The mail tests' personas have e-mail addresses (`<username>@example.org`), and felix, the
fr-desk coordinator cleared for TLP:RED, publishes what cora may not read."""

from typing import Any

import pytest

from intel import accounts
from intel.models import TLP, Member
from tests.conftest import Network

PREFERENCES = "/api/v1/me/email-preferences/"


@pytest.fixture
def mailboxes(network: Network) -> None:
    """Every persona but olga has an address: olga shows that without one nothing is sent."""
    for member in Member.objects.exclude(username="olga"):
        member.email = _address(member.username)
        member.save(update_fields=["email"])


@pytest.fixture
def felix(network: Network, mailboxes: None) -> Member:
    return accounts.member_create(
        organisation=network.fr_desk,
        username="felix",
        role="coordinator",
        clearance=TLP.RED,
        email=_address("felix"),
    )


def _address(username: str) -> str:
    return f"{username}@example.org"


def recipients(outbox: list[Any]) -> set[str]:
    """The usernames the e-mails of Django's test outbox went to."""
    return {address.split("@")[0] for message in outbox for address in message.to}
