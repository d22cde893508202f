"""What `requestable/` says of an object the reader does not see: the owner's teaser
(`request_summary`), or else its kind and label; never its name or title."""

import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from tests.helpers.access import PROFILES, REQUESTS, annex, notice, problem, publish

Api = Callable[[Member | None], APIClient]
__all__ = ["annex", "notice"]  # fixtures used by name


def offered(client: APIClient, notice: dict[str, Any]) -> Any:
    response = client.get(f"{REQUESTS}requestable/?via_notice={notice['id']}")
    assert response.status_code == 200, response.content
    return response


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 200, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("protocol.png", buffer.getvalue(), content_type="image/png")


def test_a_profile_is_offered_by_its_teaser_or_its_kind_and_label(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    plain = offered(charlie, notice)
    assert [row["summary"] for row in plain.json()["results"]] == ["Device profile, TLP:AMBER"]
    assert b"Restricted annex" not in plain.content

    teaser = "Detection protocol for X-ray portals, 4 pages"
    etag = alice.get(f"{PROFILES}{annex.pk}/")["ETag"]
    changed = alice.patch(
        f"{PROFILES}{annex.pk}/", {"request_summary": teaser}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["request_summary"] == teaser
    shown = offered(charlie, notice)
    assert [row["summary"] for row in shown.json()["results"]] == [teaser]
    assert b"Restricted annex" not in shown.content

    etag = changed["ETag"]
    too_long = alice.patch(
        f"{PROFILES}{annex.pk}/", {"request_summary": "x" * 201}, format="json", HTTP_IF_MATCH=etag
    )
    problem(too_long, 400, "request_summary")


def test_an_attachment_is_offered_by_its_teaser_or_its_kind_and_label(
    network, api, make_profile: Callable[..., DeviceProfile]
):
    profile = make_profile(tlp=TLP.GREEN, name="Public profile")
    alice = api(network.alice)
    for title, summary in (("X-ray protocol", "Portal settings, 2 pages"), ("Gate test", "")):
        uploaded = alice.post(
            f"{PROFILES}{profile.pk}/attachments/",
            {
                "file": png(),
                "kind": "detection_protocol",
                "title": title,
                "tlp": TLP.AMBER,
                "request_summary": summary,
            },
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.content
        assert uploaded.json()["request_summary"] == summary
    advertising = publish(network, api, profile_ids=[profile.pk], restricted_data_available=True)

    shown = offered(api(network.charlie), advertising)
    assert [(row["target_type"], row["summary"]) for row in shown.json()["results"]] == [
        ("attachment", "Portal settings, 2 pages"),
        ("attachment", "Attachment (Detection protocol), TLP:AMBER"),
    ]
    assert b"X-ray protocol" not in shown.content
    assert b"Gate test" not in shown.content
