"""Bulk IMEI checks (`POST /api/v1/imei-checks/`, docs/imei-checks.md): normalisation and the
Luhn check digit, matching by TAC and inclusive TAC range among the profiles the member may
see (and only those), the limits, CSV uploads, and an audit trail that keeps no IMEI.

The IMEIs are the synthetic fixtures of data/operation-prison-break.json
(`synthetic_test_fixtures`), in the GSMA test range (TACs starting 00).
"""

import hashlib
import json
import logging
import random
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from intel import services
from intel.api.imei_input import MAX_BODY_BYTES
from intel.imei import (
    BAD_CHECK_DIGIT,
    IMEI,
    NON_DIGIT_CHARACTERS,
    SEPARATORS,
    WRONG_LENGTH,
    match_tacs,
    normalise,
)
from intel.models import TLP, AuditEvent, DeviceProfile, Identifier, Member

URL = "/api/v1/imei-checks/"
PROBLEM = "application/problem+json"
Api = Callable[[Member | None], APIClient]


def luhn_valid(number: str) -> bool:
    """The textbook Luhn test, written independently of intel.imei's."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit >= 5 else digit * 2
        total += digit
    return total % 10 == 0


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def imei_for(tac: str, serial: int) -> str:
    return with_check_digit(f"{tac}{serial:06d}")


def check(client: APIClient, imeis: list[Any]) -> Any:
    return client.post(URL, {"imeis": imeis}, format="json")


@pytest.fixture
def l8star(make_profile: Callable[..., DeviceProfile]) -> DeviceProfile:
    """The demo's L8star: TLP:GREEN, the synthetic TAC 00999900."""
    return make_profile(
        tlp=TLP.GREEN,
        name="L8star ultra-compact mini phone",
        identifiers=[{"kind": "tac", "value": "00999900"}],
    )


# --- The synthetic fixtures ------------------------------------------------------------------

FIXTURES = [
    # input, normalised, kind, reason
    ("009999000000012", "009999000000012", "imei", None),
    ("009999000000020", "009999000000020", "imei", None),
    ("009999000000038", "009999000000038", "imei", None),
    ("009999000000013", None, None, BAD_CHECK_DIGIT),
    ("00999900000004", "009999000000046", "imei", None),
    ("00-999900-000005-3", "009999000000053", "imei", None),
    ("0099990000000501", "0099990000000501", "imeisv", None),
]


def test_the_synthetic_fixtures_are_answered_item_by_item(network, api, l8star):
    response = check(api(network.bob), [raw for raw, *_ in FIXTURES])

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["summary"] == {"items": 7, "valid": 6, "invalid": 1, "matched": 6}
    for item, (raw, normalised, kind, reason) in zip(body["items"], FIXTURES, strict=True):
        assert item["input"] == raw
        assert item["normalised"] == normalised
        assert item["kind"] == kind
        assert item["valid"] is (reason is None)
        assert item["reason"] == reason
        assert item["tac"] == ("00999900" if reason is None else None)
        assert item["profiles"] == ([l8star.pk] if reason is None else [])
    assert body["profiles"] == [
        {
            "id": l8star.pk,
            "name": "L8star ultra-compact mini phone",
            "tlp": "TLP:GREEN",
            "device_class": "mini_phone",
            "retired": False,
            "url": f"/api/v1/profiles/{l8star.pk}/",
        }
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("٠٠٩٩٩٩٠٠٠٠٠٠٠١٢", NON_DIGIT_CHARACTERS),  # Arabic-Indic digits
        ("００９９９９００００００１２", NON_DIGIT_CHARACTERS),  # full-width digits
        ("0099990000000１2", NON_DIGIT_CHARACTERS),  # one full-width digit among ASCII ones
        ("00999900000001²", NON_DIGIT_CHARACTERS),  # a superscript, which str.isdigit() takes
        ("IMEI 009999000000012", NON_DIGIT_CHARACTERS),
        ("0099990000000120", None),  # 16 digits: an IMEISV, valid whatever its last two
        ("0099990000001", WRONG_LENGTH),
        ("00999900000001234", WRONG_LENGTH),
        ("", WRONG_LENGTH),
        (" - . / ", WRONG_LENGTH),
    ],
)
def test_items_of_every_other_shape_are_answered_not_refused(network, api, raw, reason):
    response = check(api(network.bob), [raw])

    assert response.status_code == 200, response.content
    (item,) = response.json()["items"]
    assert item["input"] == raw
    assert item["reason"] == reason
    assert item["valid"] is (reason is None)


