"""Real Prometheus and Alertmanager (Debian packages) for integration tests.

The suite runs an exporter in-process (prometheus_client) whose values tests set, a
Prometheus that scrapes it every second and evaluates one alerting rule per second, an
Alertmanager with a 1 s group_wait, and a webhook receiver that records what Alertmanager
sends. All on loopback ports, stopped by PID.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from firstline.lab.processes import require_binary
from tests.services.process import LOOPBACK, Service, free_port, http_ok

RULES = """
groups:
  - name: firstline-tests
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[15s]))
            / sum by (namespace, service) (rate(http_requests_total[15s])) > 0.2
        for: 0s
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.service }} answers more than 20% errors"
      - alert: WorkerQueueBacklog
        expr: firstline_test_queue_depth > 100
        for: 0s
        labels:
          severity: warning
        annotations:
          summary: "queue backlog on {{ $labels.service }}"
"""


require = require_binary  # the suite's name for it


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Debian's promtool (comes with prometheus), its output as text."""
    return subprocess.run(
        [require_binary("promtool"), *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


@dataclass
class Exporter:
    """Metrics whose values tests control, served on a loopback port."""

    port: int
    registry: CollectorRegistry
    requests: Counter
    queue_depth: Gauge

    @classmethod
    def start(cls) -> Exporter:
        registry = CollectorRegistry()
        requests = Counter(
            "http_requests", "requests", ["namespace", "service", "code"], registry=registry
        )
        queue = Gauge(
            "firstline_test_queue_depth", "q", ["namespace", "service"], registry=registry
        )
        port = free_port()
        start_http_server(port, addr="127.0.0.1", registry=registry)
        return cls(port=port, registry=registry, requests=requests, queue_depth=queue)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()


@dataclass
class WebhookReceiver:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @classmethod
    def start(cls) -> WebhookReceiver:
        port = free_port()
        handler = type("Receiver", (_Receiver,), {"received": []})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return cls(port=port, received=handler.received, server=server)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()


@dataclass
class Monitoring:
    exporter: Exporter
    receiver: WebhookReceiver
    prometheus: Service
    alertmanager: Service
    prometheus_url: str
    alertmanager_url: str

    def stop(self) -> None:
        self.prometheus.stop()
        self.alertmanager.stop()
        self.receiver.stop()

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 30.0, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise TimeoutError(f"waited {timeout:.0f}s for {what or predicate}")

    def instant(self, promql: str) -> list[dict[str, Any]]:
        answer = LOOPBACK.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": promql}, timeout=5
        )
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result


def start_alertmanager(
    workdir: Path, config: str, name: str = "alertmanager"
) -> tuple[Service, str]:
    """A real Alertmanager with the given config, on a loopback port; (service, base URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (workdir / f"{name}-data").mkdir(parents=True, exist_ok=True)
    (workdir / f"{name}.yml").write_text(config)
    service = Service(
        name,
        [require("prometheus-alertmanager"), f"--config.file={workdir / f'{name}.yml'}",
         f"--storage.path={workdir / f'{name}-data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        workdir, http_ok(f"{url}/-/ready"),
    ).start()  # fmt: skip
    return service, url


def start_monitoring(workdir: Path) -> Monitoring:
    prometheus_bin = require("prometheus")
    alertmanager_bin = require("prometheus-alertmanager")
    exporter = Exporter.start()
    receiver = WebhookReceiver.start()
    am_port, prom_port = free_port(), free_port()
    am_url, prom_url = f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}"
    (workdir / "am").mkdir(parents=True, exist_ok=True)
    (workdir / "am.yml").write_text(
        "route:\n  receiver: firstline\n  group_by: [alertname, namespace, service]\n"
        "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        f"receivers:\n  - name: firstline\n    webhook_configs:\n"
        f"      - url: http://127.0.0.1:{receiver.port}/alerts\n        send_resolved: true\n"
    )
    (workdir / "rules.yml").write_text(RULES)
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: [{workdir / 'rules.yml'}]\n"
        f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n"
        f"scrape_configs:\n  - job_name: app\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter.port}']\n"
    )
    alertmanager = Service(
        "alertmanager",
        [alertmanager_bin, f"--config.file={workdir / 'am.yml'}", f"--storage.path={workdir / 'am'}",
         f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
        workdir, http_ok(f"{am_url}/-/ready"),
    ).start()  # fmt: skip
    prometheus = Service(
        "prometheus",
        [prometheus_bin, f"--config.file={workdir / 'prometheus.yml'}",
         f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
         f"--web.external-url={prom_url}"],
        workdir, http_ok(f"{prom_url}/-/ready"),
    ).start()  # fmt: skip
    monitoring = Monitoring(exporter, receiver, prometheus, alertmanager, prom_url, am_url)
    monitoring.wait_for(
        lambda: bool(monitoring.instant('up{job="app"} == 1')), timeout=30, what="the first scrape"
    )
    return monitoring
