"""What files a case accepts: a size limit and an allow-list of types (checked by content)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
# Types by the file's first bytes, not by the name or the browser's claim.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),  # docx, xlsx, odt, ods are zip containers
]
OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def detect_type(name: str, head: bytes) -> str:
    """The content type of an allowed file, or a ValidationError naming what is allowed."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            if content_type != "application/zip":
                return content_type
            suffix = name[name.rfind(".") :].lower() if "." in name else ""
            if suffix in OFFICE_TYPES:
                return OFFICE_TYPES[suffix]
    if name.lower().endswith(".txt") and b"\x00" not in head:
        return "text/plain"
    raise ValidationError(
        _("Only PDF, images (PNG, JPEG, GIF), text and office documents can be attached.")
    )


def check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise ValidationError(_("The file is empty."))
