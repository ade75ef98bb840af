"""What an import did: counts, created/updated/unchanged/skipped entries and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


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
