"""The inbox's 304 path keeps each token's row per process (`notices.inbox.TokenRows`) while
the shared-data counter stands still. These tests poll with a validator that has just been
answered 304 — so the row is kept — then change the token, member or clearance the way a
desk or the secretariat would (the API, the admin), and expect the very next poll to be
refused or answered in full."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, Member
from notices import inbox
from tests.conftest import Network
from tests.helpers.webhooks import NOTICES, issue

__all__ = ["issue"]  # fixtures used by name
TOKENS = "/api/v1/tokens/"


@pytest.fixture(autouse=True)
def _fresh_rows() -> Iterator[None]:
    inbox.token_rows.clear()
    yield
    inbox.token_rows.clear()


def poller(member: Member, **token: Any) -> tuple[APIClient, Any]:
    issued = accounts.token_issue(member=member, name="poller", **token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return client, issued.token


def validator_kept(client: APIClient) -> str:
    """Poll until the 304 is answered from the kept row, with no query at all."""
    etag: str = client.get(NOTICES)["ETag"]
    assert client.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with CaptureQueriesContext(connection) as queries:
        assert client.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(queries) == 0, [q["sql"] for q in queries]
    return etag


def admin_edit_member(admin: Client, member: Member, **changes: Any) -> None:
    """Post the member's change form in the admin, as the secretariat's superuser would."""
    member.refresh_from_db()
    form = {
        "username": member.username,
        "email": member.email,
        "first_name": "",
        "last_name": "",
        "date_joined_0": member.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": member.date_joined.strftime("%H:%M:%S"),
        "organisation": member.organisation_id or "",
        "role": member.role,
        "clearance": member.clearance,
        "is_active": "on",
    } | changes
    response = admin.post(
        f"/admin/intel/member/{member.pk}/change/", {k: v for k, v in form.items() if v is not None}
    )
    assert response.status_code == 302, response.content[:2000]


@pytest.fixture
def admin(network: Network) -> Client:
    root = Member.objects.create_superuser(username="root", password="x")
    client = Client()
    client.force_login(root)
    return client


def test_a_kept_row_answers_304_without_a_query(network, issue):
    issue()
    bob, _ = poller(network.bob)
    validator_kept(bob)


def test_a_revoked_token_is_refused_at_the_next_poll(network, issue):
    issue()
    bob, token = poller(network.bob)
    etag = validator_kept(bob)
    assert bob.delete(f"{TOKENS}{token.pk}/").status_code == 204  # revokes itself
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_a_token_revoked_by_the_secretariat_in_the_admin_is_refused(network, issue, admin):
    issue()
    bob, token = poller(network.bob)
    etag = validator_kept(bob)
    response = admin.post(
        "/admin/intel/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_a_deactivated_member_is_refused_at_the_next_poll(network, issue, admin):
    issue()
    bob, _ = poller(network.bob)
    etag = validator_kept(bob)
    admin_edit_member(admin, network.bob, is_active=None)
    assert not Member.objects.get(pk=network.bob.pk).is_active
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_a_lowered_clearance_gets_a_full_answer_at_the_next_poll(network, api, issue, admin):
    green = issue(title="Green")
    amber = issue(title="Amber", tlp=TLP.AMBER)
    bob, _ = poller(network.bob)
    etag = validator_kept(bob)
    assert {n["id"] for n in bob.get(NOTICES).json()["results"]} == {green["id"], amber["id"]}
    admin_edit_member(admin, network.bob, clearance=TLP.GREEN)
    lowered = bob.get(NOTICES, HTTP_IF_NONE_MATCH=etag)
    assert lowered.status_code == 200
    assert [n["id"] for n in lowered.json()["results"]] == [green["id"]]
    assert lowered["ETag"] != etag
    # The new validator is kept in its turn.
    assert bob.get(NOTICES, HTTP_IF_NONE_MATCH=lowered["ETag"]).status_code == 304


def test_a_moved_organisation_gets_a_full_answer_at_the_next_poll(network, issue):
    issue()
    dave, _ = poller(network.dave)
    etag = validator_kept(dave)
    # The sponsored authority gets another sponsor (a superuser's edit, as in the admin).
    network.fr_prison.sponsor = network.be_desk
    network.fr_prison.save()
    moved = dave.get(NOTICES, HTTP_IF_NONE_MATCH=etag)
    assert moved.status_code == 200
    assert moved["ETag"] != etag


def test_an_expired_token_is_refused_at_the_next_poll(network, issue, monkeypatch):
    issue()
    bob, _ = poller(network.bob)
    expiring = bob.post(
        TOKENS, {"name": "an hour", "expires_at": timezone.now() + timedelta(hours=1)}
    )
    assert expiring.status_code == 201, expiring.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {expiring.json()['token']}")
    etag = validator_kept(client)
    later = timezone.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # no write: only time passes
    assert client.get(NOTICES, HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_rows_are_bounded_and_least_recently_used_go_first() -> None:
    def row(member_id: int) -> inbox.TokenRow:
        return inbox.TokenRow(member_id, 1, "BE", None, TLP.AMBER, None)

    rows = inbox.TokenRows(size=2)
    rows.put("a", 7, row(1))
    rows.put("b", 7, row(2))
    assert rows.get("a", 7) == row(1)  # "a" is now the most recent
    rows.put("c", 7, row(3))
    assert rows.get("b", 7) is None
    assert rows.get("a", 7) == row(1)
    assert rows.get("c", 7) == row(3)
    assert rows.get("a", 8) is None  # another counter value: looked up again
    assert rows.get("a", 7) is None  # and the stale copy is gone
