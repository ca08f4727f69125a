"""The public API for plug-in authors: import from here, not from firstline's internals.

Everything in `__all__` is stable. A user pattern, an evidence source, an executor, a
notifier or a reasoner written against these names keeps working across releases: a name
is not removed or renamed, a model does not lose a field, and a method does not change its
signature, unless CHANGELOG.md announces it first. New optional fields, new defaulted
attributes and new names may be added in any release, so a plug-in should not depend on a
model's exact list of fields.

What is here, and why (see docs/plugins.md):

- writing a pattern: `Pattern` (subclass it, expose an instance as `PATTERN` in a file in
  `patterns_dir`), the `PatternContext` its methods receive, the `Scorecard` and
  `PatternVerdict` they return, `MetricQuery` for the metrics it needs, `make_action` to
  build the actions it recommends, and the domain models it reads and returns (the alert,
  the evidence kinds, signals, hypotheses and actions);
- the ports a plug-in may implement: `EvidenceSource` (and the narrower metric, log,
  cluster and alert backends it is assembled from), `Executor`, `Notifier` and
  `VendorNotifier`, `Reasoner`, with the models in their signatures;
- the root errors (`firstline.errors`), typed by what the caller should do about them.

Anything imported from another `firstline` module is internal and may change without
notice. Importing this module is light: it never imports the graph (langgraph), the HTTP
service (fastapi, uvicorn) or a model client.
"""

from __future__ import annotations

from firstline.actions.base import (
    ExecutionOutcome,
    Executor,
    Preflight,
    ReconcileResult,
    Reconciliation,
)
from firstline.actions.catalog import make_action
from firstline.domain.action import (
    ActionType,
    ParamValue,
    RemediationAction,
    Risk,
    Target,
)
from firstline.domain.alert import Alert, AlertStatus, Severity
from firstline.domain.evidence import (
    AnomalyFinding,
    ChangeEvidence,
    ChangeRecord,
    Condition,
    ContainerSpec,
    DatabaseActivityEvidence,
    Deployment,
    DeploymentEvidence,
    EventEvidence,
    Evidence,
    EvidenceSet,
    EvidenceStatus,
    KubeEvent,
    LogEntry,
    LogEvidence,
    LogTemplate,
    MetricEvidence,
    MetricPoint,
    NodeCondition,
    NodeEvidence,
    NodeState,
    PodEvidence,
    PodState,
    Provenance,
    RelatedAlertsEvidence,
    Revision,
    StatementActivity,
)
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis, RuledOut, ServiceRanking
from firstline.domain.query import MetricQuery, QueryScope
from firstline.domain.signal import Signal
from firstline.errors import (
    Conflict,
    FirstlineError,
    InvalidInput,
    NeedsPerson,
    NotAllowed,
    NotFound,
    PermanentError,
    TemporaryError,
)
from firstline.knowledge.catalog import AlertPrior, Strength
from firstline.notify.base import (
    DeliveryContext,
    DeliveryError,
    Notification,
    Notifier,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    VendorNotifier,
)
from firstline.notify.content import IncidentDigest
from firstline.patterns.base import Pattern, PatternContext, PatternVerdict, Scorecard
from firstline.reasoning.base import FailedAttempt, Reasoner, ReasoningInput
from firstline.signals.collect import SignalSet
from firstline.signals.scope import WorkloadScope
from firstline.sources.base import (
    AlertBackend,
    ClusterBackend,
    EvidenceSource,
    LogBackend,
    MetricBackend,
)

__all__ = [
    "ActionType",
    "Alert",
    "AlertBackend",
    "AlertPrior",
    "AlertStatus",
    "Analysis",
    "AnomalyFinding",
    "ChangeEvidence",
    "ChangeRecord",
    "ClusterBackend",
    "Condition",
    "Conflict",
    "ContainerSpec",
    "DatabaseActivityEvidence",
    "DeliveryContext",
    "DeliveryError",
    "Deployment",
    "DeploymentEvidence",
    "EventEvidence",
    "Evidence",
    "EvidenceSet",
    "EvidenceSource",
    "EvidenceStatus",
    "ExecutionOutcome",
    "Executor",
    "FailedAttempt",
    "FirstlineError",
    "IncidentDigest",
    "InvalidInput",
    "KubeEvent",
    "LogBackend",
    "LogEntry",
    "LogEvidence",
    "LogTemplate",
    "MetricBackend",
    "MetricEvidence",
    "MetricPoint",
    "MetricQuery",
    "NeedsPerson",
    "NodeCondition",
    "NodeEvidence",
    "NodeState",
    "NotAllowed",
    "NotFound",
    "Notification",
    "Notifier",
    "ParamValue",
    "Pattern",
    "PatternContext",
    "PatternVerdict",
    "PermanentDeliveryError",
    "PermanentError",
    "PodEvidence",
    "PodState",
    "Preflight",
    "Provenance",
    "QueryScope",
    "Reasoner",
    "ReasoningInput",
    "ReconcileResult",
    "Reconciliation",
    "RelatedAlertsEvidence",
    "RemediationAction",
    "Revision",
    "Risk",
    "RootCauseHypothesis",
    "RuledOut",
    "Scorecard",
    "ServiceRanking",
    "Severity",
    "Signal",
    "SignalSet",
    "StatementActivity",
    "Strength",
    "Target",
    "TemporaryDeliveryError",
    "TemporaryError",
    "VendorNotifier",
    "WorkloadScope",
    "make_action",
]
