"""`rathaus check --deploy` passes with the production settings compose.yaml documents."""

from __future__ import annotations

from tests.deploy import production


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    env = production.local_env("web", database_url="", data_dir=tmp_path)
    # The database URL as compose has it (host `db`): the checks do not connect.
    env["DATABASE_URL"] = production.service_env("web")["DATABASE_URL"]
    result = production.run(
        [str(production.BIN / "rathaus"), "check", "--deploy", "--fail-level", "WARNING"], env
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_development_setting(tmp_path):
    """The test above would notice a weaker set-up: the same environment without HSTS."""
    env = production.local_env("web", database_url="", data_dir=tmp_path)
    env["DATABASE_URL"] = production.service_env("web")["DATABASE_URL"]
    env["RATHAUS_HSTS_SECONDS"] = "0"
    result = production.run(
        [str(production.BIN / "rathaus"), "check", "--deploy", "--fail-level", "WARNING"], env
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr
