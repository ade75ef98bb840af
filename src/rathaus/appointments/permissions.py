"""Where a person may work in the citizen office.

Having an office role is not enough: the day plan and the bookings hold citizens' personal
data, so a team lead of the KC must not open the citizen office's. A location belongs to its
org unit; the staff and team leads of that unit and of every unit above it may work there
(the Bürgeramt's lead at Bürgerbüro Mitte). A location without an org unit (one imported
from a directory, not yet assigned) belongs to the administration as a whole: only those who
hold the role in a top-level unit may work there, and tenant administrators, who may work
everywhere and assign the unit (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from rathaus.catalog.models import Location
from rathaus.core.http import TenantRequest, id_param
from rathaus.core.models import Membership, OrgUnit, Role
from rathaus.core.permissions import has_role

OFFICE_ROLES = (Role.OFFICE_STAFF, Role.TEAM_LEAD)  # tenant admins pass role_required anyway


def _memberships(request: TenantRequest, roles: Iterable[str]) -> list[Membership]:
    wanted = set(roles)
    return [m for m in request.memberships if m.role in wanted]


def workable_units(
    request: TenantRequest, roles: Iterable[str] = OFFICE_ROLES
) -> QuerySet[OrgUnit]:
    """The units whose locations the person may work at with one of `roles`: each unit where
    they hold such a role, and the units below it."""
    if has_role(request, Role.TENANT_ADMIN):
        return OrgUnit.objects.all()
    condition = Q(pk__in=[])
    for membership in _memberships(request, roles):
        condition |= Q(path__startswith=membership.org_unit.path)
    return OrgUnit.objects.filter(condition)


def workable_locations(
    request: TenantRequest,
    roles: Iterable[str] = OFFICE_ROLES,
    *,
    among: QuerySet[Location] | None = None,
) -> QuerySet[Location]:
    """The locations (of `among`, else all of the tenant) the person may work at with one of
    `roles`, see the module's docstring. No query of its own: the memberships are on the
    request already, the condition joins the location's unit."""
    locations = Location.objects.all() if among is None else among
    if has_role(request, Role.TENANT_ADMIN):
        return locations
    condition = Q(pk__in=[])
    for membership in _memberships(request, roles):
        condition |= Q(org_unit__path__startswith=membership.org_unit.path)
        if membership.org_unit.parent_id is None:
            condition |= Q(org_unit__isnull=True)
    return locations.filter(condition)


def may_work_at(
    request: TenantRequest, location_id: int, roles: Iterable[str] = OFFICE_ROLES
) -> bool:
    return workable_locations(request, roles).filter(pk=location_id).exists()


def location_check(
    request: TenantRequest, location_id: int, roles: Iterable[str] = OFFICE_ROLES
) -> None:
    """403 unless the person may work at this location (a location of another tenant is not
    found before this: the scope hides it)."""
    if not may_work_at(request, location_id, roles):
        raise PermissionDenied


def chosen_location_check(
    request: TenantRequest, raw: object, roles: Iterable[str] = OFFICE_ROLES
) -> None:
    """403 when a filter names a location of this tenant the person may not work at; an
    unknown id is left to the form, which refuses it as any bad choice."""
    pk = id_param(raw)
    if pk is not None and Location.objects.filter(pk=pk).exists():
        location_check(request, pk, roles)
