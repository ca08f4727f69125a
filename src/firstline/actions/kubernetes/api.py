"""The API calls the executor makes, over the official `kubernetes` client.

The client is synchronous, so every call runs in a worker thread. Objects travel as plain
JSON dicts (raw responses, `_preload_content=False`): the executor diffs and merge-patches
them, and the typed models would drop fields a newer server sends.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes.client
import kubernetes.config
from kubernetes.client.exceptions import ApiException

from firstline.actions.kubernetes.errors import KubernetesActionError
from firstline.actions.kubernetes.rbac import Permission
from firstline.actions.kubernetes.resources import CERTIFICATE, Resource
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.cluster.connection import load_configuration, one_line
from firstline.cluster.settings import ClusterConfigError

Obj = dict[str, Any]
_R = TypeVar("_R")
_MERGE_PATCH = "application/merge-patch+json"

# Generated method name stems of the official client, per resource.
_STEMS: dict[str, tuple[str, str]] = {
    "deployments": ("AppsV1Api", "deployment"),
    "statefulsets": ("AppsV1Api", "stateful_set"),
    "daemonsets": ("AppsV1Api", "daemon_set"),
    "replicasets": ("AppsV1Api", "replica_set"),
    "pods": ("CoreV1Api", "pod"),
    "secrets": ("CoreV1Api", "secret"),
    "nodes": ("CoreV1Api", "node"),
}


def _describe(exc: Exception, call: str) -> KubernetesActionError:
    if isinstance(exc, KubernetesActionError):
        return exc
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        message = ""
        body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
        try:
            parsed = json.loads(body) if body else {}
            message = str(parsed.get("message", "")) if isinstance(parsed, dict) else ""
        except ValueError:
            message = str(body or "")
        text = f"{call}: {status} {exc.reason or ''}".strip()
        return KubernetesActionError(one_line(f"{text}: {message}" if message else text), status)
    return KubernetesActionError(one_line(f"{call}: {type(exc).__name__}: {exc}"))


class KubernetesApi:
    """get / patch / delete / list / access review, on plain dicts."""

    def __init__(self, settings: KubernetesActionSettings, configuration: Any = None) -> None:
        self.settings = settings
        self.timeout = settings.timeout_seconds
        self._configuration = configuration
        self._client: Any = None
        self._lock = threading.Lock()

    def _api(self, name: str) -> Any:
        with self._lock:
            if self._client is None:
                if self._configuration is None:
                    try:
                        self._configuration = load_configuration(self.settings)
                    except ClusterConfigError as exc:
                        raise KubernetesActionError(str(exc)) from exc
                client = kubernetes.client.ApiClient(self._configuration)
                client.user_agent = "firstline-executor"
                self._client = client
        return getattr(kubernetes.client, name)(self._client)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def _run(self, call: str, fn: Callable[[], _R]) -> _R:
        try:
            return await asyncio.to_thread(fn)
        except Exception as exc:  # everything the client or urllib3 raises, described once
            raise _describe(exc, call) from exc

    def _options(self, dry_run: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {"_preload_content": False, "_request_timeout": self.timeout}
        if dry_run:
            options["dry_run"] = "All"
        return options

    @staticmethod
    def _json(response: Any) -> Obj:
        try:
            data = json.loads(response.data)
        finally:
            response.release_conn()
        if not isinstance(data, dict):
            raise KubernetesActionError("the API server answered with something not an object")
        return data

    def _names(self, resource: Resource, namespace: str | None) -> list[Any]:
        return [namespace] if resource.namespaced else []

    async def get(self, resource: Resource, namespace: str | None, name: str) -> Obj | None:
        """The object, or None when it does not exist."""
        call = f"GET {resource.path(namespace, name)}"

        def fetch() -> Obj | None:
            try:
                if resource is CERTIFICATE:
                    api = self._api("CustomObjectsApi")
                    response = api.get_namespaced_custom_object(
                        resource.group,
                        resource.version,
                        namespace,
                        resource.plural,
                        name,
                        **self._options(),
                    )
                else:
                    api_name, stem = _STEMS[resource.plural]
                    scope = "namespaced_" if resource.namespaced else ""
                    method = getattr(self._api(api_name), f"read_{scope}{stem}")
                    response = method(name, *self._names(resource, namespace), **self._options())
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
            return self._json(response)

        return await self._run(call, fetch)

    async def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        body: Obj,
        *,
        dry_run: bool = False,
        status: bool = False,
    ) -> Obj:
        """A JSON merge patch; `status` patches the status subresource; returns the result."""
        path = resource.path(namespace, name) + ("/status" if status else "")
        call = f"PATCH {path}" + ("?dryRun=All" if dry_run else "")

        def send() -> Obj:
            options = {**self._options(dry_run), "_content_type": _MERGE_PATCH}
            if resource is CERTIFICATE:
                api = self._api("CustomObjectsApi")
                method = (
                    api.patch_namespaced_custom_object_status
                    if status
                    else api.patch_namespaced_custom_object
                )
                args = (resource.group, resource.version, namespace, resource.plural, name)
                return self._json(method(*args, body, **options))
            api_name, stem = _STEMS[resource.plural]
            scope = "namespaced_" if resource.namespaced else ""
            suffix = "_status" if status else ""
            method = getattr(self._api(api_name), f"patch_{scope}{stem}{suffix}")
            return self._json(method(name, *self._names(resource, namespace), body, **options))

        return await self._run(call, send)

    async def delete_pod(self, namespace: str, name: str, uid: str, *, dry_run: bool) -> Obj:
        """Delete exactly this pod: the uid precondition stops a same-named replacement
        (a StatefulSet's) from being deleted instead."""
        call = f"DELETE /api/v1/namespaces/{namespace}/pods/{name}" + (
            "?dryRun=All" if dry_run else ""
        )

        def send() -> Obj:
            body = kubernetes.client.V1DeleteOptions(
                preconditions=kubernetes.client.V1Preconditions(uid=uid)
            )
            api = self._api("CoreV1Api")
            return self._json(
                api.delete_namespaced_pod(name, namespace, body=body, **self._options(dry_run))
            )

        return await self._run(call, send)

    async def list_replicasets(self, namespace: str) -> list[Obj]:
        call = f"GET /apis/apps/v1/namespaces/{namespace}/replicasets"

        def fetch() -> list[Obj]:
            api = self._api("AppsV1Api")
            items = self._json(api.list_namespaced_replica_set(namespace, **self._options()))
            return [i for i in items.get("items") or [] if isinstance(i, dict)]

        return await self._run(call, fetch)

    async def may(self, permission: Permission, namespace: str | None, name: str | None) -> Obj:
        """The API server's SelfSubjectAccessReview status for one permission (raw); `name`
        is the object asked about (None: any object of the resource)."""
        resource, _, sub = permission.resource.partition("/")
        call = "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

        def ask() -> Obj:
            attributes = kubernetes.client.V1ResourceAttributes(
                group=permission.group,
                resource=resource,
                subresource=sub or None,
                verb=permission.verb,
                namespace=namespace if permission.namespaced else None,
                name=name,
            )
            body = kubernetes.client.V1SelfSubjectAccessReview(
                spec=kubernetes.client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
            )
            api = self._api("AuthorizationV1Api")
            answer = self._json(api.create_self_subject_access_review(body, **self._options()))
            status = answer.get("status")
            return status if isinstance(status, dict) else {}

        return await self._run(call, ask)
