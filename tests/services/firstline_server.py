"""`firstline serve` as a real child process on a loopback port, for tests over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.services.process import Service, free_port, http_ok

WEBHOOK_TOKEN = "test-webhook-token-0123456789"
API_TOKEN = "test-api-token-9876543210"  # bound to the principal "ana"
BO_TOKEN = "test-api-token-bo-0246813579"  # bound to "bo"
READ_ONLY_TOKEN = "test-api-token-read-only-1357"  # an unnamed token: reads, never decides
PRINCIPALS = {"ana": API_TOKEN, "bo": BO_TOKEN}
HMAC_SECRET = "test-hmac-secret"


@dataclass
class FirstlineServer:
    service: Service
    url: str
    data_dir: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    @property
    def webhook_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_TOKEN}"}

    def kill_hard(self) -> None:
        """SIGKILL: no shutdown handlers, no flush; what a crash looks like."""
        assert self.service.process is not None
        os.killpg(self.service.process.pid, signal.SIGKILL)
        self.service.process.wait(timeout=10)

    def stop(self) -> None:
        self.service.stop()


def start_firstline(
    workdir: Path,
    *,
    data_dir: Path | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    name: str = "firstline-serve",
    timeout: float = 60.0,
    command: tuple[str, ...] = ("serve",),
) -> FirstlineServer:
    port = port or free_port()
    data_dir = data_dir or workdir / "data"
    url = f"http://127.0.0.1:{port}"
    settings_env = {
        "FIRSTLINE_STORE__DATA_DIR": str(data_dir),
        "FIRSTLINE_SERVE__PORT": str(port),
        "FIRSTLINE_SERVE__AUTH__BEARER_TOKENS": f'["{WEBHOOK_TOKEN}"]',
        "FIRSTLINE_SERVE__AUTH__HMAC_SECRETS": f'["{HMAC_SECRET}"]',
        "FIRSTLINE_SERVE__API_PRINCIPALS": json.dumps(PRINCIPALS),
        "FIRSTLINE_SERVE__API_TOKENS": f'["{READ_ONLY_TOKEN}"]',
        "FIRSTLINE_GRAPH__VERIFY_WAIT_SECONDS": "0",
        **(env or {}),
    }
    service = Service(
        name,
        [sys.executable, "-m", "firstline", *command],
        workdir,
        http_ok(f"{url}/readyz"),
        env=settings_env,
    ).start(timeout=timeout)
    return FirstlineServer(service=service, url=url, data_dir=data_dir)
