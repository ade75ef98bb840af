"""Importer for the DLDB/ZMS JSON export (services and locations), as used by Munich and Berlin.

Both files have the shape ``{"data": [entry, ...], "meta": {...}}`` (a bare list of entries is
accepted as well). The import runs in three steps:

1. **Read and validate** every given file completely: JSON syntax, top-level shape, each entry's
   ``id`` and ``name`` and the types of the fields we read. Any problem raises
   :class:`ImportFileError` naming the file, the entry (index and id) and the field; nothing has
   been written at that point.
2. **Map** each entry to model fields, collecting notes (e.g. a missing LeiKa key) and skipping
   entries that cannot be imported without making the file malformed (e.g. a duplicate id).
3. **Write** inside one ``transaction.atomic`` block, only through the catalogue services
   (``service_create``/``service_update``/``location_create``/``location_update``), so every
   change is validated (``full_clean``), appends its event and bumps the search revision.

Mapping decisions (see the report in the handover for the reasoning):

* Rows are matched on ``(tenant, source="dldb", external_id=str(id))``; other tenants' rows
  and rows from other sources are never read or written.
* ``source_hash`` is the SHA-256 of the canonical JSON of the source entry (sorted keys, no
  whitespace), prefixed with :data:`MAPPING_VERSION` so a change of this mapping re-imports
  everything once. ``meta.lastupdate`` is left out: every export stamps all entries with the
  export time, which would otherwise turn each new export into 100 % "updated". For locations
  the hash also covers the list of offered services that could be resolved, so a location
  whose services were imported later is linked on the next run.
  Same hash as stored: the row is left alone ("unchanged"), local edits stay.
* HTML (``description`` → ``summary``, ``fees`` → ``fees``) is sanitised with nh3 down to
  p/ul/ol/li/strong/em/br/a[href] (script/style with their content, comments and every
  attribute but ``href`` go) and then rendered to **plain text**: paragraphs become blank
  lines, list items "• "/"1. " lines, links "text (https://…)". The catalogue templates show
  these fields as text (``linebreaksbr``), the search index tokenises them and editors edit
  them in plain text areas, so stored HTML would show as tags.
* ``leika``: the first valid 14-digit key of a comma/space separated list; others noted.
  Missing or invalid: left blank and noted.
* ``duration``/``maxQuantity`` are clamped to the model's validators (1–480 min, 1–20); a
  duration of 0 means "none" (left empty). Clamping is noted.
* ``bookable``: true when at least one of the service's ``locations`` allows appointments.
* ``online_url``: the first link (from ``links``/``forms``) whose title clearly names an online
  application ("Online-Antrag", "online beantragen", "Antragstellung", ...), never a PDF.
* ``status``: published when ``public`` is true, draft otherwise. A service retired locally
  stays retired.
* ``combinable``: ids are resolved against the services of the same file, ignoring the service
  itself and unknown ids (noted). The relation is symmetrical in the model, so the wanted set
  of a service is the symmetric closure of the file's lists; links to services that are not in
  the file are kept. Only created or updated services are synchronised.
* Locations: name, street + house number, postcode, city, phone, e-mail (invalid: blank and
  noted), ``slotTimeInMinutes`` → ``slot_minutes``, ``accessibility`` when present, and the
  offered services resolved by external id among the tenant's DLDB services (unknown ids are
  skipped and noted). Links to services from other sources are kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nh3
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scope

from rathaus.catalog.models import Location, Service, ServiceStatus
from rathaus.catalog.services import (
    location_create,
    location_update,
    service_create,
    service_update,
)
from rathaus.core.models import Tenant

SOURCE = "dldb"
MAPPING_VERSION = "dldb-1"
ProgressCallback = Callable[[int, int, str], None]

# Model limits, mirrored here to clamp values before full_clean would reject them.
DURATION_MIN, DURATION_MAX = 1, 480
QUANTITY_MIN, QUANTITY_MAX = 1, 20
SLOT_MAX = 480

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "br", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_LEIKA_RE = re.compile(r"^\d{14}$")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_INDENT = "\x00"  # placeholder for list indentation while whitespace is collapsed
_ONLINE_LINK_RE = re.compile(
    r"(?=.*\bonline)(?=.*(antrag|beantrag|anmeld|abmeld|außer betrieb|zulassung))|^\s*antragstellung\s*$",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------
# Errors and report
# --------------------------------------------------------------------------------------------


class ImportFileError(Exception):
    """A file is unreadable or malformed; nothing has been imported."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or [message]


