"""The slice of the Kubernetes JSON that firstline reads, as typed models.

The official client's own models are untyped and slow to build for large lists, so the client
asks for the raw JSON and parses it here. Unknown fields are ignored; fields the API omits or
sends as null fall back to empty values, so a sparse object (as an emulator or an old server
sends) still parses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _or_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _or_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _quantities(value: Any) -> Any:
    """Quantities are strings on the wire ("512Mi", "500m"), but hand-written objects carry
    plain numbers; keep both as text."""
    if isinstance(value, dict):
        return {k: str(v) for k, v in value.items() if v is not None}
    return _or_empty_dict(value)


def _aware(value: datetime) -> datetime:
    """The API always sends UTC with a Z; a timestamp without a zone is read as UTC rather
    than allowed to break comparisons with the incident window."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_aware)]
StrMap = Annotated[dict[str, str], BeforeValidator(_or_empty_dict)]
Quantities = Annotated[dict[str, str], BeforeValidator(_quantities)]
T = TypeVar("T")
ListOf = Annotated[list[T], BeforeValidator(_or_empty_list)]


class Wire(BaseModel):
    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class OwnerReference(Wire):
    kind: str
    name: str
    uid: str = ""
    controller: bool | None = None


class ObjectMeta(Wire):
    name: str
    namespace: str | None = None
    uid: str = ""
    creation_timestamp: Timestamp | None = None
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)
    owner_references: ListOf[OwnerReference] = Field(default_factory=list)

    def controller(self) -> OwnerReference | None:
        """The managing owner: the one flagged as controller, else the only one."""
        refs = self.owner_references
        flagged = [r for r in refs if r.controller]
        return flagged[0] if flagged else (refs[0] if len(refs) == 1 else None)


class KeyRef(Wire):
    name: str | None = None
    key: str | None = None


class FieldRef(Wire):
    field_path: str | None = None


class ResourceFieldRef(Wire):
    container_name: str | None = None
    resource: str | None = None


class EnvVarSource(Wire):
    config_map_key_ref: KeyRef | None = None
    secret_key_ref: KeyRef | None = None
    field_ref: FieldRef | None = None
    resource_field_ref: ResourceFieldRef | None = None


class EnvVar(Wire):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class NameRef(Wire):
    name: str | None = None


class EnvFromSource(Wire):
    prefix: str | None = None
    config_map_ref: NameRef | None = None
    secret_ref: NameRef | None = None


class Resources(Wire):
    limits: Quantities = Field(default_factory=dict)
    requests: Quantities = Field(default_factory=dict)


class Container(Wire):
    name: str
    image: str = ""
    env: ListOf[EnvVar] = Field(default_factory=list)
    env_from: ListOf[EnvFromSource] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)


class PodSpec(Wire):
    node_name: str | None = None
    containers: ListOf[Container] = Field(default_factory=list)


class TemplateMeta(Wire):
    labels: StrMap = Field(default_factory=dict)
    annotations: StrMap = Field(default_factory=dict)


class PodTemplate(Wire):
    metadata: TemplateMeta = Field(default_factory=TemplateMeta)
    spec: PodSpec = Field(default_factory=PodSpec)


class LabelSelector(Wire):
    match_labels: StrMap = Field(default_factory=dict)


class Condition(Wire):
    type: str
    status: str = "Unknown"
    reason: str | None = None
    message: str | None = None
    last_update_time: Timestamp | None = None
    last_transition_time: Timestamp | None = None


class DeploymentSpec(Wire):
    replicas: int | None = None
    selector: LabelSelector = Field(default_factory=LabelSelector)
    template: PodTemplate = Field(default_factory=PodTemplate)


class WorkloadStatus(Wire):
    replicas: int | None = None
    ready_replicas: int | None = None
    updated_replicas: int | None = None
    unavailable_replicas: int | None = None
    conditions: ListOf[Condition] = Field(default_factory=list)


class DeploymentObject(Wire):
    metadata: ObjectMeta
    spec: DeploymentSpec = Field(default_factory=DeploymentSpec)
    status: WorkloadStatus = Field(default_factory=WorkloadStatus)


class ReplicaSetSpec(Wire):
    replicas: int | None = None
    template: PodTemplate = Field(default_factory=PodTemplate)


class ReplicaSetObject(Wire):
    metadata: ObjectMeta
    spec: ReplicaSetSpec = Field(default_factory=ReplicaSetSpec)
    status: WorkloadStatus = Field(default_factory=WorkloadStatus)


class StateWaiting(Wire):
    reason: str | None = None
    message: str | None = None


class StateTerminated(Wire):
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    finished_at: Timestamp | None = None


class ContainerState(Wire):
    waiting: StateWaiting | None = None
    terminated: StateTerminated | None = None


class ContainerStatus(Wire):
    name: str
    ready: bool = False
    restart_count: int = 0
    state: ContainerState = Field(default_factory=ContainerState)
    last_state: ContainerState = Field(default_factory=ContainerState)


class PodStatus(Wire):
    phase: str | None = None
    reason: str | None = None
    message: str | None = None
    start_time: Timestamp | None = None
    conditions: ListOf[Condition] = Field(default_factory=list)
    container_statuses: ListOf[ContainerStatus] = Field(default_factory=list)
    init_container_statuses: ListOf[ContainerStatus] = Field(default_factory=list)


class PodObject(Wire):
    metadata: ObjectMeta
    spec: PodSpec = Field(default_factory=PodSpec)
    status: PodStatus = Field(default_factory=PodStatus)


class InvolvedObject(Wire):
    kind: str = ""
    name: str = ""
    namespace: str | None = None
    uid: str | None = None


class EventSeries(Wire):
    count: int | None = None
    last_observed_time: Timestamp | None = None


class EventObject(Wire):
    metadata: ObjectMeta
    involved_object: InvolvedObject = Field(default_factory=InvolvedObject)
    reason: str | None = None
    message: str | None = None
    type: str | None = None
    count: int | None = None
    first_timestamp: Timestamp | None = None
    last_timestamp: Timestamp | None = None
    event_time: Timestamp | None = None
    series: EventSeries | None = None

    @property
    def last_seen(self) -> datetime | None:
        """Old-style events carry lastTimestamp; events.k8s.io-style ones only eventTime and
        a series."""
        series = self.series.last_observed_time if self.series else None
        return series or self.last_timestamp or self.event_time or self.metadata.creation_timestamp


class NodeStatus(Wire):
    conditions: ListOf[Condition] = Field(default_factory=list)


class NodeObject(Wire):
    metadata: ObjectMeta
    status: NodeStatus = Field(default_factory=NodeStatus)


class ListMeta(Wire):
    continue_: str | None = Field(default=None, alias="continue")
    remaining_item_count: int | None = None


class ObjectList(Wire, Generic[T]):
    metadata: ListMeta = Field(default_factory=ListMeta)
    items: ListOf[T] = Field(default_factory=list)
