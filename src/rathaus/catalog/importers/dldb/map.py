"""Mapping validated entries to model fields, collecting notes on what was adjusted."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from rathaus.catalog.models import ServiceStatus
from rathaus.core.text import html_to_text

from .read import _as_int, _clean_line, _Entry
from .report import ImportItem, SectionReport

SOURCE = "dldb"
MAPPING_VERSION = "dldb-1"

# Model limits, mirrored here to clamp values before full_clean would reject them.
DURATION_MIN, DURATION_MAX = 1, 480
QUANTITY_MIN, QUANTITY_MAX = 1, 20
SLOT_MAX = 480

_LEIKA_RE = re.compile(r"^\d{14}$")
_ONLINE_LINK_RE = re.compile(
    r"(?=.*\bonline)(?=.*(antrag|beantrag|anmeld|abmeld|außer betrieb|zulassung))|^\s*antragstellung\s*$",
    re.IGNORECASE,
)


def _truthy(value: Any) -> bool:
    return (
        value is True
        or value == 1
        or (isinstance(value, str) and value.strip().lower() in {"1", "true"})
    )


def source_hash(entry: dict[str, Any], extra: Any = None) -> str:
    """SHA-256 of the canonical JSON of an entry without its volatile export timestamp."""
    data = dict(entry)
    if isinstance(data.get("meta"), dict):
        data["meta"] = {k: v for k, v in data["meta"].items() if k != "lastupdate"}
    payload: Any = data if extra is None else {"entry": data, "extra": extra}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{MAPPING_VERSION}\n{canonical}".encode()).hexdigest()


def _parse_leika(value: Any, ext_id: str, section: SectionReport) -> str:
    raw = "" if value is None else str(value).strip()
    if not raw:
        section.note(ext_id, "leika_missing", _("no LeiKa key"))
        return ""
    tokens = [t for t in re.split(r"[,;\s]+", raw) if t]
    valid = [t for t in tokens if _LEIKA_RE.match(t)]
    if not valid:
        section.note(
            ext_id, "leika_invalid", _("invalid LeiKa key “%(value)s” left blank") % {"value": raw}
        )
        return ""
    if len(tokens) > 1:
        section.note(
            ext_id,
            "leika_multiple",
            _("several LeiKa keys (%(keys)s); %(key)s used")
            % {"keys": ", ".join(tokens), "key": valid[0]},
        )
    return valid[0]


def _keywords(meta: Any) -> str:
    raw = meta.get("keywords") if isinstance(meta, dict) else None
    if not isinstance(raw, str):
        return ""
    seen: dict[str, str] = {}
    for part in re.split(r"[,\n]", raw):
        word = _clean_line(part)
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return ", ".join(seen.values())


def _clamp(
    value: Any,
    low: int,
    high: int,
    *,
    default: int | None,
    ext_id: str,
    kind: str,
    label: str,
    section: SectionReport,
) -> int | None:
    number = _as_int(value)
    if number is None:
        return default
    if number < low or number > high:
        result = default if number <= 0 else min(max(number, low), high)
        section.note(
            ext_id,
            kind,
            _("%(label)s %(value)d is outside %(low)d–%(high)d; %(result)s used")
            % {
                "label": label,
                "value": number,
                "low": low,
                "high": high,
                "result": "—" if result is None else result,
            },
        )
        return result
    return number


def _fit(value: str, limit: int, field_name: str, ext_id: str, section: SectionReport) -> str:
    if len(value) <= limit:
        return value
    section.note(
        ext_id,
        "truncated",
        _("%(field)s shortened to %(limit)d characters") % {"field": field_name, "limit": limit},
    )
    return value[:limit].rstrip()


def _online_url(entry: dict[str, Any]) -> str:
    validate = URLValidator(schemes=["http", "https"])
    for key in ("links", "forms"):
        for link in entry.get(key) or []:
            name = _clean_line(link.get("name"))
            url = (link.get("link") or "").strip() if isinstance(link.get("link"), str) else ""
            if not name or not url or not _ONLINE_LINK_RE.search(name):
                continue
            if url.lower().split("?")[0].endswith(".pdf") or len(url) > 500:
                continue
            try:
                validate(url)
            except ValidationError:
                continue
            return url
    return ""


def _service_fields(entry: _Entry, section: SectionReport) -> dict[str, Any]:
    raw, ext_id = entry.raw, entry.external_id
    locations = raw.get("locations") or []
    return {
        "name": entry.name,
        "leika_key": _parse_leika(raw.get("leika"), ext_id, section),
        "summary": html_to_text(raw.get("description")),
        "fees": html_to_text(raw.get("fees")),
        "keywords": _keywords(raw.get("meta")),
        "duration_minutes": _clamp(
            raw.get("duration"),
            DURATION_MIN,
            DURATION_MAX,
            default=None,
            ext_id=ext_id,
            kind="duration_clamped",
            label=_("duration"),
            section=section,
        ),
        "max_quantity": _clamp(
            raw.get("maxQuantity"),
            QUANTITY_MIN,
            QUANTITY_MAX,
            default=QUANTITY_MIN,
            ext_id=ext_id,
            kind="max_quantity_clamped",
            label=_("maximum quantity"),
            section=section,
        ),
        "bookable": any(
            _truthy((loc.get("appointment") or {}).get("allowed")) for loc in locations
        ),
        "online_url": _online_url(raw),
        "status": ServiceStatus.PUBLISHED if _truthy(raw.get("public")) else ServiceStatus.DRAFT,
        "source": SOURCE,
        "external_id": ext_id,
        "source_hash": source_hash(raw),
    }


def _accessibility(value: Any) -> str:
    if isinstance(value, str):
        return html_to_text(value)
    if isinstance(value, list):
        return "\n".join(filter(None, (_accessibility(v) for v in value)))
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if item in (None, "", False, "0", 0, [], {}):
                continue
            text = "" if item is True or item in ("1", 1) else _accessibility(item) or str(item)
            lines.append(f"{key}: {text}" if text else str(key))
        return "\n".join(lines)
    return ""


def _location_fields(entry: _Entry, section: SectionReport) -> dict[str, Any]:
    raw, ext_id = entry.raw, entry.external_id
    address = raw.get("address") or {}
    contact = raw.get("contact") or {}

    def text(container: dict[str, Any], key: str) -> str:
        value = container.get(key)
        return (
            _clean_line(str(value))
            if value is not None and not isinstance(value, dict | list)
            else ""
        )

    street = " ".join(filter(None, (text(address, "street"), text(address, "house_number"))))
    email = text(contact, "email")
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            section.note(
                ext_id,
                "email_invalid",
                _("invalid e-mail address “%(value)s” left blank") % {"value": email},
            )
            email = ""
    slot = raw.get("slotTimeInMinutes")
    slot_minutes = _as_int(slot)
    if slot_minutes is not None and not 1 <= slot_minutes <= SLOT_MAX:
        section.note(
            ext_id, "slot_invalid", _("slot length %(value)d left empty") % {"value": slot_minutes}
        )
        slot_minutes = None
    return {
        "name": _fit(entry.name, 255, "name", ext_id, section),
        "street": _fit(street, 255, "street", ext_id, section),
        "postcode": _fit(text(address, "postal_code"), 10, "postcode", ext_id, section),
        "city": _fit(text(address, "city"), 100, "city", ext_id, section),
        "phone": _fit(text(contact, "phone"), 50, "phone", ext_id, section),
        "email": email,
        "accessibility": _accessibility(raw.get("accessibility")),
        "slot_minutes": slot_minutes,
        "source": SOURCE,
        "external_id": ext_id,
    }


def _dedupe(entries: list[_Entry], section: SectionReport) -> list[_Entry]:
    first: dict[str, _Entry] = {}
    kept = []
    for entry in entries:
        if entry.external_id in first:
            section.skipped.append(
                ImportItem(
                    entry.external_id,
                    entry.name,
                    _("duplicate id: entry #%(index)d uses the same id (the first one is imported)")
                    % {"index": first[entry.external_id].index},
                )
            )
            continue
        first[entry.external_id] = entry
        kept.append(entry)
    return kept
