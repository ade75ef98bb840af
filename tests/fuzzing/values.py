"""Malformed values for every kind of parameter, and files to upload."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import strategies as st

# Values that broke pages before, and their relatives. Every parameter gets each of them.
NASTY: tuple[str, ...] = (
    "a\x00b",  # a NUL byte: PostgreSQL refuses it in any text
    "1" * 23,  # an integer no column holds
    "9223372036854775808",  # one more than the largest 64-bit integer
    "x" * 300,  # longer than every CharField
    "²",  # a digit to str.isdigit(), not to int()
    "-1",
    "0",
    "2026-02-31",  # a day that does not exist
    "2026-13-01",
    "9999-12-31",  # the last day there is: one day more overflows
    "0001-01-01",  # the first: one day less overflows
    "25:61",
    "<script>alert(1)</script>",
    "",
    " ",
    "1e309",  # float() makes it infinite
    "NaN",
    "99999999999",  # a very high page number
    "1.5",
    "%",  # the wildcard of LIKE
    "'\"",
)
# Path arguments must match their converter, else the resolver answers 404 before any view.
PATH_SAFE = {
    "int": re.compile(r"[0-9]+"),
    "slug": re.compile(r"[-a-zA-Z0-9_]+"),
    "str": re.compile(r"[^/]+"),
    "path": re.compile(r".+"),
}
NASTY_INTS = ("0", "1" * 23, "9223372036854775808")
NASTY_TEXT = ("a\x00b", "1" * 23, "x" * 300, "²", "-1", "<script>alert(1)</script>", " ", "%")
FILE_NAMES = ("a\x00b.eml", "x" * 300 + ".pdf", "².pdf", "<script>.eml", "noname", ".eml")
FILE_CONTENTS = (b"", b"\x00\xff", b"%PDF-1.4 kaputt", b"From: a\r\n\r\nb", b"x" * 70_000)
FILE_TYPES = ("message/rfc822", "application/pdf", "text/html", "a\x00b")


def nasty_file(n: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        FILE_NAMES[n % len(FILE_NAMES)],
        FILE_CONTENTS[n % len(FILE_CONTENTS)],
        content_type=FILE_TYPES[n % len(FILE_TYPES)],
    )


def nasty_files() -> st.SearchStrategy[SimpleUploadedFile]:
    return st.builds(
        lambda name, content, kind: SimpleUploadedFile(name, content, content_type=kind),
        st.sampled_from(FILE_NAMES),
        st.sampled_from(FILE_CONTENTS),
        st.sampled_from(FILE_TYPES),
    )
