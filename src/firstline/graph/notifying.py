"""Sends a notification to every notifier; a failing notifier becomes a timeline note."""

from __future__ import annotations

from firstline.graph.deps import GraphDeps
from firstline.graph.recording import Note
from firstline.notify.base import Notification


async def notify_all(deps: GraphDeps, notification: Notification) -> list[Note]:
    notes: list[Note] = []
    for notifier in deps.notifiers:
        try:
            await notifier.send(notification)
        except Exception as exc:  # one broken channel must not silence the others
            notes.append(
                (f"notification via {notifier.name} failed", f"{type(exc).__name__}: {exc}")
            )
        else:
            notes.append((f"notified via {notifier.name}", notification.kind))
    return notes
