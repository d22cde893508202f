"""A profile's attachments: size and type refused before anything is stored, images sniffed and
stripped of their metadata, PDFs kept as PDFs."""

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from intel.models import TLP, Attachment
from tests.helpers.profiles import (
    PROFILES,
    assert_problem,
)

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
    listed = client.get(attachments_url(profile.pk)).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]


# --- Download names ------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_attachment_downloads_under_its_sanitised_original_name(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    client = api(network.alice)
    names = {
        "Saisie «prison» n°1.pdf": (
            "Saisie «prison» n°1.pdf",
            "attachment; filename*=utf-8''Saisie%20%C2%ABprison%C2%BB%20n%C2%B01.pdf",
        ),
        "../../etc/passwd": ("passwd.pdf", 'attachment; filename="passwd.pdf"'),
        "C:\\Users\\x\\`quoted'\x07 scan.exe": (
            "quoted scan.exe.pdf",
            'attachment; filename="quoted scan.exe.pdf"',
        ),
        "...": ("dix-attachment-{pk}.pdf", 'attachment; filename="dix-attachment-{pk}.pdf"'),
    }

    for name, (file_name, disposition) in names.items():
        created = upload(client, profile.pk, name, PDF, "application/pdf")
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["file_name"] == file_name.format(pk=body["id"])
        response, content = download(client, body["content_url"])
        assert response["Content-Disposition"] == disposition.format(pk=body["id"]), name
        assert content == PDF
