"""The one place that builds clients and the graph from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from firstline.actions.base import Executor
from firstline.actions.kubernetes.executor import KubernetesExecutor
from firstline.actions.manual import ManualExecutor
from firstline.actions.postgres_sessions import PostgresSessionExecutor
from firstline.actions.redis_cache import RedisCacheExecutor
from firstline.actions.replay import ReplayExecutor
from firstline.actions.routing import RoutingExecutor
from firstline.actions.scripts import ScriptExecutor
from firstline.delivery.setup import Delivery, build_delivery
from firstline.detection.detectors import get_detector
from firstline.domain.alert import Alert
from firstline.graph.context import GraphContext, utc_now
from firstline.graph.runner import IncidentRunner
from firstline.graph.state import checkpoint_types
from firstline.notify.base import Notifier
from firstline.notify.console import ConsoleNotifier
from firstline.notify.jsonl import JsonLinesNotifier
from firstline.patterns.registry import PatternRegistry
from firstline.policy.runbooks import check_runbook_patterns
from firstline.policy.schema import Mode, Policy, PolicyError, load_policy
from firstline.reasoning.base import Reasoner
from firstline.reasoning.llm.factory import build_reasoner
from firstline.reasoning.llm.usage import UsageLedger
from firstline.scenarios.loader import ScenarioBundle, load_bundle
from firstline.scenarios.world import ReplayWorld
from firstline.sources.alertmanager.adapter import AlertmanagerBackend
from firstline.sources.base import EvidenceSource
from firstline.sources.composite import CompositeSource
from firstline.sources.kubernetes.adapter import KubernetesBackend
from firstline.sources.loki.adapter import LokiBackend
from firstline.sources.null import NoEvidenceSource
from firstline.sources.prometheus.adapter import PrometheusBackend
from firstline.sources.replay import ReplaySource
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditLog
from firstline.store.checkpoints import open_checkpointer
from firstline.store.incidents import IncidentStore
from firstline.store.open import open_database
from firstline.wiring.logs import setup_logging_once
from firstline.wiring.settings import Settings

LLM_USAGE = UsageLedger()
"""Model usage per incident in this process; the budget, reports and /metrics read it."""


@dataclass
class Runtime:
    settings: Settings
    store: IncidentStore
    runner: IncidentRunner
    bundle: ScenarioBundle | None
    world: ReplayWorld | None
    delivery: Delivery


def build_policy(
    settings: Settings, mode: Mode | None = None, registry: PatternRegistry | None = None
) -> Policy:
    """The policy file, its runbooks' patterns checked against `registry` when given (the
    policy layer cannot know the plug-in patterns a deployment loads)."""
    policy = load_policy(settings.policy_file)
    if registry is not None and (
        problem := check_runbook_patterns(policy.runbooks, registry.ids())
    ):
        raise PolicyError(f"policy file {settings.policy_file}: {problem}")
    return policy.model_copy(update={"mode": mode}) if mode is not None else policy


def build_notifiers(settings: Settings, delivery: Delivery | None = None) -> list[Notifier]:
    """Console and JSON lines send at once; vendors (PagerDuty, Slack...) go through the
    outbox, delivered by the delivery worker with retries."""
    notifiers: list[Notifier] = []
    if settings.notify.console:
        notifiers.append(ConsoleNotifier())
    if settings.notify.jsonl_path is not None:
        notifiers.append(JsonLinesNotifier(settings.notify.jsonl_path))
    if delivery is not None and delivery.enabled:
        notifiers.append(delivery.outbox_notifier)
    return notifiers


def build_live_executor(settings: Settings) -> Executor:
    """The enabled real executors behind one router. The manual executor always comes
    first: manual_only and failover_database can never reach an acting executor, and
    approvals and escalations get the exact steps for a person from its dry run. Anything
    no enabled executor handles is refused, naming what is configured."""
    actions = settings.actions
    live: list[Executor] = [ManualExecutor()]
    if actions.kubernetes.enabled:
        live.append(KubernetesExecutor(actions.kubernetes))
    if actions.redis.enabled:
        live.append(RedisCacheExecutor(actions.redis))
    if actions.postgres.enabled:
        live.append(PostgresSessionExecutor(actions.postgres))
    if actions.scripts.enabled:
        live.append(ScriptExecutor(actions.scripts))
    return RoutingExecutor(live)


def build_live_source(settings: Settings) -> CompositeSource | None:
    """The configured real backends, or None when none is configured."""
    sources = settings.sources
    composite = CompositeSource(
        metrics=PrometheusBackend(sources.prometheus) if sources.prometheus.enabled else None,
        alerts=AlertmanagerBackend(sources.alertmanager) if sources.alertmanager.enabled else None,
        cluster=KubernetesBackend(sources.kubernetes) if sources.kubernetes.enabled else None,
        log_backend=LokiBackend(sources.loki) if sources.loki.enabled else None,
    )
    configured = (composite.metrics, composite.log_backend, composite.cluster, composite.alerts)
    return composite if any(b is not None for b in configured) else None


def _replayed_world(
    bundle: ScenarioBundle, ledger: ActionLog, incident_id: str | None
) -> ReplayWorld:
    """A fresh world, with the effects of actions this incident already carried out."""
    world = ReplayWorld(bundle)
    if incident_id is not None:
        for entry in ledger.entries(incident_id):
            # "started" too: an action interrupted by a crash may well have reached its target
            if entry.status in ("started", "succeeded"):
                world.apply(entry.action)
    return world


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    scenario: Path | None = None,
    incident_id: str | None = None,
    mode: Mode | None = None,
    registry: PatternRegistry | None = None,
    executor: Executor | None = None,
    reasoner: Reasoner | None = None,
    grouped_alerts: Callable[[str], list[Alert]] | None = None,
    drain_notifications: bool = True,
) -> AsyncIterator[Runtime]:
    """Everything one run needs. On the way out, queued vendor notifications are delivered
    (for up to 30 s; what is left goes out from `firstline serve` or the next command),
    unless the caller runs its own delivery worker (`drain_notifications=False`)."""
    setup_logging_once(settings)
    database = open_database(settings.store)
    store = IncidentStore(database)
    if incident_id is not None:
        store.summary(incident_id)  # fail fast on an unknown id
        scenario = scenario or store.scenario_path(incident_id)
    # the audit log and the action ledger share the incident store's database
    audit = AuditLog(database)
    ledger = ActionLog(database)
    bundle = load_bundle(scenario) if scenario is not None else None
    world = _replayed_world(bundle, ledger, incident_id) if bundle else None
    source: EvidenceSource = (
        ReplaySource(world) if world else build_live_source(settings) or NoEvidenceSource()
    )
    chosen_executor: Executor = executor or (
        ReplayExecutor(world) if world else build_live_executor(settings)
    )
    delivery = build_delivery(settings.notify, database, utc_now)
    registry = registry or PatternRegistry.load(settings.patterns_dir)
    policy = build_policy(settings, mode, registry)
    pinned = bundle.now if bundle else None
    context = GraphContext(
        source=source,
        executor=chosen_executor,
        reasoner=reasoner
        or build_reasoner(
            settings.reasoning,
            registry,
            confidence_threshold=policy.confidence_threshold,
            ledger=LLM_USAGE,
        ),
        registry=registry,
        policy=policy,
        detector=get_detector(settings.detection.detector),
        store=store,
        audit=audit,
        ledger=ledger,
        notifiers=build_notifiers(settings, delivery),
        settings=settings.graph,
        clock=utc_now,
        evidence_clock=(lambda: pinned) if pinned else utc_now,
        source_timeout_seconds=settings.sources.source_timeout_seconds,
        gather_budget_seconds=settings.sources.budget_seconds,
        grouped_alerts=grouped_alerts,
    )
    async with open_checkpointer(settings.store, checkpoint_types()) as saver:
        yield Runtime(
            settings=settings,
            store=store,
            runner=IncidentRunner(context, saver),
            bundle=bundle,
            world=world,
            delivery=delivery,
        )
    if drain_notifications and delivery.enabled:
        await delivery.worker.drain(within_seconds=30)
