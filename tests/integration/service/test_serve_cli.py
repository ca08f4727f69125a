"""`firstline serve` refuses to start with an endpoint anyone could post to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_serve_without_webhook_auth_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTLINE_")}
    env["FIRSTLINE_STORE__DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "firstline", "serve", "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no webhook authentication configured")
    assert "listening" not in done.stderr + done.stdout
