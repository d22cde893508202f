"""Tokens, identity, the directory, errors and rate limits through the HTTP API, and the
management commands an operator runs."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from intel import accounts
from intel.models import (
    TLP,
    ApiToken,
    Attachment,
    DeviceProfile,
    Identifier,
    Member,
    Organisation,
    ProfileRevision,
)

TOKENS = "/api/v1/tokens/"
ME = "/api/v1/me/"
PROBLEM = "application/problem+json"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:dix:problem:{slug}"
    assert body["status"] == status
    assert body["title"]
    return body


# --- Tokens -----------------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_as_hash_only(network, api):
    client = api(network.alice)

    created = client.post(TOKENS, {"name": "inbox-sync"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["token"]
    assert secret.startswith("dix_")
    assert len(secret) > 40
    assert body["name"] == "inbox-sync"
    assert body["key_prefix"] == secret[:10]
    assert body["expires_at"] is None
    assert body["revoked_at"] is None

    listed = client.get(TOKENS)
    assert listed.status_code == 200
    items = listed.json()["results"]
    assert {item["name"] for item in items} == {"test", "inbox-sync"}  # the fixture's and ours
    assert all("token" not in item for item in items)
    assert secret not in listed.content.decode()
    assert secret not in client.get(f"{TOKENS}").content.decode()

    row = ApiToken.objects.get(pk=body["id"])
    assert row.member == network.alice
    assert row.key_hash != secret
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    for column, value in ApiToken.objects.filter(pk=row.pk).values().get().items():
        assert secret not in str(value), column

    me = bearer(secret).get(ME)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_tokens_list_shows_only_my_tokens(network, api):
    accounts.token_issue(member=network.bob, name="bob-script")

    items = api(network.alice).get(TOKENS).json()["results"]

    assert [item["name"] for item in items] == ["test"]


def test_revoked_token_is_refused(network, api):
    client = api(network.alice)
    issued = client.post(TOKENS, {"name": "to revoke"}, format="json").json()
    assert bearer(issued["token"]).get(ME).status_code == 200

    assert client.delete(f"{TOKENS}{issued['id']}/").status_code == 204

    assert_problem(bearer(issued["token"]).get(ME), 401, "authentication-failed")
    row = ApiToken.objects.get(pk=issued["id"])
    assert row.revoked_at is not None  # kept, not deleted
    listed = {item["id"]: item for item in client.get(TOKENS).json()["results"]}
    assert listed[issued["id"]]["revoked_at"] is not None


def test_cannot_revoke_someone_elses_token(network, api):
    bobs = accounts.token_issue(member=network.bob, name="bob-script")

    assert_problem(api(network.alice).delete(f"{TOKENS}{bobs.token.pk}/"), 404, "not-found")
    assert bearer(bobs.secret).get(ME).status_code == 200


def test_expired_token_is_refused(network, api):
    expires = timezone.now() + timedelta(hours=1)
    issued = api(network.alice).post(
        TOKENS, {"name": "short", "expires_at": expires.isoformat()}, format="json"
    )
    assert issued.status_code == 201, issued.content
    secret = issued.json()["token"]
    assert bearer(secret).get(ME).status_code == 200

    ApiToken.objects.filter(pk=issued.json()["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = bearer(secret).get(ME)
    assert_problem(response, 401, "authentication-failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="dix"'


def test_expiry_in_the_past_is_400(network, api):
    past = (timezone.now() - timedelta(days=1)).isoformat()

    response = api(network.alice).post(TOKENS, {"name": "late", "expires_at": past}, format="json")

    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["expires_at"]
    assert ApiToken.objects.filter(name="late").count() == 0


def test_a_token_lasts_days_or_until_expires_at_never_both(network, api):
    client = api(network.alice)

    by_days = client.post(TOKENS, {"name": "ninety", "days": 90}, format="json")
    assert by_days.status_code == 201, by_days.content
    lasts = parse_datetime(by_days.json()["expires_at"]) - timezone.now()
    assert timedelta(days=89) < lasts <= timedelta(days=90)
    assert "days" not in by_days.json()  # reads give the expiry only

    until = (timezone.now() + timedelta(days=3)).isoformat()
    both = client.post(TOKENS, {"name": "both", "days": 3, "expires_at": until}, format="json")
    body = assert_problem(both, 400, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"days", "expires_at"}
    for days in (0, -1, "x", 1.5):
        refused = client.post(TOKENS, {"name": "bad", "days": days}, format="json")
        assert [e["field"] for e in assert_problem(refused, 400, "validation-error")["errors"]] == [
            "days"
        ]
    assert ApiToken.objects.filter(name__in=["both", "bad"]).count() == 0


def test_issue_token_takes_days_or_expires_at(network):
    quiet = io.StringIO()
    until = (timezone.now() + timedelta(days=2)).isoformat()
    call_command("issue_token", "alice", "--expires-at", until, stdout=quiet, stderr=quiet)
    token = ApiToken.objects.get(member=network.alice, name="cli")
    assert abs(token.expires_at - parse_datetime(until)) < timedelta(seconds=1)
    with pytest.raises(CommandError, match=r"--days.*--expires-at"):
        call_command("issue_token", "alice", "--days", "2", "--expires-at", until, stdout=quiet)
    with pytest.raises(CommandError, match="--expires-at"):
        call_command("issue_token", "alice", "--expires-at", "tomorrow", stdout=quiet)
    with pytest.raises(CommandError, match="--days"):
        call_command("issue_token", "alice", "--days", "0", stdout=quiet)


def test_token_create_refuses_unknown_fields(network, api):
    response = api(network.alice).post(
        TOKENS, {"name": "x", "known_secret": "dix_mine"}, format="json"
    )

    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["known_secret"]
    assert not ApiToken.objects.filter(name="x").exists()


# --- Identity and directory --------------------------------------------------------------------


def test_me_shows_role_clearance_and_organisation(network, api):
    alice = api(network.alice).get(ME).json()
    olga = api(network.olga).get(ME).json()

    assert (alice["username"], alice["role"], alice["clearance"]) == ("alice", "analyst", TLP.RED)
    assert alice["organisation"]["slug"] == "fr-desk"
    assert alice["organisation"]["country"] == "FR"
    assert alice["may_file_profiles"] is True
    assert (olga["role"], olga["clearance"], olga["may_file_profiles"]) == (
        "desk_officer",
        TLP.GREEN,
        False,
    )


def test_organisations_list_names_sponsors(network, api):
    response = api(network.charlie).get("/api/v1/organisations/")

    assert response.status_code == 200
    orgs = {org["slug"]: org for org in response.json()["results"]}
    assert set(orgs) == {
        "eurojust",
        "fr-desk",
        "be-desk",
        "de-desk",
        "fr-prison-admin",
        "be-customs",
    }
    assert orgs["fr-prison-admin"]["sponsor"] == "fr-desk"
    assert orgs["fr-prison-admin"]["kind"] == "national_authority"
    assert orgs["be-customs"]["sponsor"] == "be-desk"
    assert orgs["fr-desk"]["sponsor"] is None
    assert orgs["eurojust"]["country"] == ""

    filtered = api(network.charlie).get("/api/v1/organisations/", {"country": "BE"}).json()
    assert {org["slug"] for org in filtered["results"]} == {"be-desk", "be-customs"}


# --- Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [ME, TOKENS, "/api/v1/profiles/", "/api/v1/organisations/", "/api/v1/profiles/1/"]
)
def test_anonymous_is_401_with_www_authenticate(network, api, path):
    response = api(None).get(path)

    body = assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="dix"'
    assert body["detail"]


@pytest.mark.parametrize(
    "header", ["Bearer dix_not-a-real-token", "Bearer", "Bearer two parts", "Token abc"]
)
def test_bad_credentials_are_401(network, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ME)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == 'Bearer realm="dix"'


@pytest.mark.parametrize("header", ["Token dix_abc", "Basic YWxpY2U6c2VjcmV0", "token dix_abc"])
def test_another_scheme_is_told_to_use_bearer(network, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ME)

    body = assert_problem(response, 401, "authentication-failed")
    assert "Authorization: Bearer <token>" in body["detail"]
    assert repr(header.split()[0]) in body["detail"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer two parts"])
def test_malformed_bearer_says_what_to_send(network, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ME)

    body = assert_problem(response, 401, "authentication-failed")
    assert body["detail"].startswith("Malformed Authorization header")
    assert "Authorization: Bearer <token>" in body["detail"]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/profiles/abc/"])
def test_unknown_url_is_404_problem(network, api, path):
    response = api(network.alice).get(path)

    body = assert_problem(response, 404, "not-found")
    assert body["detail"] == "Not found."


def test_method_not_allowed_is_a_problem(network, api):
    response = api(network.alice).delete("/api/v1/profiles/")

    assert_problem(response, 405, "method-not-allowed")


def test_throttling_answers_429_with_retry_after(network, api):
    # A private cache: the shared one (file or Redis) is never cleared by tests, and
    # SQLite reuses primary keys across tests, so a member's throttle key may not be new there.
    private_cache = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle-test",
        },
    }
    fresh = accounts.member_create(
        organisation=network.de_desk,
        username="throttled",
        role="desk_officer",
        clearance="TLP:GREEN",
    )
    with override_settings(DIX_THROTTLE_RATE="3/min", CACHES=private_cache):
        client = api(fresh)
        other = api(network.charlie)
        statuses = [client.get(ME).status_code for _ in range(3)]
        limited = client.get(ME)
        others_first = other.get(ME)

    assert statuses == [200, 200, 200]
    body = assert_problem(limited, 429, "rate-limited")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert body["detail"].startswith("Request was throttled.")
    assert others_first.status_code == 200  # the limit is per member


# --- Management commands -----------------------------------------------------------------------


def test_operator_commands_create_a_member_who_can_authenticate(db):
    out = io.StringIO()
    call_command(
        "create_organisation", "nl-desk", "Dutch Desk", "--kind", "national_desk",
        "--country", "NL", stdout=out,
    )  # fmt: skip
    call_command(
        "create_organisation", "nl-police", "Dutch police", "--kind", "national_authority",
        "--country", "NL", "--sponsor", "nl-desk", stdout=out,
    )  # fmt: skip
    call_command(
        "create_member", "nina", "--organisation", "nl-desk", "--role", "analyst",
        "--clearance", "TLP:AMBER", stdout=out,
    )  # fmt: skip
    token_out, token_err = io.StringIO(), io.StringIO()
    call_command(
        "issue_token", "nina", "--name", "ci", "--days", "7", stdout=token_out, stderr=token_err
    )

    assert Organisation.objects.get(slug="nl-police").sponsor.slug == "nl-desk"
    nina = Member.objects.get(username="nina")
    assert (nina.organisation.slug, nina.role, nina.clearance) == ("nl-desk", "analyst", TLP.AMBER)
    assert not nina.has_usable_password()
    secret = token_out.getvalue().strip()
    assert secret.startswith("dix_")
    assert "hash" in token_err.getvalue()
    token = ApiToken.objects.get(member=nina)
    assert token.name == "ci"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    me = bearer(secret).get(ME)
    assert me.status_code == 200
    assert me.json()["organisation"]["slug"] == "nl-desk"


def test_operator_commands_refuse_bad_input(db):
    quiet = io.StringIO()
    with pytest.raises(CommandError, match="No organisation"):
        call_command(
            "create_member", "x", "--organisation", "nowhere", "--role", "analyst",
            "--clearance", "TLP:GREEN", stdout=quiet,
        )  # fmt: skip
    with pytest.raises(CommandError, match="sponsor"):
        call_command(
            "create_organisation", "orphan", "Orphan authority", "--kind", "national_authority",
            "--country", "NL", stdout=quiet,
        )  # fmt: skip
    with pytest.raises(CommandError, match="No active member"):
        call_command("issue_token", "nobody", stdout=quiet)
    assert Organisation.objects.count() == 0
    assert Member.objects.count() == 0


def test_load_demo_twice_adds_nothing(db):
    models = (
        Organisation,
        Member,
        ApiToken,
        DeviceProfile,
        ProfileRevision,
        Identifier,
        Attachment,
    )

    out = io.StringIO()
    call_command("load_demo", "--quiet", stdout=out)
    first = {model.__name__: model.objects.count() for model in models}
    call_command("load_demo", "--quiet", stdout=out)
    second = {model.__name__: model.objects.count() for model in models}

    assert first == second
    assert first["Organisation"] == 7
    assert first["Member"] == 7
    assert first["ApiToken"] == 7
    assert first["DeviceProfile"] == 3
    assert first["ProfileRevision"] == 3
    assert "Demo data loaded (0 new records)." in out.getvalue()
