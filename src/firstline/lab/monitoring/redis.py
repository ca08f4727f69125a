"""The shop's cache: Debian's redis-server with a small `maxmemory` and `noeviction`, so a
runaway cache fills it for real and further writes fail with Redis's own OOM error (an
evicting policy would quietly drop keys instead, and nothing would break)."""

from __future__ import annotations

import socket

from firstline.lab.processes import Readiness, require_binary
from firstline.lab.supervisor import LabProcess, Supervisor
from firstline.lab.topology import HOST, Topology

MAXMEMORY = "32mb"


def redis_url(topology: Topology, db: int = 0) -> str:
    return f"redis://{HOST}:{topology.ports.redis}/{db}"


def answers_ping(port: int, host: str = HOST) -> Readiness:
    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    return check


def start_redis(topology: Topology, supervisor: Supervisor) -> LabProcess:
    data = topology.data_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    config = topology.config_dir / "redis.conf"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"bind {HOST}\nport {topology.ports.redis}\ndaemonize no\ndir {data}\n"
        'save ""\nappendonly no\n'  # a cache: nothing to keep across restarts
        f"maxmemory {MAXMEMORY}\nmaxmemory-policy noeviction\n"
    )
    return supervisor.start(
        "redis",
        [require_binary("redis-server"), str(config)],
        cwd=data,
        ready=answers_ping(topology.ports.redis),
    )
