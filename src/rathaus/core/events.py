"""The event log's vocabulary, and the one way to append to it.

Each app declares what it logs once, in its `events.py`: the kinds of subject an event can be
about (`Subject`) and its activities (`Activity`: the stable English name the process-mining log
keeps, the subject kind, how staff read it, the payload keys it may carry). Services append
with `event_append(activity=…, subject=…)`, so no call site spells a kind, an id or a name of
its own, and a payload key nobody declared is an error before it reaches the log.

The one rule for subject ids: an event names its subject by the subject's key, which is the
primary key unless the kind declares a public reference (a case is `2026-004711` everywhere).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import ClosingDay, Event, Membership, OrgUnit, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What a payload value may be: it is stored as JSON and must never hold personal data.
Json = str | int | float | bool | None | list[Any] | dict[str, Any]

SUBJECTS: dict[type[models.Model], Subject] = {}
ACTIVITIES: dict[str, Activity] = {}


class VocabularyError(ValueError):
    """A programming error: an undeclared or doubly declared name, a wrong subject or key."""


@dataclass(frozen=True)
class Subject:
    """What events can be about: rows of `model`, logged as `kind` under `key`."""

    model: type[models.Model]
    kind: str
    key: str = "pk"

    def __post_init__(self) -> None:
        known = SUBJECTS.setdefault(self.model, self)
        if known != self:
            raise VocabularyError(f"{self.model.__name__} is declared twice as a subject")

    def id_of(self, row: models.Model) -> str:
        if not isinstance(row, self.model):
            raise VocabularyError(f"a {self.kind} event is about a {type(row).__name__}")
        return str(getattr(row, self.key))


@dataclass(frozen=True)
class Activity:
    name: str
    subject: Subject
    label: str | Promise
    payload: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        known = ACTIVITIES.setdefault(self.name, self)
        if known is not self:
            raise VocabularyError(f"the activity {self.name} is declared twice")


def activity(name: str, subject: Subject, label: str | Promise, *payload: str) -> Activity:
    """Declare one activity (what `<app>/events.py` calls once per name)."""
    return Activity(name=name, subject=subject, label=label, payload=frozenset(payload))


def activity_label(name: str) -> str:
    """How staff read an activity in the history tables; an unknown name shows itself."""
    declared = ACTIVITIES.get(name)
    return str(declared.label) if declared else name


def subject_of(row: models.Model) -> Subject:
    try:
        return SUBJECTS[type(row)]
    except KeyError:
        raise VocabularyError(f"{type(row).__name__} is not declared as a subject") from None


class EventDetails(TypedDict, total=False):
    """What an event may say beyond its tenant, activity and subject (all optional)."""

    actor: User | None
    org_unit: OrgUnit | None
    channel: str
    payload: Mapping[str, Json] | None
    timestamp: dt.datetime | None


def event_build(
    *, tenant: Tenant, activity: Activity, subject: models.Model, **details: Unpack[EventDetails]
) -> Event:
    """An unsaved event, for services that insert several at once with `bulk_create`.

    The payload must not hold personal data (names, addresses, e-mail): those live in the
    domain rows so retention rules can erase them while the event statistics survive.
    """
    payload = details.get("payload") or {}
    undeclared = set(payload) - activity.payload
    if undeclared:
        raise VocabularyError(f"{activity.name} carries no {', '.join(sorted(undeclared))}")
    actor = details.get("actor")
    if actor is not None and not actor.is_authenticated:
        actor = None
    return Event(
        tenant=tenant,
        subject_kind=activity.subject.kind,
        subject_id=activity.subject.id_of(subject),
        activity=activity.name,
        actor=actor,
        org_unit=details.get("org_unit"),
        channel=details.get("channel", ""),
        payload=dict(payload),
        timestamp=details.get("timestamp") or timezone.now(),
    )


def event_append(
    *, tenant: Tenant, activity: Activity, subject: models.Model, **details: Unpack[EventDetails]
) -> Event:
    """Append one event (see `event_build`). Call it inside the calling service's transaction."""
    event = event_build(tenant=tenant, activity=activity, subject=subject, **details)
    event.save()
    return event


# --- what core logs --------------------------------------------------------------------------

TENANT = Subject(Tenant, "tenant")
ORG_UNIT = Subject(OrgUnit, "org_unit")
MEMBERSHIP = Subject(Membership, "membership")
CLOSING_DAY = Subject(ClosingDay, "closing_day")

TENANT_CREATED = activity("tenant_created", TENANT, _("Municipality created"))
ORG_UNIT_CREATED = activity("org_unit_created", ORG_UNIT, _("Org unit created"))
MEMBERSHIP_GRANTED = activity(
    "membership_granted", MEMBERSHIP, _("Role granted"), "role", "user_id"
)
CLOSING_DAY_SET = activity("closing_day_set", CLOSING_DAY, _("Closing day set"), "date")
