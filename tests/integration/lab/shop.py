"""Helpers for the lab shop tests: start a shop service as its own process, read its
metrics, switch its faults, wait on conditions (never on fixed sleeps)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.services.process import Service, free_port, http_ok

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[3]


def wait_for(condition: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout:.0f}s: {what}")


class ShopProcess:
    def __init__(self, service: Service, port: int, admin_port: int) -> None:
        self.service = service
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.admin = f"http://127.0.0.1:{admin_port}"  # payments: stays up while PORT refuses

    def fault(self, name: str, on: bool = True, **params: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.admin}/admin/faults/{name}", json={"on": on, **params},
                            timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return dict(answer.json()[name])

    def faults(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.admin}/admin/faults", timeout=10).json())

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.service.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def logged(self, text: str) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if text in line.get("msg", "")]

    def requests_total(self, **labels: str) -> float:
        """Sum of http_requests_total over the series matching `labels`."""
        body = httpx.get(f"{self.admin}/metrics", timeout=10).text
        total = 0.0
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == "http_requests_total" and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total


class ShopProcesses:
    def __init__(self, log_dir: Path, python: str) -> None:
        self.log_dir, self.python = log_dir, python
        self.running: list[Service] = []

    def argv(self, service: str) -> list[str]:
        return [self.python, "-m", "firstline.lab.shop", service]

    def prepare(
        self,
        service: str,
        env: dict[str, str],
        port: int | None = None,
        name: str | None = None,
        ready_port: int | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> ShopProcess:
        """A shop process configured but not started yet (see start_together); ready when its
        /healthz answers, unless `ready` says otherwise."""
        port = port or free_port()
        name = name or service
        full_env = {"PORT": str(port), "POD_NAME": f"{name}-test", "POD_NAMESPACE": "shop",
                    **env}  # fmt: skip
        health = f"http://127.0.0.1:{ready_port or port}/healthz"
        process = Service(name, self.argv(service), self.log_dir, ready or http_ok(health),
                          env=full_env, cwd=REPO)  # fmt: skip
        return ShopProcess(process, port, ready_port or port)

    def start_together(self, *processes: ShopProcess) -> None:
        """Start them all at once and wait until every one is ready: the services only need
        each other per request, and starting one after another would add their start-ups."""
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            started = [pool.submit(process.service.start, 60) for process in processes]
            for process, future in zip(processes, started, strict=True):
                if future.exception() is None:
                    self.running.append(process.service)
            for future in started:
                future.result()

    def start(self, service: str, env: dict[str, str], port: int | None = None,
              name: str | None = None, ready_port: int | None = None) -> ShopProcess:  # fmt: skip
        process = self.prepare(service, env, port, name, ready_port)
        self.start_together(process)
        return process

    def stop_all(self) -> None:
        for service in reversed(self.running):
            service.stop()
