"""Run a command beside a bounded CPU burner, as on a loaded CI machine.

    python -m tests.services.cpu_burner [--processes N] [--max-seconds S] -- COMMAND...

Starts N spinning processes (default: one per core), runs COMMAND, stops the burners
when it ends (or after S seconds, default 3600, whichever is first) and exits with
COMMAND's exit code. The burners also stop by themselves if this process dies.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def _burn(until: float, parent: int) -> None:
    while time.monotonic() < until:
        for _ in range(200_000):  # about 10 ms of work between checks
            pass
        if os.getppid() != parent:  # the runner died: stop too
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    until = time.monotonic() + args.max_seconds
    burners = [
        multiprocessing.Process(target=_burn, args=(until, os.getpid()), daemon=True)
        for _ in range(args.processes)
    ]
    for burner in burners:
        burner.start()
    print(f"cpu_burner: {len(burners)} burner(s) for at most {args.max_seconds:g} s", flush=True)
    try:
        return subprocess.call(command)
    finally:
        for burner in burners:
            burner.terminate()
        for burner in burners:
            burner.join(timeout=10)
        print("cpu_burner: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
