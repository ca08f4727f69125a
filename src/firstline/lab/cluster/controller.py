"""The lab's control plane loop: every tick it reads the objects the API server holds and does
what the Deployment controller, the ReplicaSet controller, the scheduler (one node) and the
kubelet would, writing the results (ReplicaSets, Pods, Events, statuses) straight into the
emulator's store: the controller shares its process and event loop, so a tick is atomic
against API requests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import kmock
from kmock import KubernetesEmulator

from firstline.lab.cluster import workloads as wl
from firstline.lab.cluster.api import timestamp
from firstline.lab.cluster.kubelet import PodRun
from firstline.lab.cluster.processes import ProcessTable

Obj = dict[str, Any]
NODE = "lab-node"
DEPLOYMENTS, REPLICASETS, PODS, EVENTS = (
    "apps/v1/deployments",
    "apps/v1/replicasets",
    "v1/pods",
    "v1/events",
)
PIDS_FILE = "container-pids.json"
EVENT_TTL_SECONDS = 3600
EXPIRY_TICKS = 120  # once a minute at the default tick
PROBE_PERIOD_TICKS = 4  # a ready container's readiness probed every 2 s at the default tick


def node_object() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE,
            "uid": str(uuid.uuid4()),
            "labels": {"kubernetes.io/hostname": NODE},
        },
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        },
    }


class Controller:
    def __init__(self, api: KubernetesEmulator, state_dir: Path, commands: dict[str, str]) -> None:
        self.api = api
        self.state_dir = state_dir
        self.commands = commands
        self.table = ProcessTable()
        self.pods: dict[tuple[str, str], PodRun] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._progress: dict[str, tuple[tuple[Any, ...], float, str]] = {}
        self._event_names: dict[tuple[str, str, str, str], str] = {}
        self._ticks = 0
        api.objects["v1/nodes", None, NODE] = node_object()

    # -- the store ---------------------------------------------------------------------------

    def live(self, resource: str, namespace: str | None = None) -> Iterator[Obj]:
        wanted = kmock.resource(resource)
        for (res, ns, _name), obj in list(self.api.objects.items()):
            if res == wanted and not obj.deleted and (namespace is None or ns == namespace):
                yield dict(obj.raw)

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        key = (resource, namespace, name)
        try:
            obj = self.api.objects[key]
        except KeyError:
            return None
        return None if obj.deleted else dict(obj.raw)

    def put(self, resource: str, obj: Obj) -> None:
        meta = obj["metadata"]
        self.api.objects[resource, meta.get("namespace"), meta["name"]] = obj

    def patch(self, resource: str, obj: Obj, change: Obj) -> None:
        """Writes only real changes, and keeps no history: the lab runs for hours."""
        meta = obj["metadata"]
        stored = self.api.objects[resource, meta.get("namespace"), meta["name"]]
        before = json.dumps(stored.raw, sort_keys=True, default=str)
        stored.patch(change)
        if json.dumps(stored.raw, sort_keys=True, default=str) != before:
            del stored.history[:-1]
        else:
            del stored.history[-1]

    def remove(self, resource: str, obj: Obj) -> None:
        meta = obj["metadata"]
        del self.api.objects[resource, meta.get("namespace"), meta["name"]]

    def _forget_deleted(self) -> None:
        """Objects clients deleted stay in the emulator as history; the lab drops them."""
        for key, obj in list(self.api.objects.items()):
            if obj.deleted:
                del self.api.objects[key]

    # -- events ------------------------------------------------------------------------------

    def record(self, involved: Obj, reason: str, message: str, kind: str = "Normal") -> None:
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), reason, message, kind)
        now = timestamp()
        name = self._event_names.get(key)
        existing = self.get(EVENTS, namespace, name) if name else None
        if existing is not None:
            self.patch(
                EVENTS,
                existing,
                {"count": int(existing.get("count") or 1) + 1, "lastTimestamp": now},
            )
            return
        name = f"{meta['name']}.{uuid.uuid4().hex[:16]}"
        self._event_names[key] = name
        source = (
            "kubelet"
            if involved.get("kind") == "Pod"
            else (
                "deployment-controller"
                if involved.get("kind") == "Deployment"
                else "replicaset-controller"
            )
        )
        self.put(
            EVENTS,
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": str(uuid.uuid4()),
                    "creationTimestamp": now,
                },
                "involvedObject": {
                    "kind": involved.get("kind"),
                    "name": meta["name"],
                    "namespace": meta.get("namespace"),
                    "uid": meta.get("uid"),
                    "apiVersion": involved.get("apiVersion"),
                },
                "reason": reason,
                "message": message,
                "type": kind,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": source, **({"host": NODE} if source == "kubelet" else {})},
                "reportingComponent": source,
            },
        )

    # -- the Deployment controller -----------------------------------------------------------

    def _replicasets_of(self, deployment: Obj) -> list[Obj]:
        namespace = wl.meta(deployment).get("namespace")
        return [rs for rs in self.live(REPLICASETS, namespace) if wl.controlled_by(rs, deployment)]

    def _pods_of(self, rs: Obj) -> list[PodRun]:
        namespace, name = wl.meta(rs).get("namespace"), wl.meta(rs)["name"]
        return [
            p
            for p in self.pods.values()
            if p.namespace == namespace and p.owner == name and not p.stopping
        ]

    def _scale(self, deployment: Obj, rs: Obj, replicas: int) -> None:
        current = int(wl.spec(rs).get("replicas") or 0)
        if current == replicas:
            return
        self.patch(REPLICASETS, rs, {"spec": {"replicas": replicas}})
        direction = "up" if replicas > current else "down"
        self.record(
            deployment,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {wl.meta(rs)['name']} to {replicas}",
        )

    def _current_replicaset(self, deployment: Obj, owned: list[Obj]) -> Obj | None:
        """The ReplicaSet of the Deployment's template: found (a rollback finds an old one
        and gives it the next revision), else made, unless the rollout is paused."""
        hash_ = wl.template_hash(wl.spec(deployment).get("template") or {})
        newest = max((wl.revision(rs) for rs in owned), default=0)
        for rs in owned:
            if (wl.meta(rs).get("labels") or {}).get(wl.TEMPLATE_HASH) == hash_:
                if wl.revision(rs) < newest and not wl.spec(deployment).get("paused"):
                    notes = {wl.REVISION: str(newest + 1)}
                    cause = wl.annotations_of(deployment).get(wl.CHANGE_CAUSE)
                    if cause:
                        notes[wl.CHANGE_CAUSE] = cause
                    self.patch(REPLICASETS, rs, {"metadata": {"annotations": notes}})
                    return self.get(REPLICASETS, wl.meta(rs).get("namespace"), wl.meta(rs)["name"])
                return rs
        if wl.spec(deployment).get("paused"):
            return None
        made = wl.new_replicaset(deployment, hash_, newest + 1, timestamp())
        made["metadata"]["uid"] = str(uuid.uuid4())
        self.put(REPLICASETS, made)
        return made

    def _sync_deployment(self, deployment: Obj) -> None:
        owned = self._replicasets_of(deployment)
        current = self._current_replicaset(deployment, owned)
        desired = int(wl.spec(deployment).get("replicas", 1))
        old = [
            rs for rs in owned if current is None or wl.meta(rs)["name"] != wl.meta(current)["name"]
        ]
        old_pods = sum(len(self._pods_of(rs)) for rs in old)
        new_runs = self._pods_of(current) if current is not None else []
        new_ready = sum(1 for p in new_runs if p.ready)
        paused = bool(wl.spec(deployment).get("paused"))
        if current is not None and not paused:
            if wl.recreates(deployment) and old_pods:
                for rs in old:
                    self._scale(deployment, rs, 0)
            else:
                self._scale(deployment, current, desired)
                keep = max(0, desired - new_ready)  # old pods stay until new ones are ready
                for rs in sorted(old, key=wl.revision):
                    wanted = min(
                        keep, len(self._pods_of(rs)), int(wl.spec(rs).get("replicas") or 0)
                    )
                    keep -= wanted
                    self._scale(deployment, rs, wanted)
        self._prune_history(deployment, old)
        self._write_deployment_status(deployment, current, desired, old, new_runs, paused)

    def _prune_history(self, deployment: Obj, old: list[Obj]) -> None:
        idle = [rs for rs in old if not wl.spec(rs).get("replicas") and not self._pods_of(rs)]
        for rs in sorted(idle, key=wl.revision)[: max(0, len(idle) - wl.history_limit(deployment))]:
            self.remove(REPLICASETS, rs)

    def _write_deployment_status(
        self,
        deployment: Obj,
        current: Obj | None,
        desired: int,
        old: list[Obj],
        new_runs: list[PodRun],
        paused: bool,
    ) -> None:
        old_runs = [p for rs in old for p in self._pods_of(rs)]
        rollout = wl.Rollout(
            desired=desired,
            total=len(old_runs) + len(new_runs),
            updated=len(new_runs),
            ready=sum(1 for p in old_runs + new_runs if p.ready),
            new_ready=sum(1 for p in new_runs if p.ready),
            old_pods=len(old_runs),
            new_replicaset=wl.meta(current)["name"] if current is not None else None,
            paused=paused,
        )
        uid = str(wl.meta(deployment).get("uid"))
        mark = (
            rollout.new_replicaset,
            rollout.updated,
            rollout.new_ready,
            rollout.old_pods,
            paused,
        )
        seen = self._progress.get(uid)
        if seen is None or seen[0] != mark:
            seen = (mark, time.monotonic(), timestamp())
            self._progress[uid] = seen
        timed_out = time.monotonic() - seen[1] > wl.progress_deadline(deployment)
        old_status = deployment.get("status") or {}
        status = wl.deployment_status(deployment, rollout, seen[2], timed_out, old_status)
        if status != old_status:
            self.patch(DEPLOYMENTS, deployment, {"status": status})

    # -- the ReplicaSet controller -----------------------------------------------------------

    def _sync_replicaset(self, rs: Obj) -> None:
        namespace = wl.meta(rs).get("namespace")
        owners = [d for d in self.live(DEPLOYMENTS, namespace) if wl.controlled_by(rs, d)]
        if not owners:  # garbage collection: its Deployment is gone
            self.remove(REPLICASETS, rs)
            return
        runs = self._pods_of(rs)
        desired = int(wl.spec(rs).get("replicas") or 0)
        for _ in range(desired - len(runs)):
            self._create_pod(rs)
        # scale down: the not-ready and the youngest first, as the real controller prefers
        for run in sorted(runs, key=lambda p: (p.ready, -(p.created_mono)))[
            : max(0, len(runs) - desired)
        ]:
            pod = self.get(PODS, run.namespace, run.name)
            if pod is not None:
                self.remove(PODS, pod)
                self.record(rs, "SuccessfulDelete", f"Deleted pod: {run.name}")
        runs = self._pods_of(rs)
        ready = sum(1 for p in runs if p.ready)
        status = {
            "replicas": len(runs),
            "fullyLabeledReplicas": len(runs),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int(wl.meta(rs).get("generation") or 1),
        }
        if status != rs.get("status"):
            self.patch(REPLICASETS, rs, {"status": status})

    def _create_pod(self, rs: Obj) -> None:
        name = f"{wl.meta(rs)['name']}-{wl.name_suffix()}"
        pod = wl.new_pod(rs, name, str(uuid.uuid4()), timestamp(), NODE)
        self.put(PODS, pod)
        run = PodRun(pod, self.state_dir, self.commands)
        self.pods[run.namespace, run.name] = run
        self.record(rs, "SuccessfulCreate", f"Created pod: {name}")
        self.record(pod, "Scheduled", f"Successfully assigned {run.namespace}/{name} to {NODE}")

    # -- the kubelet -------------------------------------------------------------------------

    def _lookup(self, namespace: str) -> Any:
        def find(kind: str, name: str) -> Obj | None:
            return self.get(
                "v1/configmaps" if kind == "ConfigMap" else "v1/secrets", namespace, name
            )

        return find

    def _sync_pods(self) -> None:
        for key, run in list(self.pods.items()):
            pod = self.get(PODS, run.namespace, run.name)
            if pod is not None and self.get(REPLICASETS, run.namespace, run.owner) is None:
                self.remove(PODS, pod)  # garbage collection: its ReplicaSet is gone
                pod = None
            if pod is None or wl.meta(pod).get("uid") != run.uid:  # deleted through the API
                if not run.stopping:
                    stub = {
                        "kind": "Pod",
                        "apiVersion": "v1",
                        "metadata": {"name": run.name, "namespace": run.namespace, "uid": run.uid},
                    }
                    task = asyncio.create_task(self._stop(key, run, stub))
                    self._stopping.add(task)
                    task.add_done_callback(self._stopping.discard)
                continue
            run.sync(pod, self.table, self._lookup(run.namespace), self.record)
            status = run.status(str(wl.meta(pod).get("creationTimestamp")))
            if status != pod.get("status"):
                self.patch(PODS, pod, {"status": status})

    async def _stop(self, key: tuple[str, str], run: PodRun, stub: Obj) -> None:
        await run.stop(stub, self.record)
        if self.pods.get(key) is run:
            del self.pods[key]

    # -- the loop ----------------------------------------------------------------------------

    def _expire_events(self) -> None:
        """Events live an hour, as an API server keeps them by default."""
        horizon = timestamp(datetime.now(UTC) - timedelta(seconds=EVENT_TTL_SECONDS))
        for event in self.live(EVENTS):
            if str(event.get("lastTimestamp") or "") < horizon:  # same format: compares as time
                self.remove(EVENTS, event)
        names = {wl.meta(e)["name"] for e in self.live(EVENTS)}
        self._event_names = {k: v for k, v in self._event_names.items() if v in names}

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % EXPIRY_TICKS == 0:
            self._expire_events()
        self._forget_deleted()
        self.table.refresh()
        for deployment in self.live(DEPLOYMENTS):
            self._sync_deployment(deployment)
        for rs in self.live(REPLICASETS):
            self._sync_replicaset(rs)
        self._sync_pods()
        for deployment in self.live(DEPLOYMENTS):  # statuses as of this tick's pods
            self._sync_deployment(deployment)
        self._write_pids()

    def _write_pids(self) -> None:
        """The process groups of every container, for a supervisor that must clean up after a
        controller that could not (the children also die with it: PR_SET_PDEATHSIG)."""
        groups = sorted(p.pid for run in self.pods.values() for p in run.processes())
        path = self.state_dir / PIDS_FILE
        text = json.dumps(groups) + "\n"
        if not path.exists() or path.read_text() != text:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(path)

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                self.tick()
                probes = [
                    run.probe(session, self.table, self._ticks % PROBE_PERIOD_TICKS == 0)
                    for run in self.pods.values()
                    if not run.stopping
                ]
                await asyncio.gather(*probes)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)

    def shutdown(self) -> None:
        """Kill every container process now (the controller is exiting)."""
        for task in self._stopping:
            task.cancel()
        for run in self.pods.values():
            run.kill_now()
        self.pods.clear()
        self._write_pids()

    def find_log(
        self, namespace: str, pod: str, container: str | None, previous: bool
    ) -> Path | None:
        run = self.pods.get((namespace, pod))
        found = run.find(container) if run is not None else None
        if found is None:
            return None
        if previous:
            return found.log_path(found.restart_count - 1) if found.restart_count else None
        return found.log_path(found.restart_count)

    def snapshot(self) -> dict[str, Any]:
        """What the metrics read: the stored objects and the runtime pods (copies)."""
        return {
            "deployments": [copy.deepcopy(d) for d in self.live(DEPLOYMENTS)],
            "replicasets": [copy.deepcopy(r) for r in self.live(REPLICASETS)],
            "pods": [copy.deepcopy(p) for p in self.live(PODS)],
            "runs": dict(self.pods),
        }
