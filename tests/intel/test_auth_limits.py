"""Repeated failed authentication is limited per client address and per account, on every
credential path: Bearer on `/api/v1/`, Basic and tokens on `/taxii2/`, and the portal's sign-in
page (`/login/`, where the admin's and the browsable API's send). Locked: 429 with `Retry-After`, even with the
right credentials, until the window has passed; every failure and lock is audited."""

import base64
import io
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from intel import accounts, auth_limits
from intel.models import AuditEvent, Member

LIMIT = 3
WINDOW = 900
ME = "/api/v1/me/"
INBOX = "/api/v1/notices/"
TAXII_ROOT = "/taxii2/api/"
TAXII = "application/taxii+json;version=2.1"
PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery staple"
HERE = "127.0.0.1"  # the test clients' REMOTE_ADDR
ELSEWHERE = "192.0.2.8"


class Clock:
    """The limiter's clock, moved by the tests instead of sleeping through a window."""

    def __init__(self) -> None:
        self.now = 1_800_000_100.0  # well inside a window: no test crosses into the next

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    moved = Clock()
    monkeypatch.setattr(auth_limits, "clock", moved)
    with override_settings(
        DIX_AUTH_FAILURE_LIMIT=LIMIT,
        DIX_AUTH_FAILURE_WINDOW=WINDOW,
        # Hashing passwords the cheap way: each failure checks one.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        yield moved


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def bearer(secret: str, address: str = HERE) -> Any:
    client = APIClient(REMOTE_ADDR=address)
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}")


def basic(username: str, secret: str, address: str = HERE, scheme: str = "Basic") -> Any:
    value = secret
    if scheme == "Basic":
        value = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return APIClient(REMOTE_ADDR=address).get(
        TAXII_ROOT, HTTP_ACCEPT=TAXII, HTTP_AUTHORIZATION=f"{scheme} {value}"
    )


def sign_in(path: str, username: str, password: str, address: str = HERE) -> Any:
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def with_password(member: Member) -> Member:
    member.set_password(PASSWORD)
    member.save(update_fields=["password"])
    return member


def assert_locked_problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM
    assert 0 < int(response["Retry-After"]) <= WINDOW
    body: dict[str, Any] = response.json()
    assert body["type"] == "urn:dix:problem:authentication-locked"
    assert body["status"] == 429
    return body


# --- Bearer on the API ---------------------------------------------------------------------------


def test_wrong_bearer_tokens_lock_the_address_then_the_window_ends_it(network, clock):
    secret = accounts.token_issue(member=network.bob, name="test").secret

    wrong = [bearer(f"dix_wrong-{n}").status_code for n in range(LIMIT)]
    locked = bearer(secret)
    elsewhere = bearer(secret, ELSEWHERE)
    clock.advance(WINDOW - 1)
    still_locked = bearer(secret)
    clock.advance(1)
    after = bearer(secret)

    assert wrong == [401] * LIMIT
    body = assert_locked_problem(locked)
    assert int(locked["Retry-After"]) == WINDOW
    assert "Try again in 900 seconds" in body["detail"]
    assert elsewhere.status_code == 200  # another address is not limited by this one's failures
    assert_locked_problem(still_locked)
    assert still_locked["Retry-After"] == "1"
    assert after.status_code == 200
    failed = events("authentication.failed")
    assert len(failed) == LIMIT
    assert {(e.client_address, e.detail["credential"], e.detail["path"]) for e in failed} == {
        (HERE, "token", ME)
    }
    (lock,) = events("authentication.locked")
    assert (lock.client_address, lock.actor_id) == (HERE, None)
    assert lock.detail["scope"] == "address"
    assert lock.detail["subject"] == HERE
    assert lock.detail["failures"] == LIMIT
    assert lock.detail["window_seconds"] == WINDOW


def test_attempts_refused_while_locked_are_neither_counted_nor_recorded(network, clock):
    for n in range(LIMIT):
        bearer(f"dix_wrong-{n}")
    before = AuditEvent.objects.count()

    refused = {bearer(f"dix_more-{n}").status_code for n in range(20)}
    clock.advance(WINDOW)
    secret = accounts.token_issue(member=network.bob, name="test").secret
    after_window = bearer(secret)

    assert refused == {429}
    assert AuditEvent.objects.count() == before + 1  # only the token issued just now
    assert after_window.status_code == 200  # the refused attempts did not extend the lock


