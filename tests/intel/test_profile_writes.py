"""Writing device profiles through the HTTP API, as a client sees it: refused input answers
a problem naming the field and leaves nothing behind, attachments are sniffed and stripped,
every change is a revision, If-Match prevents lost updates, and the list filters."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from intel import accounts
from intel.models import TLP, Attachment, DeviceProfile, Identifier, ProfileRevision

PROFILES = "/api/v1/profiles/"
PROBLEM = "application/problem+json"


def detail_url(profile_id: int) -> str:
    return f"{PROFILES}{profile_id}/"


def fields_of(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:dix:problem:")
    assert body["title"]
    if field is not None:
        assert field in fields_of(response), body
    return body


def valid_profile(**overrides: Any) -> dict[str, Any]:
    return {"name": "L8star BM10", "device_class": "mini_phone", "tlp": TLP.GREEN} | overrides


# --- Refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (valid_profile(manufacturer_country="XX"), "manufacturer_country"),
        (valid_profile(identifiers=[{"kind": "tac", "value": "0099990"}]), "identifiers.0.value"),
        (
            valid_profile(
                identifiers=[
                    {"kind": "tac", "value": "35999900"},
                    {"kind": "tac_range", "range_start": "00999909", "range_end": "00999900"},
                ]
            ),
            "identifiers.1.range_end",
        ),
        (valid_profile(weight_g="-3.5"), "weight_g"),
        (valid_profile(device_class="walkie_talkie"), "device_class"),
        (valid_profile(colour="black"), "colour"),
        (valid_profile(tlp="TLP:PURPLE"), "tlp"),
        (valid_profile(recipient_organisations=["no-such-desk"]), "recipient_organisations"),
    ],
    ids=[
        "unknown-country",
        "seven-digit-tac",
        "range-end-below-start",
        "negative-weight",
        "unknown-device-class",
        "unknown-field",
        "unknown-tlp",
        "unknown-recipient",
    ],
)
def test_refused_profile_input_names_the_field_and_writes_nothing(
    network, api, make_profile, payload, field
):
    make_profile(tlp=TLP.GREEN)  # the database is not empty: "unchanged" means something
    before = (DeviceProfile.objects.count(), ProfileRevision.objects.count())
    identifiers_before = Identifier.objects.count()

    response = api(network.alice).post(PROFILES, payload, format="json")

    body = assert_problem(response, 400, field)
    assert body["type"] == "urn:dix:problem:validation-error"
    error = next(e for e in body["errors"] if e["field"] == field)
    assert error["pointer"] == "#/" + field.replace(".", "/")
    assert error["detail"]
    assert (DeviceProfile.objects.count(), ProfileRevision.objects.count()) == before
    assert Identifier.objects.count() == identifiers_before


def test_malformed_json_is_a_problem_naming_the_body(network, api):
    response = api(network.alice).post(
        PROFILES, data='{"name": "L8star", "device_class": ', content_type="application/json"
    )

    body = assert_problem(response, 400, "body")
    assert body["type"] == "urn:dix:problem:malformed-request"
    assert DeviceProfile.objects.count() == 0
    assert ProfileRevision.objects.count() == 0


def test_valid_create_answers_201_with_etag_and_revision_1(network, api):
    response = api(network.alice).post(
        PROFILES,
        valid_profile(
            manufacturer_country="CN",
            weight_g="12",
            aliases=["thumb phone"],
            identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
        ),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["slug"] == "fr-desk"
    assert body["weight_g"] == "12.00"
    assert body["version"] == 1
    assert body["identifiers"][0]["value"] == "00999900-00999909"
    assert body["identifiers"][0]["is_test_value"] is True
    assert response["ETag"].startswith(f'"{body["id"]}.1.')
    revision = ProfileRevision.objects.get(profile_id=body["id"])
    assert (revision.number, revision.action, revision.author) == (1, "created", network.alice)


# --- Attachments -----------------------------------------------------------------------------


def attachments_url(profile_id: int) -> str:
    return f"{PROFILES}{profile_id}/attachments/"


def files_under(root: str | Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCamMaker"
    exif[ExifTags.Base.Model] = "Leaky 3000"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 7.0),
    }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client: Any, profile_id: int, name: str, content: bytes, content_type: str) -> Any:
    return client.post(
        attachments_url(profile_id),
        {
            "file": SimpleUploadedFile(name, content, content_type=content_type),
            "kind": "photo",
            "title": "Seized device",
        },
        format="multipart",
    )


def download(client: Any, url: str) -> tuple[Any, bytes]:
    response = client.get(url)
    # The test client closes the file once the content is consumed (closing the response
    # again by hand would fire request_finished and close the test's database connection).
    content = b"".join(response.streaming_content)
    return response, content


def test_oversized_upload_is_refused_and_nothing_is_stored(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    too_big = b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024)
    assert len(too_big) > settings.DIX_ATTACHMENT_MAX_BYTES

    response = upload(api(network.alice), profile.pk, "big.jpg", too_big, "image/jpeg")

    assert_problem(response, 400, "file")
    assert Attachment.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == []


def test_text_file_named_jpg_is_refused(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)

    response = upload(
        api(network.alice), profile.pk, "photo.jpg", b"not a photo at all\n", "image/jpeg"
    )

    assert_problem(response, 400, "file")
    assert Attachment.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == []


def test_jpeg_is_stored_without_exif_and_type_is_sniffed(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    original = jpeg_with_exif()
    with Image.open(io.BytesIO(original)) as check:  # the fixture really carries metadata
        assert check.getexif()[ExifTags.Base.Make] == "SpyCamMaker"
    client = api(network.alice)

    # The client lies about the type; the server sniffs the content.
    response = upload(client, profile.pk, "scan.pdf", original, "application/pdf")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/jpeg"
    assert body["uploaded_by"] == "alice"
    assert body["tlp"] == TLP.GREEN
    downloaded, content = download(client, body["content_url"])
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "image/jpeg"
    assert b"SpyCamMaker" not in content
    assert b"Exif" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)
        assert dict(stored.getexif()) == {}
    assert body["size"] == len(content)
    assert len(files_under(settings.MEDIA_ROOT)) == 1


def test_pdf_is_accepted_as_pdf(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    client = api(network.alice)

    response = upload(client, profile.pk, "protocol.bin", pdf, "application/octet-stream")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(pdf)
    downloaded, content = download(client, body["content_url"])
    assert downloaded["Content-Type"] == "application/pdf"
    assert content == pdf
    listed = client.get(attachments_url(profile.pk)).json()
    assert [a["id"] for a in listed] == [body["id"]]


# --- Revisions ---------------------------------------------------------------------------------


def create_profile(client: Any, **fields: Any) -> tuple[dict[str, Any], str]:
    response = client.post(PROFILES, valid_profile(**fields), format="json")
    assert response.status_code == 201, response.content
    return response.json(), response["ETag"]


def patch(client: Any, profile_id: int, payload: dict[str, Any], etag: str | None) -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return client.patch(detail_url(profile_id), payload, format="json", headers=headers)


def test_revisions_record_exactly_what_changed(network, api):
    client = api(network.alice)
    profile, etag = create_profile(
        client, weight_g="12", identifiers=[{"kind": "tac", "value": "00999900"}]
    )
    pid = profile["id"]

    first = client.get(f"{PROFILES}{pid}/revisions/").json()
    assert [(r["number"], r["action"], r["author"]) for r in first] == [(1, "created", "alice")]

    response = patch(
        client,
        pid,
        {"weight_g": "18.5", "identifiers": [{"kind": "tac", "value": "35123456"}]},
        etag,
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    revisions = client.get(f"{PROFILES}{pid}/revisions/").json()
    assert [(r["number"], r["action"]) for r in revisions] == [(1, "created"), (2, "updated")]
    assert revisions[1]["changes"] == {
        "weight_g": {"old": "12.00", "new": "18.50"},
        "identifiers": {
            "old": [{"kind": "tac", "value": "00999900", "note": ""}],
            "new": [{"kind": "tac", "value": "35123456", "note": ""}],
        },
    }

    # The same values again: accepted, but no new version and no revision.
    etag2 = response["ETag"]
    same = patch(
        client,
        pid,
        {"weight_g": "18.50", "identifiers": [{"kind": "tac", "value": "35123456"}]},
        etag2,
    )
    assert same.status_code == 200, same.content
    assert same.json()["version"] == 2
    assert same.json()["identifiers"] == response.json()["identifiers"]  # ids kept too
    assert same["ETag"] == etag2
    assert ProfileRevision.objects.filter(profile_id=pid).count() == 2

    detail = client.get(f"{PROFILES}{pid}/revisions/2/")
    assert detail.status_code == 200
    snapshot = detail.json()["snapshot"]
    assert snapshot["weight_g"] == "18.50"
    assert snapshot["identifiers"] == [{"kind": "tac", "value": "35123456", "note": ""}]
    assert snapshot["name"] == "L8star BM10"
    assert client.get(f"{PROFILES}{pid}/revisions/3/").status_code == 404


# --- If-Match ---------------------------------------------------------------------------------


def test_patch_without_if_match_is_428(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, weight_g="12")

    response = patch(api(network.alice), profile.pk, {"weight_g": "20"}, None)

    assert_problem(response, 428)
    profile.refresh_from_db()
    assert (profile.version, str(profile.weight_g)) == (1, "12.00")


def test_stale_etag_is_412_and_profile_unchanged(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, weight_g="12")
    client = api(network.alice)
    stale = client.get(detail_url(profile.pk))["ETag"]
    assert patch(client, profile.pk, {"weight_g": "15"}, stale).status_code == 200

    response = patch(client, profile.pk, {"weight_g": "99", "name": "Overwritten"}, stale)

    assert_problem(response, 412)
    profile.refresh_from_db()
    assert (profile.version, str(profile.weight_g)) == (2, "15.00")
    assert profile.name == "Mini phone TLP:GREEN"
    assert ProfileRevision.objects.filter(profile=profile).count() == 2


def test_two_editors_with_the_same_etag_first_wins(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, recipients=[network.eurojust], notes="")
    alice, cora = api(network.alice), api(network.cora)
    etag_alice = alice.get(detail_url(profile.pk))["ETag"]
    etag_cora = cora.get(detail_url(profile.pk))["ETag"]

    first = patch(alice, profile.pk, {"notes": "alice was here"}, etag_alice)
    second = patch(cora, profile.pk, {"notes": "cora was here"}, etag_cora)

    assert first.status_code == 200
    assert_problem(second, 412)
    profile.refresh_from_db()
    assert profile.notes == "alice was here"


def test_if_match_naming_another_profile_is_412(network, api, make_profile):
    one = make_profile(tlp=TLP.GREEN, name="one")
    two = make_profile(tlp=TLP.GREEN, name="two")
    client = api(network.alice)
    etag_one = client.get(detail_url(one.pk))["ETag"]

    assert_problem(patch(client, two.pk, {"notes": "x"}, etag_one), 412)


# --- Who may write ----------------------------------------------------------------------------


def test_partner_desk_officer_cannot_change_a_visible_profile(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, notes="original")
    bob = api(network.bob)
    read = bob.get(detail_url(profile.pk))
    assert read.status_code == 200

    response = patch(bob, profile.pk, {"notes": "bob's edit"}, read["ETag"])

    assert_problem(response, 403)
    profile.refresh_from_db()
    assert (profile.notes, profile.version) == ("original", 1)


def test_secretariat_coordinator_may_change(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    cora = api(network.cora)

    response = patch(
        cora, profile.pk, {"notes": "checked"}, cora.get(detail_url(profile.pk))["ETag"]
    )

    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "checked"
    assert ProfileRevision.objects.get(profile=profile, number=2).author == network.cora


def test_coordinator_raises_tlp_but_only_owner_lowers_it(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, recipients=[network.eurojust])
    cora, alice = api(network.cora), api(network.alice)

    raised = patch(cora, profile.pk, {"tlp": TLP.AMBER}, cora.get(detail_url(profile.pk))["ETag"])
    assert raised.status_code == 200, raised.content
    assert raised.json()["tlp"] == TLP.AMBER

    lowered = patch(cora, profile.pk, {"tlp": TLP.GREEN}, raised["ETag"])
    assert_problem(lowered, 400, "tlp")
    profile.refresh_from_db()
    assert (profile.tlp, profile.version) == (TLP.AMBER, 2)

    by_owner = patch(
        alice, profile.pk, {"tlp": TLP.GREEN}, alice.get(detail_url(profile.pk))["ETag"]
    )
    assert by_owner.status_code == 200, by_owner.content
    assert by_owner.json()["tlp"] == TLP.GREEN


@pytest.mark.parametrize("persona", ["olga", "bob"])
def test_desk_officers_cannot_file_profiles(network, api, persona):
    response = api(getattr(network, persona)).post(PROFILES, valid_profile(), format="json")

    assert_problem(response, 403)
    assert DeviceProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("clearance", "label"),
    [(TLP.GREEN, TLP.AMBER), (TLP.AMBER, TLP.AMBER_STRICT), (TLP.AMBER_STRICT, TLP.RED)],
)
def test_analyst_cannot_file_above_own_clearance(network, api, clearance, label):
    analyst = accounts.member_create(
        organisation=network.fr_desk, username="gaston", role="analyst", clearance=clearance
    )
    client = api(analyst)

    response = client.post(PROFILES, valid_profile(tlp=label), format="json")

    assert_problem(response, 400, "tlp")
    assert DeviceProfile.objects.count() == 0
    # At their clearance, the same analyst files it.
    assert client.post(PROFILES, valid_profile(tlp=clearance), format="json").status_code == 201


def test_alice_with_red_clearance_files_red(network, api):
    response = api(network.alice).post(
        PROFILES, valid_profile(tlp=TLP.RED, recipient_members=["alice"]), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["tlp"] == TLP.RED


# --- Retire ----------------------------------------------------------------------------------


def list_ids(client: Any, **params: Any) -> list[int]:
    response = client.get(PROFILES, params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_retire_hides_from_default_list_and_freezes(network, api, make_profile):
    kept = make_profile(tlp=TLP.GREEN, name="kept")
    retired = make_profile(tlp=TLP.GREEN, name="to retire")
    client = api(network.alice)

    response = client.post(
        f"{PROFILES}{retired.pk}/retire/", {"reason": "Duplicate of kept."}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["retired"] is True
    assert body["retired_reason"] == "Duplicate of kept."
    assert body["retired_at"] is not None
    assert body["version"] == 2
    assert list_ids(client) == [kept.pk]
    assert list_ids(client, retired="true") == [retired.pk]
    assert client.get(detail_url(retired.pk)).status_code == 200

    revisions = client.get(f"{PROFILES}{retired.pk}/revisions/").json()
    assert [(r["number"], r["action"]) for r in revisions] == [(1, "created"), (2, "retired")]
    assert revisions[1]["changes"]["retired"] == {"old": False, "new": True}

    assert_problem(patch(client, retired.pk, {"notes": "late"}, response["ETag"]), 409)
    again = client.post(f"{PROFILES}{retired.pk}/retire/", {"reason": "again"}, format="json")
    assert_problem(again, 409)


def test_retire_needs_a_reason_and_a_writer(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)

    assert_problem(
        api(network.alice).post(f"{PROFILES}{profile.pk}/retire/", {}, format="json"), 400, "reason"
    )
    assert_problem(
        api(network.bob).post(f"{PROFILES}{profile.pk}/retire/", {"reason": "x"}, format="json"),
        403,
    )
    profile.refresh_from_db()
    assert profile.retired_at is None


# --- Conditional GET ------------------------------------------------------------------------


def test_detail_etag_answers_304_until_the_profile_changes(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    client = api(network.alice)
    first = client.get(detail_url(profile.pk))
    etag = first["ETag"]

    cached = client.get(detail_url(profile.pk), headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached["ETag"] == etag

    assert patch(client, profile.pk, {"notes": "new"}, etag).status_code == 200
    fresh = client.get(detail_url(profile.pk), headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert fresh.json()["notes"] == "new"


def test_list_etag_answers_304_until_the_list_changes(network, api, make_profile):
    make_profile(tlp=TLP.GREEN, name="first")
    client = api(network.alice)
    etag = client.get(PROFILES)["ETag"]

    cached = client.get(PROFILES, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached["ETag"] == etag

    make_profile(tlp=TLP.GREEN, name="second")
    fresh = client.get(PROFILES, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert [p["name"] for p in fresh.json()["results"]] == ["second", "first"]


# --- Filters ----------------------------------------------------------------------------------


@pytest.fixture
def catalogue(network, make_profile) -> dict[str, int]:
    bea = accounts.member_create(
        organisation=network.be_desk, username="bea", role="analyst", clearance=TLP.AMBER
    )
    profiles = {
        "range": make_profile(
            tlp=TLP.GREEN,
            name="L8star BM10",
            manufacturer_country="CN",
            aliases=["thumb phone"],
            identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
        ),
        "tac": make_profile(
            tlp=TLP.AMBER,
            name="Zanco tiny t1",
            manufacturer_country="GB",
            identifiers=[{"kind": "tac", "value": "00999910"}],
        ),
        "pen": make_profile(
            tlp=TLP.GREEN,
            name="Pen phone",
            device_class="disguised_phone",
            manufacturer_country="CN",
            identifiers=[{"kind": "bluetooth_name", "value": "PENCAM-01"}],
        ),
        "belgian": make_profile(
            tlp=TLP.GREEN, name="Car key phone", device_class="feature_phone", author=bea
        ),
    }
    return {key: profile.pk for key, profile in profiles.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"range", "tac", "pen", "belgian"}),
        ({"device_class": "disguised_phone"}, {"pen"}),
        ({"device_class": ["mini_phone", "feature_phone"]}, {"range", "tac", "belgian"}),
        ({"tlp": TLP.AMBER}, {"tac"}),
        ({"tlp": TLP.GREEN}, {"range", "pen", "belgian"}),
        ({"owner": "be-desk"}, {"belgian"}),
        ({"owner": "fr-desk"}, {"range", "tac", "pen"}),
        ({"country": "CN"}, {"range", "pen"}),
        ({"tac_prefix": "0099990"}, {"range"}),
        ({"tac_prefix": "00999905"}, {"range"}),
        ({"tac_prefix": "00999910"}, {"tac"}),
        ({"tac_prefix": "009999"}, {"range", "tac"}),
        ({"tac_prefix": "35"}, set()),
        ({"q": "thumb"}, {"range"}),
        ({"q": "pencam"}, {"pen"}),
        ({"q": "ZANCO 00999910"}, {"tac"}),
        ({"q": "phone"}, {"range", "pen", "belgian"}),
        ({"country": "CN", "device_class": "mini_phone"}, {"range"}),
    ],
)
def test_list_filters(network, api, catalogue, params, expected):
    ids = list_ids(api(network.alice), **params)

    assert len(ids) == len(set(ids))
    assert set(ids) == {catalogue[key] for key in expected}


@pytest.mark.parametrize("prefix", ["12ab", "123456789", "-1"])
def test_bad_tac_prefix_is_400_naming_it(network, api, prefix):
    response = api(network.alice).get(PROFILES, {"tac_prefix": prefix})

    assert_problem(response, 400, "tac_prefix")


def test_unknown_filter_choice_is_400(network, api):
    assert_problem(api(network.alice).get(PROFILES, {"tlp": "TLP:PURPLE"}), 400, "tlp")


def test_cursor_pagination_walks_every_profile_once(network, api, catalogue):
    client = api(network.alice)
    url: str | None = f"{PROFILES}?page_size=2"
    pages: list[list[int]] = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([item["id"] for item in body["results"]])
        url = body["next"]
        assert len(pages) <= 5, "pagination does not end"

    seen = [pid for page in pages for pid in page]
    assert [len(page) for page in pages] == [2, 2]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(catalogue.values())
    # Newest first.
    assert seen == sorted(seen, reverse=True)