# --- Who sees which profiles -----------------------------------------------------------------


def test_an_amber_profile_matches_for_its_recipient_and_stays_hidden_from_an_outsider(
    network, api, l8star, make_profile
):
    in_range = imei_for("00999901", 1)
    imeis = ["009999000000012", f"{in_range[:2]} {in_range[2:8]} {in_range[8:]}"]
    imeis.append(imei_for("00999910", 1))  # just past the annex's range
    charlie = api(network.charlie)
    before = check(charlie, imeis).content

    annex = make_profile(
        tlp=TLP.AMBER,
        name="Restricted annex of the Oportik phone",
        recipients=[network.be_desk],
        identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
    )
    for_bob = check(api(network.bob), imeis).json()
    for_charlie = check(charlie, imeis)

    assert [item["profiles"] for item in for_bob["items"]] == [
        [l8star.pk, annex.pk],
        [annex.pk],
        [],
    ]
    assert for_bob["summary"]["matched"] == 2
    assert {p["id"] for p in for_bob["profiles"]} == {l8star.pk, annex.pk}
    # The outsider's answer is byte for byte what it was before the profile existed.
    assert for_charlie.status_code == 200
    assert for_charlie.content == before
    assert [item["profiles"] for item in for_charlie.json()["items"]] == [[l8star.pk], [], []]
    assert b"annex" not in for_charlie.content.lower()
    outsider_event = AuditEvent.objects.filter(actor_id=network.charlie.pk).last()
    assert outsider_event is not None
    assert outsider_event.detail["profiles"] == [l8star.pk]


def test_a_member_matches_nothing_of_a_profile_above_its_clearance(network, api, make_profile):
    strict = make_profile(
        tlp=TLP.AMBER_STRICT,
        recipients=[network.be_desk],
        identifiers=[{"kind": "tac", "value": "00999900"}],
    )
    # bob's desk is a named recipient, but bob's clearance is TLP:AMBER.
    assert check(api(network.bob), ["009999000000012"]).json()["items"][0]["profiles"] == []
    assert check(api(network.alice), ["009999000000012"]).json()["items"][0]["profiles"] == [
        strict.pk
    ]


def test_tac_ranges_match_at_both_inclusive_ends(network, api, make_profile):
    ranged = make_profile(
        tlp=TLP.GREEN,
        identifiers=[{"kind": "tac_range", "range_start": "00999910", "range_end": "00999919"}],
    )
    tacs = ["00999909", "00999910", "00999915", "00999919", "00999920"]

    body = check(api(network.charlie), [imei_for(tac, 7) for tac in tacs]).json()

    matched = [[ranged.pk]] * 3
    assert [item["profiles"] for item in body["items"]] == [[], *matched, []]
    assert body["summary"] == {"items": 5, "valid": 5, "invalid": 0, "matched": 3}


