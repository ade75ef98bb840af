"""Backup and restore as the README documents them: the database (pg_dump -Fc / pg_restore on
PostgreSQL, `.backup` on SQLite) and the data directory (secret key, uploaded files), then the
application runs on the restored copy with the same rows."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django_scopes import scopes_disabled

from rathaus.core import tenant_data
from tests.deploy import production


def table_counts(url: str) -> dict[str, int]:
    """Rows of every table of the public schema (read as the superuser: no tenant wall)."""
    with psycopg.connect(url) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608 - names from the catalogue


def rathaus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return production.run([str(production.BIN / "rathaus"), *args], env)


SIGN = "from django.core import signing; print(signing.dumps('erika', salt='backup'))"
UNSIGN = "import sys; from django.core import signing; print(signing.loads(sys.stdin.read().strip(), salt='backup'))"


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.skipif(
    not (production.have("pg_dump") and production.have("tar")), reason="needs pg_dump and tar"
)
def test_pg_dump_and_restore_with_the_data_dir_bring_the_installation_back(tmp_path):
    """As in production: the app connects as its ordinary role (deploy/postgres-init.sh);
    the dump and the restore run as the database superuser, since the tenant wall's forced
    policies refuse a dump by the app's own role."""
    name = f"{connection.settings_dict['NAME']}_backup"
    data, dump, archive = tmp_path / "data", tmp_path / "rathaus.dump", tmp_path / "data.tgz"
    restored_data = tmp_path / "restored-data"
    restored_data.mkdir()
    with production.app_database(name) as live:
        env = production.local_env("web", database_url=live, data_dir=data)
        env["RATHAUS_SECURE_COOKIES"] = "0"
        built = rathaus(env, "demo", "--activity-days", "2", "--appointment-days", "2")
        assert built.returncode == 0, built.stderr[-3000:]
        (media := data / "media" / "attachments").mkdir(parents=True)
        (media / "brief.pdf").write_bytes(b"%PDF-1.4 a letter")
        signed = rathaus(env, "shell", "-c", SIGN)
        original = table_counts(production.database_url(name))
        assert original["contacts_contact"] > 0 and original["core_event"] > 0
        assert original["appointments_booking"] > 0

        # The README's backup: the database as a custom-format dump, the data directory as tar.
        dumped = production.run(
            ["pg_dump", "-Fc", "-f", str(dump), production.database_url(name)], env
        )
        assert dumped.returncode == 0, dumped.stderr
        packed = production.run(["tar", "-C", str(data), "-czf", str(archive), "."], env)
        assert packed.returncode == 0, packed.stderr
        # The live database goes; a new empty one of the same role takes the dump.
        production.admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        production.admin_sql(f'CREATE DATABASE "{name}_restored" OWNER "{name}"')
        superuser_copy = production.database_url(f"{name}_restored")
        copy = live.rsplit("/", 1)[0] + f"/{name}_restored"
        try:
            restored = production.run(
                ["pg_restore", "--exit-on-error", "-d", superuser_copy, str(dump)], env
            )
            assert restored.returncode == 0, restored.stderr
            unpacked = production.run(["tar", "-C", str(restored_data), "-xzf", str(archive)], env)
            assert unpacked.returncode == 0, unpacked.stderr
            env = production.local_env("web", database_url=copy, data_dir=restored_data)
            restored_app(env, superuser_copy, original, signed.stdout, tmp_path)
        finally:
            production.admin_sql(f'DROP DATABASE IF EXISTS "{name}_restored" WITH (FORCE)')


def restored_app(env, superuser_url, original, signed, tmp_path):
    """The application on the restored copy, connected as its own role."""
    assert table_counts(superuser_url) == original
    checked = rathaus(env, "migrate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = rathaus(env, "check", "--deploy", "--fail-level", "WARNING", "--database", "default")
    assert checked.returncode == 0, checked.stderr
    # The same secret key (from the data dir): what was signed before is still valid.
    unsigned = production.run(
        [str(production.BIN / "rathaus"), "shell", "-c", UNSIGN],
        env,
        input=signed.splitlines()[-1],
    )
    assert unsigned.stdout.splitlines()[-1] == "erika", unsigned.stderr[-2000:]
    assert (
        (Path(env["RATHAUS_DATA_DIR"]) / "media" / "attachments" / "brief.pdf")
        .read_bytes()
        .startswith(b"%PDF")
    )
    # And it serves: one round of the timers, then /healthz says ok.
    assert rathaus(env, "worker", "--timers-once").returncode == 0
    port = production.free_port()
    web = production.service_command("web")
    web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
    probe = env | {"RATHAUS_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz"}
    health = [str(production.BIN / "python"), "-m", "rathaus.core.healthcheck"]
    with production.started(production.executable(web), env, tmp_path / "web.log"):
        healthy = production.wait_for(
            lambda: (result := production.run(health, probe)).returncode == 0 and result
        )
    assert healthy, (tmp_path / "web.log").read_text()[-3000:]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backup")
def test_sqlite_backup_of_the_live_file_is_a_working_database(world_a, world_b, tmp_path):
    """Python's `sqlite3.Connection.backup` (what the sqlite3 shell's `.backup` does) copies
    the database while the application has it open in WAL mode; the copy has every row and
    the complete schema."""
    with scopes_disabled():
        expected = {
            model._meta.db_table: model._base_manager.count()
            for model, _field in tenant_data.tenant_models()
        }
    source = connection.settings_dict["NAME"]
    copy = tmp_path / "backup.sqlite3"
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    with sqlite3.connect(copy) as backup:
        assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for table, count in expected.items():
            assert backup.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (count,)  # noqa: S608
    assert expected["core_event"] > 0 and expected["core_membership"] == 16
    env = production.local_env("web", database_url=f"sqlite:///{copy}", data_dir=tmp_path / "d")
    checked = rathaus(env, "migrate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if production.have("sqlite3"):  # the shell's command, as the README writes it
        shell_copy = tmp_path / "shell.sqlite3"
        subprocess.run(["sqlite3", source, f".backup {shell_copy}"], check=True)
        with sqlite3.connect(shell_copy) as backup:
            assert backup.execute("SELECT count(*) FROM core_event").fetchone() == (
                expected["core_event"],
            )
