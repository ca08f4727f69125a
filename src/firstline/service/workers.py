"""The worker pool: investigations from the durable queue, at most `workers` at once.

A worker claims the oldest queued incident in a transaction, with a lease it renews while
the run goes on, so no incident runs twice, whichever replica claims it. A run whose
worker died (its lease expired, or its process on this host is gone) is claimed again and
continues from its checkpoint; the action ledger keeps side effects from repeating. A
worker that finds its lease taken over stops its run: the new owner carries it on.

A store failure (busy or unavailable) never ends a worker: the run is given back to the
queue without counting an attempt, once the store takes the write again, and continues
from its checkpoint.

Everything that runs the graph runs on the pool's own event loop, in a thread of its own:
the investigations, the approval sweep, the resumes after a person's decision (`call`) and
the notification delivery. Their SQLite writes are synchronous and may wait for a lock
(another writer, a large delivery being stored); they must never hold up the server's
loop, which answers probes and webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import structlog

from firstline.domain.incident import IncidentStatus
from firstline.graph.approvals import (
    ApprovalError,
    ApprovalResult,
    Claim,
    apply_claim,
    claim_decision,
    resume_decided,
)
from firstline.graph.runner import RunOutcome
from firstline.graph.state import IncidentState
from firstline.service.context import ServiceContext
from firstline.store.errors import StoreError
from firstline.store.incidents import UnknownIncident
from firstline.store.intake import IntakeStore, QueueState
from firstline.store.leases import new_owner, owner_gone
from firstline.store.settings import StoreSettings

log = structlog.get_logger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 30.0


def store_failure(exc: BaseException) -> StoreError | None:
    """The store failure behind `exc`, if that is what stopped a run (a node's write, the
    checkpointer's, or the worker's own bookkeeping: every store raises StoreError kinds)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StoreError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class WorkerPool:
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        idle_poll_seconds: float = 1.0,
        sweep_interval_seconds: float = 30.0,
    ) -> None:
        self.ctx = ctx
        self.idle_poll_seconds = idle_poll_seconds
        self.sweep_interval_seconds = sweep_interval_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._startup: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._stop_sending: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.running: set[str] = set()
        self.owner = new_owner()
        """This pool's name on the leases it holds."""

    async def start(self) -> None:
        """Start the pool's loop in its own thread, and the workers on it."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="firstline-workers", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        await self._on_loop(self._begin)

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run graph work (resuming a run after a decision) on the pool's loop, where the
        runner's checkpointer lives, and wait for it here. The work is shielded: a caller
        that goes away does not cut a resumed run in half."""
        if self._loop is None:  # not started (an app built without workers): run here
            return await work()
        return await asyncio.shield(self._on_loop(work))

    async def _on_loop(self, work: Callable[[], Awaitable[T]]) -> T:
        assert self._loop is not None

        async def run() -> T:
            return await work()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))

    async def _begin(self) -> None:
        self.ctx.work_available.bind()
        requeued = self.ctx.intake.requeue_interrupted(partial(owner_gone, me=self.owner))
        if requeued:
            log.info("resuming interrupted investigations", incidents=len(requeued))
        # one-shot, so kept out of the tasks whose ending would mean "not ready"
        self._startup = asyncio.create_task(self._finish_decided(), name="firstline-decided")
        self._tasks = [
            asyncio.create_task(self._work(n), name=f"firstline-worker-{n}")
            for n in range(self.ctx.settings.workers)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name="firstline-approval-sweep"))
        store = self.ctx.store_settings
        if (
            store is not None
            and store.compact_interval_seconds is not None
            and isinstance(self.ctx.intake, IntakeStore)
        ):
            self._tasks.append(
                asyncio.create_task(
                    self._maintain(store, store.compact_interval_seconds),
                    name="firstline-compaction",
                )
            )
        delivery = self.ctx.delivery
        if delivery is not None and delivery.enabled:  # what was left before a restart too
            self._stop_sending = asyncio.Event()
            self._sender = asyncio.create_task(
                delivery.worker.run_forever(self._stop_sending), name="firstline-delivery"
            )

    @property
    def alive(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    def live_workers(self) -> int:
        """Investigation workers still running (the sweep is not counted)."""
        return sum(
            1 for t in self._tasks if t.get_name().startswith("firstline-worker-") and not t.done()
        )

    async def stop(self) -> None:
        """Stop the workers (a run cut here stays 'running' and is requeued at the next
        start), let the delivery worker finish its round, then end the pool's loop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        await self._on_loop(self._end)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()
        self._loop = self._thread = None

    async def _end(self) -> None:
        tasks = [*self._tasks, *([self._startup] if self._startup else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._sender is not None and self._stop_sending is not None:
            self._stop_sending.set()
            await self._sender
            self._sender = None

    async def _work(self, number: int) -> None:
        while True:
            try:
                claimed = self.ctx.intake.claim_next(
                    self.ctx.clock(), owner=self.owner, lease_seconds=self.lease_seconds
                )
            except StoreError as exc:  # store locked or unavailable: back off
                log.warning("queue claim failed; retrying", worker=number, error=str(exc))
                await asyncio.sleep(self.idle_poll_seconds)
                continue
            if claimed is None:
                self.ctx.work_available.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.ctx.work_available.wait(), timeout=self.idle_poll_seconds
                    )
                continue
            incident_id, attempt = claimed
            self.running.add(incident_id)
            run = asyncio.create_task(self._investigate(incident_id, attempt))
            keeper = asyncio.create_task(self._keep_lease(incident_id, run))
            try:
                await run  # cancelling this worker (the pool stops) cancels the run too
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                # only the run was cancelled: its lease was lost; take the next one
            finally:
                keeper.cancel()
                self.running.discard(incident_id)

    @property
    def lease_seconds(self) -> float:
        return self.ctx.lease_seconds

    async def _keep_lease(self, incident_id: str, run: asyncio.Task[Any]) -> None:
        """Renew the run's lease a few times per lease period; if another worker has taken
        it over (this one was stalled or cut off from the store for longer than a lease),
        stop the run here: carrying on would run the incident twice."""
        while not run.done():
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = self.ctx.intake.renew(
                    incident_id, self.ctx.clock(), owner=self.owner,
                    lease_seconds=self.lease_seconds,
                )  # fmt: skip
            except StoreError as exc:  # cannot tell now; the next renewal may
                log.warning("lease renewal failed", incident_id=incident_id, error=str(exc))
                continue
            if not held and not run.done():
                log.warning(
                    "lease lost; another worker carries the run on", incident_id=incident_id
                )
                run.cancel()
                return

    async def _investigate(self, incident_id: str, attempt: int) -> None:
        try:
            outcome = await self._run(incident_id)
            self.record(incident_id, outcome)
        except asyncio.CancelledError:
            raise  # shutting down or lease lost: the row stays 'running' for whoever is next
        except Exception as exc:  # one bad incident must not stop the pool
            failure = store_failure(exc)
            if failure is not None:
                log.warning("store failed during a run; retrying later",
                            incident_id=incident_id, error=str(failure))  # fmt: skip
                await self._when_store_allows(
                    partial(self.ctx.intake.release, incident_id, owner=self.owner)
                )
                self.ctx.work_available.set()
                return
            log.exception("investigation failed", incident_id=incident_id, attempt=attempt)
            await self._when_store_allows(partial(self._failed, incident_id, attempt, exc))

    def _failed(self, incident_id: str, attempt: int, exc: Exception) -> None:
        ctx = self.ctx
        if attempt < MAX_ATTEMPTS:
            ctx.intake.set_queue_state(
                incident_id, QueueState.QUEUED, ctx.clock(), owner=self.owner
            )
            return
        ctx.store.update(
            incident_id,
            status=IncidentStatus.ESCALATED,
            summary=f"investigation failed {attempt} times: {type(exc).__name__}: {exc}",
        )
        ctx.intake.set_queue_state(incident_id, QueueState.DONE, ctx.clock(), owner=self.owner)
        ctx.metrics.investigations.labels("failed").inc()

    async def _when_store_allows(self, write: Callable[[], None]) -> None:
        """Retry a bookkeeping write until the store takes it, backing off (capped)."""
        delay = self.idle_poll_seconds
        while True:
            try:
                write()
                return
            except StoreError as exc:
                log.warning("store unavailable; retrying", error=str(exc), in_seconds=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    def record(self, incident_id: str, outcome: RunOutcome, *, owner: str | None = None) -> None:
        """Queue state and metrics after a run or a resumed run."""
        state = QueueState.PAUSED if outcome.paused else QueueState.DONE
        self.ctx.intake.set_queue_state(incident_id, state, self.ctx.clock(), owner=owner)
        if outcome.paused:
            self._resume_if_decided(incident_id)
        self.ctx.metrics.investigations.labels(outcome.state.status.value).inc()
        head = self.ctx.metrics.audit_head() if self.ctx.metrics.audit_head else None
        if head is not None:  # an external anchor for whoever ships the logs (docs/audit.md)
            log.info("audit head", incident_id=incident_id, anchor=head.anchor)

    def _resume_if_decided(self, incident_id: str) -> None:
        """A person can answer while the run is still on its way to pausing (the request is
        visible before the run's checkpoint and queue row say paused): their decision found
        no paused run to resume. The run goes back to the queue now, rather than waiting
        for a person who has already answered."""
        record = self.ctx.store.approval(incident_id)
        if record is None or not record.decided:
            return
        if self.ctx.intake.queue_resume(incident_id, self.ctx.clock()):
            log.info("queued an approval decided while the run paused", incident_id=incident_id)
            self.ctx.work_available.set()

    async def _finish_decided(self) -> None:
        """Runs whose approval was decided but never applied (the process that took the
        decision died first, or left it to the workers), also those the queue never had
        (started from the CLI, decided through Slack): back to the queue, where a worker
        claims each under a lease, so two replicas starting at once never both resume one."""
        paused = self.ctx.intake.incidents_in(QueueState.PAUSED)
        waiting = self.ctx.store.decided_but_waiting()
        for incident_id in dict.fromkeys([*paused, *waiting]):
            record = self.ctx.store.approval(incident_id)
            if record is None or not record.decided:
                continue  # still waiting for a person
            if self.ctx.intake.queue_resume(incident_id, self.ctx.clock()):
                log.info("queued a decided approval to resume", incident_id=incident_id)
        self.ctx.work_available.set()

    async def apply_decision(self, claim: Claim) -> ApprovalResult | None:
        """Resume a run with a person's decision (already recorded: `claim_decision`). A
        process with workers resumes it now, under a lease on the run; one without them
        (`serve --no-workers`) leaves it to whichever worker claims it next, so intake never
        needs the credentials actions use. None when the run was handed on or another
        worker is already resuming it: the recorded decision is what that worker applies."""
        verdict = "expired" if claim.expired else ("approved" if claim.approved else "rejected")
        self.ctx.metrics.approvals.labels(verdict).inc()
        if self._loop is None:
            self.ctx.intake.queue_resume(claim.incident_id, self.ctx.clock())
            self.ctx.work_available.set()
            return None
        return await self.call(partial(self._resume_leased, claim))

    async def _resume_leased(self, claim: Claim) -> ApprovalResult | None:
        incident_id = claim.incident_id
        if not self.ctx.intake.claim_paused(
            incident_id, self.ctx.clock(), owner=self.owner, lease_seconds=self.lease_seconds
        ):
            return None
        self.running.add(incident_id)
        resumed = asyncio.create_task(apply_claim(self.ctx.runner, claim))
        keeper = asyncio.create_task(self._keep_lease(incident_id, resumed))
        try:
            result = await resumed
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return None  # the lease was lost: the worker that took it over carries on
        except Exception:  # the decision stands: a worker resumes the run from the queue
            await self._when_store_allows(
                partial(self.ctx.intake.release, incident_id, owner=self.owner)
            )
            self.ctx.work_available.set()
            raise
        finally:
            keeper.cancel()
            self.running.discard(incident_id)
        self.record(incident_id, result.outcome, owner=self.owner)
        return result

    async def _maintain(self, store: StoreSettings, interval: float) -> None:
        """Compact finished runs' checkpoints and apply retention, now and then. Every
        replica may do it: each step is idempotent, and the jitter spreads them out."""
        from firstline.store.retention import compact

        assert isinstance(self.ctx.intake, IntakeStore)
        while True:
            await asyncio.sleep(interval * random.uniform(0.5, 1.0))
            try:
                report = await compact(
                    intake=self.ctx.intake, checkpointer=self.ctx.runner.checkpointer,
                    now=self.ctx.clock(), settings=store,
                )  # fmt: skip
            except StoreError as exc:
                log.warning("compaction failed; retrying later", error=str(exc))
                continue
            except Exception:  # a bug here must not make the workers unready
                log.exception("compaction failed")
                continue
            if report.checkpoints_deleted or report.incidents_deleted:
                log.info("compacted", runs=len(report.checkpoints_deleted),
                         incidents_deleted=len(report.incidents_deleted))  # fmt: skip

    async def _sweep(self) -> None:
        """Escalate runs whose approval request expired, as `firstline sweep` does."""
        while True:
            await asyncio.sleep(self.sweep_interval_seconds)
            try:
                await self.sweep_expired()
            except StoreError as exc:
                log.warning("approval sweep failed; retrying", error=str(exc))

    async def sweep_expired(self) -> list[str]:
        escalated = []
        now = self.ctx.clock()
        for record in self.ctx.store.pending_approvals():
            if record.expires_at >= now:
                continue
            try:
                claim = await claim_decision(
                    self.ctx.runner, record.incident_id, approved=False, by="firstline"
                )
            except (ApprovalError, UnknownIncident):
                continue  # decided meanwhile, or not this server's
            escalated.append(record.incident_id)
            try:
                await self.apply_decision(claim)
            except Exception:  # recorded and queued: a worker finishes it; sweep on
                log.exception(
                    "escalating an expired approval failed", incident_id=claim.incident_id
                )
        return escalated

    async def _run(self, incident_id: str) -> RunOutcome:
        runner = self.ctx.runner
        decided = await resume_decided(runner, incident_id)  # handed on after a decision
        if decided is not None:
            return decided.outcome
        timer = _StageTimer(self.ctx)
        if await runner.current(incident_id) is not None:
            return await runner.continue_interrupted(incident_id, on_stage=timer)
        alert = self.ctx.intake.primary_alert(incident_id)
        if alert is None:
            raise LookupError(f"incident {incident_id} has no stored alert")
        return await runner.start(alert, incident_id=incident_id, on_stage=timer)


class _StageTimer:
    """Stage latency: the time between one graph update and the next."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.last = time.perf_counter()

    def __call__(self, stage: str, state: IncidentState | None) -> None:
        now = time.perf_counter()
        self.ctx.metrics.stage_seconds.labels(stage).observe(now - self.last)
        self.last = now
