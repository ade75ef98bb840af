"""Call records from the telephone system: the source of reachability figures.

Reachability (share answered within 30 s, abandonment rate) is computed later from these rows;
here they are validated and stored, all or nothing, from a CSV export or from the API.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rathaus.contacts.models import CallRecord
from rathaus.core.events import event_append
from rathaus.core.models import OrgUnit, Tenant

from .. import events

COLUMNS = ("call_id", "arrived", "answered", "ended", "abandoned", "queue", "agent")
REQUIRED_COLUMNS = ("call_id", "arrived", "ended")
MAX_ERRORS_SHOWN = 50
CALL_ID_MAX = CallRecord._meta.get_field("external_id").max_length or 64
QUEUE_MAX = CallRecord._meta.get_field("queue").max_length or 100
AGENT_MAX = CallRecord._meta.get_field("agent_ref").max_length or 100
# Times before this are typing errors, not calls; they would also distort every figure.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Clocks of telephone systems drift a little; more than this in the future is an error.
CLOCK_SKEW = dt.timedelta(minutes=10)
TRUE_WORDS = {"1", "ja", "j", "true", "yes", "y", "wahr", "x"}
FALSE_WORDS = {"0", "nein", "n", "false", "no", "falsch", ""}
GERMAN_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


@dataclass(frozen=True)
class CallRow:
    """One call, parsed; `line` is the CSV line or the position in an API list (from 1)."""

    line: int
    call_id: str
    arrived_at: dt.datetime
    ended_at: dt.datetime
    answered_at: dt.datetime | None = None
    abandoned: bool = False
    queue: str = ""
    agent: str = ""


def time_problem(value: dt.datetime, now: dt.datetime | None = None) -> str | None:
    """Why a call time is implausible, or None."""
    if value < EARLIEST:
        return _("Enter a time from the year 2000 onwards.")
    if value > (now or timezone.now()) + CLOCK_SKEW:
        return _("The time lies in the future.")
    return None


def row_problems(row: CallRow, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Everything wrong with one parsed row, as (field, message); field names as in CallRow."""
    problems: list[tuple[str, str]] = []
    if not row.call_id.strip():
        problems.append(("call_id", _("The call id is missing.")))
    elif len(row.call_id) > CALL_ID_MAX:
        problems.append(
            ("call_id", _("The call id is longer than %(max)d characters.") % {"max": CALL_ID_MAX})
        )
    if len(row.queue) > QUEUE_MAX:
        problems.append(
            ("queue", _("The queue is longer than %(max)d characters.") % {"max": QUEUE_MAX})
        )
    if len(row.agent) > AGENT_MAX:
        problems.append(
            ("agent", _("The agent is longer than %(max)d characters.") % {"max": AGENT_MAX})
        )
    for field in ("arrived_at", "answered_at", "ended_at"):
        value = getattr(row, field)
        problem = time_problem(value, now) if value is not None else None
        if problem:
            problems.append((field, problem))
    if row.ended_at < row.arrived_at:
        problems.append(("ended_at", _("The call ends before it arrived.")))
    if row.answered_at is not None:
        if not row.arrived_at <= row.answered_at <= row.ended_at:
            problems.append(("answered_at", _("The call was answered outside the time it lasted.")))
        if row.abandoned:
            problems.append(("abandoned", _("An abandoned call cannot have been answered.")))
    return problems


# --- CSV -------------------------------------------------------------------------------------


def parse_time(text: str, zone: ZoneInfo) -> dt.datetime:
    """ISO 8601 (with or without offset) or DD.MM.YYYY HH:MM[:SS]; naive means `zone`."""
    text = text.strip()
    value: dt.datetime | None = None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in GERMAN_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(text)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zone)
    # Normalise to UTC now: far-off offsets at the edge of the calendar fail here, not later.
    return value.astimezone(dt.UTC)


def parse_flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


def _decode(file: IO[bytes] | IO[str]) -> str:
    data = file.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on German Windows still save "CSV" as Windows-1252.
        return data.decode("cp1252", errors="replace")


def _delimiter(header: str) -> str:
    return ";" if header.count(";") >= header.count(",") else ","


def _time_cell(
    cells: dict[str, str], column: str, zone: ZoneInfo, errors: list[str], *, required: bool
) -> dt.datetime | None:
    value = cells.get(column, "")
    if not value:
        if required:
            errors.append(_("“%(column)s” is empty.") % {"column": column})
        return None
    try:
        return parse_time(value, zone)
    except (ValueError, OverflowError):
        errors.append(
            _("“%(value)s” in “%(column)s” is no valid time (use ISO 8601 or DD.MM.YYYY HH:MM:SS).")
            % {"value": value[:40], "column": column}
        )
        return None


def _parse_record(
    cells: dict[str, str], line: int, zone: ZoneInfo
) -> tuple[CallRow | None, list[str]]:
    errors: list[str] = []
    if not cells.get("call_id"):
        errors.append(_("The call id is missing."))
    arrived = _time_cell(cells, "arrived", zone, errors, required=True)
    answered = _time_cell(cells, "answered", zone, errors, required=False)
    ended = _time_cell(cells, "ended", zone, errors, required=True)
    abandoned = False
    try:
        abandoned = parse_flag(cells.get("abandoned", ""))
    except ValueError:
        errors.append(
            _("“%(value)s” in “abandoned” is neither 1/0, ja/nein nor true/false.")
            % {"value": cells.get("abandoned", "")[:40]}
        )
    if errors or arrived is None or ended is None:
        return None, errors
    row = CallRow(
        line=line,
        call_id=cells["call_id"],
        arrived_at=arrived,
        answered_at=answered,
        ended_at=ended,
        abandoned=abandoned,
        queue=cells.get("queue", ""),
        agent=cells.get("agent", ""),
    )
    return row, []


