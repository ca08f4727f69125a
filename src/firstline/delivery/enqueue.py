"""The outbox as a notifier: the graph "sends" to it, and it records one row per routed
vendor notifier. Recording is idempotent, so a node that runs again queues nothing new."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from firstline.notify.base import Notification, VendorNotifier
from firstline.notify.routing import Router
from firstline.store.outbox import Outbox


class OutboxNotifier:
    name = "outbox"

    def __init__(
        self,
        outbox: Outbox,
        notifiers: Sequence[VendorNotifier],
        router: Router,
        clock: Callable[[], datetime],
    ) -> None:
        self.outbox = outbox
        self.notifiers = {n.name: n for n in notifiers}
        self.router = router
        self.clock = clock

    def enqueue(self, notification: Notification) -> list[str]:
        queued: list[str] = []
        payload = notification.model_dump_json()
        for name in self.router.select(notification):
            notifier = self.notifiers.get(name)
            if notifier is None or not notifier.handles(notification.kind):
                continue
            self.outbox.enqueue(
                incident_id=notification.incident_id,
                notifier=name,
                event_key=notification.event_key,
                kind=notification.kind,
                dedup_key=notifier.dedup_key(notification.incident_id),
                payload=payload,
                now=self.clock(),
            )
            queued.append(name)
        return queued

    async def send(self, notification: Notification) -> None:
        self.enqueue(notification)
