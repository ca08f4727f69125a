"""The shop's PostgreSQL 15 (Debian's server binaries), its database and three roles:

- `shop`, the application's, owning database `shop`;
- `firstline`, the least-privilege role docs/remediation/data-and-scripts.md gives firstline
  (LOGIN, IN ROLE pg_signal_backend, pg_read_all_stats): it may see every session's state and
  end other roles' sessions, nothing more;
- `exporter`, postgres_exporter's (pg_monitor).

Authentication is `trust` on loopback, as in the test suite: the lab only listens on
127.0.0.1 and what it exercises is what each role may do, not its password.
PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` OS user and
lives in a directory directly under /tmp that this user can reach (a lab dir below /root or
pytest's private temp dirs is not), with `data_dir/postgres` a symlink to it."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg

from firstline.lab.processes import LabError, Readiness
from firstline.lab.supervisor import LabProcess, Supervisor
from firstline.lab.topology import HOST, Topology

BIN = Path(os.environ.get("FIRSTLINE_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "shop"
SUPERUSER = "postgres"
ROLES: dict[str, str] = {  # role -> what makes it what it is
    "shop": "LOGIN",
    "firstline": "LOGIN IN ROLE pg_signal_backend, pg_read_all_stats",
    "exporter": "LOGIN IN ROLE pg_monitor",
}


def role_dsn(topology: Topology, role: str, dbname: str = DATABASE) -> str:
    """A libpq URL for `role` (sslmode=disable: lib/pq, the exporter's driver, would
    otherwise insist on TLS the lab's server does not offer)."""
    return f"postgresql://{role}@{HOST}:{topology.ports.postgres}/{dbname}?sslmode=disable"


def role_dsns(topology: Topology) -> dict[str, str]:
    return {role: role_dsn(topology, role) for role in ROLES}


def as_postgres_user() -> list[str]:
    """The argv prefix that runs a command as the `postgres` OS user when we are root
    (setpriv execs, so the PID stays the server's own)."""
    if os.geteuid() != 0:
        return []
    owner = pwd.getpwnam(SUPERUSER)
    return ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--init-groups", "--"]


def cluster_dir(topology: Topology) -> Path:
    """Where the cluster lives: `data_dir/postgres`, or as root a directory under /tmp named
    after the lab dir (the symlink `data_dir/postgres` points there)."""
    link = topology.data_dir / "postgres"
    if os.geteuid() != 0:
        return link
    key = hashlib.sha256(str(topology.lab_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"firstline-lab-postgres-{key}"


def discard_postgres_data(topology: Topology) -> None:
    """Delete the cluster (with the server stopped): as root it lives outside the lab dir,
    so deleting the lab dir alone would leave it behind in /tmp."""
    shutil.rmtree(cluster_dir(topology), ignore_errors=True)
    link = topology.data_dir / "postgres"
    if link.is_symlink():
        link.unlink()


def start_postgres(topology: Topology, supervisor: Supervisor) -> LabProcess:
    if not (BIN / "initdb").exists():
        raise LabError(f"{BIN}/initdb is missing: run `make test-services` (apt-get)")
    root = _prepare_cluster_dir(topology)
    data = root / "data"
    if not (data / "PG_VERSION").exists():
        _initdb(data, cwd=root)
    argv = [*as_postgres_user(), str(BIN / "postgres"), "-D", str(data),
            "-p", str(topology.ports.postgres), "-k", str(root),
            "-c", f"listen_addresses={HOST}", "-c", "fsync=off"]  # fmt: skip
    process = supervisor.start(
        "postgres",
        argv,
        cwd=root,
        ready=_accepts(role_dsn(topology, SUPERUSER, "postgres")),
        # fast shutdown: ends the shop's sessions instead of waiting for them (SIGTERM's
        # "smart" shutdown would wait for every client to leave)
        stop_signal=signal.SIGINT,
    )
    _create_database_and_roles(topology)
    return process


def _prepare_cluster_dir(topology: Topology) -> Path:
    root = cluster_dir(topology)
    root.mkdir(parents=True, exist_ok=True)
    link = topology.data_dir / "postgres"
    if root != link:
        topology.data_dir.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(root)
        owner = pwd.getpwnam(SUPERUSER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
        root.chmod(0o700)
    return root


def _initdb(data: Path, cwd: Path) -> None:
    result = subprocess.run(
        [*as_postgres_user(), str(BIN / "initdb"), "-D", str(data), "-A", "trust",
         "-U", SUPERUSER, "--no-sync"],
        capture_output=True, text=True, cwd=cwd, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise LabError(f"initdb {data} failed: {' '.join(last)}")


def _accepts(dsn: str) -> Readiness:
    def check() -> bool:
        try:
            with psycopg.connect(dsn, connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    return check


def _create_database_and_roles(topology: Topology) -> None:
    """Idempotent: a restarted lab finds them already there."""
    with psycopg.connect(role_dsn(topology, SUPERUSER, "postgres"), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles")}
        for role, options in ROLES.items():
            if role not in existing:
                conn.execute(f"CREATE ROLE {role} {options}")  # names are ours, not input
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            return
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER shop")
