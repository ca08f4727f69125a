"""The Executor port over the Kubernetes API: preflight, dry-run, execute, reconcile.

Every action reads the live object, plans the change from it (plan.py and the planners),
and writes one JSON merge patch that carries both the change and the idempotency key in
`metadata.annotations["firstline.io/action-key"]` (a Certificate carries it in its Issuing
condition; a deleted pod carries nothing, it is gone). Reconcile reads that back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from firstline.actions.base import ExecutionOutcome, Preflight, ReconcileResult, Reconciliation
from firstline.actions.kubernetes.access import check_access
from firstline.actions.kubernetes.api import KubernetesApi
from firstline.actions.kubernetes.certificates import (
    ServedCertificate,
    issuing,
    plan_renew,
    read_tls_secret,
    triggered_by,
)
from firstline.actions.kubernetes.cluster import plan_cordon, plan_delete_pod
from firstline.actions.kubernetes.diff import merge_patch_between, yaml_diff
from firstline.actions.kubernetes.errors import KubernetesActionError
from firstline.actions.kubernetes.guard import target_problems
from firstline.actions.kubernetes.plan import (
    ACTION_KEY_ANNOTATION,
    Plan,
    PlanContext,
    annotations_of,
    stamp,
)
from firstline.actions.kubernetes.resources import SECRET, TARGET_KINDS, Resource
from firstline.actions.kubernetes.rollback import plan_rollback
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.actions.kubernetes.workloads import (
    plan_pause,
    plan_raise_limit,
    plan_restart,
    plan_scale,
)
from firstline.domain.action import ActionType, RemediationAction

log = structlog.get_logger(__name__)
Obj = dict[str, Any]

PLANNERS: dict[ActionType, Callable[[PlanContext], Plan]] = {
    ActionType.RESTART: plan_restart,
    ActionType.SCALE: plan_scale,
    ActionType.ROLLBACK: plan_rollback,
    ActionType.DELETE_POD: plan_delete_pod,
    ActionType.RAISE_RESOURCE_LIMIT: plan_raise_limit,
    ActionType.PAUSE_ROLLOUT: lambda ctx: plan_pause(ctx, True),
    ActionType.RESUME_ROLLOUT: lambda ctx: plan_pause(ctx, False),
    ActionType.CORDON_NODE: plan_cordon,
    ActionType.ROTATE_CERTIFICATE: plan_renew,
}


class _Refused(Exception):
    """The action cannot be planned; `problems` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _address(action: RemediationAction) -> tuple[Resource, str | None]:
    """The target's resource, and its namespace (None for cluster-scoped kinds: a node
    target may carry the namespace of the alert that named it)."""
    resource = TARGET_KINDS[action.target.kind.lower()]
    return resource, action.target.namespace if resource.namespaced else None


