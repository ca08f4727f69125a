"""`firstline check` probing real Prometheus and Alertmanager, and an unreachable Loki."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services.process import free_port
from tests.services.prometheus import Monitoring

pytestmark = pytest.mark.integration


def test_check_reports_each_backend(monitoring: Monitoring, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FIRSTLINE_SOURCES__PROMETHEUS__URL": monitoring.prometheus_url,
        "FIRSTLINE_SOURCES__ALERTMANAGER__URL": monitoring.alertmanager_url,
        "FIRSTLINE_SOURCES__LOKI__URL": f"http://127.0.0.1:{free_port()}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "firstline", "--data-dir", str(tmp_path), "check", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, "a configured backend failed"
    by_name = {r["backend"]: r for r in json.loads(done.stdout)}
    assert by_name["prometheus"]["status"] == "ok"
    assert by_name["prometheus"]["detail"].startswith("Prometheus 2.")
    assert by_name["alertmanager"]["status"] == "ok"
    assert by_name["loki"]["status"] == "failed" and by_name["loki"]["detail"]
    assert by_name["kubernetes"]["status"] == "disabled"
