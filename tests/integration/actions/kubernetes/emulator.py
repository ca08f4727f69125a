"""kmock's KubernetesEmulator, taught the two API behaviours the executor relies on that it
lacks: server-side dry-run and SelfSubjectAccessReview.

No kube-apiserver can run on these machines (see ../shared/design/TESTING.md), so kmock is
the most faithful stand-in: real HTTP, the official client, stored objects, JSON merge
patches applied the way a real server applies them. It ignores `dryRun` (it would store a
dry-run write) and stores a POSTed access review instead of answering it. This subclass
answers both the way kube-apiserver does: a dry-run write returns the would-be object and
stores nothing; a review is answered by `authorizer` (None: 404, as from a server without
the authorization API; "kmock": left to kmock, which stores it and echoes it back without a
verdict, then answers 409 to the next one). Every request is also logged in `seen`, as (verb, group, resource,
namespace), for the RBAC tests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import aiohttp.web
from kmock import KubernetesEmulator

from firstline.actions.kubernetes.diff import apply_merge_patch

Authorizer = Callable[[dict[str, Any]], bool]
Reviews = Authorizer | Literal["kmock"] | None

_VERBS = {"GET": "get", "PATCH": "patch", "DELETE": "delete", "POST": "create", "PUT": "update"}


def allow_all(attributes: dict[str, Any]) -> bool:
    return True


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }
    return aiohttp.web.json_response(body, status=code)


class ApiServerEmulator(KubernetesEmulator):
    """Set `honour_dry_run` and `authorizer` after construction (the attrs base class
    fixes the constructor's arguments)."""

    def setup(self, *, honour_dry_run: bool, authorizer: Reviews) -> None:
        self.honour_dry_run = honour_dry_run
        self.authorizer = authorizer
        self.seen: list[tuple[str, str, str, str | None]] = []

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        resource = request.resource
        if resource is not None:
            plural = resource.plural + (f"/{request.subresource}" if request.subresource else "")
            verb = _VERBS.get(request.method.value.upper(), "?")
            if verb == "get" and request.name is None:
                verb = "list"
            self.seen.append((verb, resource.group, plural, request.namespace))
            if resource.plural == "selfsubjectaccessreviews" and self.authorizer != "kmock":
                return self._review(request)
            if self.honour_dry_run and request.params.get("dryRun") and request.name:
                return self._dry_run(request)
        response: aiohttp.web.StreamResponse = await super()._handle(request)
        return response

    def _review(self, request: Any) -> aiohttp.web.StreamResponse:
        if self.authorizer is None or self.authorizer == "kmock":
            return _status(404, "NotFound", "the server could not find the requested resource")
        attributes = (request.data.get("spec") or {}).get("resourceAttributes") or {}
        allowed = self.authorizer(attributes)
        answer = copy.deepcopy(request.data)
        answer["status"] = {"allowed": allowed}
        if not allowed:
            answer["status"]["reason"] = "no RBAC policy matched"
        return aiohttp.web.json_response(answer, status=201)

    def _dry_run(self, request: Any) -> aiohttp.web.StreamResponse:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return _status(404, "NotFound", f"{request.name} not found")
        current = copy.deepcopy(self.objects[key].raw)
        if request.method.value.upper() == "PATCH":
            current = apply_merge_patch(current, request.data)
        return aiohttp.web.json_response(current)
