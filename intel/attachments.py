"""What an uploaded attachment really is, a copy of it without metadata, and a safe name to
hand it back under.

The type comes from the content, never from the name or the client's Content-Type. Images
are decoded and re-encoded, which drops EXIF (GPS, camera serials), XMP and text chunks. The
uploader's file name is kept only as a download name (`clean_file_name`), never as a path.
"""

import hashlib
import io
import unicodedata
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from core.errors import FieldInvalid

# A photo of a device never needs more; larger images are refused before decoding.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "image/webp": ("webp",),
}
MAX_NAME_LENGTH = 200


def clean_file_name(name: str, content_type: str) -> str:
    """The uploader's file name, safe to send back in `Content-Disposition`: without a path
    (`../../etc/passwd` → `passwd`), control or format characters, quotes, backslashes or
    leading dots, at most `MAX_NAME_LENGTH` characters, and ending in an extension of the
    sniffed type (`scan.exe` holding a PDF → `scan.exe.pdf`). Empty when nothing is left."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "\"'`")
    name = " ".join(name.split()).lstrip(". ")
    if not name:
        return ""
    extensions = EXTENSIONS.get(content_type, ())
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension.lower() in extensions) and extensions:
        name = f"{name}.{extensions[0]}"
        stem, _, extension = name.rpartition(".")
    if len(name) > MAX_NAME_LENGTH:
        name = f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"
    return name


def download_name(original_name: str, content_type: str, pk: int) -> str:
    """The name an attachment is downloaded under: the sanitised name it was uploaded with,
    or, for one stored without, its id and the extension of its type."""
    if original_name:
        return original_name
    return f"dix-attachment-{pk}.{EXTENSIONS.get(content_type, ('bin',))[0]}"


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    sha256: str


def clean_upload(upload: UploadedFile, *, max_bytes: int, field: str = "file") -> CleanFile:
    """Sniff and sanitise an upload, or raise `FieldInvalid` naming `field`."""
    if upload.size is None or upload.size > max_bytes:
        raise FieldInvalid(field, f"The file is larger than the limit of {max_bytes} bytes.")
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FieldInvalid(field, f"The file is larger than the limit of {max_bytes} bytes.")
    if not data:
        raise FieldInvalid(field, "The file is empty.")
    if data.startswith(b"%PDF-"):
        return CleanFile(data, "application/pdf", hashlib.sha256(data).hexdigest())
    content, content_type = _reencode_image(data, field)
    return CleanFile(content, content_type, hashlib.sha256(content).hexdigest())


def _reencode_image(data: bytes, field: str) -> tuple[bytes, str]:
    refused = FieldInvalid(field, "Only JPEG, PNG or WebP photos and PDF documents are accepted.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            # Checked here, before decoding, rather than through Pillow's warning, which is
            # process-wide state and not thread-safe under a threaded server.
            if probe.width * probe.height > MAX_PIXELS:
                raise refused
            probe.verify()
        if fmt not in _IMAGE_TYPES:
            raise refused
        with Image.open(io.BytesIO(data)) as image:
            # Apply the EXIF orientation before the EXIF block is dropped.
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("P", "PA", "LA"):
                # A palette does not survive the copy below; RGBA keeps colours and
                # transparency.
                upright = upright.convert("RGBA")
            clean = Image.new(upright.mode, upright.size)
            clean.paste(upright)
            if fmt == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            out = io.BytesIO()
            clean.save(out, format=fmt, **({"quality": 92} if fmt != "PNG" else {}))
    except FieldInvalid:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # raised, not just warned, where warnings are errors
    ):
        raise refused from None
    return out.getvalue(), _IMAGE_TYPES[fmt]
