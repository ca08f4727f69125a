"""The lab's kube-state-metrics and cAdvisor: series named and labelled as those exporters
name them, drawn from the objects the API holds and from /proc of the real processes; and
Prometheus HTTP service discovery of the pods that listen on a port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import aiohttp.web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from firstline.lab.cluster.kubelet import PodRun, cpu_limit, memory_limit, port_of
from firstline.lab.cluster.workloads import Obj, meta, spec

Snapshot = Callable[[], dict[str, Any]]
_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
_POD = ["namespace", "pod", "uid"]
_CONTAINER = ["namespace", "pod", "uid", "container"]
# kube-state-metrics' Deployment series: name, where in the object, field, value when absent
_DEPLOYMENT_SERIES = (
    ("kube_deployment_spec_replicas", "spec", "replicas", 1),
    ("kube_deployment_spec_paused", "spec", "paused", False),
    ("kube_deployment_metadata_generation", "metadata", "generation", 1),
    ("kube_deployment_status_replicas", "status", "replicas", 0),
    ("kube_deployment_status_replicas_available", "status", "availableReplicas", 0),
    ("kube_deployment_status_replicas_unavailable", "status", "unavailableReplicas", 0),
    ("kube_deployment_status_replicas_updated", "status", "updatedReplicas", 0),
    ("kube_deployment_status_replicas_ready", "status", "readyReplicas", 0),
    ("kube_deployment_status_observed_generation", "status", "observedGeneration", 0),
)


def _gauge(name: str, text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, labels=labels)


class KubeStateCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        state = self.snapshot()
        yield from self._deployments(state["deployments"])
        yield from self._replicasets(state["replicasets"])
        yield from self._pods(state["pods"])
        yield from self._containers(state["pods"], state["runs"])

    @staticmethod
    def _deployments(deployments: list[Obj]) -> Iterator[Metric]:
        labels = ["namespace", "deployment"]
        for name, part, key, default in _DEPLOYMENT_SERIES:
            family = _gauge(name, f"the Deployment's {part}.{key}", labels)
            for d in deployments:
                value = (d.get(part) or {}).get(key, default)
                family.add_metric([meta(d).get("namespace", ""), meta(d)["name"]], float(value))
            yield family
        conditions = _gauge(
            "kube_deployment_status_condition",
            "deployment conditions",
            [*labels, "condition", "status"],
        )
        for d in deployments:
            for c in d.get("status", {}).get("conditions") or []:
                for status in ("true", "false", "unknown"):
                    conditions.add_metric(
                        [meta(d).get("namespace", ""), meta(d)["name"], c["type"], status],
                        1.0 if str(c.get("status")).lower() == status else 0.0,
                    )
        yield conditions

    @staticmethod
    def _owner_family(name: str, kind_label: str, objects: list[Obj]) -> Metric:
        family = _gauge(
            name,
            "the object's controller",
            ["namespace", kind_label, "owner_kind", "owner_name", "owner_is_controller"],
        )
        for obj in objects:
            for ref in meta(obj).get("ownerReferences") or [{"kind": "<none>", "name": "<none>"}]:
                controller = "true" if ref.get("controller") else "false"
                family.add_metric(
                    [
                        meta(obj).get("namespace", ""),
                        meta(obj)["name"],
                        ref["kind"],
                        ref["name"],
                        controller,
                    ],
                    1.0,
                )
        return family

    def _replicasets(self, replicasets: list[Obj]) -> Iterator[Metric]:
        yield self._owner_family("kube_replicaset_owner", "replicaset", replicasets)
        for name, field in (
            ("kube_replicaset_spec_replicas", None),
            ("kube_replicaset_status_ready_replicas", "readyReplicas"),
        ):
            family = _gauge(name, name.replace("_", " "), ["namespace", "replicaset"])
            for rs in replicasets:
                value = (
                    spec(rs).get("replicas", 0)
                    if field is None
                    else rs.get("status", {}).get(field, 0)
                )
                family.add_metric(
                    [meta(rs).get("namespace", ""), meta(rs)["name"]], float(value or 0)
                )
            yield family

    def _pods(self, pods: list[Obj]) -> Iterator[Metric]:
        yield self._owner_family("kube_pod_owner", "pod", pods)
        info = _gauge(
            "kube_pod_info",
            "information about the pod",
            [*_POD, "host_ip", "pod_ip", "node", "created_by_kind", "created_by_name"],
        )
        phases = _gauge("kube_pod_status_phase", "the pod's phase", [*_POD, "phase"])
        ready = _gauge("kube_pod_status_ready", "the pod's Ready condition", [*_POD, "condition"])
        for pod in pods:
            m, status = meta(pod), pod.get("status") or {}
            ids = [m.get("namespace", ""), m["name"], m.get("uid", "")]
            owner = (m.get("ownerReferences") or [{"kind": "<none>", "name": "<none>"}])[0]
            info.add_metric(
                [
                    *ids,
                    status.get("hostIP", ""),
                    status.get("podIP", ""),
                    spec(pod).get("nodeName", ""),
                    owner["kind"],
                    owner["name"],
                ],
                1.0,
            )
            for phase in _PHASES:
                phases.add_metric([*ids, phase], 1.0 if status.get("phase") == phase else 0.0)
            is_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            for value in ("true", "false"):
                ready.add_metric([*ids, value], 1.0 if (value == "true") == is_ready else 0.0)
        yield from (info, phases, ready)

    @staticmethod
    def _containers(pods: list[Obj], runs: dict[tuple[str, str], PodRun]) -> Iterator[Metric]:
        restarts = CounterMetricFamily(
            "kube_pod_container_status_restarts_total", "container restarts", labels=_CONTAINER
        )
        waiting = _gauge(
            "kube_pod_container_status_waiting", "the container is waiting", _CONTAINER
        )
        waiting_reason = _gauge(
            "kube_pod_container_status_waiting_reason",
            "why the container waits",
            [*_CONTAINER, "reason"],
        )
        running = _gauge("kube_pod_container_status_running", "the container runs", _CONTAINER)
        terminated_reason = _gauge(
            "kube_pod_container_status_last_terminated_reason",
            "why the container last terminated",
            [*_CONTAINER, "reason"],
        )
        exit_code = _gauge(
            "kube_pod_container_status_last_terminated_exitcode", "its last exit code", _CONTAINER
        )
        ready = _gauge("kube_pod_container_status_ready", "the container is ready", _CONTAINER)
        limits = _gauge(
            "kube_pod_container_resource_limits",
            "the container's limits",
            [*_CONTAINER, "node", "resource", "unit"],
        )
        memory = _gauge(
            "container_memory_working_set_bytes",
            "resident memory of the container's processes",
            ["namespace", "pod", "container"],
        )
        cpu = CounterMetricFamily(
            "container_cpu_usage_seconds_total",
            "CPU time of the container's processes",
            labels=["namespace", "pod", "container"],
        )
        for pod in pods:
            m = meta(pod)
            ids = [m.get("namespace", ""), m["name"], m.get("uid", "")]
            node = spec(pod).get("nodeName", "")
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                labels = [*ids, status["name"]]
                restarts.add_metric(labels, float(status.get("restartCount", 0)))
                state = status.get("state") or {}
                waiting.add_metric(labels, 1.0 if "waiting" in state else 0.0)
                running.add_metric(labels, 1.0 if "running" in state else 0.0)
                if "waiting" in state:
                    waiting_reason.add_metric([*labels, state["waiting"].get("reason", "")], 1.0)
                last = (status.get("lastState") or {}).get("terminated")
                if last:
                    terminated_reason.add_metric([*labels, last.get("reason", "")], 1.0)
                    exit_code.add_metric(labels, float(last.get("exitCode", 0)))
                ready.add_metric(labels, 1.0 if status.get("ready") else 0.0)
            for container in spec(pod).get("containers") or []:
                labels = [*ids, container["name"]]
                limit = memory_limit(container)
                if limit is not None:
                    limits.add_metric([*labels, node, "memory", "byte"], float(limit))
                cores = cpu_limit(container)
                if cores is not None:
                    limits.add_metric([*labels, node, "cpu", "core"], cores)
            run = runs.get((m.get("namespace", ""), m["name"]))
            for container_run in run.containers if run is not None else []:
                if container_run.process is None:
                    continue
                labels = [m.get("namespace", ""), m["name"], container_run.name]
                memory.add_metric(labels, float(container_run.usage.rss_bytes))
                cpu.add_metric(labels, container_run.usage.cpu_seconds)
        yield from (
            restarts,
            waiting,
            waiting_reason,
            running,
            terminated_reason,
            exit_code,
            ready,
            limits,
        )
        yield from (memory, cpu)


def service_discovery(snapshot: dict[str, Any]) -> list[Obj]:
    """Prometheus HTTP SD: one target group per running container that has a port."""
    groups = []
    for (namespace, pod), run in sorted(snapshot["runs"].items()):
        deployment = run.owner.rsplit("-", 1)[0]
        for container in run.containers:
            port = port_of(container.spec)
            if port is None or container.process is None:
                continue
            groups.append(
                {
                    "targets": [f"127.0.0.1:{port}"],
                    "labels": {
                        "namespace": namespace,
                        "service": deployment,
                        "pod": pod,
                        "container": container.name,
                    },
                }
            )
    return groups


def metrics_app(snapshot: Snapshot) -> aiohttp.web.Application:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(KubeStateCollector(snapshot))

    async def metrics(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(
            body=generate_latest(registry),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def sd(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.json_response(service_discovery(snapshot()))

    app = aiohttp.web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/sd", sd)
    return app
