"""Job failure: a Job (often started by a CronJob) fails instead of completing.

Typical alerts: KubeJobFailed, KubeJobNotCompleted, KubernetesJobFailed, a CronJob that
missed its run; kube-state-metrics names the Job in the `job_name` label, and the scope
follows it to the pods that carry the `job-name` label. The key signals are the Job
controller's events (BackoffLimitExceeded "Job has reached the specified backoff limit",
DeadlineExceeded "Job was active longer than specified deadline") and the Job's pods in
phase Failed with an error exit. What the failed pods say is the actual cause, and the
pattern reports it: the exit code, OOMKilled, and their log lines (missing configuration,
permission denied, a file that does not exist, a dependency that refuses connections).

What rules it out: a Job whose pods never got created or scheduled (quota, capacity) is
explained by those patterns; failures of other workloads in the namespace (a broken
Deployment next to the Job) are context, never this Job's cause.

What to do: a failed Job is not retried by restarting anything else. A person reads the
failed pod's logs, fixes the cause, and re-runs the Job once (`kubectl create job
--from=cronjob/<name>`), so the pattern escalates with exact steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import PodState
from firstline.domain.signal import Signal
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_JOB_POD_LABELS = ("job-name", "batch.kubernetes.io/job-name")
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-\d{8,}$")  # <cronjob>-<scheduled minute>
CAUSE_LOGS = (
    ("missing_config", "its configuration is missing or does not parse"),
    ("missing_file", "a file it needs does not exist"),
    ("permission_denied", "it lacks a permission"),
    ("oom", "it runs out of memory"),
    ("disk_full", "a filesystem is full"),
    ("dns_failure", "a name it calls does not resolve"),
    ("connection_refused", "a dependency refuses its connections"),
    ("db_connection_limit", "the database refuses new connections"),
    ("upstream_timeout", "a dependency does not answer in time"),
    ("cert_expired", "a TLS certificate it checks has expired"),
)


@dataclass(frozen=True)
class _Findings:
    job: str | None
    controller: list[Signal]
    failed_pods: list[PodState]
    exit_codes: list[int]
    oom: bool
    logs: list[tuple[Signal, str]]
    not_created: list[Signal]


def _is_job_pod(pod: PodState) -> bool:
    return pod.owner_kind == "Job" or any(k in pod.labels for k in _JOB_POD_LABELS)


def _job_of(pod: PodState) -> str | None:
    return next((pod.labels[k] for k in _JOB_POD_LABELS if k in pod.labels), pod.owner)


def _job_logs(
    ctx: PatternContext, family: str, job: str | None, failed: list[PodState]
) -> list[Signal]:
    """Log signals of the job: in scope, or written by its failed pods (log labels name a
    Job's pod by its container, or by a pod name that reads like its CronJob's)."""
    writers = {job, _cronjob(ctx, job) if job else None}
    writers |= {p.container for p in failed} | {p.name for p in failed}
    writers.discard(None)
    return [
        s
        for s in ctx.signals.of(family, in_scope=None)
        if s.workload in writers or (s.in_scope and (s.workload is None or not ctx.scope.empty))
    ]


def _of_scoped_cronjob(ctx: PatternContext, job: str | None) -> bool:
    """Whether a Job was started by the CronJob the alert names (<cronjob>-<minute>)."""
    match = _CRONJOB_JOB.match(job or "")
    return match is not None and match.group("cronjob") in ctx.scope.workloads


def _findings(ctx: PatternContext) -> _Findings:
    sig = ctx.signals
    controller = [
        s
        for s in sig.of("job_failed", in_scope=None)
        if s.ref == "events" and (s.in_scope or _of_scoped_cronjob(ctx, s.attributes.get("name")))
    ]
    pods = [
        p
        for p in ctx.evidence.pods()
        if _is_job_pod(p) and (ctx.scope.owns(p) or _of_scoped_cronjob(ctx, _job_of(p)))
    ]
    failed = [
        p
        for p in pods
        if p.phase == "Failed"
        or (p.last_exit_code not in (None, 0) and p.last_termination_reason != "Completed")
    ]
    codes = sorted({p.last_exit_code for p in failed if p.last_exit_code is not None})
    failed_names = {f"pod/{p.name}" for p in failed}
    oom = any(p.last_termination_reason == "OOMKilled" for p in failed) or any(
        s.subject in failed_names for s in sig.of("oom_killed")
    )
    job = (
        next((_job_of(p) for p in failed), None)
        or next((s.attributes.get("name") for s in controller), None)
        or ctx.workload()
    )
    found = [
        (s, meaning) for family, meaning in CAUSE_LOGS for s in _job_logs(ctx, family, job, failed)
    ]
    found.sort(key=lambda pair: -pair[0].count)
    return _Findings(
        job=job,
        controller=controller,
        failed_pods=failed,
        exit_codes=codes,
        oom=oom,
        logs=found,
        not_created=sig.of("quota_exceeded", "unschedulable"),
    )


def _cronjob(ctx: PatternContext, job: str) -> str | None:
    if cron := ctx.alert.labels.get("cronjob"):
        return cron
    match = _CRONJOB_JOB.match(job)
    return match.group("cronjob") if match else None


class JobFailure(Pattern):
    id = "job_failure"
    title = "Job failing"
    default_severity = Severity.MEDIUM
    alert_names = (
        r"KubeJob(Failed|NotCompleted|Completion)",
        r"Kubernetes(Job|CronJob).*",
        r"KubeCronJob.*",
        r".*CronJob.*(Fail|Miss|Suspend).*",
        r".*Job.*Fail.*",
    )
    reads = ("pods", "events", "logs")
    confirm_with = (
        "kubectl describe job <job>: the BackoffLimitExceeded or DeadlineExceeded condition "
        "and how many pods failed",
        "kubectl logs <failed pod> (and --previous): the error the job stopped on",
        "kubectl get pods -l job-name=<job>: the failed pods' exit codes",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        job = f.job or "the job"
        if f.controller:
            card.add(True, 2.5, f.controller[0].summary, "events")
        card.add(
            bool(f.failed_pods),
            2.0,
            f"{len(f.failed_pods)} pod(s) of Job {job} failed"
            + (f" (exit {', '.join(map(str, f.exit_codes))})" if f.exit_codes else ""),
            "pods",
        )
        card.add(
            bool(f.failed_pods) and f.oom,
            0.5,
            f"the failed pods of {job} were OOMKilled",
            "pods",
        )
        if f.logs and (f.failed_pods or f.controller):
            signal, meaning = f.logs[0]
            card.add(True, 0.5, f"the job's logs say {meaning}: {signal.summary}", signal.ref)
        card.add(
            bool(f.not_created) and not f.failed_pods,
            -1.0,
            f"the job's pods were never created or scheduled ({f.not_created[0].summary})"
            if f.not_created
            else "",
            "events",
        )
        card.add(
            not f.controller and not f.failed_pods,
            -2.5,
            f"no pod of Job {job} failed and its controller reports no failure",
        )
        cause = f"Job {job} failed"
        if f.controller:
            cause += f" ({f.controller[0].attributes.get('reason', 'failed')})"
        why = []
        if any(s.attributes.get("reason") == "DeadlineExceeded" for s in f.controller):
            why.append("it ran longer than its activeDeadlineSeconds and was stopped")
        if f.oom:
            why.append("its pods were OOMKilled")
        elif f.exit_codes:
            why.append(f"its pods exit with code {', '.join(map(str, f.exit_codes))}")
        if f.logs:
            why.append(f"{f.logs[0][1]}")
        if why:
            cause += ": " + "; ".join(why)
        return card, cause, [job]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        ns = ctx.namespace or "<namespace>"
        job = components[0]
        pod = f.failed_pods[0].name if f.failed_pods else f"<a pod of job {job}>"
        cronjob = _cronjob(ctx, job)
        steps = [
            f"kubectl -n {ns} describe job {job}: its conditions and failed pod count",
            f"kubectl -n {ns} logs {pod} --all-containers (add --previous if it restarted): "
            "the error it stopped on",
            f"kubectl -n {ns} get pods -l job-name={job} -o wide: exit codes and nodes of "
            "every attempt",
            "fix the cause the logs name (configuration, permissions, the dependency, memory)",
        ]
        if cronjob:
            steps.append(
                f"re-run once fixed: kubectl -n {ns} create job {cronjob}-rerun-$(date +%s) "
                f"--from=cronjob/{cronjob}"
            )
        else:
            steps.append(
                f"re-run once fixed: kubectl -n {ns} get job {job} -o yaml > job.yaml, strip "
                "status and the generated selector/labels, then kubectl delete job and "
                "kubectl apply -f job.yaml"
            )
        steps.append(
            f"once a run succeeds: kubectl -n {ns} delete job {job} (the failed Job keeps "
            "the alert firing)"
        )
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="job", name=job, namespace=ctx.namespace),
                rationale=(
                    "a failed Job stays failed until someone fixes its cause and re-runs it; "
                    "restarting other workloads does not re-run it"
                ),
                steps=steps,
            )
        ]


PATTERN = JobFailure()