def test_a_revoked_token_still_in_use_is_named_in_the_trail(network):
    issued = accounts.token_issue(member=network.bob, name="old-misp")
    accounts.token_revoke(token=issued.token, actor=network.bob)

    assert bearer(issued.secret).status_code == 401

    (failed,) = events("authentication.failed")
    assert (failed.object_type, failed.object_id) == ("token", str(issued.token.pk))
    assert failed.detail["member"] == "bob"
    assert failed.detail["token_state"] == "revoked"
    assert issued.secret not in str(failed.detail)


# --- TAXII ----------------------------------------------------------------------------------------


def test_wrong_taxii_basic_passwords_lock_the_account_and_the_address(network, clock):
    bob = with_password(network.bob)
    token = accounts.token_issue(member=bob, name="misp").secret
    charlie = accounts.token_issue(member=network.charlie, name="misp").secret

    wrong = [basic("bob", f"guess-{n}").status_code for n in range(LIMIT)]
    locked = basic("bob", token)
    locked_password = basic("bob", PASSWORD, ELSEWHERE)  # the account, from anywhere
    other_account_elsewhere = basic("charlie", charlie, ELSEWHERE)
    other_account_here = basic("charlie", charlie)  # the address, whatever the account
    clock.advance(WINDOW)
    after = basic("bob", token)

    assert wrong == [401] * LIMIT
    for response in (locked, locked_password, other_account_here):
        assert response.status_code == 429, response.content
        assert response["Content-Type"] == TAXII
        assert 0 < int(response["Retry-After"]) <= WINDOW
        assert response.json()["error_code"] == "authentication-locked"
        assert response.json()["http_status"] == "429"
    assert other_account_elsewhere.status_code == 200
    assert after.status_code == 200
    failed = events("authentication.failed")
    assert [(e.object_type, e.object_id, e.detail["credential"]) for e in failed] == [
        ("member", str(bob.pk), "password")
    ] * LIMIT
    locks = {e.detail["scope"]: e for e in events("authentication.locked")}
    assert set(locks) == {"address", "account"}
    assert (locks["account"].object_type, locks["account"].object_id) == ("member", str(bob.pk))
    assert locks["account"].detail["subject"] == "bob"


def test_taxii_token_schemes_count_against_the_address(network):
    token = accounts.token_issue(member=network.bob, name="opencti").secret

    wrong = [basic("", f"dix_wrong-{n}", scheme="Token").status_code for n in range(LIMIT)]
    locked = basic("", token, scheme="Bearer")

    assert wrong == [401] * LIMIT
    assert locked.status_code == 429
    assert locked.json()["error_code"] == "authentication-locked"


def test_another_members_token_under_a_name_counts_as_a_failure_on_that_name(network):
    charlie_token = accounts.token_issue(member=network.charlie, name="x").secret
    bob_token = accounts.token_issue(member=network.bob, name="x").secret

    wrong = [basic("bob", charlie_token, f"198.51.100.{n}").status_code for n in range(LIMIT)]

    assert wrong == [401] * LIMIT
    with_password(network.bob)
    assert basic("bob", PASSWORD, ELSEWHERE).status_code == 429  # bob's account is locked
    assert basic("bob", bob_token, ELSEWHERE).status_code == 200  # but not bob's token
    assert basic("charlie", charlie_token, ELSEWHERE).status_code == 200


def test_a_success_does_not_erase_another_clients_failures(network):
    bob = with_password(network.bob)
    for n in range(LIMIT - 1):
        assert basic("bob", f"guess-{n}").status_code == 401

    assert basic("bob", PASSWORD, ELSEWHERE).status_code == 200  # bob signs in meanwhile
    assert basic("bob", "guess-last", "198.51.100.9").status_code == 401

    assert basic("bob", PASSWORD, ELSEWHERE).status_code == 429
    assert events("authentication.locked")[0].object_id == str(bob.pk)


def test_unknown_account_names_are_limited_like_real_ones_and_not_kept(network):
    statuses = [
        basic("no-such-member", "hunter2", f"198.51.100.{n}").status_code for n in range(LIMIT)
    ]

    assert statuses == [401] * LIMIT
    assert basic("no-such-member", "hunter2", ELSEWHERE).status_code == 429
    for event in events("authentication.failed") + events("authentication.locked"):
        assert "no-such-member" not in str(event.detail)
        assert event.object_type == ""


