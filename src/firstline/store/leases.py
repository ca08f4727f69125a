"""Who holds a lease on a piece of work, and whether that holder is known to be gone.

An owner names its process: `host/pid/nonce`. The nonce tells a restarted worker pool from
the one before it in the same process. A worker that starts may take back at once the runs
of an owner on its own host whose process has exited (a `kill -9`, a crash, a restart of
the only replica); an owner on another host is never judged from here: its runs wait for
their lease to expire, which is what makes several replicas safe.
"""

from __future__ import annotations

import os
import socket
import uuid

DEFAULT_LEASE_SECONDS = 30.0
LOCAL_OWNER = "local"
"""The owner of claims made without one (tests and single-shot tools)."""


def new_owner() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str | None, me: str) -> bool:
    """True when `owner` certainly no longer works: no owner recorded (a claim from before
    leases), the local owner, or a process of this host other than `me` that has exited or
    is an earlier pool of this very process."""
    if owner is None or owner == LOCAL_OWNER:
        return True
    host, pid_text, nonce = _parts(owner)
    my_host, my_pid, my_nonce = _parts(me)
    if host != my_host or not pid_text.isdigit():
        return False
    if pid_text == my_pid:
        return nonce != my_nonce
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def _parts(owner: str) -> tuple[str, str, str]:
    host, _, rest = owner.partition("/")
    pid, _, nonce = rest.partition("/")
    return host, pid, nonce
