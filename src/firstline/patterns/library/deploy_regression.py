"""Deploy regression: a new revision of the alerting service went out shortly before its
error rate or latency rose.

Typical alerts: HighErrorRate, HighLatency, SLO burn-rate alerts. The key signal is the
order of events: the service's own Deployment rolled to a new revision (usually a new image),
and *after* that its error rate or p99 latency left a healthy baseline and stayed up. A deploy
that came after the metrics had already moved, a deploy of some other service, or normal
metrics all rule it out. The fix is a rollback to the previous revision (medium risk).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import Deployment, MetricEvidence, MetricPoint, PodState
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

RECENT_DEPLOY = timedelta(hours=2)
"""Only a rollout this close to the alert counts as a candidate cause."""
MAX_LAG = timedelta(minutes=30)
"""Longest plausible gap between a rollout and the regression it causes."""
PROMPT_LAG = timedelta(minutes=10)
"""Regressions usually show as soon as new pods take traffic; past this, suspicion fades."""
_STARTUP_FAILURES = {"CreateContainerConfigError", "ImagePullBackOff", "ErrImagePull"}
_CONFIG_LOG_WORDS = ("invalid configuration", "missing required env", "failed to parse config")


def onset(points: Sequence[MetricPoint]) -> datetime | None:
    """When a series left its early baseline upwards and stayed there (3 points in a row),
    provided it is still elevated at the end; None when it never did."""
    if len(points) < 10:
        return None
    head = [p.value for p in points[: max(5, len(points) // 3)]]
    base = statistics.median(head)
    spread = statistics.median(abs(v - base) for v in head) * 1.4826
    threshold = base + max(4 * spread, 0.25 * abs(base), 1e-9)
    if points[-1].value <= threshold:
        return None
    for i in range(len(points) - 2):
        if all(p.value > threshold for p in points[i : i + 3]):
            return points[i].ts
    return None


def _own_deployment(deployments: list[Deployment], component: str | None) -> Deployment | None:
    if not component:
        return None
    exact = [d for d in deployments if d.name == component]
    loose = [d for d in deployments if d.name.startswith(component) or component.startswith(d.name)]
    return next(iter(exact or loose), None)


def _startup_failures(pods: list[PodState], deployment: Deployment) -> list[PodState]:
    own = [p for p in pods if (p.owner or p.name).startswith(deployment.name)]
    return [p for p in own if p.waiting_reason in _STARTUP_FAILURES]


def _hhmm(ts: datetime) -> str:
    return f"{ts:%H:%M}"


def _lag_weight(lag: timedelta) -> float:
    """Full weight for a regression within PROMPT_LAG of the rollout, fading linearly to
    1.5 at MAX_LAG: the longer the gap, the likelier something else changed meanwhile."""
    if lag <= PROMPT_LAG:
        return 3.5
    fraction = (lag - PROMPT_LAG) / (MAX_LAG - PROMPT_LAG)
    return 3.5 - 2.0 * min(1.0, fraction)


class DeployRegression(Pattern):
    id = "deploy_regression"
    title = "Regression introduced by a deploy"
    default_severity = Severity.HIGH
    alert_names = (
        r".*Error.?Rate.*",
        r".*Errors?High.*",
        r".*5xx.*",
        r".*Latency.*",
        r".*ErrorBudget.*",
        r".*BurnRate.*",
        r".*SLO.*",
    )
    metrics = (queries.ERROR_RATE, queries.LATENCY_P99)

    confirm_with = (
        "kubectl rollout history: what the last revision changed and when",
        "error rate or latency per version (by the image or pod-template-hash label)",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        component = ctx.component or "the service"
        deployment = _own_deployment(ev.deployments(), ctx.component)
        current = deployment.current if deployment else None
        reference = ctx.alert.starts_at
        # A rollout after the alert still counts as a candidate: the metric check below then
        # shows that the regression was already there before it.
        recent = current is not None and reference - RECENT_DEPLOY <= current.created_at
        if deployment is None or current is None or not recent:
            others = [
                d.name
                for d in ev.deployments()
                if d.current and reference - RECENT_DEPLOY <= d.current.created_at <= reference
            ]
            note = f"{component} was not rolled out in the last 2h" + (
                f" (only unrelated deployments changed: {', '.join(sorted(others))})"
                if others
                else ""
            )
            card.add(True, -3.0, note, "deployments")
            return card, f"no recent rollout of {component}", [component]

        deployed_at = current.created_at
        self._score_metrics(card, ctx, deployed_at)

        previous = deployment.previous
        if previous is not None and previous.images != current.images:
            changed = ", ".join(
                f"{name} {previous.images.get(name, '?')} -> {image}"
                for name, image in current.images.items()
                if previous.images.get(name) != image
            )
            card.add(
                True,
                1.0,
                f"revision {current.revision} changed the image ({changed})",
                "deployments",
            )
        elif previous is not None:
            card.add(
                True, 0.3, f"revision {current.revision} changed configuration only", "deployments"
            )
        else:
            card.add(
                True, -1.0, "no previous revision to compare with or roll back to", "deployments"
            )

        failing = _startup_failures(ev.pods(), deployment)
        logs = ev.logs()
        config_crash = logs is not None and logs.count_matching(*_CONFIG_LOG_WORDS) > 0
        card.add(
            bool(failing) or config_crash,
            -1.5,
            "new pods fail at startup (config or image), a different failure than a regression",
            "pods",
        )
        cause = (
            f"revision {current.revision} of {deployment.name}, rolled out at "
            f"{_hhmm(deployed_at)}, introduced a regression: errors/latency rose right after it"
        )
        return card, cause, [deployment.name]

    def _score_metrics(self, card: Scorecard, ctx: PatternContext, deployed_at: datetime) -> None:
        found: list[MetricEvidence] = [
            m for name in ("error_rate", "latency_p99") if (m := ctx.evidence.metric(name))
        ]
        after: list[tuple[MetricEvidence, datetime]] = []
        before: list[tuple[MetricEvidence, datetime]] = []
        late: list[tuple[MetricEvidence, datetime]] = []
        for metric in found:
            start = onset(metric.points)
            if start is None:
                continue
            if start < deployed_at:
                before.append((metric, start))
            elif start - deployed_at <= MAX_LAG:
                after.append((metric, start))
            else:
                late.append((metric, start))
        for index, (metric, start) in enumerate(after):
            lag = int((start - deployed_at).total_seconds() // 60)
            detail = f" ({metric.findings[0].sentence})" if metric.findings else ""
            card.add(
                True,
                _lag_weight(start - deployed_at) if index == 0 else 0.5,
                f"{metric.name} left its baseline at {_hhmm(start)}, {lag} min after the "
                f"rollout at {_hhmm(deployed_at)}{detail}",
                metric.id,
            )
        errors_after = any(m.name == "error_rate" for m, _ in after)
        for metric, start in before:
            # errors that jump right after the rollout outweigh a latency drift before it (a
            # busy host, a warming cache); errors already rising before it still clear it
            drift = metric.name == "latency_p99" and errors_after
            card.add(
                True,
                -1.0 if drift else -3.0,
                f"{metric.name} was already rising at {_hhmm(start)}, before the rollout at "
                f"{_hhmm(deployed_at)}",
                metric.id,
            )
        for metric, start in late if not after else []:
            card.add(
                True,
                -2.0,
                f"{metric.name} rose at {_hhmm(start)}, too long after the rollout at "
                f"{_hhmm(deployed_at)} to blame it",
                metric.id,
            )
        if not after and not before and not late:
            what = (
                f"{', '.join(m.name for m in found)} normal"
                if found
                else "no error-rate or latency data"
            )
            card.add(True, -2.5, f"no regression after the rollout ({what})")

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        deployment = _own_deployment(ctx.evidence.deployments(), ctx.component)
        previous = deployment.previous if deployment else None
        target = Target(kind="deployment", name=components[0], namespace=ctx.namespace)
        if previous is None:
            return [
                make_action(
                    ActionType.MANUAL_ONLY,
                    target,
                    rationale="the regression follows a rollout, but there is no previous "
                    "revision to roll back to",
                    steps=[
                        f"kubectl -n {ctx.namespace} rollout history deployment/{target.name}",
                        "identify the last known-good image and deploy it explicitly",
                    ],
                )
            ]
        return [
            make_action(
                ActionType.ROLLBACK,
                target,
                rationale=f"the regression began right after the rollout; revision "
                f"{previous.revision} was healthy",
                parameters={"to_revision": previous.revision},
            )
        ]


PATTERN = DeployRegression()