class KubernetesExecutor:
    """Carries out the enabled Kubernetes actions; see docs/remediation/kubernetes.md.

    `configuration` (a `kubernetes.client.Configuration`) overrides loading one from the
    settings; `now` is the clock used for restartedAt and condition timestamps.
    """

    name = "kubernetes"

    def __init__(
        self,
        settings: KubernetesActionSettings,
        configuration: Any = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.api = KubernetesApi(settings, configuration)
        self._now = now

    def close(self) -> None:
        self.api.close()

    def supports(self, action_type: ActionType) -> bool:
        return action_type in self.settings.actions

    # -- planning ---------------------------------------------------------------------------

    async def _plan(self, action: RemediationAction, key: str | None) -> Plan:
        """Read the target and plan the action; raises _Refused with the reason."""
        problems = target_problems(action, self.settings)
        if problems:
            raise _Refused(problems)
        target = action.target
        resource, namespace = _address(action)
        live = await self.api.get(resource, namespace, target.name)
        if live is None:
            raise _Refused([f"{target} does not exist"])
        replicasets: tuple[Obj, ...] = ()
        if action.type is ActionType.ROLLBACK and namespace is not None:
            replicasets = tuple(await self.api.list_replicasets(namespace))
        ctx = PlanContext(
            action=action,
            resource=resource,
            live=live,
            settings=self.settings,
            now=self._now(),
            key=key,
            replicasets=replicasets,
        )
        plan = PLANNERS[action.type](ctx)
        if plan.problems:
            raise _Refused(plan.problems)
        return plan

    def _written(self, plan: Plan, key: str | None) -> Obj | None:
        """The object as it will be written: the planned change plus the action key."""
        if plan.after is None or plan.status_subresource or key is None:
            return plan.after
        return stamp(plan.after, key)

    @staticmethod
    def _patch_body(plan: Plan, after: Obj) -> Obj:
        body = merge_patch_between(plan.before, after)
        if plan.status_subresource:
            body = {"status": body.get("status", {})}
        version = (plan.before.get("metadata") or {}).get("resourceVersion")
        if version:  # optimistic concurrency: refuse to write over a change made meanwhile
            body.setdefault("metadata", {})["resourceVersion"] = version
        return body

    async def _write(
        self, action: RemediationAction, plan: Plan, after: Obj | None, *, dry_run: bool
    ) -> Obj | None:
        target = action.target
        resource, namespace = _address(action)
        if after is None:
            uid = str((plan.before.get("metadata") or {}).get("uid") or "")
            await self.api.delete_pod(str(namespace), target.name, uid, dry_run=dry_run)
            return None
        return await self.api.patch(
            resource,
            namespace,
            target.name,
            self._patch_body(plan, after),
            dry_run=dry_run,
            status=plan.status_subresource,
        )

    # -- the port ---------------------------------------------------------------------------

    async def preflight(self, action: RemediationAction) -> Preflight:
        try:
            plan = await self._plan(action, None)
        except _Refused as exc:
            return Preflight(ok=False, problems=exc.problems)
        except KubernetesActionError as exc:
            return Preflight(ok=False, problems=[str(exc)])
        if plan.no_change:
            return Preflight(ok=True, no_change=True)
        try:
            access = await check_access(
                self.api,
                action,
                self.settings.rbac_check,
                certificate_secrets=self.settings.certificate_secrets,
                names={SECRET.plural: str(plan.report["secret"])}
                if "secret" in plan.report
                else {},
            )
        except KubernetesActionError as exc:
            return Preflight(ok=False, problems=[f"RBAC check failed: {exc}"])
        return Preflight(ok=not access.problems, problems=access.problems)

    async def dry_run(self, action: RemediationAction) -> str:
        try:
            plan = await self._plan(action, None)
        except (_Refused, KubernetesActionError) as exc:
            return f"would not {action.describe()}: {exc}"
        if plan.no_change:
            return f"no change: {action.target} is already in the wanted state"
        label = str(action.target)
        before = plan.view(plan.before)
        lines = [f"would {plan.summary}"]
        if self.settings.server_dry_run:
            try:
                answered = await self._write(action, plan, plan.after, dry_run=True)
                after = plan.view(answered) if answered is not None else None
                lines.append("diff from the API server's dry-run (dryRun=All; nothing persisted):")
                lines.append(yaml_diff(label, before, after))
                lines.extend(await self._persisted_warning(action, plan))
            except KubernetesActionError as exc:
                lines.append(f"server-side dry-run failed ({exc}); diff computed client-side:")
                lines.append(yaml_diff(label, before, self._local_view(plan)))
        else:
            lines.append("diff computed client-side (server_dry_run is off):")
            lines.append(yaml_diff(label, before, self._local_view(plan)))
        if plan.after is not None:
            lines.append(f"execute also sets annotation {ACTION_KEY_ANNOTATION} to the action key")
        if action.type is ActionType.ROTATE_CERTIFICATE:
            served = await self._served(action, plan)
            lines.append(
                f"secret {plan.report['secret']} now holds a certificate expiring "
                f"{served.not_after.isoformat()} (serial {served.serial})"
                if isinstance(served, ServedCertificate)
                else f"secret {plan.report['secret']}: {served}"
            )
        return "\n".join(lines)

    @staticmethod
    def _local_view(plan: Plan) -> Obj | None:
        return plan.view(plan.after) if plan.after is not None else None

    async def _persisted_warning(self, action: RemediationAction, plan: Plan) -> list[str]:
        """A server that ignores dryRun would have applied the change: say so loudly."""
        resource, namespace = _address(action)
        live = await self.api.get(resource, namespace, action.target.name)
        if live is not None and plan.view(live) == plan.view(plan.before):
            return []
        log.error("kubernetes_dry_run_persisted", action=action.describe())
        return [
            "WARNING: the object changed during the dry-run; this API server does not "
            "honour dryRun. Set server_dry_run: false for it."
        ]

    async def execute(self, action: RemediationAction, idempotency_key: str) -> ExecutionOutcome:
        try:
            plan = await self._plan(action, idempotency_key)
        except _Refused as exc:
            return ExecutionOutcome(ok=False, detail=f"refused: {exc}")
        except KubernetesActionError as exc:
            return ExecutionOutcome(ok=False, detail=f"could not read {action.target}: {exc}")
        if plan.no_change:
            return ExecutionOutcome(
                ok=True, detail=f"{action.target} already in the wanted state; nothing written"
            )
        try:
            # The served certificate is read before the trigger: cert-manager may replace it
            # before this process gets to look again.
            old = await self._served(action, plan)
            await self._write(action, plan, self._written(plan, idempotency_key), dry_run=False)
        except KubernetesActionError as exc:
            return ExecutionOutcome(ok=False, detail=f"{action.describe()} failed: {exc}")
        log.info("kubernetes_action_applied", action=action.describe(), key=idempotency_key)
        if plan.status_subresource:
            await self._stamp_after_status(action, idempotency_key)
        if action.type is ActionType.ROTATE_CERTIFICATE:
            return await self._await_certificate(action, plan, old)
        return ExecutionOutcome(
            ok=True, detail=f"{action.target}: {plan.summary}", undo=plan.undo, report=plan.report
        )

    async def reconcile(self, action: RemediationAction, idempotency_key: str) -> ReconcileResult:
        def result(state: Reconciliation, detail: str) -> ReconcileResult:
            return ReconcileResult(state=state, detail=detail)

        problems = target_problems(action, self.settings)
        if problems:
            return result(
                Reconciliation.NOT_APPLIED,
                "the executor would never run it: " + "; ".join(problems),
            )
        target = action.target
        resource, namespace = _address(action)
        try:
            live = await self.api.get(resource, namespace, target.name)
        except KubernetesActionError as exc:
            return result(Reconciliation.UNKNOWN, f"cannot read {target}: {exc}")
        if action.type is ActionType.DELETE_POD:
            return _reconcile_deletion(live)
        if live is None:
            return result(Reconciliation.UNKNOWN, f"{target} no longer exists")
        if annotations_of(live).get(ACTION_KEY_ANNOTATION) == idempotency_key or triggered_by(
            live, idempotency_key
        ):
            return result(Reconciliation.APPLIED, f"{target} carries this action's key")
        try:
            plan = await self._plan(action, None)
        except (_Refused, KubernetesActionError) as exc:
            return result(
                Reconciliation.UNKNOWN, f"no key on {target}, and it cannot be planned: {exc}"
            )
        if plan.no_change:
            return result(Reconciliation.APPLIED, f"{target} is already in the wanted state")
        return result(Reconciliation.NOT_APPLIED, f"{target} shows neither the key nor the change")

    # -- certificates -----------------------------------------------------------------------

    async def _stamp_after_status(self, action: RemediationAction, key: str) -> None:
        """A status write cannot carry metadata, and cert-manager removes the Issuing
        condition (with the key in its message) once done: the key goes onto the object in
        a second write. Second, so a crash between the two still leaves the key in the
        condition; the gap left is a crash there *and* a finished issuance before reconcile,
        which costs one more re-issuance."""
        resource, namespace = _address(action)
        body = {"metadata": {"annotations": {ACTION_KEY_ANNOTATION: key}}}
        try:
            await self.api.patch(resource, namespace, action.target.name, body)
        except KubernetesActionError as exc:  # the trigger landed; only the proof is missing
            log.warning(
                "kubernetes_action_key_not_stamped", action=action.describe(), error=str(exc)
            )

    async def _served(self, action: RemediationAction, plan: Plan) -> ServedCertificate | str:
        """The certificate the TLS Secret holds now (or why none), for certificate actions."""
        if action.type is not ActionType.ROTATE_CERTIFICATE:
            return "not a certificate action"
        try:
            secret = await self.api.get(SECRET, action.target.namespace, str(plan.report["secret"]))
        except KubernetesActionError as exc:
            return f"cannot read the TLS Secret: {exc}"
        return read_tls_secret(secret)

    async def _await_certificate(
        self, action: RemediationAction, plan: Plan, old: ServedCertificate | str
    ) -> ExecutionOutcome:
        """Wait for cert-manager to put a new certificate into the Secret; report its expiry."""
        target = action.target
        secret_name = str(plan.report["secret"])
        report = dict(plan.report)
        if isinstance(old, ServedCertificate):
            report["old_not_after"] = old.not_after.isoformat()
        deadline = time.monotonic() + self.settings.certificate_wait_seconds
        while True:
            secret = await self.api.get(SECRET, target.namespace, secret_name)
            new = read_tls_secret(secret)
            if isinstance(new, ServedCertificate) and (
                not isinstance(old, ServedCertificate) or new.serial != old.serial
            ):
                report.update(new_not_after=new.not_after.isoformat(), serial=new.serial)
                return ExecutionOutcome(
                    ok=True,
                    detail=f"{target}: re-issued; the new certificate expires "
                    f"{new.not_after.isoformat()}",
                    report=report,
                )
            certificate = await self.api.get(
                TARGET_KINDS["certificate"], target.namespace, target.name
            )
            condition = issuing(certificate) if certificate is not None else None
            if condition is not None and condition.get("status") == "False":
                return ExecutionOutcome(
                    ok=False,
                    detail=f"{target}: cert-manager failed to issue: {condition.get('message', '')}",
                    report=report,
                )
            if time.monotonic() >= deadline:
                return ExecutionOutcome(
                    ok=False,
                    detail=f"{target}: re-issuance triggered, but no new certificate in secret "
                    f"{secret_name} after {self.settings.certificate_wait_seconds:g}s",
                    report=report,
                )
            await asyncio.sleep(self.settings.poll_interval_seconds)


def _reconcile_deletion(live: Obj | None) -> ReconcileResult:
    if live is None:
        return ReconcileResult(state=Reconciliation.APPLIED, detail="the pod is gone")
    meta = live.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return ReconcileResult(state=Reconciliation.APPLIED, detail="the pod is terminating")
    owners = {r.get("kind") for r in meta.get("ownerReferences") or [] if r.get("controller")}
    if "StatefulSet" in owners:
        # A StatefulSet recreates its pod under the same name: a live pod does not prove
        # the delete never happened.
        return ReconcileResult(
            state=Reconciliation.UNKNOWN,
            detail="a StatefulSet pod of this name exists; it may be the replacement",
        )
    return ReconcileResult(state=Reconciliation.NOT_APPLIED, detail="the pod still exists")
