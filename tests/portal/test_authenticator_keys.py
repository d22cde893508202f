"""Authenticator keys are encrypted at rest: the database never holds the key a member's app
was given, signing in with a code still works, a lost `DIX_ENCRYPTION_KEY` leaves the recovery
codes working, and the migration encrypts the keys django-otp's devices held in clear."""

import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django_otp.oath import TOTP

from intel.models import AuditEvent, Authenticator, Member
from portal import second_factor
from tests.portal.conftest import PASSWORD, code_for, waited, with_authenticator, with_password


def app_code(secret: str, *, later: int = 0) -> str:
    """The code an app set up with the key shown on the enrolment page shows."""
    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time() + later * 30
    return f"{totp.token():06d}"


def stored_rows(table: str) -> str:
    """Every column of every row of `table`, as the database hands them to anyone who reads
    it (a dump, a replica)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name
        return repr(cursor.fetchall())


def test_the_key_an_app_is_given_is_not_in_the_database(client: Client, network) -> None:
    with_password(network.bob)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    enrol = client.get("/login/enrol/").content.decode()
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol)
    assert found is not None
    secret = found.group(1)
    answer = client.post("/login/enrol/", {"code": app_code(secret)})
    assert answer["Location"] == "/account/recovery-codes/"

    key = b32decode(secret + "=" * (-len(secret) % 8))
    rows = stored_rows(Authenticator._meta.db_table)
    for form in (secret, secret.lower(), key.hex(), key.hex().upper()):
        assert form not in rows
    assert stored_rows("otp_totp_totpdevice") == "[]"

    # And the app keeps signing bob in.
    client.post("/logout/")
    again = Client()
    again.post("/login/", {"username": "bob", "password": PASSWORD})
    assert again.post("/login/verify/", {"code": app_code(secret, later=1)})["Location"] == "/"
    assert again.get("/api/v1/me/").json()["username"] == "bob"


def test_a_code_is_accepted_once(client: Client, network) -> None:
    device = with_authenticator(network.bob)
    code = code_for(device)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert client.post("/login/verify/", {"code": code})["Location"] == "/"
    replay = Client()
    replay.post("/login/", {"username": "bob", "password": PASSWORD})
    assert replay.post("/login/verify/", {"code": code}).status_code == 200


def test_after_the_encryption_key_changed_recovery_codes_still_sign_in(
    client: Client, network
) -> None:
    device = with_authenticator(network.bob)
    (recovery, *_) = second_factor.new_recovery_codes(network.bob)
    code = code_for(device)
    with override_settings(DIX_ENCRYPTION_KEY="not the key the authenticator was stored under"):
        client.post("/login/", {"username": "bob", "password": PASSWORD})
        refused = client.post("/login/verify/", {"code": code})
        assert refused.status_code == 200
        assert b"wrong" in refused.content
        # Not counted against the authenticator: the member did not guess wrong.
        device.refresh_from_db()
        assert device.throttling_failure_count == 0
        waited(network.bob)  # a wrong code delays recovery codes too
        assert client.post("/login/verify/", {"code": recovery})["Location"] == "/"


BEFORE = [("intel", "0007_member_language"), ("otp_totp", "0003_add_timestamps")]
AFTER = [("intel", "0008_authenticators_with_encrypted_keys")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_the_end_the_latest_schema():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_keys_held_in_clear(
    network, at_the_end_the_latest_schema
) -> None:
    key = bytes(range(20))
    apps = migrate(BEFORE)
    apps.get_model("otp_totp", "TOTPDevice").objects.create(
        user_id=network.bob.pk, name="phone", confirmed=True, key=key.hex(), drift=1, last_t=7
    )

    migrate(AFTER)

    assert stored_rows("otp_totp_totpdevice") == "[]"
    assert key.hex() not in stored_rows(Authenticator._meta.db_table)
    moved = Authenticator.objects.get(user=network.bob)
    assert (moved.bin_key, moved.confirmed, moved.drift, moved.last_t) == (key, True, 1, 7)
    code = code_for(moved)
    client = Client()
    with_password(network.bob)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert client.post("/login/verify/", {"code": code})["Location"] == "/"

    apps = migrate(BEFORE)
    back = apps.get_model("otp_totp", "TOTPDevice").objects.get(user_id=network.bob.pk)
    assert back.key == key.hex()


def test_a_superuser_removes_an_authenticator_and_the_member_enrols_again(network) -> None:
    device = with_authenticator(network.bob)
    root = Member.objects.create_superuser(username="root", password="x")
    admin = Client()
    admin.force_login(root)
    listing = admin.get("/admin/intel/authenticator/").content.decode()
    assert "bob" in listing
    assert device.key_encrypted not in listing
    assert "/admin/otp_totp/" not in admin.get("/admin/").content.decode()

    removed = admin.post(
        "/admin/intel/authenticator/",
        {"action": "reset_second_factors", "_selected_action": [device.pk]},
    )

    assert removed.status_code == 302
    assert not Authenticator.objects.filter(user=network.bob).exists()
    event = AuditEvent.objects.get(action="member.second_factor_reset")
    assert (event.object_id, event.detail["username"]) == (str(network.bob.pk), "bob")
    bob = Client()
    assert bob.post("/login/", {"username": "bob", "password": PASSWORD})["Location"] == (
        "/login/enrol/"
    )


def test_staff_without_superuser_rights_cannot_remove_one(network) -> None:
    device = with_authenticator(network.bob)
    cora = network.cora
    cora.is_staff = True
    cora.save()
    cora.user_permissions.set(Permission.objects.filter(content_type__app_label="intel"))
    admin = Client()
    admin.force_login(cora)
    admin.post(
        "/admin/intel/authenticator/",
        {"action": "reset_second_factors", "_selected_action": [device.pk]},
    )
    assert Authenticator.objects.filter(pk=device.pk).exists()


def test_an_enrolment_begun_under_another_encryption_key_starts_again(
    client: Client, network
) -> None:
    with_password(network.bob)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert client.get("/login/enrol/").status_code == 200
    with override_settings(DIX_ENCRYPTION_KEY="a key the pending authenticator was not made with"):
        page = client.get("/login/enrol/")
        assert page.status_code == 200
        found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.content.decode())
        assert found is not None
        answer = client.post("/login/enrol/", {"code": app_code(found.group(1))})
        assert answer["Location"] == "/account/recovery-codes/"
