"""Towns for the benchmarks: further tenants built like Musterstadt (its organisation, staff,
catalogue and knowledge base) with a year of activity at a fraction of its volume.

`rathaus demo --towns 30 --scale 0.1` builds Stadt 01 … Stadt 30 besides Musterstadt;
`bench/soak.py` calls `build_town` for each. A town's staff log in with Musterstadt's logins
prefixed by its slug (`stadt07.kc.agent`, see `rathaus.demo.staff`), password
`city.DEMO_PASSWORD`. Idempotent, as the rest of the demo.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_scopes import scope

from rathaus.core import services as core_services
from rathaus.core.models import Tenant
from rathaus.demo import appointments, city
from rathaus.demo.activity import build_activity
from rathaus.demo.staff import username


def town_slug(number: int) -> str:
    return f"stadt{number:02d}"


def build_town(
    number: int, *, scale: float = 0.1, days: int = 365, progress: city.Progress
) -> Tenant:
    """Stadt `number` (1–999) with `days` of KC activity and appointments at `scale` times
    Musterstadt's volume."""
    slug = town_slug(number)
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = core_services.tenant_create(
            name=f"Stadt {number:02d}",
            slug=slug,
            ags=f"05998{number:03d}",
            state="NW",
            email=f"buergerservice@{slug}.example",
        )
    progress(f"{tenant.name}: organisation, staff, catalogue and knowledge base")
    with scope(tenant=tenant):
        units = city.build_org_units(tenant)
        city.build_staff(tenant, units)
        city.build_closing_days(tenant)
        services = city.load_catalogue(tenant, units)
        editor = get_user_model().objects.get(username=username(tenant, "editor"))
        city.load_articles(tenant, services, editor)
        if days:
            progress(f"{tenant.name}: {days} days of KC activity at {scale:g} × the demo's volume")
            build_activity(tenant, units, days=days, progress=progress, scale=scale)
        progress(f"{tenant.name}: citizen offices and {days} days of appointments")
        appointments.build(tenant, days=days, progress=progress, scale=scale)
    return tenant
