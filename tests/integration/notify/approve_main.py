"""One approver in its own process: waits for the go file, then submits its decision.

    python -m tests.integration.notify.approve_main DATA_DIR INCIDENT_ID BY GO_FILE

Prints one JSON line: {"by", "ok", "message" | "error"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from firstline.graph.approvals import ApprovalError, submit_decision
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import load_settings


def _wait_for(go: Path) -> None:
    """Both processes are ready; the test releases them together by creating `go`."""
    while not go.exists():
        time.sleep(0.001)


async def main(data_dir: Path, incident_id: str, by: str, go: Path) -> None:
    settings = load_settings(store={"data_dir": data_dir})
    async with open_runtime(settings, incident_id=incident_id) as rt:
        print(json.dumps({"ready": by}), flush=True)
        await asyncio.to_thread(_wait_for, go)
        try:
            result = await submit_decision(
                rt.runner, incident_id, approved=True, by=by, channel="slack"
            )
        except ApprovalError as exc:
            print(json.dumps({"by": by, "ok": False, "error": str(exc)}), flush=True)
        else:
            print(json.dumps({"by": by, "ok": True, "message": result.message}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])))
