"""Dedup, grouping, self-resolution and the durable queue with its leases, on a real SQLite
file and a real PostgreSQL (tests/stores.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from firstline.domain.alert import Alert, AlertStatus, fingerprint_labels
from firstline.domain.incident import IncidentStatus, new_incident_id
from firstline.intake.grouping import group_key
from firstline.store.database import Database
from firstline.store.incidents import IncidentStore
from firstline.store.intake import IntakeStore, Outcome, QueueState

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
GROUP_BY = ("alertname", "namespace", "service")


def alert(pod: str = "checkout-1", *, name: str = "HighErrorRate", status: str = "firing",
          service: str = "checkout") -> Alert:  # fmt: skip
    labels = {"alertname": name, "namespace": "shop", "service": service, "pod": pod}
    return Alert(
        source="alertmanager", name=name, status=AlertStatus(status), labels=labels,
        starts_at=T0, fingerprint=fingerprint_labels(labels),
    )  # fmt: skip


@pytest.fixture
def stores(database: Database) -> tuple[IntakeStore, IncidentStore]:
    return IntakeStore(database), IncidentStore(database)


def ingest(intake: IntakeStore, *alerts: Alert, at: datetime = T0) -> list[Outcome]:
    keys = [group_key(a, GROUP_BY) for a in alerts]
    return intake.ingest(alerts, keys, now=at, group_window=WINDOW).outcomes


def investigate_and_escalate(intake: IntakeStore, store: IncidentStore) -> str:
    """What a worker does with the next queued incident when its run escalates."""
    claimed = intake.claim_next(T0)
    assert claimed is not None
    store.update(claimed[0], status=IncidentStatus.ESCALATED)
    intake.set_queue_state(claimed[0], QueueState.DONE, T0)
    return claimed[0]


def test_alerts_of_one_group_make_one_incident(stores: tuple[IntakeStore, IncidentStore]) -> None:
    intake, store = stores
    outcomes = ingest(intake, alert("a"), alert("b"), alert("c"))
    assert outcomes == [Outcome.NEW_INCIDENT, Outcome.JOINED, Outcome.JOINED]
    [incident] = store.list_incidents()
    assert [a.labels["pod"] for a in intake.alerts_of(incident.id)] == ["a", "b", "c"]
    assert intake.queue_depth() == {"queued": 1}
    events = [e.event for e in store.timeline(incident.id)]
    assert events == ["alert received", "2 related alerts joined"], "one entry per delivery"
    ingest(intake, alert("d"), at=T0 + timedelta(seconds=5))
    assert store.timeline(incident.id)[-1].event == "related alert joined"


def test_other_groups_make_other_incidents(stores: tuple[IntakeStore, IncidentStore]) -> None:
    intake, store = stores
    ingest(intake, alert(service="checkout"), alert(service="search"), alert(name="PodOOM"))
    assert len(store.list_incidents()) == 3
    assert intake.queue_depth() == {"queued": 3}


def test_a_repeat_updates_and_is_not_a_second_investigation(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, store = stores
    ingest(intake, alert())
    investigate_and_escalate(intake, store)
    # Alertmanager re-sends firing alerts every repeat_interval, after firstline concluded
    assert ingest(intake, alert(), at=T0 + timedelta(hours=4)) == [Outcome.UPDATED]
    assert len(store.list_incidents()) == 1
    assert intake.alert_counts() == (1, 2)


def test_firing_again_after_resolving_is_a_new_incident_once_the_old_one_closed(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, store = stores
    ingest(intake, alert())
    first = investigate_and_escalate(intake, store)
    ingest(intake, alert(status="resolved"), at=T0 + timedelta(minutes=5))
    assert store.summary(first).status is IncidentStatus.CLOSED
    assert ingest(intake, alert(), at=T0 + timedelta(minutes=10)) == [Outcome.NEW_INCIDENT]
    assert len(store.list_incidents()) == 2


def test_all_alerts_resolving_before_investigation_self_resolves(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, store = stores
    ingest(intake, alert("a"), alert("b"))
    [incident] = store.list_incidents()
    assert ingest(intake, alert("a", status="resolved")) == [Outcome.RESOLVED]
    assert store.summary(incident.id).status is IncidentStatus.OPEN
    assert ingest(intake, alert("b", status="resolved")) == [Outcome.SELF_RESOLVED]
    assert store.summary(incident.id).status is IncidentStatus.SELF_RESOLVED
    assert intake.claim_next(T0) is None, "a self-resolved incident is never investigated"


def test_resolving_during_an_investigation_leaves_it_to_verification(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, store = stores
    ingest(intake, alert())
    claimed = intake.claim_next(T0)
    assert claimed is not None
    assert ingest(intake, alert(status="resolved")) == [Outcome.RESOLVED]
    assert store.summary(claimed[0]).status is IncidentStatus.OPEN
    store.update(claimed[0], status=IncidentStatus.ESCALATED)
    intake.set_queue_state(claimed[0], QueueState.DONE, T0)
    assert store.summary(claimed[0]).status is IncidentStatus.CLOSED, "closed when the run ends"


def test_the_group_window_bounds_joining(stores: tuple[IntakeStore, IncidentStore]) -> None:
    intake, store = stores
    ingest(intake, alert("a"))
    assert ingest(intake, alert("b"), at=T0 + WINDOW - timedelta(seconds=1)) == [Outcome.JOINED]
    assert ingest(intake, alert("c"), at=T0 + WINDOW + timedelta(seconds=1)) == [
        Outcome.NEW_INCIDENT
    ]
    assert len(store.list_incidents()) == 2


def test_an_unknown_resolved_alert_is_kept_without_an_incident(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, store = stores
    assert ingest(intake, alert(status="resolved")) == [Outcome.RESOLVED_UNKNOWN]
    assert store.list_incidents() == []
    assert intake.alert_counts() == (1, 1)


def test_claims_are_oldest_first_and_exclusive(stores: tuple[IntakeStore, IncidentStore]) -> None:
    intake, store = stores
    ingest(intake, alert(service="one"))
    ingest(intake, alert(service="two"), at=T0 + timedelta(seconds=1))
    first, second = intake.claim_next(T0), intake.claim_next(T0)
    assert first is not None and second is not None
    assert store.summary(first[0]).created_at < store.summary(second[0]).created_at
    assert intake.claim_next(T0) is None


def test_runs_interrupted_by_a_crash_are_requeued(
    stores: tuple[IntakeStore, IncidentStore], database: Database
) -> None:
    intake, _ = stores
    ingest(intake, alert())
    claimed = intake.claim_next(T0)
    assert claimed is not None
    intake.close()
    restarted = IntakeStore(database)
    assert restarted.requeue_interrupted() == [claimed[0]]
    again = restarted.claim_next(T0)
    assert again == (claimed[0], 2), "the same incident, second attempt"


def test_a_lease_is_renewed_by_its_owner_only_and_taken_over_once_expired(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores
    ingest(intake, alert())
    claimed = intake.claim_next(T0, owner="a/1/x", lease_seconds=30)
    assert claimed is not None
    incident = claimed[0]
    assert intake.renew(incident, T0 + timedelta(seconds=20), owner="a/1/x", lease_seconds=30)
    assert not intake.renew(incident, T0, owner="b/2/y"), "not b's lease"
    # renewed at +20 s for 30 s: still held at +49 s, expired at +50 s
    assert intake.claim_next(T0 + timedelta(seconds=49), owner="b/2/y") is None
    taken = intake.claim_next(T0 + timedelta(seconds=50), owner="b/2/y", lease_seconds=30)
    assert taken == (incident, 2), "the expired run, on its second attempt"
    assert not intake.renew(incident, T0 + timedelta(seconds=51), owner="a/1/x")
    # the first owner's late bookkeeping changes nothing; the new owner's does
    intake.set_queue_state(incident, QueueState.DONE, T0, owner="a/1/x")
    assert intake.queue_entry(incident) == ("running", 2)
    intake.set_queue_state(incident, QueueState.DONE, T0, owner="b/2/y")
    assert intake.queue_entry(incident) == ("done", 2)


def test_only_runs_of_owners_known_to_be_gone_are_requeued_at_start(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores
    ingest(intake, alert(service="one"), alert(service="two"))
    mine = intake.claim_next(T0, owner="host-a/1/old")
    theirs = intake.claim_next(T0, owner="host-b/7/n")
    assert mine is not None and theirs is not None
    back = intake.requeue_interrupted(
        lambda owner: owner is not None and owner.startswith("host-a/")
    )
    assert back == [mine[0]]
    assert intake.queue_entry(theirs[0]) == ("running", 1), "left to its lease"


def test_a_failed_batch_stores_nothing(stores: tuple[IntakeStore, IncidentStore]) -> None:
    intake, store = stores
    with pytest.raises(ValueError):
        intake.ingest([alert("a"), alert("b")], ["k"], now=T0, group_window=WINDOW)
    assert intake.alert_counts() == (0, 0)
    assert store.list_incidents() == []


def test_a_late_pause_never_overwrites_a_finished_run(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores
    ingest(intake, alert())
    claimed = intake.claim_next(T0)
    assert claimed is not None
    intake.set_queue_state(claimed[0], QueueState.DONE, T0)  # an approval resumed it to the end
    intake.set_queue_state(claimed[0], QueueState.PAUSED, T0)  # the worker records the pause late
    assert intake.queue_entry(claimed[0]) == ("done", 1)


def _paused(intake: IntakeStore, *, service: str = "checkout") -> str:
    ingest(intake, alert(service=service))
    claimed = intake.claim_next(T0, owner="w/1/a")
    assert claimed is not None
    intake.set_queue_state(claimed[0], QueueState.PAUSED, T0, owner="w/1/a")
    return claimed[0]


def test_a_paused_run_is_leased_to_one_resumer_only(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores
    incident = _paused(intake)
    assert intake.claim_paused(incident, T0, owner="api/2/b", lease_seconds=30)
    assert not intake.claim_paused(incident, T0, owner="api/3/c"), "b is resuming it"
    assert not intake.queue_resume(incident, T0), "not paused: nothing to hand on"
    assert intake.queue_entry(incident) == ("running", 1), "a resume is not a new attempt"
    # b's lease works like a claimed run's: renewed by b only, taken over once expired
    assert intake.renew(incident, T0 + timedelta(seconds=10), owner="api/2/b", lease_seconds=30)
    assert not intake.renew(incident, T0, owner="api/3/c")
    taken = intake.claim_next(T0 + timedelta(seconds=40), owner="w/4/d")
    assert taken == (incident, 2)


def test_a_decided_run_handed_on_keeps_its_place_ahead_of_newer_incidents(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores
    incident = _paused(intake)
    ingest(intake, alert(service="newer"), at=T0 + timedelta(minutes=5))
    assert intake.queue_resume(incident, T0 + timedelta(minutes=10))
    assert not intake.queue_resume(incident, T0 + timedelta(minutes=10)), "queued already"
    assert not intake.claim_paused(incident, T0, owner="api/2/b"), "queued, not paused"
    claimed = intake.claim_next(T0 + timedelta(minutes=11), owner="w/5/e")
    assert claimed == (incident, 2), "the person's decision goes before the newer incident"


def test_a_run_the_queue_never_had_gets_a_row_when_resumed(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    intake, _ = stores  # started from the CLI: an incident with no queue row
    assert intake.queue_entry("inc-from-cli") is None
    assert intake.queue_resume("inc-from-cli", T0)
    assert intake.queue_entry("inc-from-cli") == ("queued", 0)
    assert intake.claim_paused("inc-other-cli", T0, owner="api/2/b")
    assert intake.queue_entry("inc-other-cli") == ("running", 0)
    assert not intake.claim_paused("inc-other-cli", T0, owner="api/3/c")


def test_twenty_thousand_new_groups_in_one_delivery_get_distinct_incident_ids(
    stores: tuple[IntakeStore, IncidentStore],
) -> None:
    # one second, one transaction: the old `inc-<second>-<6 hex>` ids collided here
    intake, _ = stores
    alerts = [alert(f"pod-{i}", service=f"svc-{i}") for i in range(20_000)]
    outcomes = ingest(intake, *alerts)
    assert outcomes == [Outcome.NEW_INCIDENT] * 20_000
    assert len(intake.incidents_in(QueueState.QUEUED)) == 20_000


def test_incident_ids_are_ulids_that_sort_by_creation_time() -> None:
    later = [new_incident_id(T0 + timedelta(milliseconds=n)) for n in range(1, 1000)]
    ids = [new_incident_id(T0), *later]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for incident in ids[:3]:
        assert incident.startswith("inc-") and len(incident) == 30
        assert ULID.from_str(incident.removeprefix("inc-").upper()).datetime <= T0 + timedelta(
            seconds=1
        )
