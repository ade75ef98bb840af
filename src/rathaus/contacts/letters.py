"""Letters to citizens as PDF (WeasyPrint) on the tenant's letterhead."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Case


def render_letter(*, case: Case, body: str, author: User | None, date: dt.datetime) -> bytes:
    import weasyprint  # heavy import, only when a letter is written

    tenant = case.tenant
    logo_url = tenant.logo.path if tenant.logo else ""
    with translation.override("de"):
        html = render_to_string(
            "contacts/letter.html",
            {
                "tenant": tenant,
                "case": case,
                "body": body,
                "author": author,
                "date": timezone.localtime(date),
                "logo_url": f"file://{logo_url}" if logo_url else "",
            },
        )
    return bytes(weasyprint.HTML(string=html).write_pdf())
