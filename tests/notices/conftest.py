"""The extra members and the `issue` factory of the notice tests.

Unless a test says otherwise a notice is drafted by alice (fr-desk analyst) and published by
felix (fr-desk coordinator); bruno (be-desk) and emil (be-customs) hold AMBER+STRICT
clearance, so that only the organisation rule decides what they receive.
"""

from collections.abc import Callable
from typing import Any

import pytest

from intel import accounts
from intel.models import TLP, Member
from tests.conftest import Network
from tests.helpers.notices import Api, Extra, draft, publish


@pytest.fixture
def extra(network: Network) -> Extra:
    def member(username: str, org: Any, role: str, clearance: str) -> Member:
        return accounts.member_create(
            organisation=org, username=username, role=role, clearance=clearance
        )

    return Extra(
        felix=member("felix", network.fr_desk, "coordinator", TLP.RED),
        bruno=member("bruno", network.be_desk, "desk_officer", TLP.AMBER_STRICT),
        emil=member("emil", network.be_customs, "desk_officer", TLP.AMBER_STRICT),
    )


@pytest.fixture
def issue(network: Network, extra: Extra, api: Api) -> Callable[..., dict[str, Any]]:
    """alice drafts, felix publishes; returns the published notice as felix sees it."""
    alice, felix = api(network.alice), api(extra.felix)

    def make(**fields: Any) -> dict[str, Any]:
        return publish(felix, draft(alice, **fields)["id"])

    return make
