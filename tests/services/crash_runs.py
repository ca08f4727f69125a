"""A child process that carries incident runs to their end, one after another, resuming
what a previous (killed) child left unfinished exactly as the server's workers do: from
the checkpoint if there is one, else from the start with the stored incident.

    python -m tests.services.crash_runs DATA_DIR COUNT

Prints `done <id>` per finished run and `failed <id> <error>` for a run that raised.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from firstline.domain.incident import new_incident_id
from firstline.policy.schema import Mode
from firstline.scenarios.bundled import bundled_dir
from firstline.scenarios.loader import load_bundle
from firstline.store.incidents import IncidentStore
from firstline.wiring.runtime import open_runtime
from firstline.wiring.settings import load_settings

SCENARIO = bundled_dir() / "oom-kill-loop-checkout"


async def carry(data_dir: Path, count: int) -> None:
    settings = load_settings(store={"data_dir": data_dir})
    store = IncidentStore(settings.store.incidents_db)
    alert = load_bundle(SCENARIO).primary_alert
    while True:
        known = store.list_incidents(1000, None)
        unfinished = [s.id for s in known if not s.status.final]
        if not unfinished and len(known) >= count:
            return
        if unfinished:
            incident_id = unfinished[0]
        else:
            incident_id = new_incident_id(datetime.now(UTC))
            store.create(incident_id, alert.name, alert.fingerprint, SCENARIO)
        try:
            async with open_runtime(settings, incident_id=incident_id, mode=Mode.AUTO) as rt:
                if await rt.runner.current(incident_id) is not None:
                    outcome = await rt.runner.continue_interrupted(incident_id)
                else:
                    outcome = await rt.runner.start(alert, incident_id=incident_id)
        except Exception as exc:
            print(f"failed {incident_id} {type(exc).__name__}: {exc}", flush=True)
            raise
        print(f"done {incident_id} {outcome.state.status.value}", flush=True)


if __name__ == "__main__":
    asyncio.run(carry(Path(sys.argv[1]), int(sys.argv[2])))