def test_overlapping_and_nested_ranges_match_like_a_brute_force_search(network, make_profile):
    """The range sweep against the obvious double loop, on random intervals of a small TAC
    space so that they nest, overlap, touch and share ends."""
    rng = random.Random(20251122)  # noqa: S311 - test data, not a secret
    profiles = [make_profile(tlp=TLP.GREEN, name=f"P{i}") for i in range(6)]
    intervals = []
    for _ in range(40):
        start = rng.randrange(0, 60)
        end = start + rng.choice([0, 0, 1, 3, 10, 40])
        profile = rng.choice(profiles)
        kind = "tac" if start == end else "tac_range"
        tac_start, tac_end = f"{start:08d}", f"{end:08d}"
        Identifier.objects.create(
            profile=profile, kind=kind, value=tac_start, tac_start=tac_start, tac_end=tac_end
        )
        intervals.append((tac_start, tac_end, profile.pk))
    points = [f"{rng.randrange(0, 110):08d}" for _ in range(80)]

    expected = {}
    for tac in set(points):
        ids = sorted({pid for start, end, pid in intervals if start <= tac <= end})
        if ids:
            expected[tac] = ids
    assert match_tacs(network.charlie, points) == expected


# --- Normalisation properties ------------------------------------------------------------------

BODIES = st.text(alphabet="0123456789", min_size=14, max_size=14)
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())


@given(body=BODIES, data=st.data())
def test_a_valid_imei_survives_any_separators(body, data):
    imei = with_check_digit(body)
    gaps = [data.draw(st.text(alphabet=SEPARATORS, max_size=2)) for _ in range(16)]
    written = "".join(gaps[i] + imei[i] for i in range(15)) + gaps[15]

    assert normalise(written) == (IMEI, imei, None)
    assert normalise(imei) == (IMEI, imei, None)


@given(body=BODIES)
def test_fourteen_digits_get_their_check_digit(body):
    assert normalise(body) == (IMEI, with_check_digit(body), None)


