"""What a kubelet does for one pod, with real processes: start each container, capture its
output, restart it with back-off when it exits, kill it when its memory goes over the limit,
probe its readiness, and report all of it as the pod's status."""

from __future__ import annotations

import asyncio
import base64
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from firstline.actions.kubernetes.quantities import parse_quantity
from firstline.lab.cluster.api import timestamp
from firstline.lab.cluster.processes import ContainerProcess, ProcessTable, Usage

Obj = dict[str, Any]
BACKOFF_START_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 10.0
BACKOFF_RESET_SECONDS = 30.0  # a container that ran this long starts its back-off afresh
WORKER_READY_SECONDS = 2.0  # a container without a port is ready once alive this long
STOP_GRACE_SECONDS = 5.0
OOM_EXIT_CODE = 137
DEFAULT_IMAGE_COMMANDS = {"lab/": f"{shlex.quote(sys.executable)} -m firstline.lab.shop"}
# what a process needs from the controller's environment to run at all (a container would
# bring its own): the interpreter's search paths and the locale
PASSED_ENVIRONMENT = ("PATH", "PYTHONPATH", "HOME", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV", "TMPDIR")

Record = Callable[[Obj, str, str, str], None]
"""(involved object, reason, message, type) -> records an Event."""


class ConfigError(Exception):
    """The container cannot be configured yet; `reason` is the waiting reason shown."""

    reason = "CreateContainerConfigError"


class ImageError(ConfigError):
    """No program stands for the image: what a registry without it would cause."""

    reason = "ImagePullBackOff"


def image_argv(image: str, commands: dict[str, str]) -> tuple[list[str], str]:
    """The program an image stands for, and its tag: `lab/checkout:v2` with prefix `lab/`
    runs `<command> checkout` with LAB_RELEASE=v2."""
    repository, _, tag = image.partition(":")
    for prefix in sorted(commands, key=len, reverse=True):
        if repository.startswith(prefix):
            return [*shlex.split(commands[prefix]), repository[len(prefix) :]], tag or "latest"
    raise ImageError(f'Failed to pull image "{image}": no --image-command for its prefix')


def port_of(container: Obj) -> int | None:
    for port in container.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            return int(port["containerPort"])
    return None


def memory_limit(container: Obj) -> int | None:
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return int(parse_quantity(str(limit))) if limit is not None else None


def cpu_limit(container: Obj) -> float | None:
    limit = ((container.get("resources") or {}).get("limits") or {}).get("cpu")
    return float(parse_quantity(str(limit))) if limit is not None else None


@dataclass
class ContainerRun:
    spec: Obj
    log_dir: Path
    process: ContainerProcess | None = None
    started_at: str | None = None
    started_mono: float = 0.0
    restart_count: int = 0
    last_terminated: Obj | None = None
    waiting: tuple[str, str] = ("ContainerCreating", "")
    next_start: float = 0.0
    backoff: float = 0.0
    ready: bool = False
    oom_killed: bool = False
    usage: Usage = field(default_factory=lambda: Usage(0, 0.0))

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    def log_path(self, instance: int) -> Path:
        return self.log_dir / self.name / f"{instance}.log"


def _secret_value(data: Obj, key: str) -> str | None:
    if key in (data.get("stringData") or {}):
        return str(data["stringData"][key])
    encoded = (data.get("data") or {}).get(key)
    return base64.b64decode(encoded).decode() if encoded is not None else None


class PodRun:
    """One pod's containers; `lookup(kind, name)` reads a ConfigMap or Secret of its
    namespace from the API (None: absent)."""

    def __init__(self, pod: Obj, state_dir: Path, commands: dict[str, str]) -> None:
        meta = pod["metadata"]
        self.name: str = meta["name"]
        self.namespace: str = meta["namespace"]
        self.uid: str = meta["uid"]
        self.owner: str = meta["ownerReferences"][0]["name"]
        self.labels: dict[str, str] = dict(meta.get("labels") or {})
        self.commands = commands
        self.started_at: str | None = None
        log_dir = state_dir / "pods" / f"{self.namespace}_{self.name}_{self.uid}"
        self.containers = [ContainerRun(c, log_dir) for c in pod["spec"].get("containers") or []]
        self.stopping = False
        self.created_mono = time.monotonic()
        self._readiness = ("False", str(meta.get("creationTimestamp") or timestamp()))

    @property
    def ready(self) -> bool:
        return bool(self.containers) and all(c.ready for c in self.containers)

    def find(self, container: str | None) -> ContainerRun | None:
        for run in self.containers:
            if container in (None, run.name):
                return run
        return None

    def processes(self) -> list[ContainerProcess]:
        return [c.process for c in self.containers if c.process is not None]

    # -- the kubelet's sync ----------------------------------------------------------------

    def _environment(
        self, run: ContainerRun, tag: str, lookup: Callable[[str, str], Obj | None]
    ) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
        for source in run.spec.get("envFrom") or []:
            for kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if ref in source:
                    obj = lookup(kind, source[ref]["name"])
                    if obj is None:
                        raise ConfigError(f'{kind.lower()} "{source[ref]["name"]}" not found')
                    keys = (obj.get("data") or {}) | (obj.get("stringData") or {})
                    for key in keys:
                        value = _secret_value(obj, key) if kind == "Secret" else str(keys[key])
                        env[f"{source.get('prefix') or ''}{key}"] = value or ""
        for var in run.spec.get("env") or []:
            env[var["name"]] = self._value(var, lookup)
        env.update(POD_NAME=self.name, POD_NAMESPACE=self.namespace, LAB_RELEASE=tag)
        return env

    def _value(self, var: Obj, lookup: Callable[[str, str], Obj | None]) -> str:
        source = var.get("valueFrom")
        if not source:
            return str(var.get("value", ""))
        field_path = (source.get("fieldRef") or {}).get("fieldPath")
        if field_path:
            fields = {"metadata.name": self.name, "metadata.namespace": self.namespace}
            return fields.get(str(field_path), "")
        for kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if ref in source:
                name, key = source[ref]["name"], source[ref]["key"]
                obj = lookup(kind, name)
                value = None
                if obj is not None:
                    value = (
                        _secret_value(obj, key)
                        if kind == "Secret"
                        else (obj.get("data") or {}).get(key)
                    )
                if value is None:
                    raise ConfigError(f"couldn't find key {key} in {kind} {self.namespace}/{name}")
                return str(value)
        return ""

    def _start(
        self, run: ContainerRun, pod: Obj, lookup: Callable[[str, str], Obj | None], record: Record
    ) -> None:
        image = str(run.spec.get("image", ""))
        try:
            argv, tag = image_argv(image, self.commands)
            if run.spec.get("command"):
                argv = [*run.spec["command"], *(run.spec.get("args") or [])]
            env = self._environment(run, tag, lookup)
        except ConfigError as exc:
            if run.waiting[0] != exc.reason:
                record(pod, "Failed", f"Error: {exc}", "Warning")
            run.waiting = (exc.reason, str(exc))
            return
        record(pod, "Pulled", f'Container image "{image}" already present on machine', "Normal")
        run.process = ContainerProcess(argv, env, run.log_path(run.restart_count))
        run.started_at, run.started_mono, run.oom_killed = timestamp(), time.monotonic(), False
        self.started_at = self.started_at or run.started_at
        record(pod, "Created", f"Created container {run.name}", "Normal")
        record(pod, "Started", f"Started container {run.name}", "Normal")

    def _exited(self, run: ContainerRun, code: int, pod: Obj, record: Record) -> None:
        reason = "OOMKilled" if run.oom_killed else ("Completed" if code == 0 else "Error")
        run.last_terminated = {
            "exitCode": OOM_EXIT_CODE if run.oom_killed else code,
            "reason": reason,
            "startedAt": run.started_at,
            "finishedAt": timestamp(),
            "containerID": f"lab://{run.process.pid if run.process else 0}",
        }
        ran_for = time.monotonic() - run.started_mono
        run.process, run.ready = None, False
        run.restart_count += 1
        if ran_for >= BACKOFF_RESET_SECONDS:
            run.backoff = 0.0
        run.backoff = min(
            BACKOFF_CAP_SECONDS, run.backoff * 2 if run.backoff else BACKOFF_START_SECONDS
        )
        run.next_start = time.monotonic() + run.backoff
        message = (
            f"back-off {run.backoff:g}s restarting failed container={run.name} "
            f"pod={self.name}_{self.namespace}({self.uid})"
        )
        run.waiting = ("CrashLoopBackOff", message)
        record(
            pod,
            "BackOff",
            f"Back-off restarting failed container {run.name} in pod {self.name}_{self.namespace}({self.uid})",
            "Warning",
        )

    def _enforce_memory(self, run: ContainerRun, pod: Obj, record: Record) -> None:
        limit = memory_limit(run.spec)
        if run.process is None or limit is None or run.oom_killed or run.usage.rss_bytes <= limit:
            return
        run.oom_killed = True
        run.process.signal_group(signal.SIGKILL)
        record(
            pod,
            "OOMKilling",
            f"Memory cgroup out of memory: Killed process {run.process.pid} of container "
            f"{run.name} (rss {run.usage.rss_bytes // 1024}kB over the limit of {limit // 1024}kB)",
            "Warning",
        )

    def sync(
        self,
        pod: Obj,
        table: ProcessTable,
        lookup: Callable[[str, str], Obj | None],
        record: Record,
    ) -> None:
        """One pass: reap exits, enforce limits, (re)start what is due."""
        if self.stopping:
            return
        now = time.monotonic()
        for run in self.containers:
            if run.process is not None:
                run.usage = table.usage(run.process.pid)
                code = run.process.exit_code()
                if code is not None:
                    self._exited(run, code, pod, record)
                else:
                    self._enforce_memory(run, pod, record)
            if run.process is None and now >= run.next_start:
                self._start(run, pod, lookup, record)

    async def probe(
        self, session: aiohttp.ClientSession, table: ProcessTable, periodic: bool
    ) -> None:
        """Readiness: GET /healthz answered 2xx by a listener this container owns; a
        container without a port, once it has stayed up a while. A ready container is
        probed again only on `periodic` ticks (a probe's period), an unready one every tick."""
        checks = [self._probe_one(run, session, table, periodic) for run in self.containers]
        await asyncio.gather(*checks)

    async def _probe_one(
        self, run: ContainerRun, session: aiohttp.ClientSession, table: ProcessTable, periodic: bool
    ) -> None:
        if run.process is None or run.oom_killed:
            run.ready = False
            return
        if run.ready and not periodic:
            return
        port = port_of(run.spec)
        if port is None:
            run.ready = time.monotonic() - run.started_mono >= WORKER_READY_SECONDS
            return
        # during a rolling update the old and new pod share the port (SO_REUSEPORT): only a
        # listener of this container's own proves it is the one answering
        if not run.ready and not table.listens(run.process.pid, port):
            run.ready = False
            return
        try:
            timeout = aiohttp.ClientTimeout(total=0.4)
            async with session.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as answer:
                run.ready = 200 <= answer.status < 300
        except (aiohttp.ClientError, TimeoutError):
            run.ready = False

    async def stop(self, pod: Obj, record: Record) -> None:
        self.stopping = True
        for run in self.containers:
            if run.process is not None:
                record(pod, "Killing", f"Stopping container {run.name}", "Normal")
        await asyncio.gather(*(p.stop(STOP_GRACE_SECONDS) for p in self.processes()))
        for run in self.containers:
            run.process, run.ready = None, False

    def kill_now(self) -> None:
        for process in self.processes():
            process.kill_now()

    # -- the pod's status --------------------------------------------------------------------

    def _container_status(self, run: ContainerRun) -> Obj:
        state: Obj
        if run.process is not None:
            state = {"running": {"startedAt": run.started_at}}
        else:
            reason, message = run.waiting
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        image = str(run.spec.get("image", ""))
        status: Obj = {
            "name": run.name,
            "image": image,
            "imageID": f"lab://{image}",
            "ready": run.ready,
            "started": run.process is not None,
            "restartCount": run.restart_count,
            "state": state,
            "lastState": {"terminated": run.last_terminated} if run.last_terminated else {},
        }
        if run.process is not None:
            status["containerID"] = f"lab://{run.process.pid}"
        return status

    def status(self, created: str) -> Obj:
        ready = "True" if self.ready else "False"
        if ready != self._readiness[0]:
            self._readiness = (ready, timestamp())
        ready_since = self._readiness[1]

        def condition(kind: str, value: str, since: str = created) -> Obj:
            return {"type": kind, "status": value, "lastTransitionTime": since}

        return {
            "phase": "Running" if self.started_at else "Pending",
            "hostIP": "127.0.0.1",
            "podIP": "127.0.0.1",
            "startTime": self.started_at or created,
            "qosClass": "Burstable",
            "conditions": [
                condition("PodScheduled", "True"),
                condition("Initialized", "True"),
                condition("ContainersReady", ready, ready_since),
                condition("Ready", ready, ready_since),
            ],
            "containerStatuses": [self._container_status(c) for c in self.containers],
        }
