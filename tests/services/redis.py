"""A real Redis (Debian's redis-server) on a loopback port, no persistence, stopped by PID."""

from __future__ import annotations

import shutil
from pathlib import Path

from firstline.lab.monitoring.redis import answers_ping
from tests.services.process import Service, ServiceError, free_port


def start_redis(work_dir: Path) -> tuple[Service, str]:
    """The server and its URL (database 0)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError("redis-server is not installed: run `make test-services` (apt-get)")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(work_dir)]  # fmt: skip
    service = Service("redis", argv, work_dir, ready=answers_ping(port), cwd=work_dir).start()
    return service, f"redis://127.0.0.1:{port}/0"
