"""Restricted detail reads are recorded, from AMBER up, once each, with the justification header
and the client address; lower reads, revalidations, HEAD and refused reads are not."""

from collections.abc import Callable

import pytest

from intel import audit, services
from intel.models import (
    TLP,
)
from tests.helpers.audit import (
    LABELS,
    NOTICES,
    PROFILES,
    Case,
    Expect,
    World,
    assert_exactly_one_event,
    events_after,
    last_id,
    ok,
    png,
)

# Restricted detail reads (each of an AMBER+ object).


def profile_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/"))
        return Expect("profile.read", w.net.bob, "profile", profile.pk, TLP.AMBER)

    return act


def revision_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.RED)
    client = w.client(w.net.audrey)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/revisions/1/"))
        return Expect("profile.revision_read", w.net.audrey, "profile", profile.pk, TLP.RED)

    return act


def attachment_read(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    attachment = services.attachment_add(
        profile_id=profile.pk, author=w.net.alice, kind="photo", title="x", tlp=None, upload=png()
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{PROFILES}{profile.pk}/attachments/{attachment.pk}/"))
        return Expect("attachment.read", w.net.bob, "attachment", attachment.pk, TLP.AMBER)

    return act


def attachment_downloaded(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.AMBER)
    attachment = services.attachment_add(
        profile_id=profile.pk, author=w.net.alice, kind="photo", title="x", tlp=None, upload=png()
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        response = client.get(f"{PROFILES}{profile.pk}/attachments/{attachment.pk}/content/")
        assert response.status_code == 200
        assert response.getvalue().startswith(b"\x89PNG")
        return Expect("attachment.downloaded", w.net.bob, "attachment", attachment.pk, TLP.AMBER)

    return act


def notice_read(w: World) -> Callable[[], Expect]:
    notice_id = w.published(
        tlp=TLP.AMBER, audience={"scope": "organisations", "organisations": ["be-desk"]}
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/"))
        return Expect("notice.read", w.net.bob, "notice", notice_id, TLP.AMBER)

    return act


def notice_version_read(w: World) -> Callable[[], Expect]:
    notice_id = w.published(
        tlp=TLP.AMBER, audience={"scope": "organisations", "organisations": ["be-desk"]}
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/versions/1/"))
        return Expect("notice.version_read", w.net.bob, "notice", notice_id, TLP.AMBER)

    return act


def notice_audience_read(w: World) -> Callable[[], Expect]:
    notice_id = w.draft(
        tlp=TLP.AMBER, audience={"scope": "organisations", "organisations": ["be-desk"]}
    )
    client = w.client(w.net.alice)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/audience/"))
        return Expect("notice.audience_read", w.net.alice, "notice", notice_id, TLP.AMBER)

    return act


def notice_receipts_read(w: World) -> Callable[[], Expect]:
    notice_id = w.published(tlp=TLP.AMBER_STRICT)
    client = w.client(w.felix)

    def act() -> Expect:
        ok(client.get(f"{NOTICES}{notice_id}/receipts/"))
        return Expect("notice.receipts_read", w.felix, "notice", notice_id, TLP.AMBER_STRICT)

    return act


def profile_read_in_admin(w: World) -> Callable[[], Expect]:
    profile = w.profile(TLP.RED)
    client = w.admin_client()
    services.profile_update(
        profile_id=profile.pk,
        author=w.net.alice,
        data=services.ProfileInput(fields={}, recipient_members=[w.net.alice, w.root]),
        expected_version=None,
    )

    def act() -> Expect:
        assert client.get(f"/admin/intel/deviceprofile/{profile.pk}/change/").status_code == 200
        return Expect("profile.read", w.root, "profile", profile.pk, TLP.RED)

    return act


CASES: list[Case] = [
    profile_read,
    revision_read,
    attachment_read,
    attachment_downloaded,
    notice_read,
    notice_version_read,
    notice_audience_read,
    notice_receipts_read,
    profile_read_in_admin,
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.__name__) for c in CASES])
def test_each_audited_action_leaves_exactly_one_event(world: World, case: Case) -> None:
    assert_exactly_one_event(world, case)


# --- detail reads by label ---------------------------------------------------------------------


@pytest.mark.parametrize("label", LABELS, ids=[label.removeprefix("TLP:") for label in LABELS])
def test_a_detail_read_is_recorded_from_amber_up(world: World, label: str) -> None:
    profile = world.profile(label)
    alice = world.client(world.net.alice)
    mark = last_id()

    ok(alice.get(f"{PROFILES}{profile.pk}/"))
    ok(alice.get(f"{PROFILES}{profile.pk}/revisions/"))  # lists are not detail reads
    ok(alice.get(PROFILES))

    new = events_after(mark)
    if label in (TLP.CLEAR, TLP.GREEN):
        assert new == []
    else:
        assert [(e.action, e.object_id, e.object_tlp) for e in new] == [
            ("profile.read", str(profile.pk), label)
        ]


def test_green_notice_read_leaves_none_amber_leaves_one(world: World) -> None:
    green = world.published()
    amber = world.published(
        tlp=TLP.AMBER, audience={"scope": "organisations", "organisations": ["be-desk"]}
    )
    bob = world.client(world.net.bob)
    mark = last_id()

    ok(bob.get(f"{NOTICES}{green}/"))
    ok(bob.get(f"{NOTICES}{amber}/"))

    assert [(e.action, e.object_id) for e in events_after(mark)] == [("notice.read", str(amber))]


def test_revalidation_and_head_are_not_recorded_a_refused_read_is_a_denial(
    world: World,
) -> None:
    profile = world.profile(TLP.AMBER)
    bob = world.client(world.net.bob)
    etag = bob.get(f"{PROFILES}{profile.pk}/")["ETag"]
    charlie = world.client(world.net.charlie)
    mark = last_id()

    assert bob.get(f"{PROFILES}{profile.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert bob.head(f"{PROFILES}{profile.pk}/").status_code == 200
    assert charlie.get(f"{PROFILES}{profile.pk}/").status_code == 404

    (denied,) = events_after(mark)
    assert (denied.action, denied.actor_username, denied.object_id, denied.detail) == (
        "read.denied",
        "charlie",
        str(profile.pk),
        {},
    )


def test_justification_header_and_client_address_are_recorded(world: World) -> None:
    profile = world.profile(TLP.RED)
    audrey = world.client(world.net.audrey)
    mark = last_id()

    why = "Case FR-2026-17, Fresnes search (juge d'instruction)"
    response = audrey.get(
        f"{PROFILES}{profile.pk}/",
        HTTP_X_DIX_JUSTIFICATION=why.encode().decode("latin-1"),  # UTF-8 bytes, as WSGI has them
        REMOTE_ADDR="::ffff:192.0.2.7",
    )
    assert response.status_code == 200
    long = audrey.get(
        f"{PROFILES}{profile.pk}/",
        HTTP_X_DIX_JUSTIFICATION="x" * 5000,
        REMOTE_ADDR="2001:DB8:0:0::7",
    )
    assert long.status_code == 200

    first, second = events_after(mark)
    assert (first.justification, first.client_address) == (why, "192.0.2.7")
    assert len(second.justification) == audit.JUSTIFICATION_MAX
    assert second.client_address == "2001:db8::7"
    assert audit.verify()[1] is None


def test_a_read_without_justification_still_succeeds(world: World) -> None:
    profile = world.profile(TLP.RED)
    audrey = world.client(world.net.audrey)
    mark = last_id()
    assert audrey.get(f"{PROFILES}{profile.pk}/").status_code == 200
    (event,) = events_after(mark)
    assert event.justification == ""
