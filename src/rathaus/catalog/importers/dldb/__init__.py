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

The package:

* ``read``: reading and validating the files (:class:`ImportFileError`, ``detect_kind``,
  ``read_export``);
* ``map``: entries to model fields (``source_hash``, LeiKa, clamping, online link, locations);
* ``write``: ``import_dldb`` and the two writing passes;
* ``report``: what the import did (``ImportReport`` and its sections);
* the HTML → text step is ``rathaus.core.text`` (``html_to_text``, ``sanitize_html``).

The names imported from ``rathaus.catalog.importers.dldb`` elsewhere are re-exported here.
"""

from __future__ import annotations

from rathaus.core.text import html_to_text

from .read import ImportFileError, detect_kind, read_export
from .write import import_dldb

__all__ = ["ImportFileError", "detect_kind", "html_to_text", "import_dldb", "read_export"]
