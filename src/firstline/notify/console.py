"""Prints notifications to the terminal (stderr, so --json output on stdout stays clean)."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel

from firstline.notify.base import Notification

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


class ConsoleNotifier:
    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    async def send(self, notification: Notification) -> None:
        self.console.print(
            Panel(
                notification.body,
                title=notification.title,
                border_style=_STYLE.get(notification.severity, "white"),
                expand=False,
            )
        )
