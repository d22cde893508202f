"""A notice's lifecycle through the HTTP API and who may do what: drafts, publishing, versions,
edits, withdrawal and supersession."""

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from intel.models import TLP, DeviceProfile
from notices.models import Notice, NoticeVersion
from tests.conftest import Network
from tests.helpers.notices import (
    NOTICES,
    Api,
    Extra,
    assert_problem,
    audience,
    draft,
    everyone,
    publish,
)

# --- Lifecycle -------------------------------------------------------------------------------


def test_a_draft_is_seen_only_by_its_organisation_and_the_secretariat(
    network: Network, extra: Extra, api: Api
) -> None:
    notice = draft(api(network.alice))
    assert notice["reference"] == f"DIX-{timezone.now().year}-{notice['id']:06d}"
    assert notice["issuer"]["slug"] == "fr-desk"
    people = everyone(network, extra)
    assert audience(api, people, notice["id"]) == {"alice", "olga", "felix", "cora", "audrey"}


def test_a_draft_is_never_seen_more_widely_than_the_notice_it_would_become(
    network: Network, extra: Extra, api: Api
) -> None:
    alice, felix, audrey = api(network.alice), api(extra.felix), api(network.audrey)
    people = everyone(network, extra)
    # TLP:RED: the drafter and the named members only, not their RED-cleared colleagues.
    red = draft(alice, tlp=TLP.RED, audience={"members": ["felix"]}, title="Red draft")
    assert audience(api, people, red["id"]) == {"alice", "felix"}
    assert red["id"] not in [
        n["id"] for n in audrey.get(NOTICES, {"status": "draft"}).json()["results"]
    ]
    # Who may not read it may not change, publish or acknowledge it either: 404, as for
    # a notice that does not exist.
    url = f"{NOTICES}{red['id']}/"
    assert_problem(audrey.patch(url, {"title": "Mine now"}, format="json"), 404)
    assert_problem(audrey.post(f"{url}publish/"), 404)
    assert Notice.objects.get(pk=red["id"]).title == "Red draft"
    # AMBER+STRICT to be-desk: nobody outside the would-be audience, not even the secretariat's
    # auditor (its coordinators publish any notice, so they see it).
    strict = draft(
        alice,
        tlp=TLP.AMBER_STRICT,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    assert audience(api, people, strict["id"]) == {"alice", "felix", "cora"}
    assert_problem(audrey.patch(f"{NOTICES}{strict['id']}/", {"title": "x"}, format="json"), 404)
    # An edit that would hide the draft from its own editor is refused, and nothing changes.
    body = {"tlp": TLP.RED, "audience": {"members": ["alice"]}}
    assert_problem(felix.patch(f"{NOTICES}{strict['id']}/", body, format="json"), 400)
    assert Notice.objects.get(pk=strict["id"]).tlp == TLP.AMBER_STRICT
    publish(felix, red["id"])  # the named coordinator publishes it


def test_who_may_publish(network: Network, extra: Extra, api: Api) -> None:
    alice = api(network.alice)
    first = draft(alice)
    # The issuer's analyst sees the draft but may not publish it; outsiders do not see it.
    assert_problem(alice.post(f"{NOTICES}{first['id']}/publish/"), 403)
    assert_problem(api(network.charlie).post(f"{NOTICES}{first['id']}/publish/"), 404)
    assert_problem(api(extra.bruno).post(f"{NOTICES}{first['id']}/publish/"), 404)
    assert Notice.objects.get(pk=first["id"]).status == "draft"
    assert not NoticeVersion.objects.filter(notice_id=first["id"]).exists()

    published = publish(api(extra.felix), first["id"])  # the issuer's coordinator
    assert published["version"] == 1
    assert published["published_at"] is not None
    assert_problem(api(extra.felix).post(f"{NOTICES}{first['id']}/publish/"), 409)

    # The secretariat's coordinator publishes any desk's draft, even one not addressed to it.
    second = draft(alice, audience={"scope": "organisations", "organisations": ["be-desk"]})
    by_cora = publish(api(network.cora), second["id"])
    assert by_cora["version"] == 1
    assert NoticeVersion.objects.get(notice_id=second["id"]).published_by == network.cora


def test_an_update_is_a_new_version_and_published_versions_never_change(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    notice = issue(title="First title", body="First body")
    felix = api(extra.felix)
    url = f"{NOTICES}{notice['id']}/"
    v1_before = felix.get(f"{url}versions/1/").json()
    assert v1_before["title"] == "First title"
    assert v1_before["change_note"] == ""

    assert_problem(felix.post(f"{url}update/", {"title": "x"}, format="json"), 400, "change_note")
    assert_problem(
        felix.post(f"{url}update/", {"change_note": "n", "tlp": TLP.CLEAR}, format="json"),
        400,
        "tlp",
    )
    assert_problem(
        api(network.alice).post(f"{url}update/", {"change_note": "n"}, format="json"), 403
    )
    assert_problem(api(network.bob).post(f"{url}update/", {"change_note": "n"}, format="json"), 403)

    response = felix.post(
        f"{url}update/",
        {"change_note": "Adds X-ray advice.", "title": "Second title", "body": "Second body"},
        format="json",
    )
    assert response.status_code == 200, response.content
    updated = response.json()
    assert (updated["version"], updated["title"], updated["reference"]) == (
        2,
        "Second title",
        notice["reference"],
    )
    versions = felix.get(f"{url}versions/").json()["results"]
    assert [(v["number"], v["title"], v["body"], v["change_note"]) for v in versions] == [
        (1, "First title", "First body", ""),
        (2, "Second title", "Second body", "Adds X-ray advice."),
    ]
    assert felix.get(f"{url}versions/1/").json() == v1_before
    assert [v["published_by"] for v in versions] == ["felix", "felix"]
    assert api(network.bob).get(url).json()["title"] == "Second title"


def test_profiles_a_member_cannot_see_are_kept_when_they_change_a_notice(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
) -> None:
    # cora (secretariat coordinator, AMBER+STRICT) sees the GREEN profile only.
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    strict = make_profile(tlp=TLP.AMBER_STRICT, name="Strict phone")
    red = make_profile(tlp=TLP.RED, members=[network.alice, extra.felix], name="Red phone")
    hidden = {strict.pk, red.pk}
    cora = api(network.cora)
    alice = api(network.alice)
    notice = draft(alice, profile_ids=[green.pk, strict.pk, red.pk])
    url = f"{NOTICES}{notice['id']}/"
    assert [p["id"] for p in cora.get(url).json()["profiles"]] == [green.pk]

    # Editing the draft with the list as cora reads it (and with an empty one) keeps the rest.
    assert cora.patch(url, {"profile_ids": [green.pk]}, format="json").status_code == 200
    assert cora.patch(url, {"profile_ids": []}, format="json").status_code == 200
    assert set(Notice.objects.get(pk=notice["id"]).profiles.values_list("id", flat=True)) == hidden
    # Whoever sees a profile may still take it off.
    assert alice.patch(url, {"profile_ids": [green.pk, red.pk]}, format="json").status_code == 200
    publish(api(extra.felix), notice["id"])

    response = cora.post(
        f"{url}update/", {"change_note": "Reworded.", "profile_ids": [green.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["profiles"]] == [green.pk]
    assert {p["id"] for p in alice.get(url).json()["profiles"]} == {green.pk, red.pk}
    latest = NoticeVersion.objects.get(notice_id=notice["id"], number=2)
    assert set(latest.profiles.values_list("id", flat=True)) == {green.pk, red.pk}


def test_a_published_notice_cannot_be_edited(network: Network, extra: Extra, api: Api) -> None:
    alice = api(network.alice)
    notice = draft(alice, title="Draft title")
    url = f"{NOTICES}{notice['id']}/"
    edited = alice.patch(url, {"title": "Edited draft"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["title"] == "Edited draft"
    publish(api(extra.felix), notice["id"])
    for client in (alice, api(extra.felix), api(network.cora)):
        assert_problem(client.patch(url, {"title": "Sneaky"}, format="json"), 409)
    assert Notice.objects.get(pk=notice["id"]).title == "Edited draft"
    assert NoticeVersion.objects.get(notice_id=notice["id"]).title == "Edited draft"


def test_withdraw_needs_a_reason(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    notice = issue()
    felix = api(extra.felix)
    url = f"{NOTICES}{notice['id']}/withdraw/"
    assert_problem(felix.post(url, {}, format="json"), 400, "reason")
    assert_problem(felix.post(url, {"reason": "   "}, format="json"), 400, "reason")
    assert_problem(api(network.alice).post(url, {"reason": "r"}, format="json"), 403)
    assert Notice.objects.get(pk=notice["id"]).status == "published"

    response = felix.post(url, {"reason": "Issued in error."}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["withdrawal_reason"]) == (
        "withdrawn",
        "Issued in error.",
    )
    assert_problem(felix.post(url, {"reason": "again"}, format="json"), 409)
    # Recipients still see it, withdrawn, with the reason.
    seen = api(network.bob).get(f"{NOTICES}{notice['id']}/").json()
    assert (seen["status"], seen["withdrawal_reason"]) == ("withdrawn", "Issued in error.")


def test_supersede_by_another_published_notice(
    network: Network, extra: Extra, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    old, new = issue(title="Old"), issue(title="New")
    pending = draft(api(network.alice))
    felix = api(extra.felix)
    url = f"{NOTICES}{old['id']}/supersede/"
    for successor in (pending["id"], old["id"], 999_999):
        assert_problem(
            felix.post(url, {"superseded_by": successor}, format="json"), 400, "superseded_by"
        )
    assert_problem(api(network.alice).post(url, {"superseded_by": new["id"]}, format="json"), 403)
    response = felix.post(url, {"superseded_by": new["id"]}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["superseded_by"]) == (
        "superseded",
        new["reference"],
    )
    assert (
        api(network.bob).get(f"{NOTICES}{old['id']}/").json()["superseded_by"] == new["reference"]
    )
    assert_problem(felix.post(url, {"superseded_by": new["id"]}, format="json"), 409)