@dataclass
class ImportItem:
    external_id: str
    name: str
    reason: str = ""
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportNote:
    external_id: str
    kind: str
    message: str


@dataclass
class SectionReport:
    """Outcome for one kind of entry (services or locations)."""

    kind: str
    path: str = ""
    total: int = 0
    created: list[ImportItem] = field(default_factory=list)
    updated: list[ImportItem] = field(default_factory=list)
    unchanged: list[ImportItem] = field(default_factory=list)
    skipped: list[ImportItem] = field(default_factory=list)
    notes: list[ImportNote] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
        }

    def note(self, external_id: str, kind: str, message: str) -> None:
        self.notes.append(ImportNote(external_id, kind, message))

    def notes_of(self, kind: str) -> list[ImportNote]:
        return [n for n in self.notes if n.kind == kind]


NOTE_LABELS = {
    "leika_missing": lambda: _("without LeiKa key"),
    "leika_invalid": lambda: _("with an invalid LeiKa key (left blank)"),
    "leika_multiple": lambda: _("with several LeiKa keys (first one used)"),
    "duration_clamped": lambda: _("with an appointment duration outside 1–480 minutes"),
    "max_quantity_clamped": lambda: _("with a maximum quantity outside 1–20"),
    "combinable_unknown": lambda: _("with combinable services not in the file (ignored)"),
    "service_unknown": lambda: _("offering services that are not imported (link skipped)"),
    "email_invalid": lambda: _("with an invalid e-mail address (left blank)"),
    "slot_invalid": lambda: _("with an invalid slot length (left empty)"),
    "truncated": lambda: _("with a value shortened to the field's maximum length"),
}


@dataclass
class ImportReport:
    services: SectionReport = field(default_factory=lambda: SectionReport("services"))
    locations: SectionReport = field(default_factory=lambda: SectionReport("locations"))

    def summary_lines(self, *, verbose: bool = False, examples: int = 5) -> list[str]:
        """Human-readable lines: counts, skipped entries with reasons, notes grouped by kind."""
        lines: list[str] = []
        for section, title in ((self.services, _("Services")), (self.locations, _("Locations"))):
            if not section.path:
                continue
            c = section.counts
            lines.append(
                _(
                    "%(title)s from %(path)s: %(total)d entries – %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged, %(skipped)d skipped"
                )
                % {"title": title, "path": section.path, **c}
            )
            for item in section.skipped:
                lines.append(
                    "  "
                    + _("skipped %(id)s (%(name)s): %(reason)s")
                    % {"id": item.external_id, "name": item.name, "reason": item.reason}
                )
            for item in section.updated if verbose else []:
                lines.append(
                    "  "
                    + _("updated %(id)s (%(name)s): %(fields)s")
                    % {"id": item.external_id, "name": item.name, "fields": ", ".join(item.changed)}
                )
            kinds = list(dict.fromkeys(n.kind for n in section.notes))
            for kind in kinds:
                notes = section.notes_of(kind)
                label = NOTE_LABELS[kind]() if kind in NOTE_LABELS else kind
                lines.append(
                    "  " + _("%(count)d %(label)s") % {"count": len(notes), "label": label}
                )
                shown = notes if verbose else notes[:examples]
                for n in shown:
                    lines.append(f"    {n.external_id}: {n.message}")
                if len(shown) < len(notes):
                    lines.append(
                        "    " + _("… and %(count)d more") % {"count": len(notes) - len(shown)}
                    )
        return lines


