"""Tamper evidence of the audit trail: the hash chain shows any changed or deleted row, and
nothing in the application (ORM, loaddata, concurrent appends) changes, deletes or forks it."""

import io
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from intel import accounts, audit
from intel.models import (
    TLP,
    AuditEvent,
)
from intel.models.audit import GENESIS, canonical_json
from tests.helpers.audit import chain_of

# --- tamper evidence ---------------------------------------------------------------------------


def _verify_error(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", *args, stdout=io.StringIO())
    return str(failure.value)


def test_an_intact_chain_verifies(db: None) -> None:
    chain = chain_of(4)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact: 4 events verified" in out.getvalue()
    assert chain[-1].hash in out.getvalue()
    assert chain[0].previous_hash == GENESIS
    assert [e.previous_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "test.nothing_happened"),
        ("actor_username", "someone-else"),
        ("justification", "a better reason"),
        ("object_tlp", "TLP:CLEAR"),
        ("created_at", "2020-01-01 00:00:00"),
        ("detail", '{"n": 99}'),
        ("client_address", "198.51.100.1"),
    ],
)
def test_a_row_changed_in_the_database_breaks_the_chain_at_that_row(
    db: None, column: str, value: str
) -> None:
    chain = chain_of(4)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608 - names are ours
            [value, chain[2].pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert "content does not match its hash" in message


def test_a_rewritten_row_with_a_recomputed_hash_breaks_at_the_next(db: None) -> None:
    chain = chain_of(4)
    forged = AuditEvent.objects.get(pk=chain[1].pk)
    forged.action = "test.forged"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET action = %s, hash = %s WHERE id = %s",  # noqa: S608
            ["test.forged", forged.compute_hash(), forged.pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert f"does not name event {chain[1].pk}" in message


def test_a_deleted_row_breaks_the_chain_at_the_next(db: None) -> None:
    chain = chain_of(4)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s",  # noqa: S608
            [chain[1].pk],
        )
    message = _verify_error()
    assert f"broken at event {chain[2].pk}:" in message
    assert f"does not name event {chain[0].pk} before it" in message


def test_deleting_the_first_rows_is_found(db: None) -> None:
    chain = chain_of(3)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [chain[0].pk])  # noqa: S608
    assert f"broken at event {chain[1].pk}: it is the first event" in _verify_error()


def test_an_anchor_shows_that_the_newest_events_were_removed(db: None) -> None:
    chain = chain_of(3)
    anchor = chain[-1].hash
    call_command("audit_verify", "--anchor", anchor, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [chain[-1].pk])  # noqa: S608
    call_command("audit_verify", stdout=io.StringIO())  # the rest of the chain is intact
    assert f"Anchor {anchor} is not in the audit chain" in _verify_error("--anchor", anchor)


def test_the_orm_refuses_to_change_or_delete_events(db: None) -> None:
    event, _ = chain_of(2)
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    loaded = AuditEvent.objects.get(pk=event.pk)
    loaded.action = "x"
    with pytest.raises(PermissionError):
        loaded.save()
    with pytest.raises(PermissionError):
        loaded.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([loaded], ["action"])
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(action="x", previous_hash="1", hash="2")])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert audit.verify() == (2, None)


def test_loaddata_cannot_overwrite_an_event_but_loads_a_dumped_trail(
    db: None, tmp_path: Any
) -> None:
    """`loaddata` saves through `Model.save_base`, not `AuditEvent.save`: an event with an
    existing id must not replace the stored one, while a dump loads into an empty trail."""
    chain = chain_of(3)
    dump = tmp_path / "trail.json"
    call_command("dumpdata", "intel.auditevent", output=str(dump), stdout=io.StringIO())
    forged = tmp_path / "forged.json"
    forged.write_text(dump.read_text().replace('"test.event"', '"test.forged"', 1))

    with pytest.raises(PermissionError):
        call_command("loaddata", str(forged), stdout=io.StringIO())
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [e.action for e in chain]
    assert audit.verify() == (3, None)

    with connection.cursor() as cursor:  # an empty database, as on a new server
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table}")  # noqa: S608
    call_command("loaddata", str(dump), stdout=io.StringIO())
    assert [e.hash for e in AuditEvent.objects.order_by("id")] == [e.hash for e in chain]
    assert audit.verify() == (3, None)


def test_the_database_refuses_a_fork_of_the_chain(db: None) -> None:
    first, _ = chain_of(2)
    fork = AuditEvent(action="test.fork", previous_hash=first.hash)
    fork.hash = fork.compute_hash()
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()  # a second event claiming `first` as its predecessor
    assert audit.verify() == (2, None)


def test_deleting_a_member_and_an_organisation_leaves_the_trail(db: None) -> None:
    org = accounts.organisation_create(
        slug="xx-desk", name="Gone", kind="national_desk", country="LU"
    )
    member = accounts.member_create(
        organisation=org, username="gone", role="analyst", clearance=TLP.GREEN
    )
    accounts.token_issue(member=member, name="t", actor=member)
    before = list(AuditEvent.objects.values_list("id", "hash"))

    member.delete()  # its token goes with it
    org.delete()

    assert list(AuditEvent.objects.values_list("id", "hash")) == before
    assert AuditEvent.objects.filter(actor_username="gone").count() == 1
    assert audit.verify() == (3, None)


def test_hashes_hold_for_values_databases_return_differently(db: None) -> None:
    """PostgreSQL's jsonb gives 1e20 back as an integer, inet prints IPv4-mapped and
    IPv4-compatible IPv6 its own way, columns have lengths SQLite ignores: the chain verifies
    on either database after the round trip, and nothing is refused."""
    request = RequestFactory().get("/", REMOTE_ADDR="::1.2.3.4")
    audit.record(
        action="test.values",
        actor=None,
        object_id="9" * 200,
        justification="nul\x00byte",
        request=request,
        detail={
            "big": 1e20,
            "one": 1.0,
            "small": 1.5e-7,
            "huge": 10**30,
            "nan": float("nan"),
            "when": timezone.now(),
            "nested": {"b": [1, (2, 3)], "a": None},
            7: "int key",  # type: ignore[dict-item]  # as a careless caller might pass
        },
    )
    audit.record(
        action="test.values", actor=None, request=RequestFactory().get("/", REMOTE_ADDR="unix:")
    )
    event, other = AuditEvent.objects.order_by("id")
    assert len(event.object_id) == 64
    assert event.justification == "nulbyte"
    assert event.detail["nan"] == "nan"
    assert other.client_address is None
    assert canonical_json(1e20) == canonical_json(10**20) == "1e20"
    assert canonical_json(1.0) == canonical_json(1) == "1"
    assert audit.verify() == (2, None)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain() -> None:
    """Writers in several threads (connections) at once: one chain, no fork, no gap."""
    per_thread, threads = 15, 6
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    audit.record(action="test.concurrent", actor=None, detail={"t": n, "i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert audit.verify() == (per_thread * threads, None)
