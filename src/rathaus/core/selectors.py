"""Reads of the core app that more than one place uses. All are tenant-scoped."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q, QuerySet
from django_scopes import scopes_disabled

from rathaus.core.events import subject_of
from rathaus.core.models import Event, Membership, OrgUnit, PersonalDataAccess, Role, Tenant


def tenants_of_user(user: User) -> list[Tenant]:
    """The tenants a person belongs to. Runs before a scope exists, hence scopes_disabled."""
    with scopes_disabled():
        return list(Tenant.objects.filter(membership__user=user).distinct().order_by("name"))


def memberships_of_user(user: User, tenant: Tenant) -> list[Membership]:
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user, tenant=tenant)
            .select_related("org_unit")
            .order_by("role")
        )


def roles_of(memberships: list[Membership]) -> set[str]:
    return {m.role for m in memberships}


def units_visible_to(memberships: list[Membership]) -> QuerySet[OrgUnit]:
    """Units a person may act for: their own units, and for team leads the whole subtree."""
    condition = Q(pk__in=[m.org_unit_id for m in memberships])
    for m in memberships:
        if m.role in (Role.TEAM_LEAD, Role.TENANT_ADMIN, Role.CONTROLLER):
            condition |= Q(path__startswith=m.org_unit.path)
    return OrgUnit.objects.filter(condition)


def events_of(row: models.Model) -> QuerySet[Event]:
    """The history of one subject (a case, a booking, a service…), oldest first."""
    subject = subject_of(row)
    return (
        Event.objects.filter(subject_kind=subject.kind, subject_id=subject.id_of(row))
        .select_related("actor", "org_unit")
        .order_by("timestamp", "id")
    )


def sender_of(tenant: Tenant) -> str:
    """From address of e-mails to citizens: the tenant's sender, its e-mail, or the default."""
    return tenant.case_sender_email or tenant.email or settings.DEFAULT_FROM_EMAIL


def access_log_kinds() -> list[str]:
    """The kinds of subject the access log holds, for its filter."""
    kinds = PersonalDataAccess.objects.values_list("subject_kind", flat=True).distinct()
    return sorted(kinds.order_by())


def access_log(
    *, subject_kind: str = "", subject_id: str = "", user: str = "", action: str = ""
) -> QuerySet[PersonalDataAccess]:
    """The access log, newest first, narrowed by the filters given."""
    rows = PersonalDataAccess.objects.select_related("user")
    if subject_kind:
        rows = rows.filter(subject_kind=subject_kind)
    if subject_id.strip():
        rows = rows.filter(subject_id=subject_id.strip())
    if who := user.strip():  # a user name, or (part of) an API token's name
        rows = rows.filter(Q(user__username__iexact=who) | Q(client__icontains=who))
    if action:
        rows = rows.filter(action=action)
    return rows
