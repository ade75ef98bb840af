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
# Older Office files (.doc, .xls) are OLE2 compound files.
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE2_TYPES = {".doc": "application/msword", ".xls": "application/vnd.ms-excel"}
# Photos from phones (iPhone: HEIC) are ISO media files: "ftyp" and a brand at bytes 4-12.
HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
}
OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def _suffix(name: str) -> str:
    return name[name.rfind(".") :].lower() if "." in name else ""


def detect_type(name: str, head: bytes) -> str:
    """The content type of an allowed file, or a ValidationError naming what is allowed."""
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIF_BRANDS[head[8:12]]
    if head.startswith(OLE2) and _suffix(name) in OLE2_TYPES:
        return OLE2_TYPES[_suffix(name)]
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            if content_type != "application/zip":
                return content_type
            if _suffix(name) in OFFICE_TYPES:
                return OFFICE_TYPES[_suffix(name)]
    if name.lower().endswith(".txt") and b"\x00" not in head:
        return "text/plain"
    raise ValidationError(
        _(
            "Only PDF, images (JPEG, PNG, GIF, HEIC/HEIF), text (.txt) and office documents "
            "(DOC, DOCX, XLS, XLSX, ODT, ODS) can be attached."
        )
    )


def check_size(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise ValidationError(_("The file is empty."))