@given(body=BODIES, position=st.integers(0, 14), change=st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_imei_makes_it_invalid(body, position, change):
    imei = with_check_digit(body)
    changed = imei[:position] + str((int(imei[position]) + change) % 10) + imei[position + 1 :]

    assert normalise(changed) == (None, None, BAD_CHECK_DIGIT)


@given(body=BODIES, position=st.integers(0, 14), foreign=NON_ASCII_DIGITS)
def test_a_digit_of_another_script_makes_it_invalid(body, position, foreign):
    imei = with_check_digit(body)
    assert unicodedata.digit(foreign, None) is not None
    written = imei[:position] + foreign + imei[position + 1 :]

    assert normalise(written) == (None, None, NON_DIGIT_CHARACTERS)


# --- Limits and refusals ---------------------------------------------------------------------


def test_100000_hyphenated_imeis_are_accepted_beyond_djangos_body_limit(network, api, l8star):
    imeis = [
        f"00-999900-{serial:06d}-{imei_for('00999900', serial)[-1]}" for serial in range(100_000)
    ]
    payload = json.dumps({"imeis": imeis})
    assert len(payload) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = api(network.bob).post(URL, payload, content_type="application/json")

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["summary"] == {"items": 100_000, "valid": 100_000, "invalid": 0, "matched": 100_000}
    assert body["items"][99_999]["normalised"] == imei_for("00999900", 99_999)


def test_100001_imeis_get_413_naming_the_limit(network, api):
    response = check(api(network.bob), ["009999000000012"] * 100_001)

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:dix:problem:too-many-imeis"
    assert "100,000" in problem["detail"]
    assert problem["errors"][0]["field"] == "imeis"
    assert not AuditEvent.objects.filter(action="imei_check.performed").exists()


def test_a_body_beyond_the_byte_limit_gets_413_naming_it(network, api):
    payload = json.dumps({"imeis": ["0" * 1000] * (MAX_BODY_BYTES // 1000)})

    response = api(network.bob).post(URL, payload, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["type"] == "urn:dix:problem:request-too-large"
    assert f"{MAX_BODY_BYTES:,} bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"imeis": []}, "imeis"),
        ({}, "imeis"),
        ({"imeis": "009999000000012"}, "imeis"),
        ({"imeis": {"0": "009999000000012"}}, "imeis"),
        ({"imeis": None}, "imeis"),
        ({"imeis": ["009999000000012", 9999000000012]}, "imeis.1"),
        ({"imeis": ["009999000000012", None]}, "imeis.1"),
        ({"imeis": [["009999000000012"]]}, "imeis.0"),
        ({"imeis": ["009999000000012"], "imei": []}, "imei"),
        (["009999000000012", 9999000000012], "imeis.1"),
        ([], "imeis"),
        ("009999000000012", "body"),
        (None, "body"),
    ],
)
def test_a_body_that_is_not_a_list_of_strings_gets_400_naming_the_field(
    network, api, payload, field
):
    response = api(network.bob).post(URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert "009999000000012" not in response.content.decode()


def test_a_bare_json_array_is_answered_like_the_object(network, api, l8star):
    bob = api(network.bob)
    raw = [raw for raw, *_ in FIXTURES]

    bare = bob.post(URL, json.dumps(raw), content_type="application/json")

    assert bare.status_code == 200, bare.content
    assert bare.json() == check(bob, raw).json()
    assert bare.json()["summary"] == {"items": 7, "valid": 6, "invalid": 1, "matched": 6}
    events = AuditEvent.objects.filter(action="imei_check.performed")
    assert [e.detail["source"] for e in events] == ["json", "json"]


def test_a_bare_json_array_of_100001_imeis_gets_413(network, api):
    payload = json.dumps(["009999000000012"] * 100_001)

    response = api(network.bob).post(URL, payload, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["type"] == "urn:dix:problem:too-many-imeis"
    assert response.json()["errors"][0]["field"] == "imeis"


@pytest.mark.parametrize(
    "raw", [b"{", b'{"imeis": [NaN]}', b"\xff\xfe{}", b"[" * 100_000, b'{"imeis": ["\xe9"]}']
)
def test_a_body_that_is_not_json_gets_400(network, api, raw):
    response = api(network.bob).post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == "urn:dix:problem:malformed-request"


def test_anonymous_requests_are_refused(network, api):
    assert check(api(None), ["009999000000012"]).status_code == 401


def test_other_media_types_get_415(network, api):
    response = api(network.bob).post(URL, "imeis=1", content_type="application/xml")
    assert response.status_code == 415


# --- CSV -------------------------------------------------------------------------------------

CSV = (
    "\ufeffIMEI;seized_at\r\n"
    "00-999900-000005-3;2025-05-20\r\n"
    "\r\n"
    '"009999000000013";2025-05-20\r\n'
    "00999900000004\r\n"
    "\t\r\n"
)


def test_a_csv_file_upload_is_checked_by_its_first_column(network, api, l8star):
    upload = SimpleUploadedFile("seized.csv", CSV.encode(), content_type="text/csv")

    response = api(network.bob).post(URL, {"file": upload}, format="multipart")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(i["input"], i["normalised"], i["reason"]) for i in body["items"]] == [
        ("00-999900-000005-3", "009999000000053", None),
        ("009999000000013", None, BAD_CHECK_DIGIT),
        ("00999900000004", "009999000000046", None),
    ]
    assert body["summary"] == {"items": 3, "valid": 2, "invalid": 1, "matched": 2}
    assert AuditEvent.objects.get(action="imei_check.performed").detail["source"] == "csv"


def test_a_csv_body_is_checked_line_by_line(network, api, l8star):
    csv = "imei\n009999000000012\n009999000000020,cell 12\nnot an imei\n"

    response = api(network.bob).post(URL, csv, content_type="text/csv")

    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [i["normalised"] for i in items] == ["009999000000012", "009999000000020", None]
    assert items[2]["reason"] == NON_DIGIT_CHARACTERS  # a header only on the first line


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"IMEI\n\n", "at least one"),
        (b"", "empty"),
        ("009999000000012\n".encode("utf-16"), "UTF-8"),
        (b"00999900\xe90000012\n", "UTF-8"),
    ],
)
def test_a_csv_upload_without_imeis_or_not_utf8_gets_400(network, api, content, detail):
    upload = SimpleUploadedFile("seized.csv", content, content_type="text/csv")

    response = api(network.bob).post(URL, {"file": upload}, format="multipart")

    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == "file"
    assert detail in error["detail"]


def test_a_csv_upload_needs_its_file_field_and_nothing_else(network, api):
    bob = api(network.bob)
    upload = SimpleUploadedFile("seized.csv", b"009999000000012\n", content_type="text/csv")
    misnamed = bob.post(URL, {"csv": upload}, format="multipart")
    missing = bob.post(URL, {}, format="multipart")

    assert misnamed.status_code == missing.status_code == 400
    assert [e["field"] for e in misnamed.json()["errors"]] == ["csv"]
    assert [e["field"] for e in missing.json()["errors"]] == ["file"]


def test_an_empty_csv_body_gets_400(network, api):
    response = api(network.bob).post(URL, "", content_type="text/csv")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


def test_a_csv_of_100001_lines_gets_413(network, api):
    csv = "009999000000012\n" * 100_001
    response = api(network.bob).post(URL, csv, content_type="text/csv")

    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


# --- The audit trail -------------------------------------------------------------------------


def test_one_audit_event_per_check_with_counts_and_digest_and_no_imei(network, api, l8star, caplog):
    imeis = [raw for raw, *_ in FIXTURES] + ["12345"]
    normalised = [n for _, n, *_ in FIXTURES if n]
    expected_digest = hashlib.sha256("".join(f"{n}\n" for n in normalised).encode()).hexdigest()
    bob = api(network.bob)  # issuing its token is an event of its own
    before = AuditEvent.objects.count()

    with caplog.at_level(logging.DEBUG):
        response = check(bob, imeis)

    assert response.json()["sha256"] == expected_digest
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.action == "imei_check.performed"
    assert event.actor_username == "bob"
    assert event.detail == {
        "source": "json",
        "count": 8,
        "valid": 6,
        "invalid": 2,
        "matched": 6,
        "sha256": expected_digest,
        "profiles": [l8star.pk],
    }
    stored = json.dumps(model_to_dict(event), default=str)
    logged = "\n".join(f"{r.getMessage()} {r.args} {r.__dict__}" for r in caplog.records)
    for text in (stored, logged):
        for raw, normalised_form, *_ in FIXTURES:
            assert raw not in text
            assert raw.replace("-", "")[:14] not in text
            assert normalised_form is None or normalised_form not in text


def test_a_retired_profile_still_matches_and_says_so(network, api, l8star):
    services.profile_retire(profile_id=l8star.pk, author=network.alice, reason="Superseded.")

    body = check(api(network.bob), ["009999000000012"]).json()

    assert body["items"][0]["profiles"] == [l8star.pk]
    assert body["profiles"][0]["retired"] is True


def test_thousands_of_distinct_tacs_are_all_looked_up(network, api, make_profile):
    """More distinct TACs than one lookup query takes (intel.imei.TAC_CHUNK)."""
    tacs = [f"01{i:06d}" for i in range(12_000)]
    last = make_profile(tlp=TLP.GREEN, identifiers=[{"kind": "tac", "value": tacs[11_500]}])
    first = make_profile(
        tlp=TLP.GREEN,
        identifiers=[{"kind": "tac_range", "range_start": tacs[10], "range_end": tacs[20]}],
    )

    body = check(api(network.bob), [imei_for(tac, 1) for tac in tacs]).json()

    matched = {i: item["profiles"] for i, item in enumerate(body["items"]) if item["profiles"]}
    assert matched == {11_500: [last.pk], **{i: [first.pk] for i in range(10, 21)}}
    assert body["summary"]["matched"] == 12
