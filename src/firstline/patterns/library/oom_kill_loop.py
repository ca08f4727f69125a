"""OOM-kill loop: containers exceed their memory limit and are killed, again and again.

Typical alerts: KubePodCrashLooping, ContainerOOMKilled, KubeContainerRestarting. The key
signals are OOMKilled as the last termination reason, a working set climbing towards the
limit, and restarts. A restart buys time for a leak; a limit raise fixes an undersized limit.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard


class OomKillLoop(Pattern):
    id = "oom_kill_loop"
    title = "OOM-kill loop"
    default_severity = Severity.HIGH
    alert_names = (
        r"(?-i:.*(?:OOM|Oom).*)",  # case-sensitive: "TooManyConnections" is not about OOM
        r"KubePodCrashLooping",
        r"KubeContainer.*Restart.*",
        r".*Memory.*",
    )
    metrics = (queries.MEMORY_WORKING_SET, queries.MEMORY_LIMIT, queries.RESTARTS)
    symptom_is_current = True
    confirm_with = (
        "kubectl describe pod: Last State Terminated, Reason OOMKilled, Exit Code 137",
        "the container's working set against its memory limit before each restart",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        component = ctx.component or "the workload"
        pods = ctx.scope.select(ev.pods())
        # OOMKilled in the status, or only in the kubelet's back-off message or an event
        # when the status lost it (exit 137 with "OOMKilled" in the text)
        killed = {s.attributes.get("pod") or s.subject.rpartition("/")[2]
                  for s in ctx.signals.of("oom_killed")}  # fmt: skip
        oom = [p for p in pods if p.last_termination_reason == "OOMKilled" or p.name in killed]
        card.add(bool(oom), 3.5, f"{len(oom)} pod(s) last terminated OOMKilled", "pods")
        card.add(
            any(p.restart_count >= 3 for p in oom),
            1.0,
            "OOM-killed pods restarted 3+ times",
            "pods",
        )
        logged = ctx.signals.count("oom")
        card.add(
            logged > 0,
            0.5 if oom else 1.5,
            f"{logged} log line(s) of the process or kernel running out of memory",
            "logs",
        )
        memory = ev.metric("memory_working_set")
        limit = ev.metric("memory_limit")
        if memory is not None:
            card.add(
                memory.anomalous and memory.findings[0].direction == "up",
                1.0,
                f"working set {memory.findings[0].sentence}" if memory.findings else "",
                memory.id,
            )
            if limit is not None and limit.last:
                near = max(p.value for p in memory.points) >= 0.9 * limit.last
                card.add(near, 1.0, "working set reached 90% of the memory limit", memory.id)
        events = ev.events()
        card.add(
            bool(events and events.with_reason("OOMKilling")), 0.5, "OOMKilling event", "events"
        )
        card.add(not oom and not logged, -2.0, "no pod was OOMKilled")
        affected = sorted({p.owner or component for p in oom}) or [component]
        cause = (
            f"{affected[0]} is being OOM-killed in a loop: its containers exceed their memory "
            "limit and restart"
        )
        return card, cause, affected

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        target = Target(kind="deployment", name=components[0], namespace=ctx.namespace)
        return [
            make_action(
                ActionType.RESTART,
                target,
                rationale="fresh pods reset the leaked memory and stop the crash loop for now",
            )
        ]


PATTERN = OomKillLoop()
