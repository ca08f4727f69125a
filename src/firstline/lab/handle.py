"""What a person (or the lab's fault injector) does to the running lab: flip a shop fault
switch, roll out an image or an env change through the Kubernetes API, swap a certificate,
fill or empty the lab volume, purge the cache. Every step goes through the same interfaces an
operator would use; nothing reaches into a process's memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from firstline.lab.topology import Topology


class LabHandle:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()

    # -- the shop's fault switches --------------------------------------------------------
    def fault_switch(self, service: str, name: str, *, on: bool, **params: object) -> None:
        # payments' admin API has its own port: `refuse` closes the service port
        part = "payments_admin" if service == "payments" else service.replace("-", "_")
        port = getattr(self.topology.ports, part)
        url = f"http://127.0.0.1:{port}/admin/faults/{name}"
        self.http.post(url, json={"on": on, **params}).raise_for_status()

    # -- Kubernetes: the same API and client an operator's kubectl uses -------------------
    def _apps(self) -> Any:
        from kubernetes import client

        from firstline.lab.cluster.seed import api_client

        return client.AppsV1Api(api_client(self.topology.url("kube_api")))

    def _patch_template(self, name: str, template: dict[str, Any], cause: str) -> None:
        body = {
            "metadata": {"annotations": {"kubernetes.io/change-cause": cause}},
            "spec": {"template": template},
        }
        self._apps().patch_namespaced_deployment(name, self.topology.namespace, body)

    def _container(self, name: str) -> dict[str, Any]:
        deployment = self._apps().read_namespaced_deployment(name, self.topology.namespace)
        container = deployment.to_dict()["spec"]["template"]["spec"]["containers"][0]
        return dict(container)

    def set_image(self, name: str, tag: str, *, cause: str) -> None:
        container = self._container(name)
        image = f"{container['image'].rpartition(':')[0]}:{tag}"
        template = {"spec": {"containers": [{"name": container["name"], "image": image}]}}
        self._patch_template(name, template, cause)

    def set_env(self, name: str, key: str, value: str, *, cause: str) -> None:
        container = self._container(name)
        env = [e for e in container.get("env") or [] if e["name"] != key]
        env.append({"name": key, "value": value})
        body = [{"name": e["name"], "value": e.get("value")} for e in env]
        template = {"spec": {"containers": [{"name": container["name"], "env": body}]}}
        self._patch_template(name, template, cause)

    # -- the data tier --------------------------------------------------------------------
    def _redis(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.topology.ports.redis)

    def purge_cache(self) -> None:
        r = self._redis()
        for key in r.scan_iter(match="cache:*", count=500):
            r.unlink(key)

    def enqueue_report(self, *, megabytes: int) -> None:
        """Drop a report job into report-worker's spool, as the reporting UI would."""
        new = self.topology.data_dir / "reports" / "new"
        new.mkdir(parents=True, exist_ok=True)
        name = f"quarterly-{datetime.now(UTC):%H%M%S%f}"
        draft = new / f".{name}.tmp"
        draft.write_text(json.dumps({"report": name, "megabytes": megabytes}))
        draft.rename(new / f"{name}.json")  # the worker never sees half a job

    def drop_reports(self) -> None:
        for folder in ("new", "processing"):
            for job in (self.topology.data_dir / "reports" / folder).glob("*.json"):
                job.unlink(missing_ok=True)

    def terminate_idle_sessions(self) -> None:
        """What a DBA does by hand: end the shop's sessions idle in a transaction."""
        import psycopg

        from firstline.lab.monitoring.postgres import role_dsn

        with psycopg.connect(role_dsn(self.topology, "firstline"), autocommit=True) as db:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE usename = 'shop' AND state LIKE 'idle in transaction%'"
            )

    # -- certificates and the lab volume ---------------------------------------------------
    def install_certificate(self, *, days: int) -> None:
        from firstline.lab.shop import certs

        certs.issue(self.topology.certs_dir, days=days)

    def fill_volume(self, *, percent: int) -> None:
        from firstline.lab.shop import volume

        volume.fill(self.topology.volume_dir, percent)

    def empty_volume(self) -> None:
        from firstline.lab.shop import volume

        volume.clean(self.topology.volume_dir)
