"""The container set-up (Dockerfile, compose.yaml, deploy/Caddyfile) without a Docker engine:
this machine has the docker client but no daemon and no registry for base images (see
docs/decisions.md), so the files are checked for what they say and reference, and compose's
exact commands run here against PostgreSQL."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from django.db import connection

from tests.deploy import production
from tests.deploy.production import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def dockerfile_instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(f"{name} ")]


def test_compose_parses_and_has_the_services_of_a_data_centre():
    spec = production.compose()
    assert set(spec["services"]) == {"db", "migrate", "web", "worker", "proxy"}
    web = spec["services"]["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert spec["services"]["worker"]["command"] == ["rathaus", "worker"]
    assert production.service_command("migrate") == ["rathaus", "migrate", "--noinput"]
    # Behind the proxy, and what it means: HTTPS only, the client address from the proxy.
    env = production.service_env("web")
    assert env["RATHAUS_BEHIND_PROXY"] == "1"
    assert env["RATHAUS_ALLOWED_HOSTS"] == "rathaus.example.de,localhost"
    assert env["DATABASE_URL"].startswith("postgres://rathaus:")
    assert production.service_env("worker") == env  # one environment for every app container


def test_compose_refuses_to_start_without_the_secrets():
    for name in ("RATHAUS_SECRET_KEY", "RATHAUS_DB_PASSWORD", "RATHAUS_HOST"):
        dot_env = {key: value for key, value in production.DOT_ENV.items() if key != name}
        with pytest.raises(KeyError, match=name):
            production.service_env("web", dot_env)


def test_compose_and_the_dockerfile_reference_only_files_that_exist():
    spec = production.compose()
    for service in spec["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), volume
            else:
                assert source in spec["volumes"], f"undeclared named volume {source}"
    assert spec["x-rathaus"]["build"] == "."
    ignored = (ROOT / ".dockerignore").read_text().split()
    for copy in dockerfile_instructions("COPY"):
        if copy.startswith("--from="):
            continue
        *sources, _target = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
            assert source not in ignored, f".dockerignore leaves out {source}"


def test_the_image_runs_what_compose_runs_and_checks_its_health_itself():
    (cmd,) = dockerfile_instructions("CMD")
    assert json.loads(cmd) == production.service_command("web")
    (healthcheck,) = dockerfile_instructions("HEALTHCHECK")
    assert healthcheck.split("CMD ", 1)[1] == '["python", "-m", "rathaus.core.healthcheck"]'
    assert "USER rathaus" in DOCKERFILE and 'VOLUME ["/data"]' in DOCKERFILE
    assert re.search(r"^FROM python:3\.11-slim\S* AS runtime$", DOCKERFILE, re.M)
    for step in ("pip install -c constraints.txt", "npm ci", "compilemessages", "collectstatic"):
        assert step in DOCKERFILE


def test_the_proxy_sets_the_headers_the_app_trusts():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile
    assert "header_up X-Forwarded-Proto {scheme}" in caddyfile
    assert "{$RATHAUS_HOST}" in caddyfile
    assert production.compose()["services"]["proxy"]["environment"]["RATHAUS_HOST"]


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_compose_commands_run_here_and_healthz_answers_200_with_the_worker(tmp_path):
    """The database as deploy/postgres-init.sh makes it (an ordinary role, so the tenant wall
    holds), migrate, then gunicorn and `rathaus worker` exactly as compose starts them, with
    compose's environment; the image's HEALTHCHECK passes once the worker has beaten."""
    name = f"{connection.settings_dict['NAME']}_compose"
    with production.app_database(name) as url:
        env = production.local_env("web", database_url=url, data_dir=tmp_path / "data")
        migrated = production.run(production.executable(production.service_command("migrate")), env)
        assert migrated.returncode == 0, migrated.stderr[-3000:]

        port = production.free_port()
        web = production.service_command("web")
        web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
        web[web.index("--workers") + 1] = "2"
        probe = env | {"RATHAUS_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz"}
        health = [production.executable(["python"])[0], "-m", "rathaus.core.healthcheck"]
        with production.started(production.executable(web), env, tmp_path / "web.log"):
            # Up, but no worker yet: the probe fails as the orchestrator should see it.
            answered = production.wait_for(
                lambda: "never" in (result := production.run(health, probe)).stdout and result
            )
            assert answered and answered.returncode == 1, (tmp_path / "web.log").read_text()
            worker = production.executable(production.service_command("worker"))
            with production.started(worker, env, tmp_path / "worker.log"):
                healthy = production.wait_for(
                    lambda: (result := production.run(health, probe)).returncode == 0 and result
                )
                assert healthy, (tmp_path / "worker.log").read_text()[-3000:]
        report = json.loads(healthy.stdout)
        assert report["status"] == "ok" and report["worker"]["status"] == "ok"
        assert report["database"] == "ok"
        # JSON logs, as compose sets them: every line gunicorn's app wrote parses.
        log = (tmp_path / "web.log").read_text().splitlines()
        entries = [json.loads(line) for line in log if line.startswith("{")]
        assert any(entry.get("logger") == "rathaus.request" for entry in entries), shlex.join(web)
