import os
import subprocess
import sys

import pytest

CASES = [
    ("RATHAUS_DEBUG", "maybe", "RATHAUS_DEBUG"),
    ("RATHAUS_LOGIN_FAILURE_LIMIT", "many", "RATHAUS_LOGIN_FAILURE_LIMIT"),
    ("RATHAUS_TIME_ZONE", "Mars/Olympus", "RATHAUS_TIME_ZONE"),
    ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL"),
    ("RATHAUS_SECRET_KEY", "short", "RATHAUS_SECRET_KEY"),
    ("RATHAUS_LOG_FORMAT", "xml", "RATHAUS_LOG_FORMAT"),
    ("RATHAUS_WORKER_STALE_SECONDS", "30", "RATHAUS_WORKER_STALE_SECONDS"),
    ("RATHAUS_METRICS_ALLOWED_IPS", "127.0.0.1,10.0.0.5/24", "RATHAUS_METRICS_ALLOWED_IPS"),
    ("RATHAUS_METRICS_TOKEN", "short", "RATHAUS_METRICS_TOKEN"),
]


@pytest.mark.parametrize(("name", "value", "named"), CASES)
def test_bad_setting_stops_start_up_naming_the_variable(name, value, named, tmp_path):
    env = {**os.environ, name: value, "RATHAUS_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import rathaus.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RATHAUS_SECRET_KEY"} | {
        "RATHAUS_DATA_DIR": str(tmp_path)
    }
    code = "from django.conf import settings; import rathaus.settings as s; print(s.SECRET_KEY)"
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    second = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert first == second and len(first.strip()) >= 40
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_the_configured_cache_is_shared_through_the_database(db):
    """Rate limits hold across web processes only if every process sees the same counts."""
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    from rathaus import settings as configured

    assert configured.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    table = configured.CACHES["default"]["LOCATION"]
    assert table in connection.introspection.table_names()  # made by core's migration
    first, second = (DatabaseCache(table, {}) for _ in range(2))
    first.set("attempts", 3, 60)
    assert second.get("attempts") == 3
    assert second.incr("attempts") == 4 and first.get("attempts") == 4
