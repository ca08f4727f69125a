"""A plain typed client for the read-only Kubernetes calls firstline makes.

The official `kubernetes` package does configuration (in-cluster service account, or a
kubeconfig with its context, certificates, tokens and exec plugins), TLS and transport. It is
synchronous, so every call runs in a worker thread; it is untyped, so the raw JSON is parsed
into the models of `wire`. Failures come out as `SourceError`s with a one-line reason.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import kubernetes.client
import kubernetes.config
import urllib3
from kubernetes.client.exceptions import (
    ApiException,
)
from pydantic import BaseModel, ValidationError

from firstline.cluster.connection import load_configuration, one_line
from firstline.cluster.settings import ClusterConfigError
from firstline.sources.errors import (
    SourceBadResponse,
    SourceError,
    SourceRejected,
    SourceServerError,
    SourceTimeout,
    SourceUnavailable,
)
from firstline.sources.kubernetes.wire import (
    DeploymentObject,
    EventObject,
    NodeObject,
    ObjectList,
    PodObject,
    ReplicaSetObject,
)
from firstline.sources.settings import KubernetesSettings

CLUSTER_WIDE_LIMIT = 500
"""Objects of one kind asked for when the alert names no namespace. A cluster can hold tens
of thousands of pods; evidence for one incident needs far fewer."""
_M = TypeVar("_M", bound=BaseModel)
_R = TypeVar("_R")


@dataclass(frozen=True)
class Listing(Generic[_M]):
    items: tuple[_M, ...] = ()
    truncated: bool = False
    """More objects exist than were returned (cluster-wide listings are capped)."""


@dataclass(frozen=True)
class _Kind:
    """Where one resource lives, and which generated method of the official client lists it
    in one namespace and across all of them."""

    api: str
    prefix: str
    plural: str
    namespaced: str
    everywhere: str


_APPS = ("AppsV1Api", "/apis/apps/v1")
_CORE = ("CoreV1Api", "/api/v1")
DEPLOYMENTS = _Kind(
    *_APPS, "deployments", "list_namespaced_deployment", "list_deployment_for_all_namespaces"
)
REPLICASETS = _Kind(
    *_APPS, "replicasets", "list_namespaced_replica_set", "list_replica_set_for_all_namespaces"
)
PODS = _Kind(*_CORE, "pods", "list_namespaced_pod", "list_pod_for_all_namespaces")
EVENTS = _Kind(*_CORE, "events", "list_namespaced_event", "list_event_for_all_namespaces")
NODES = _Kind(*_CORE, "nodes", "", "list_node")


def api_call(kind: _Kind, namespace: str | None) -> str:
    """The exact request a listing makes, as a person would re-run it (kubectl get --raw)."""
    if namespace is not None and kind.namespaced:
        return f"GET {kind.prefix}/namespaces/{namespace}/{kind.plural}"
    return f"GET {kind.prefix}/{kind.plural}?limit={CLUSTER_WIDE_LIMIT}"


def _api_message(exc: Any) -> str:
    """The Status message of an API error, else the start of whatever the body was."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
    if not body:
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return one_line(str(body))
    if isinstance(status, dict) and status.get("message"):
        return one_line(str(status["message"]))
    return one_line(str(body))


def translate(exc: Exception, call: str, timeout: float, host: str) -> SourceError:
    """Map what the official client and urllib3 raise onto errors typed by what to do."""
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        head = f"{status} {exc.reason or ''}".strip()
        message = _api_message(exc)
        reason = f"{head}: {message}" if message else f"{head} from {call}"
        # 429 is API Priority and Fairness asking to come back later: worth a retry, like 5xx.
        retry_later = status >= 500 or status == 429
        return SourceServerError(reason) if retry_later else SourceRejected(reason)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so it comes first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        cause = str(exc).rsplit(": ", 1)[-1]
        return SourceUnavailable(one_line(f"cannot connect to {host}: {cause}"))
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return SourceTimeout(f"no answer within {timeout:g}s to {call}")
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and isinstance(exc.reason, Exception):
        return translate(exc.reason, call, timeout, host)
    if isinstance(exc, urllib3.exceptions.HTTPError):
        return SourceUnavailable(one_line(f"{host}: {type(exc).__name__}: {exc}"))
    if isinstance(exc, ValueError):  # json and pydantic errors are ValueErrors
        detail = (
            f"{exc.error_count()} invalid fields, first at "
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}: {exc.errors()[0]['msg']}"
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        return SourceBadResponse(one_line(f"malformed answer to {call}: {detail}"))
    return SourceUnavailable(one_line(f"{call}: {type(exc).__name__}: {exc}"))


