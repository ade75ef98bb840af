"""Reading and validating a DLDB export completely before anything is written.

Any problem raises :class:`ImportFileError` naming the file, the entry (index and id) and the
field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from rathaus.core.text import INVISIBLE_RE


class ImportFileError(Exception):
    """A file is unreadable or malformed; nothing has been imported."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or [message]


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


# Here because the name check needs it before mapping; map.py uses it for the other fields.
def _clean_line(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(INVISIBLE_RE.sub("", value).replace("\xa0", " ").split())
