"""Signing in to the portal: a password, then a second factor for every member cleared above
TLP:GREEN (enrolled with a QR code on first sign-in), recovery codes, limits and audit."""

import re

import pytest
from django.test import Client, override_settings

from intel.models import AuditEvent, Authenticator
from tests.portal.conftest import (
    PASSWORD,
    code_for,
    waited,
    with_authenticator,
    with_password,
)


def sign_in(client: Client, username: str, password: str = PASSWORD) -> str:
    answer = client.post("/login/", {"username": username, "password": password})
    return answer["Location"] if answer.status_code == 302 else ""


def test_the_home_page_asks_a_stranger_to_sign_in(client: Client, db: None) -> None:
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer["Location"] == "/login/?next=/"
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content


def test_a_green_member_signs_in_with_a_password_only(client: Client, network) -> None:
    with_password(network.olga)
    assert sign_in(client, "olga") == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"olga" in home.content


def test_an_amber_member_enrols_an_authenticator_on_first_sign_in(client: Client, network) -> None:
    with_password(network.bob)
    assert sign_in(client, "bob") == "/login/enrol/"
    # Not signed in yet: neither the portal nor the API accepts the half-open session.
    assert client.get("/")["Location"].startswith("/login/")
    assert client.get("/api/v1/me/").status_code in (401, 403)
    enrol = client.get("/login/enrol/")
    assert b"<svg" in enrol.content  # the QR code, inline
    secret = re.search(rb'<code class="secret">([A-Z2-7]+)</code>', enrol.content)
    assert secret is not None
    device = Authenticator.objects.get(user=network.bob, confirmed=False)
    wrong = client.post("/login/enrol/", {"code": "000000"})
    assert b"does not match" in wrong.content
    waited(network.bob)
    answer = client.post("/login/enrol/", {"code": code_for(device)})
    assert answer["Location"] == "/account/recovery-codes/"
    codes = re.findall(
        rb"<li><code>([a-z2-7-]{19})</code></li>", client.get(answer["Location"]).content
    )
    assert len(codes) == 10
    # Shown once.
    assert client.get("/account/recovery-codes/")["Location"] == "/account/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").json()["username"] == "bob"


def test_a_wrong_code_is_refused_and_recorded(client: Client, network) -> None:
    device = with_authenticator(network.bob)
    assert sign_in(client, "bob") == "/login/verify/"
    answer = client.post("/login/verify/", {"code": "123456"})
    assert answer.status_code == 200
    assert b"wrong" in answer.content
    event = AuditEvent.objects.filter(action="authentication.failed").latest("pk")
    assert event.detail["credential"] == "second_factor"
    assert client.get("/")["Location"].startswith("/login/")
    waited(network.bob)
    answer = client.post("/login/verify/", {"code": code_for(device)})
    assert answer["Location"] == "/"


def test_a_recovery_code_signs_in_once(client: Client, network) -> None:
    with_authenticator(network.bob)
    assert sign_in(client, "bob") == "/login/verify/"
    client.post("/login/verify/", {"code": code_for(Authenticator.objects.get(user=network.bob))})
    client.post("/account/recovery-codes/new/")
    page = client.get("/account/recovery-codes/").content
    code = re.findall(rb"<li><code>([a-z2-7-]{19})</code></li>", page)[0].decode()
    client.post("/logout/")
    for attempt in ("first", "second"):
        other = Client()
        assert sign_in(other, "bob") == "/login/verify/"
        answer = other.post("/login/verify/", {"code": code.upper().replace("-", " ")})
        if attempt == "first":
            assert answer["Location"] == "/"
        else:
            assert answer.status_code == 200  # used up


def test_recovery_codes_are_not_stored_in_clear(client: Client, network) -> None:
    from django_otp.plugins.otp_static.models import StaticToken

    portal_client = Client()
    with_authenticator(network.bob)
    sign_in(portal_client, "bob")
    portal_client.post(
        "/login/verify/", {"code": code_for(Authenticator.objects.get(user=network.bob))}
    )
    portal_client.post("/account/recovery-codes/new/")
    page = portal_client.get("/account/recovery-codes/").content.decode()
    codes = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", page)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored
    assert not {c.replace("-", "") for c in codes} & stored
    assert not set(codes) & stored


@override_settings(DIX_AUTH_FAILURE_LIMIT=3)
def test_wrong_passwords_are_limited_and_recorded(client: Client, network) -> None:
    with_password(network.olga)
    for _ in range(3):
        assert client.post("/login/", {"username": "olga", "password": "nope"}).status_code == 200
    locked = client.post("/login/", {"username": "olga", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked["Retry-After"]
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("authentication.failed") == 3
    assert "authentication.locked" in actions


def test_the_sign_in_form_needs_its_csrf_token(network) -> None:
    with_password(network.olga)
    strict = Client(enforce_csrf_checks=True)
    answer = strict.post("/login/", {"username": "olga", "password": PASSWORD})
    assert answer.status_code == 403


def test_the_other_sign_in_pages_send_to_the_portal(client: Client, db: None) -> None:
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/login/?next=/admin/"
    assert client.get("/api-auth/login/?next=/api/v1/")["Location"] == "/login/?next=/api/v1/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_next_never_leaves_dix(client: Client, network, target: str) -> None:
    with_password(network.olga)
    answer = client.post("/login/", {"username": "olga", "password": PASSWORD, "next": target})
    assert answer["Location"] == "/"


def test_a_second_authenticator_cannot_be_enrolled_half_signed_in(client: Client, network) -> None:
    """Knowing the password is not enough to enrol one's own phone in place of the member's."""
    with_authenticator(network.bob)
    assert sign_in(client, "bob") == "/login/verify/"
    assert client.get("/login/enrol/")["Location"] == "/login/verify/"
    assert client.post("/login/enrol/", {"code": "123456"})["Location"] == "/login/verify/"
    assert not Authenticator.objects.filter(user=network.bob, confirmed=False).exists()