# --- the sign-in pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/"])
def test_wrong_passwords_on_a_sign_in_page_lock_it(network, clock, path):
    cora = with_password(network.cora)
    cora.is_staff = True
    cora.save(update_fields=["is_staff"])

    wrong = [sign_in(path, "cora", f"guess-{n}") for n in range(LIMIT)]
    locked_client = Client()
    locked = locked_client.post(path, {"username": "cora", "password": PASSWORD})
    elsewhere = sign_in(path, "cora", PASSWORD, ELSEWHERE)
    other_account_elsewhere = sign_in(path, "bob", "any", ELSEWHERE)
    clock.advance(WINDOW)
    after = sign_in(path, "cora", PASSWORD)

    assert [r.status_code for r in wrong] == [200] * LIMIT  # the form again, with its error
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/html")
    assert 0 < int(locked["Retry-After"]) <= WINDOW
    assert b"Too many failed" in locked.content
    assert "_auth_user_id" not in locked_client.session  # not signed in
    assert elsewhere.status_code == 429  # cora's account is locked
    assert other_account_elsewhere.status_code == 200  # a wrong password, answered as usual
    assert after.status_code == 302
    failed = events("authentication.failed")
    assert {(e.object_id, e.detail["path"], e.detail["credential"]) for e in failed} >= {
        (str(cora.pk), path, "password")
    }
    assert {e.detail["scope"] for e in events("authentication.locked")} == {"address", "account"}


def test_the_sign_in_page_and_the_api_share_one_count_per_address(network):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    bearer("dix_wrong-1")
    sign_in("/login/", "someone", "guess")
    basic("someone-else", "guess")

    assert bearer(secret).status_code == 429