# --------------------------------------------------------------------------------------------
# Reading and validating
# --------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    index: int
    external_id: str
    name: str
    raw: dict[str, Any]


_MISSING = object()


class _Validator:
    """Collects the problems of one file; each message names the file, entry and field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def fail(self, index: int | None, entry_id: Any, field_name: str, problem: str) -> None:
        where = self.path.name
        if index is not None:
            where += ", " + _("entry #%(index)d") % {"index": index}
            if entry_id not in (None, _MISSING, ""):
                where += " " + _("(id %(id)s)") % {"id": json.dumps(entry_id, ensure_ascii=False)}
        if field_name:
            where += ", " + _("field “%(field)s”") % {"field": field_name}
        self.problems.append(f"{where}: {problem}")

    def check(
        self,
        index: int,
        entry_id: Any,
        container: dict[str, Any],
        key: str,
        kinds: str,
        prefix: str = "",
    ) -> Any:
        """Check the type of ``container[key]`` (absent or null always pass). kinds: text, int,
        bool, dict, list, id (text or whole number), url (text)."""
        value = container.get(key, _MISSING)
        if value is _MISSING or value is None:
            return None
        name = f"{prefix}{key}"
        ok = {
            "text": isinstance(value, str),
            "int": _as_int(value) is not None,
            "bool": isinstance(value, bool) or value in (0, 1, "0", "1", "true", "false"),
            "dict": isinstance(value, dict),
            "list": isinstance(value, list),
            "id": (
                isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
            ),
            "scalar": isinstance(value, str | int | float) and not isinstance(value, bool),
        }[kinds]
        if not ok:
            expected = {
                "text": _("a text"),
                "int": _("a whole number"),
                "bool": _("true or false"),
                "dict": _("an object"),
                "list": _("a list"),
                "id": _("a text or whole number id"),
                "scalar": _("a text or number"),
            }[kinds]
            self.fail(
                index,
                entry_id,
                name,
                _("must be %(expected)s, got %(got)s")
                % {"expected": expected, "got": _describe(value)},
            )
        return value


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > 40:
        text = text[:37] + "…"
    kind = {
        dict: "object",
        list: "list",
        str: "text",
        bool: "boolean",
        int: "number",
        float: "number",
    }.get(type(value), type(value).__name__)
    return f"{kind} {text}"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _truthy(value: Any) -> bool:
    return (
        value is True
        or value == 1
        or (isinstance(value, str) and value.strip().lower() in {"1", "true"})
    )


def _read(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            _("%(file)s cannot be read: %(error)s") % {"file": path, "error": exc.strerror or exc}
        ) from exc
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("%(file)s is not UTF-8 text.") % {"file": path.name}) from exc
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            _("%(file)s is not valid JSON: %(error)s (line %(line)d, column %(column)d).")
            % {"file": path.name, "error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc


def _entries_of(path: Path, document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return document["data"]
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        detail = (
            _("the top-level object has no “data” list")
            if "data" not in document
            else _("“data” must be a list, got %(got)s") % {"got": _describe(document["data"])}
        )
    else:
        detail = _("expected an object with a “data” list, got %(got)s") % {
            "got": _describe(document)
        }
    raise ImportFileError(
        _("%(file)s is not a DLDB export: %(detail)s.") % {"file": path.name, "detail": detail}
    )


def _raise_if_problems(v: _Validator) -> None:
    if not v.problems:
        return
    shown = v.problems[:5]
    message = (
        _("%(file)s is not a valid DLDB export:") % {"file": v.path.name}
        + "\n  "
        + "\n  ".join(shown)
    )
    if len(v.problems) > len(shown):
        message += "\n  " + _("… and %(count)d more problems") % {
            "count": len(v.problems) - len(shown)
        }
    message += "\n" + _("Nothing was imported.")
    raise ImportFileError(message, v.problems)


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _validate_common(v: _Validator, index: int, item: dict[str, Any]) -> tuple[str, str] | None:
    """Check id and name; returns (external id, name) or None after recording the problem."""
    entry_id = item.get("id", _MISSING)
    ok = True
    if entry_id is _MISSING or entry_id is None or entry_id == "":
        v.fail(index, None, "id", _("is missing"))
        ok = False
    elif not _is_id(entry_id):
        v.fail(
            index,
            None,
            "id",
            _("must be a text or whole number id, got %(got)s") % {"got": _describe(entry_id)},
        )
        ok = False
    name = item.get("name", _MISSING)
    if name is _MISSING or name is None or (isinstance(name, str) and not _clean_line(name)):
        v.fail(index, entry_id, "name", _("is missing"))
        ok = False
    elif not isinstance(name, str):
        v.check(index, entry_id, item, "name", "text")
        ok = False
    return (str(entry_id).strip(), _clean_line(name)) if ok else None


def _check_list_of_objects(
    v: _Validator, index: int, entry_id: Any, item: dict[str, Any], key: str
) -> list[dict]:
    values = item.get(key)
    if not isinstance(values, list):
        return []
    good = []
    for pos, sub in enumerate(values):
        if isinstance(sub, dict):
            good.append(sub)
        else:
            v.fail(
                index,
                entry_id,
                f"{key}[{pos}]",
                _("must be an object, got %(got)s") % {"got": _describe(sub)},
            )
    return good


def _validate_entries(
    path: Path, document: Any, check_entry: Callable[[_Validator, int, Any, dict], None]
) -> list[_Entry]:
    items = _entries_of(path, document)
    v = _Validator(path)
    entries: list[_Entry] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            v.fail(
                index,
                None,
                "",
                _("an entry must be an object, got %(got)s") % {"got": _describe(item)},
            )
            continue
        common = _validate_common(v, index, item)
        check_entry(v, index, item.get("id"), item)
        if common is not None:
            entries.append(_Entry(index, common[0], common[1], item))
    _raise_if_problems(v)
    return entries


def _check_service(v: _Validator, index: int, entry_id: Any, item: dict[str, Any]) -> None:
    if "address" in item and "leika" not in item and "combinable" not in item:
        v.fail(index, entry_id, "", _("this looks like a location, not a service (wrong file?)"))
        return
    for key, kind in (
        ("description", "text"),
        ("fees", "text"),
        ("leika", "scalar"),
        ("duration", "int"),
        ("maxQuantity", "int"),
        ("public", "bool"),
        ("combinable", "list"),
        ("locations", "list"),
        ("links", "list"),
        ("forms", "list"),
        ("meta", "dict"),
        ("appointment", "dict"),
    ):
        v.check(index, entry_id, item, key, kind)
    combinable = item.get("combinable")
    for pos, other in enumerate(combinable if isinstance(combinable, list) else []):
        if not _is_id(other):
            v.fail(
                index,
                entry_id,
                f"combinable[{pos}]",
                _("must be a service id, got %(got)s") % {"got": _describe(other)},
            )
    if isinstance(item.get("meta"), dict):
        v.check(index, entry_id, item["meta"], "keywords", "text", prefix="meta.")
    for pos, sub in enumerate(_check_list_of_objects(v, index, entry_id, item, "locations")):
        v.check(index, entry_id, sub, "appointment", "dict", prefix=f"locations[{pos}].")
    for key in ("links", "forms"):
        for pos, sub in enumerate(_check_list_of_objects(v, index, entry_id, item, key)):
            v.check(index, entry_id, sub, "name", "text", prefix=f"{key}[{pos}].")
            v.check(index, entry_id, sub, "link", "text", prefix=f"{key}[{pos}].")


def _check_location(v: _Validator, index: int, entry_id: Any, item: dict[str, Any]) -> None:
    if "address" not in item and ("leika" in item or "combinable" in item):
        v.fail(index, entry_id, "", _("this looks like a service, not a location (wrong file?)"))
        return
    for key, kind in (
        ("address", "dict"),
        ("contact", "dict"),
        ("services", "list"),
        ("slotTimeInMinutes", "int"),
        ("public", "bool"),
    ):
        v.check(index, entry_id, item, key, kind)
    accessibility = item.get("accessibility")
    if accessibility is not None and not isinstance(accessibility, str | dict | list):
        v.fail(
            index,
            entry_id,
            "accessibility",
            _("must be a text, object or list, got %(got)s") % {"got": _describe(accessibility)},
        )
    if isinstance(item.get("address"), dict):
        for key in ("street", "house_number", "postal_code", "city"):
            v.check(index, entry_id, item["address"], key, "scalar", prefix="address.")
    if isinstance(item.get("contact"), dict):
        for key in ("phone", "email"):
            v.check(index, entry_id, item["contact"], key, "text", prefix="contact.")
    offered = item.get("services")
    for pos, sub in enumerate(offered if isinstance(offered, list) else []):
        name = f"services[{pos}]"
        if not isinstance(sub, dict):
            v.fail(
                index, entry_id, name, _("must be an object, got %(got)s") % {"got": _describe(sub)}
            )
        elif sub.get("service") in (None, ""):
            v.fail(index, entry_id, f"{name}.service", _("is missing"))
        elif not _is_id(sub["service"]):
            v.fail(
                index,
                entry_id,
                f"{name}.service",
                _("must be a service id, got %(got)s") % {"got": _describe(sub["service"])},
            )


def _validate_services(path: Path, document: Any) -> list[_Entry]:
    return _validate_entries(path, document, _check_service)


def _validate_locations(path: Path, document: Any) -> list[_Entry]:
    return _validate_entries(path, document, _check_location)


def detect_kind(document: Any) -> str | None:
    """Guess whether a parsed export holds services or locations ("services"/"locations"/None)."""
    try:
        items = _entries_of(Path("-"), document)
    except ImportFileError:
        return None
    for item in items:
        if isinstance(item, dict):
            if "address" in item or "slotTimeInMinutes" in item:
                return "locations"
            if "leika" in item or "combinable" in item or "maxQuantity" in item:
                return "services"
    return None


def read_export(path: str | Path) -> Any:
    """Parse a file (raises ImportFileError); for callers that want to detect its kind first."""
    return _read(Path(path))


# --------------------------------------------------------------------------------------------
# Mapping helpers
# --------------------------------------------------------------------------------------------


def source_hash(entry: dict[str, Any], extra: Any = None) -> str:
    """SHA-256 of the canonical JSON of an entry without its volatile export timestamp."""
    data = dict(entry)
    if isinstance(data.get("meta"), dict):
        data["meta"] = {k: v for k, v in data["meta"].items() if k != "lastupdate"}
    payload: Any = data if extra is None else {"entry": data, "extra": extra}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{MAPPING_VERSION}\n{canonical}".encode()).hexdigest()


def _clean_line(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(_INVISIBLE_RE.sub("", value).replace("\xa0", " ").split())


class _TextRenderer(HTMLParser):
    """Renders the (already sanitised) HTML subset as plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[Any]] = []  # [tag, counter]
        self.link: tuple[str, int] | None = None

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag == "p":
            self._block()
        elif tag in {"ul", "ol"}:
            if not self.lists:
                self._block()
            self.lists.append([tag, 0])
        elif tag == "li":
            marker = "• "
            if self.lists:
                self.lists[-1][1] += 1
                if self.lists[-1][0] == "ol":
                    marker = f"{self.lists[-1][1]}. "
            self.out.append("\n" + _INDENT * max(len(self.lists) - 1, 0) + marker)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = (href, len(self.out))

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._block()
        elif tag in {"ul", "ol"}:
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._block()
        elif tag == "a" and self.link is not None:
            href, start = self.link
            self.link = None
            text = " ".join("".join(self.out[start:]).split())
            target = href.removeprefix("mailto:").removeprefix("tel:")
            if re.match(r"^(https?|mailto|tel):", href, re.IGNORECASE) and target not in text:
                self.out.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = _INVISIBLE_RE.sub("", "".join(self.out)).replace("\xa0", " ")
        # Collapse whitespace per line; list indentation is kept through the _INDENT marker.
        lines = [" ".join(line.split()).replace(_INDENT, "  ") for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(value: Any) -> str:
    """Sanitise DLDB HTML with nh3 (basic tags only) and render it as plain text."""
    if not isinstance(value, str) or not value.strip():
        return ""
    safe = nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    renderer = _TextRenderer()
    renderer.feed(safe)
    renderer.close()
    return renderer.text()


def sanitize_html(value: Any) -> str:
    """The nh3 step alone, for callers that want to keep the basic markup."""
    if not isinstance(value, str):
        return ""
    return nh3.clean(
        value, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES
    ).strip()


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


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


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


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


def import_dldb(
    *,
    tenant: Tenant,
    services_path: str | Path | None = None,
    locations_path: str | Path | None = None,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a DLDB services and/or locations export into ``tenant``; all or nothing.

    Raises ImportFileError (before writing anything) when a file is unreadable or malformed.
    ``progress(done, total, label)`` is called after each entry, label "services"/"locations".
    """
    if services_path is None and locations_path is None:
        raise ValueError("Give services_path, locations_path or both.")
    report = ImportReport()
    service_entries: list[_Entry] = []
    location_entries: list[_Entry] = []
    if services_path is not None:
        path = Path(services_path)
        service_entries = _validate_services(path, _read(path))
        report.services.path, report.services.total = path.name, len(service_entries)
    if locations_path is not None:
        path = Path(locations_path)
        location_entries = _validate_locations(path, _read(path))
        report.locations.path, report.locations.total = path.name, len(location_entries)

    with scope(tenant=tenant), transaction.atomic():
        if services_path is not None:
            _import_services(tenant, service_entries, report.services, actor, progress)
        if locations_path is not None:
            _import_locations(tenant, location_entries, report.locations, actor, progress)
    return report


def _import_services(
    tenant: Tenant,
    entries: list[_Entry],
    section: SectionReport,
    actor: User | None,
    progress: ProgressCallback | None,
) -> None:
    entries = _dedupe(entries, section)
    total = len(entries)
    mapped = [(entry, _service_fields(entry, section)) for entry in entries]
    in_file = {entry.external_id for entry in entries}

    # Symmetric closure of the combinable lists, restricted to this file.
    wanted_ids: dict[str, set[str]] = {ext: set() for ext in in_file}
    for entry in entries:
        unknown = []
        for other in entry.raw.get("combinable") or []:
            other_id = str(other).strip()
            if other_id == entry.external_id:
                continue
            if other_id not in in_file:
                unknown.append(other_id)
                continue
            wanted_ids[entry.external_id].add(other_id)
            wanted_ids[other_id].add(entry.external_id)
        if unknown:
            section.note(
                entry.external_id,
                "combinable_unknown",
                _("combinable ids not in the file: %(ids)s")
                % {"ids": ", ".join(sorted(set(unknown)))},
            )

    existing = {
        s.external_id: s
        for s in Service.objects.filter(tenant=tenant, source=SOURCE, external_id__in=in_file)
    }
    available: dict[str, Service] = dict(existing)  # grows as services are created
    touched: list[Service] = []

    def combinable_for(service: Service | None, ext_id: str) -> list[Service]:
        wanted = [available[o] for o in sorted(wanted_ids[ext_id]) if o in available]
        keep = []
        if service is not None:
            keep = [
                s
                for s in service.combinable.all()
                if not (s.source == SOURCE and s.external_id in in_file) and s.pk != service.pk
            ]
        return wanted + keep

    for done, (entry, fields) in enumerate(mapped, start=1):
        service = existing.get(entry.external_id)
        try:
            if service is None:
                service = service_create(
                    tenant=tenant,
                    actor=actor,
                    combinable=combinable_for(None, entry.external_id),
                    **fields,
                )
                available[entry.external_id] = service
                section.created.append(ImportItem(entry.external_id, entry.name))
                touched.append(service)
            elif service.source_hash == fields["source_hash"]:
                section.unchanged.append(ImportItem(entry.external_id, entry.name, _("unchanged")))
            else:
                if service.status == ServiceStatus.RETIRED:
                    fields.pop("status")
                changed = service_update(
                    service=service,
                    actor=actor,
                    combinable=combinable_for(service, entry.external_id),
                    **fields,
                )
                item = ImportItem(entry.external_id, entry.name, changed=changed)
                (section.updated if changed else section.unchanged).append(item)
                touched.append(service)
        except ValidationError as exc:
            section.skipped.append(ImportItem(entry.external_id, entry.name, _error_text(exc)))
        if progress:
            progress(done, total, "services")

    # Second pass: links to services created later in the file are normally completed by the
    # symmetrical relation; make sure, and fix any that are not (events only when needed).
    for service in touched:
        wanted = {s.pk for s in combinable_for(service, service.external_id)}
        if wanted != set(service.combinable.values_list("pk", flat=True)):
            service_update(
                service=service, actor=actor, combinable=Service.objects.filter(pk__in=wanted)
            )


def _import_locations(
    tenant: Tenant,
    entries: list[_Entry],
    section: SectionReport,
    actor: User | None,
    progress: ProgressCallback | None,
) -> None:
    entries = _dedupe(entries, section)
    total = len(entries)
    services = {
        s.external_id: s
        for s in Service.objects.filter(tenant=tenant, source=SOURCE).exclude(external_id="")
    }
    existing = {
        loc.external_id: loc
        for loc in Location.objects.filter(
            tenant=tenant, source=SOURCE, external_id__in=[e.external_id for e in entries]
        )
    }
    for done, entry in enumerate(entries, start=1):
        fields = _location_fields(entry, section)
        offered = list(
            dict.fromkeys(str(s.get("service")).strip() for s in entry.raw.get("services") or [])
        )
        resolved = [ext for ext in offered if ext in services]
        unknown = [ext for ext in offered if ext not in services]
        if unknown:
            section.note(
                entry.external_id,
                "service_unknown",
                _("services not imported, link skipped: %(ids)s") % {"ids": ", ".join(unknown)},
            )
        fields["source_hash"] = source_hash(entry.raw, extra=sorted(resolved))
        wanted = [services[ext] for ext in resolved]
        location = existing.get(entry.external_id)
        try:
            if location is None:
                location = location_create(tenant=tenant, actor=actor, services=wanted, **fields)
                section.created.append(ImportItem(entry.external_id, entry.name))
            elif location.source_hash == fields["source_hash"]:
                section.unchanged.append(ImportItem(entry.external_id, entry.name, _("unchanged")))
            else:
                # Links to services from other sources stay.
                keep = [s for s in location.services.all() if s.source != SOURCE]
                changed = location_update(
                    location=location, actor=actor, services=[*keep, *wanted], **fields
                )
                section.updated.append(ImportItem(entry.external_id, entry.name, changed=changed))
        except ValidationError as exc:
            section.skipped.append(ImportItem(entry.external_id, entry.name, _error_text(exc)))
        if progress:
            progress(done, total, "locations")
