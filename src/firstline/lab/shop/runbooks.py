"""The lab's runbook scripts, which firstline runs through its custom_script executor
(docs/remediation/data-and-scripts.md): `rotate-storefront-cert` issues a fresh 90-day
storefront certificate from the lab CA, `clean-lab-volume` deletes the junk export files on
the lab volume; each has a `.check` for the reconcile (exit 0 applied, 1 not applied).

The executor passes only PATH, LANG, LC_ALL and TZ, so each script carries its paths in its
own text, written at install time: this Python, this firstline, this lab's directories."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import firstline
from firstline.lab.shop.certs import HEALTHY_DAYS, SERVER, issue, not_after
from firstline.lab.shop.volume import clean, junk_files, usage_percent
from firstline.lab.topology import Topology

ROTATE = "rotate-storefront-cert"
CLEAN = "clean-lab-volume"
MIN_VALID_DAYS = 30
CHECK = ".check"

SCRIPT = '''#!{python}
"""{name}: written by `firstline lab up` for the lab in {lab_dir}."""
import sys

sys.path.insert(0, {src!r})
from firstline.lab.shop.runbooks import {function}

sys.exit({function}({directory!r}, sys.argv[1:]))
'''


def _arguments(argv: list[str], *, days: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="")
    if days:
        parser.add_argument("--days", type=float, default=HEALTHY_DAYS)
    return parser.parse_args(argv)


def rotate_cert(certs_dir: str, argv: list[str]) -> int:
    arguments = _arguments(argv, days=True)
    cert = issue(Path(certs_dir), days=arguments.days)
    print(f"issued {cert.name} for {arguments.target or SERVER}, valid until "
          f"{not_after(cert).isoformat()}")  # fmt: skip
    return 0


def rotate_cert_check(certs_dir: str, argv: list[str]) -> int:
    _arguments(argv, days=True)
    cert = Path(certs_dir) / f"{SERVER}.crt"
    try:
        expiry = not_after(cert)
    except (OSError, ValueError) as exc:
        print(f"cannot read {cert}: {exc}")
        return 2
    left = expiry - datetime.now(UTC)
    print(f"{cert.name} valid until {expiry.isoformat()} ({left.days} days left)")
    return 0 if left > timedelta(days=MIN_VALID_DAYS) else 1


def clean_volume(volume_dir: str, argv: list[str]) -> int:
    _arguments(argv)
    files, removed = clean(Path(volume_dir))
    print(f"removed {files} export files ({removed / 1024 / 1024:.1f} MiB); "
          f"volume {usage_percent(Path(volume_dir)):.0f}% used")  # fmt: skip
    return 0


def clean_volume_check(volume_dir: str, argv: list[str]) -> int:
    _arguments(argv)
    left = junk_files(Path(volume_dir))
    print(f"{left} junk export files left")
    return 0 if left == 0 else 1


def install_runbooks(topology: Topology) -> list[Path]:
    """Write the scripts and their checks into `topology.runbooks_dir`, executable and
    writable by their owner only (the executor refuses anything everyone may write)."""
    directory = topology.runbooks_dir
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    src = str(Path(firstline.__file__).resolve().parents[1])
    scripts: list[tuple[str, Callable[[str, list[str]], int], Path]] = [
        (ROTATE, rotate_cert, topology.certs_dir),
        (ROTATE + CHECK, rotate_cert_check, topology.certs_dir),
        (CLEAN, clean_volume, topology.volume_dir),
        (CLEAN + CHECK, clean_volume_check, topology.volume_dir),
    ]
    written = []
    for name, function, target_dir in scripts:
        path = directory / name
        path.write_text(SCRIPT.format(python=sys.executable, name=name, lab_dir=topology.lab_dir,
                                      src=src, function=function.__name__,
                                      directory=str(target_dir)))  # fmt: skip
        path.chmod(0o755)
        written.append(path)
    return written