def parse_csv(text: str, zone: ZoneInfo) -> tuple[list[CallRow], list[tuple[int, str]]]:
    """Rows and (line, message) errors of a call-record CSV; nothing stops at the first error.

    1. Refuse text with NUL characters (no CSV; the database could not store them either).
    2. Take the separator (semicolon or comma) from the header line.
    3. Check the header: the required columns must be there; unknown columns are ignored.
    4. Parse every record; a bad value is an error of its line, the rest of the line is
       still checked so one run reports everything.
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [(line, _("The file contains NUL characters: it is no CSV text file."))]
    first = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
    errors: list[tuple[int, str]] = []
    rows: list[CallRow] = []
    header: list[str] | None = None
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            return rows, [
                *errors,
                (reader.line_num, _("Unreadable CSV: %(error)s") % {"error": exc}),
            ]
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lower().removeprefix("\ufeff") for cell in record]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                message = _("The columns %(columns)s are missing (expected: %(expected)s).") % {
                    "columns": ", ".join(missing),
                    "expected": ";".join(COLUMNS),
                }
                return [], [(line, message)]
            continue
        if len(record) > len(header):
            message = _("%(found)d values, but the header has %(expected)d columns.") % {
                "found": len(record),
                "expected": len(header),
            }
            errors.append((line, message))
            continue
        cells = dict(zip(header, (cell.strip() for cell in record), strict=False))
        row, row_errors = _parse_record(cells, line, zone)
        errors.extend((line, message) for message in row_errors)
        if row is not None:
            rows.append(row)
    if header is None:
        errors.append((1, _("The file is empty.")))
    return rows, errors


# --- import ----------------------------------------------------------------------------------


def _existing_ids(ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(
            CallRecord.objects.filter(external_id__in=ids[start : start + 500]).values_list(
                "external_id", flat=True
            )
        )
    return found


def _format_errors(errors: Iterable[tuple[int, str]], *, numbering: str) -> list[str]:
    ordered = sorted(errors, key=lambda item: item[0])
    messages = [
        (_("line %(line)d: %(error)s") if numbering == "line" else _("record %(line)d: %(error)s"))
        % {"line": line, "error": error}
        for line, error in ordered[:MAX_ERRORS_SHOWN]
    ]
    if len(ordered) > MAX_ERRORS_SHOWN:
        more = len(ordered) - MAX_ERRORS_SHOWN
        messages.append(
            ngettext("… and %(count)d more error.", "… and %(count)d more errors.", more)
            % {"count": more}
        )
    return messages


@transaction.atomic
def call_records_import(
    *,
    tenant: Tenant,
    actor: User | None,
    rows: Sequence[CallRow] | None = None,
    file: IO[bytes] | IO[str] | None = None,
    org_unit: OrgUnit | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Store call records from parsed rows (API) or a CSV file, all or nothing.

    1. Parse the file (if given) in the tenant's time zone.
    2. Check every row, and every call id against the file itself and the stored records.
    3. Any error: raise one ValidationError with the first MAX_ERRORS_SHOWN, numbered by line
       (CSV) or by position (API), and store nothing.
    4. Insert everything with bulk_create and append one `call_records_imported` event.
    Call within scope(tenant=tenant).
    """
    if (rows is None) == (file is None):
        raise TypeError("Pass either rows or file.")
    numbering = "line" if file is not None else "record"
    errors: list[tuple[int, str]] = []
    if file is not None:
        rows, errors = parse_csv(_decode(file), tenant.zone)
        if progress:
            read = len(rows) + len(errors)
            progress(
                ngettext("%(count)d row read.", "%(count)d rows read.", read) % {"count": read}
            )
    assert rows is not None
    now = timezone.now()
    seen: dict[str, int] = {}
    for row in rows:
        errors.extend((row.line, message) for _field, message in row_problems(row, now))
        first = seen.setdefault(row.call_id, row.line)
        if first != row.line:
            message = (
                _("The call id “%(id)s” appears twice (first in line %(first)d).")
                if numbering == "line"
                else _("The call id “%(id)s” appears twice (first in record %(first)d).")
            )
            errors.append((row.line, message % {"id": row.call_id[:CALL_ID_MAX], "first": first}))
    existing = _existing_ids(list(seen))
    errors.extend(
        (row.line, _("The call id “%(id)s” is already stored.") % {"id": row.call_id})
        for row in rows
        if row.call_id in existing and seen[row.call_id] == row.line
    )
    if errors:
        raise ValidationError(_format_errors(errors, numbering=numbering))
    if not rows:
        raise ValidationError(_("There are no call records to import."))
    records = [
        CallRecord(
            tenant=tenant,
            external_id=row.call_id,
            queue=row.queue,
            agent_ref=row.agent,
            arrived_at=row.arrived_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            abandoned=row.abandoned,
        )
        for row in rows
    ]
    try:
        with transaction.atomic():
            CallRecord.objects.bulk_create(records, batch_size=500)
    except IntegrityError:
        # Another import stored some of the ids between our check and the insert.
        raise ValidationError(
            _("Some call ids were stored meanwhile by another import; nothing was imported.")
        ) from None
    event_append(
        tenant=tenant,
        activity=events.CALL_RECORDS_IMPORTED,
        subject=tenant,
        actor=actor,
        org_unit=org_unit,
        channel="phone",
        payload={
            "count": len(records),
            "source": "csv" if file is not None else "api",
            "first_arrival": min(r.arrived_at for r in records).isoformat(),
            "last_arrival": max(r.arrived_at for r in records).isoformat(),
        },
    )
    if progress:
        progress(
            ngettext(
                "%(count)d call record imported.", "%(count)d call records imported.", len(records)
            )
            % {"count": len(records)}
        )
    return len(records)
