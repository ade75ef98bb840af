"""The event log is the spine: every write service appends its event. This reads the source
(an AST walk), so a new service that writes and logs nothing fails here before review.

A write service is a public function of a services module that runs in
`transaction.atomic`. It appends when it calls an appender (`event_append`, `event_build`,
or a helper that does, also in another services module), directly or through another function
that does."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "rathaus"
SERVICE_MODULES = sorted(
    p for p in SRC.glob("*/*.py") if p.name == "services.py" and "migrations" not in p.parts
) + sorted(SRC.glob("*/services/*.py"))
APPENDERS = {"event_append", "event_build", "events_bulk_append"}
# Writes that are not steps of a process, each with the reason it logs no event.
NOT_EVENTS = {
    "attempt_counts_purge": "rate-limit counters are housekeeping, not citizen service",
    "access_log_purge": "the access log's retention, kept apart from the event log",
    "personal_data_accessed": "writes the access log, which is not the process log",
    "slots_materialize": "slots are derived from the rules; changing a rule is the event",
    "tenant_remove": "the tenant's own event log goes with it; core.TenantRemoval, which "
    "is installation-wide, records the removal instead",
    "user_create": "a person is installation-wide (one login, several municipalities), an "
    "event belongs to one; a person enters a municipality's log with membership_grant",
}


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _is_atomic(function: ast.FunctionDef) -> bool:
    return any("atomic" in ast.unparse(d) for d in function.decorator_list)


def _called(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(
                target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            )
    return names


def write_services_without_events(modules: list[Path]) -> list[str]:
    functions = {(p, name): f for p in modules for name, f in _functions(p).items()}
    calls = {key: _called(f) for key, f in functions.items()}
    appending = set(APPENDERS)
    while True:  # a function appends if it calls one that does, in any services module
        more = {name for (_p, name), called in calls.items() if called & appending}
        if more <= appending:
            break
        appending |= more
    return sorted(
        f"{path.parent.name}/{path.name}:{name}"
        for (path, name), function in functions.items()
        if not name.startswith("_")
        and _is_atomic(function)
        and name not in appending
        and name not in NOT_EVENTS
    )


def test_every_write_service_appends_an_event():
    assert SERVICE_MODULES, "no services modules found"
    assert write_services_without_events(SERVICE_MODULES) == []


def test_the_check_finds_a_write_service_that_appends_nothing(tmp_path):
    module = tmp_path / "services.py"
    module.write_text(
        "from django.db import transaction\n\n"
        "@transaction.atomic\n"
        "def thing_create(*, name):\n"
        "    return Thing.objects.create(name=name)\n\n"
        "@transaction.atomic\n"
        "def thing_rename(*, thing, name):\n"
        "    thing.save()\n"
        "    _log(thing)\n\n"
        "def _log(thing):\n"
        "    event_append(tenant=thing.tenant, activity='thing_renamed')\n"
    )
    found = write_services_without_events([module])
    assert [name.rsplit(":", 1)[1] for name in found] == ["thing_create"]
