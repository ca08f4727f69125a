"""A throwaway PostgreSQL 15 cluster: initdb (trust auth), the postmaster on a loopback port
with its own socket directory, stopped by PID and deleted afterwards.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` OS user
(../shared/design/TESTING.md); its directory sits directly under /tmp, which that user can
reach (pytest's per-user temp dirs are private to root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from firstline.lab.monitoring.postgres import BIN, as_postgres_user
from tests.services.process import Service, ServiceError, free_port

__all__ = ["BIN", "PostgresCluster"]


class PostgresCluster:
    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise ServiceError(f"{BIN}/initdb is missing: run `make test-services` (apt-get)")
        self.root = Path(tempfile.mkdtemp(prefix="firstline-pg-"))
        self.port = free_port()
        self.service: Service | None = None
        self._as_user = as_postgres_user()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def dsn(self, user: str = "postgres", dbname: str = "postgres", **extra: str) -> str:
        parts = {"host": "127.0.0.1", "port": str(self.port), "user": user, "dbname": dbname}
        return " ".join(f"{k}={v}" for k, v in {**parts, **extra}.items())

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self.dsn(), connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def start(self) -> PostgresCluster:
        data = self.root / "data"
        subprocess.run(
            [*self._as_user, str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
             "--no-sync"],
            check=True, capture_output=True, cwd=self.root,
        )  # fmt: skip
        # the postmaster itself is the child (setpriv execs), so it is stopped by its PID
        argv = [*self._as_user, str(BIN / "postgres"), "-D", str(data), "-p", str(self.port),
                "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]  # fmt: skip
        self.service = Service(
            "postgres", argv, self.root / "logs", ready=self._ready, cwd=self.root
        )
        self.service.start()
        return self

    def stop(self) -> None:
        if self.service is not None and self.service.process is not None:
            process = self.service.process
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # fast shutdown: disconnects clients
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=15)
            self.service.stop()
        shutil.rmtree(self.root, ignore_errors=True)