class KubernetesClient:
    """Lists Deployments, ReplicaSets, Pods, Events and Nodes; returns typed objects.

    `configuration` overrides the settings' kubeconfig/in-cluster loading (for callers that
    already hold a `kubernetes.client.Configuration`).
    """

    def __init__(self, settings: KubernetesSettings, configuration: Any = None) -> None:
        self.settings = settings
        self.timeout = settings.timeout_seconds
        self._configuration = configuration
        self._api: Any = None
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._configuration.host) if self._configuration is not None else "?"

    def _api_client(self) -> Any:
        """Built on first use, in a worker thread: loading a kubeconfig is blocking I/O, and a
        broken configuration must surface as an error item, not at start-up."""
        with self._lock:
            if self._api is None:
                if self._configuration is None:
                    try:
                        self._configuration = load_configuration(self.settings)
                    except ClusterConfigError as exc:  # the settings must change: no retry
                        raise SourceRejected(str(exc)) from exc
                api = kubernetes.client.ApiClient(self._configuration)
                api.user_agent = "firstline"
                self._api = api
            return self._api

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None

    async def _run(self, call: str, fn: Callable[[], _R]) -> _R:
        try:
            return await asyncio.to_thread(fn)
        except Exception as exc:  # everything the client or urllib3 raises, translated once
            translated = translate(exc, call, self.timeout, self.host)
            if translated is exc:  # already ours: keep the cause it carries
                raise
            raise translated from exc

    def _list_sync(
        self, kind: _Kind, namespace: str | None, model: type[_M], limit: int
    ) -> Listing[_M]:
        api = getattr(kubernetes.client, kind.api)(self._api_client())
        options: dict[str, Any] = {"_preload_content": False, "_request_timeout": self.timeout}
        if namespace is not None and kind.namespaced:
            response = getattr(api, kind.namespaced)(namespace, **options)
        else:
            response = getattr(api, kind.everywhere)(limit=limit, **options)
        try:
            raw = response.data
        finally:
            response.release_conn()
        parsed = ObjectList[model].model_validate_json(raw)  # type: ignore[valid-type]
        items = tuple(parsed.items)
        more = bool(parsed.metadata.continue_) or len(items) > limit
        return Listing(items=items[:limit], truncated=more)

    async def _list(self, kind: _Kind, namespace: str | None, model: type[_M]) -> Listing[_M]:
        call = api_call(kind, namespace)
        # An emulator, or an old server, may ignore `limit`: the cap is enforced here too.
        return await self._run(
            call, lambda: self._list_sync(kind, namespace, model, CLUSTER_WIDE_LIMIT)
        )

    async def deployments(self, namespace: str | None) -> Listing[DeploymentObject]:
        return await self._list(DEPLOYMENTS, namespace, DeploymentObject)

    async def replicasets(self, namespace: str | None) -> Listing[ReplicaSetObject]:
        return await self._list(REPLICASETS, namespace, ReplicaSetObject)

    async def pods(self, namespace: str | None) -> Listing[PodObject]:
        return await self._list(PODS, namespace, PodObject)

    async def events(self, namespace: str | None) -> Listing[EventObject]:
        return await self._list(EVENTS, namespace, EventObject)

    async def nodes(self) -> Listing[NodeObject]:
        return await self._list(NODES, None, NodeObject)

    def _version_sync(self) -> str | None:
        api = kubernetes.client.VersionApi(self._api_client())
        try:
            # without preloading, the generated method returns the raw urllib3 response
            response: Any = api.get_code(_preload_content=False, _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 404:  # every API server serves it; emulators and some proxies do not
                return None
            raise
        try:
            info = json.loads(response.data)
        finally:
            response.release_conn()
        return str(info.get("gitVersion") or "unknown version") if isinstance(info, dict) else None

    async def version(self) -> str | None:
        """The server's gitVersion, or None when GET /version/ is not served."""
        return await self._run("GET /version/", self._version_sync)

    async def probe(self) -> str:
        """What answered, for `firstline check`; raises SourceError with the reason."""
        version = await self.version()
        if version is not None:
            return f"Kubernetes {version} at {self.host}"
        await self._run(
            "GET /apis/apps/v1/deployments?limit=1",
            lambda: self._list_sync(DEPLOYMENTS, None, DeploymentObject, 1),
        )
        return f"Kubernetes API at {self.host} (GET /version/ answered 404; listing works)"