# --- addresses -------------------------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(network):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    for n in range(LIMIT):
        APIClient().get(
            ME, HTTP_AUTHORIZATION="Bearer dix_wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )

    spoofed = APIClient().get(
        ME, HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )

    assert spoofed.status_code == 429
    assert {e.client_address for e in events("authentication.failed")} == {HERE}


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(network):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    proxy = APIClient(REMOTE_ADDR="10.0.0.5")

    def through_proxy(token: str, forwarded_for: str) -> Any:
        return proxy.get(
            ME, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_FOR=forwarded_for
        )

    with override_settings(DIX_TRUSTED_PROXIES=[ipaddress.ip_network("10.0.0.0/8")]):
        # What the attacker wrote in the header is left of what the proxy added.
        wrong = [through_proxy("dix_wrong", f"1.2.3.{n}, 198.51.100.1") for n in range(LIMIT)]
        locked = through_proxy(secret, "198.51.100.1")
        other_client = through_proxy(secret, "198.51.100.2")

    assert [r.status_code for r in wrong] == [401] * LIMIT
    assert locked.status_code == 429
    assert other_client.status_code == 200
    assert {e.client_address for e in events("authentication.failed")} == {"198.51.100.1"}


def test_ipv6_clients_are_counted_by_their_64(network):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    for n in range(LIMIT):
        bearer("dix_wrong", f"2001:db8:0:1::{n + 1}")

    assert bearer(secret, "2001:db8:0:1::ffff").status_code == 429
    assert bearer(secret, "2001:db8:0:2::1").status_code == 200
    assert events("authentication.locked")[0].detail["subject"] == "2001:db8:0:1::/64"


# --- unlocking -------------------------------------------------------------------------------------


def test_an_operator_unlocks_an_address_and_an_account(network):
    bob = with_password(network.bob)
    for n in range(LIMIT):
        basic("bob", f"guess-{n}")
    assert basic("bob", PASSWORD).status_code == 429

    out = io.StringIO()
    call_command("auth_unlock", "--address", HERE, stdout=out)
    still_account = basic("bob", PASSWORD)
    call_command("auth_unlock", "--account", "bob", stdout=out)
    unlocked = basic("bob", PASSWORD)

    assert still_account.status_code == 429  # the account is locked too
    assert unlocked.status_code == 200
    assert "Address 127.0.0.1 was locked" in out.getvalue()
    assert "Account bob was locked" in out.getvalue()
    first, second = events("authentication.unlocked")
    assert (first.detail["address"], first.detail["was_locked"]) == (HERE, ["address"])
    assert (second.object_type, second.object_id) == ("member", str(bob.pk))
    assert second.detail["was_locked"] == ["account"]


def test_auth_unlock_needs_something_to_unlock(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Name an --address"):
        call_command("auth_unlock")
    with pytest.raises(CommandError, match="Not an IP address"):
        call_command("auth_unlock", "--address", "example.org")


def test_the_inbox_304_shortcut_does_not_pass_a_locked_address(network):
    secret = accounts.token_issue(member=network.bob, name="poller").secret
    poller = APIClient()
    poller.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    etag = poller.get(INBOX)["ETag"]
    assert poller.get(INBOX, HTTP_IF_NONE_MATCH=etag).status_code == 304
    for n in range(LIMIT):
        bearer(f"dix_wrong-{n}")

    assert_locked_problem(poller.get(INBOX, HTTP_IF_NONE_MATCH=etag))


def test_a_malformed_trusted_proxy_stops_start_up_naming_the_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_networks

    monkeypatch.setenv("DIX_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.org")
    with pytest.raises(ImproperlyConfigured, match=r"DIX_TRUSTED_PROXIES .*proxy\.example\.org"):
        env_networks("DIX_TRUSTED_PROXIES", [])
    monkeypatch.setenv("DIX_TRUSTED_PROXIES", "10.0.0.5, 2001:db8::/32")
    assert env_networks("DIX_TRUSTED_PROXIES", []) == [
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("2001:db8::/32"),
    ]


# --- a locked account and its tokens ----------------------------------------------------------------


def test_a_locked_account_still_takes_its_members_tokens(network):
    """Knowing a member's name is not enough to stop their TAXII pulls: the account's lock
    guards password checks, not tokens (256 random bits, limited by the address)."""
    bob = with_password(network.bob)
    token = accounts.token_issue(member=bob, name="misp").secret
    wrong = [basic("bob", f"guess-{n}", ELSEWHERE).status_code for n in range(LIMIT)]

    assert wrong == [401] * LIMIT
    assert basic("bob", PASSWORD, "198.51.100.7").status_code == 429  # the account is locked
    assert basic("bob", token).status_code == 200  # its token, as MISP sends it
    assert basic("BOB", token, "198.51.100.8").status_code == 200  # the lock's spelling too
    assert basic("bob", token, scheme="Token").status_code == 200
    assert basic("bob", token, ELSEWHERE).status_code == 429  # the address is locked


def test_a_locked_account_is_no_way_to_try_tokens_without_limit(network):
    """A token under a locked name is looked up before the lock refuses it: a wrong one counts
    against the address, as it would under any other name."""
    with_password(network.bob)
    charlie = accounts.token_issue(member=network.charlie, name="misp").secret
    for n in range(LIMIT):
        basic("bob", f"guess-{n}", f"198.51.100.{n}")

    tried = [basic("bob", f"dix_wrong-{n}").status_code for n in range(LIMIT)]

    assert tried == [429] * LIMIT  # the account's lock answers
    assert basic("charlie", charlie).status_code == 429  # and this address is now locked
    failed = [e for e in events("authentication.failed") if e.client_address == HERE]
    assert [e.detail["credential"] for e in failed] == ["token"] * LIMIT


# --- a sliding window, and guesses in flight together -----------------------------------------------


def test_failures_either_side_of_a_round_time_are_one_window(network, clock):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    clock.now = 1_800_000_899.0  # a second before a multiple of the window
    before = [bearer(f"dix_wrong-{n}").status_code for n in range(LIMIT - 1)]
    clock.advance(2)

    last = bearer("dix_wrong-last")
    after = bearer(secret)

    assert [*before, last.status_code] == [401] * LIMIT
    assert_locked_problem(after)
    assert int(after["Retry-After"]) == WINDOW


def test_failures_older_than_the_window_no_longer_count(network, clock):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    for n in range(LIMIT - 1):
        bearer(f"dix_wrong-{n}")
    clock.advance(WINDOW)
    for n in range(LIMIT - 1):
        assert bearer(f"dix_again-{n}").status_code == 401

    assert bearer(secret).status_code == 200
    assert events("authentication.locked") == []


def test_password_guesses_in_flight_together_are_limited_as_if_one_after_another(
    network, monkeypatch
):
    """Each guess arrives while the one before is still being checked: the last, the right
    password, must not get through because none of the others had failed yet."""
    from django.contrib.auth.backends import ModelBackend

    with_password(network.bob)
    arriving = [f"guess-{n}" for n in range(1, LIMIT)] + [PASSWORD]
    answers: dict[str, int] = {}
    checked: list[str] = []
    verify = ModelBackend.authenticate

    def verify_while_the_next_arrives(
        self: Any, request: Any, username: str, password: str, **kwargs: Any
    ) -> Any:
        if arriving:
            following = arriving.pop(0)
            answers[following] = basic("bob", following, f"198.51.100.{len(arriving)}").status_code
        checked.append(password)
        return verify(self, request, username, password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", verify_while_the_next_arrives)
    first = basic("bob", "guess-0")

    assert answers[PASSWORD] == 429
    assert PASSWORD not in checked
    assert len(checked) <= LIMIT
    assert first.status_code == 401


def test_token_guesses_in_flight_together_are_recorded_up_to_the_limit(network, monkeypatch):
    from intel.api import auth

    arriving = [f"dix_wrong-{n}" for n in range(1, LIMIT + 3)]
    answers: list[int] = []
    lookup = auth.authenticate_token

    def lookup_while_the_next_arrives(raw: str) -> Any:
        if arriving:
            answers.append(bearer(arriving.pop(0)).status_code)
        return lookup(raw)

    monkeypatch.setattr(auth, "authenticate_token", lookup_while_the_next_arrives)
    answers.append(bearer("dix_wrong-0").status_code)

    assert sorted(answers) == [401] * LIMIT + [429] * 3
    assert len(events("authentication.failed")) == LIMIT
    assert len(events("authentication.locked")) == 1


# --- a Unix socket --------------------------------------------------------------------------------


def test_behind_a_unix_socket_the_unknown_peer_is_still_limited_and_audited_once(network):
    """gunicorn on a Unix socket gives no REMOTE_ADDR: the peer is the proxy in front of it,
    and without `DIX_TRUSTED_PROXIES=unix` all its clients are one unknown address."""
    secret = accounts.token_issue(member=network.bob, name="test").secret

    wrong = [bearer(f"dix_wrong-{n}", "").status_code for n in range(3 * LIMIT)]
    right = bearer(secret, "")

    assert wrong == [401] * LIMIT + [429] * (2 * LIMIT)
    assert_locked_problem(right)
    assert bearer(secret).status_code == 200  # a client with an address is not that one
    assert len(events("authentication.failed")) == LIMIT
    (lock,) = events("authentication.locked")
    assert (lock.client_address, lock.detail["subject"]) == (None, "unknown")

    call_command("auth_unlock", "--address", "unknown", stdout=io.StringIO())
    assert bearer(secret, "").status_code == 200


def test_a_trusted_unix_socket_proxy_forwards_each_clients_address(network):
    secret = accounts.token_issue(member=network.bob, name="test").secret
    proxy = APIClient(REMOTE_ADDR="")

    def through_socket(token: str, forwarded_for: str | None) -> Any:
        extra = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
        return proxy.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)

    with override_settings(DIX_TRUSTED_UNIX_SOCKET=True):
        wrong = [through_socket("dix_wrong", f"1.2.3.{n}, 198.51.100.1") for n in range(LIMIT)]
        locked = through_socket(secret, "198.51.100.1")
        other_client = through_socket(secret, "198.51.100.2")
        unnamed = [through_socket("dix_wrong", None).status_code for n in range(LIMIT + 1)]

    assert [r.status_code for r in wrong] == [401] * LIMIT
    assert locked.status_code == 429
    assert other_client.status_code == 200
    assert unnamed == [401] * LIMIT + [429]  # no header: the unknown address, still limited
    assert [e.client_address for e in events("authentication.failed")] == ["198.51.100.1"] * (
        LIMIT
    ) + [None] * LIMIT


def test_unix_in_trusted_proxies_trusts_the_socket_peer(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_networks

    monkeypatch.setenv("DIX_TRUSTED_PROXIES", "unix, 10.0.0.5")
    assert env_networks("DIX_TRUSTED_PROXIES", [], keywords=("unix",)) == [
        ipaddress.ip_network("10.0.0.5/32")
    ]
    with pytest.raises(ImproperlyConfigured, match="DIX_TRUSTED_PROXIES"):
        env_networks("DIX_TRUSTED_PROXIES", [])
