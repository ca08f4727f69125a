"""Hands a notification to every notifier.

Local notifiers (console, JSON lines) send at once. The outbox notifier only records the
notification for the delivery worker, which sends it to PagerDuty, Slack and the rest with
retries; the graph never waits on a vendor. A failing notifier becomes a timeline note.
"""

from __future__ import annotations

from dataclasses import replace

from firstline.graph.context import GraphContext
from firstline.graph.recording import Note
from firstline.graph.report import acting_notification
from firstline.graph.state import IncidentState
from firstline.notify.base import Enqueuer, Notification


async def notify_all(ctx: GraphContext, notification: Notification) -> list[Note]:
    notes: list[Note] = []
    for notifier in ctx.notifiers:
        try:
            if isinstance(notifier, Enqueuer):
                queued = notifier.enqueue(notification)
            else:
                await notifier.send(notification)
        except Exception as exc:  # one broken channel must not silence the others
            notes.append(
                (f"notification via {notifier.name} failed", f"{type(exc).__name__}: {exc}")
            )
            continue
        if not isinstance(notifier, Enqueuer):
            notes.append((f"notified via {notifier.name}", notification.kind))
        elif queued:
            notes.append((f"queued notification for {', '.join(queued)}", notification.event_key))
    return notes


async def notify_acting(state: IncidentState, ctx: GraphContext) -> list[Note]:
    """Tell the paging tools that firstline is acting now (PagerDuty acknowledges, Slack
    updates its message). Called by `remediate` before it carries out the actions.
    Only queued notifiers get it: the terminal already shows remediation as it happens."""
    queued = [n for n in ctx.notifiers if isinstance(n, Enqueuer)]
    if not queued:
        return []
    return await notify_all(replace(ctx, notifiers=queued), acting_notification(state))
