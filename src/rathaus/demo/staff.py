"""The demo's staff logins are global (a user may work for several tenants), so the towns the
benchmarks build (`rathaus.demo.towns`) give theirs a prefix: `stadt07.kc.agent` is the
KC agent of Stadt 07, `kc.agent` the one of Musterstadt."""

from __future__ import annotations

from rathaus.core.models import Tenant

MAIN = "musterstadt"


def username(tenant: Tenant, name: str) -> str:
    """The login `name` of the demo's staff in `tenant`: as it is in Musterstadt, prefixed with
    the tenant's slug elsewhere."""
    return name if tenant.slug == MAIN else f"{tenant.slug}.{name}"
