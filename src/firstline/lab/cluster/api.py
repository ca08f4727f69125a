"""kmock's KubernetesEmulator as the lab's API server, taught what a kube-apiserver does and
the emulator does not, as far as firstline and `kubectl`-like clients rely on it:

- metadata set on create (uid, creationTimestamp, generation 1) and `metadata.generation`
  bumped when a write changes an object's spec (rollout status compares it with
  `status.observedGeneration`);
- `dryRun=All` writes answer the would-be object and store nothing;
- a SelfSubjectAccessReview is answered (everything is allowed: the lab has one user);
- `pods/<name>/log` (with `container`, `previous`, `tailLines`) is served from the files the
  controller captures each container instance's output into.

- a strategic merge patch merges lists of named items (containers, env, ports) by name, as
  `kubectl set image` and `kubectl patch` rely on; kmock alone would replace the whole list.

Not emulated: resourceVersion and its conflicts, label/field selectors (clients filter on
their side), strategic-merge directives ($patch, $retainKeys), watch events for what the
lab controller writes (it writes into the store directly; clients poll).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp.web
import yaml
from kmock import KubernetesEmulator, Object

# kind, namespaced: declared up front so listing a kind with no objects answers an empty list
RESOURCES: dict[str, tuple[str, bool]] = {
    "apps/v1/deployments": ("Deployment", True),
    "apps/v1/replicasets": ("ReplicaSet", True),
    "v1/pods": ("Pod", True),
    "v1/events": ("Event", True),
    "v1/configmaps": ("ConfigMap", True),
    "v1/secrets": ("Secret", True),
    "v1/nodes": ("Node", False),
    "v1/namespaces": ("Namespace", False),
    "authorization.k8s.io/v1/selfsubjectaccessreviews": ("SelfSubjectAccessReview", False),
}

LogFinder = Callable[[str, str, str | None, bool], Path | None]
"""(namespace, pod, container, previous) -> the log file of that container instance."""


def timestamp(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _named(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and "name" in i for i in items)


def _strategic(current: Any, patch: Any) -> Any:
    """The value a strategic merge patch gives: dicts merge (None deletes), lists of named
    items merge item by item, anything else is replaced."""
    if isinstance(patch, dict):
        merged = dict(current) if isinstance(current, dict) else {}
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _strategic(merged.get(key), value)
        return merged
    if _named(patch) and _named(current):
        by_name = {item["name"]: item for item in patch}
        kept = [
            _strategic(i, by_name.pop(i["name"])) if i["name"] in by_name else i for i in current
        ]
        return kept + list(by_name.values())
    return patch


def as_merge_patch(current: Any, patch: Any) -> Any:
    """A strategic merge patch rewritten as the JSON merge patch the emulator applies."""
    if isinstance(patch, dict) and isinstance(current, dict):
        return {
            k: None if v is None else as_merge_patch(current.get(k), v) for k, v in patch.items()
        }
    return _strategic(current, patch)


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body: dict[str, object] = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
    body.update(code=code, reason=reason, message=message)
    return aiohttp.web.json_response(body, status=code)


class LabApiServer(KubernetesEmulator):
    """Call `declare(find_log)` once after construction (attrs fixes the constructor)."""

    def declare(self, find_log: LogFinder) -> None:
        self.find_log = find_log
        for resource, (kind, namespaced) in RESOURCES.items():
            info = self.resources[resource]
            info.kind, info.namespaced = kind, namespaced

    def stored(self, request: Any) -> dict[str, Any] | None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(dict(self.objects[key].raw))

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        resource = request.resource
        if resource is None:
            return await super()._handle(request)
        verb = request.method.value.upper()
        if resource.plural == "selfsubjectaccessreviews":
            answer = copy.deepcopy(request.data or {})
            answer["status"] = {"allowed": True, "reason": "the lab has one user"}
            return aiohttp.web.json_response(answer, status=201)
        if resource.plural == "pods" and request.subresource == "log":
            return self._log(request)
        if request.params.get("dryRun") and request.name:
            return self._dry_run(request, verb)
        before = self.stored(request) if request.name else None
        content_type = str(request.headers.get("Content-Type", ""))
        if verb == "PATCH" and before is not None and "strategic-merge-patch" in content_type:
            rewritten = as_merge_patch(before, request.data)
            request.data.clear()  # the request is frozen; its body dict is not
            request.data.update(rewritten)
        if verb == "POST" and isinstance(request.data, dict):
            meta = request.data.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", timestamp())
            meta.setdefault("generation", 1)
            if request.namespace and not meta.get("namespace") and resource.plural != "namespaces":
                meta["namespace"] = request.namespace
        response: aiohttp.web.StreamResponse = await super()._handle(request)
        if verb == "PATCH" and before is not None:
            self._bump_generation(request, before)
        return response

    def _bump_generation(self, request: Any, before: dict[str, Any]) -> None:
        after = self.stored(request)
        if after is None or after.get("spec") == before.get("spec"):
            return
        generation = int((before.get("metadata") or {}).get("generation") or 1) + 1
        key = (request.resource, request.namespace, request.name)
        self.objects[key].patch({"metadata": {"generation": generation}})

    def _dry_run(self, request: Any, verb: str) -> aiohttp.web.StreamResponse:
        current = self.stored(request)
        if current is None:
            return _status(404, "NotFound", f'{request.resource.plural} "{request.name}" not found')
        if verb == "PATCH":
            would_be = Object(current)
            would_be.patch(request.data)  # the very merge the emulator applies when it stores
            current = dict(would_be.raw)
        return aiohttp.web.json_response(current)

    def _log(self, request: Any) -> aiohttp.web.StreamResponse:
        params = request.params
        previous = params.get("previous") == "true"
        path = self.find_log(request.namespace, request.name, params.get("container"), previous)
        if path is None:
            what = "previous terminated container" if previous else "container"
            return _status(400, "BadRequest", f'{what} in pod "{request.name}" not found')
        text = path.read_text(errors="replace") if path.exists() else ""
        tail = params.get("tailLines")
        if tail and tail.isdigit():
            text = "".join(text.splitlines(keepends=True)[-int(tail) :])
        return aiohttp.web.Response(text=text, content_type="text/plain")


def write_kubeconfig(path: Path, server: str, context: str = "lab") -> Path:
    """A kubeconfig whose current context is the lab's API server (token auth: the lab's
    API server accepts anyone, the client insists on some credentials)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": "lab-admin", "user": {"token": "lab"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": "lab-admin"}}],
        "current-context": context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path
