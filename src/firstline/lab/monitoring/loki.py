"""The lab's Loki-API server: qryn (npm) on embedded ClickHouse (chdb behind the HTTP
adapter in clickhouse_http.py), exactly as the test suite runs it (tests/services/loki.py
builds its servers from these pieces). The shop pushes its logs to /loki/api/v1/push and
firstline reads them through Loki's query API.

Nothing is installed here: `make test-services` puts qryn in .test-services/qryn of the
checkout, or FIRSTLINE_QRYN_DIR points at an install."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from firstline.lab.processes import LabError, Readiness, http_ok
from firstline.lab.supervisor import Supervisor
from firstline.lab.topology import HOST, Topology

CHECKOUT = Path(__file__).resolve().parents[4]  # src/firstline/lab/monitoring/loki.py
DEFAULT_QRYN_DIR = CHECKOUT / ".test-services" / "qryn"
_ENTRY = Path("node_modules") / "qryn" / "qryn_node.js"
ADAPTER_MODULE = "firstline.lab.monitoring.clickhouse_http"
CLICKHOUSE, QRYN = "loki-clickhouse", "loki"  # their names under the supervisor


def qryn_entry() -> Path:
    """qryn's start script, or a LabError telling the reader how to install it."""
    configured = os.environ.get("FIRSTLINE_QRYN_DIR")
    root = Path(configured) if configured else DEFAULT_QRYN_DIR
    entry = root / _ENTRY
    if not entry.is_file():
        raise LabError(
            f"qryn is not installed at {root} (looked for {entry}): run `make test-services`"
            + ("" if configured else ", or point FIRSTLINE_QRYN_DIR at an install")
        )
    if shutil.which("node") is None:
        raise LabError("node is not on PATH; qryn needs Node.js 20")
    return entry


def clickhouse_argv(port: int, data_dir: Path) -> list[str]:
    return [sys.executable, "-m", ADAPTER_MODULE, str(port), str(data_dir)]


def clickhouse_ready(port: int) -> Readiness:
    return http_ok(f"http://{HOST}:{port}/ping")


def qryn_env(clickhouse_port: int, port: int) -> dict[str, str]:
    return {
        "CLICKHOUSE_SERVER": HOST,
        "CLICKHOUSE_PORT": str(clickhouse_port),
        "CLICKHOUSE_DB": "qryn",
        "CLICKHOUSE_AUTH": "default:",
        "PORT": str(port),
        "HOST": HOST,
    }


def launch_clickhouse(topology: Topology, supervisor: Supervisor) -> Readiness:
    """Start the ClickHouse adapter; returns what tells it is ready (qryn needs it then)."""
    data = topology.data_dir / "loki"
    data.mkdir(parents=True, exist_ok=True)
    port = topology.ports.loki_clickhouse
    supervisor.launch(CLICKHOUSE, clickhouse_argv(port, data / "chdb"))
    return clickhouse_ready(port)


def launch_qryn(topology: Topology, supervisor: Supervisor) -> Readiness:
    """Start qryn on the (ready) adapter; returns what tells it is ready."""
    entry = qryn_entry()
    env = qryn_env(topology.ports.loki_clickhouse, topology.ports.loki)
    supervisor.launch(QRYN, ["node", str(entry)], env=env, cwd=entry.parents[2])
    return http_ok(f"{topology.url('loki')}/ready")


def start_loki(topology: Topology, supervisor: Supervisor) -> None:
    """The ClickHouse adapter, then qryn on it; returns once qryn answers /ready."""
    qryn_entry()  # not installed: say so before starting anything
    supervisor.await_ready(CLICKHOUSE, launch_clickhouse(topology, supervisor))
    supervisor.await_ready(QRYN, launch_qryn(topology, supervisor))
