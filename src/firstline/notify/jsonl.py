"""Appends notifications as JSON lines: one object per line, for tools to tail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from firstline.notify.base import Notification


class JsonLinesNotifier:
    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, notification: Notification) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"sent_at": datetime.now(UTC).isoformat(), **notification.model_dump(mode="json")}
        line = json.dumps(record, default=str, sort_keys=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
