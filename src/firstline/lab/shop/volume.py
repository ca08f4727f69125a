"""The lab volume the disk fault fills: a small tmpfs of its own, mounted when the machine
lets the lab mount one (root with the mount privilege). `fill` refuses any directory that is
not such a mount of its own, so the fault can never fill the machine's real disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from firstline.errors import PermanentError

JUNK_DIR = Path("exports") / "tmp"
CHUNK_BYTES = 256 * 1024


class VolumeError(PermanentError):
    """The lab volume cannot be used as asked (not the lab's own mount, or beyond it)."""


def mount_volume(path: Path, size_mb: int) -> str | None:
    """Mount a tmpfs of `size_mb` at `path`. None when it is mounted (now or already), or the
    reason it cannot be."""
    path.mkdir(parents=True, exist_ok=True)
    if path.is_mount():
        return None
    if os.geteuid() != 0:
        return "mounting the lab volume (a tmpfs) needs root"
    mount = shutil.which("mount")
    if mount is None:
        return "the mount command is not installed"
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return f"mount -t tmpfs failed: {done.stderr.strip() or done.returncode}"
    return None


def unmount_volume(path: Path) -> None:
    if path.is_mount():
        subprocess.run(["umount", str(path)], capture_output=True, check=False)


def usage_percent(path: Path) -> float:
    usage = shutil.disk_usage(path)
    return 100.0 * usage.used / usage.total


def fill(path: Path, percent: float) -> int:
    """Write junk export files under `path/exports/tmp/` until the volume is `percent` full;
    returns the bytes written."""
    if not 0 < percent <= 100:
        raise VolumeError(f"percent must be in (0, 100], not {percent}")
    if not path.is_mount():
        raise VolumeError(f"{path} is not a mounted lab volume: refusing to fill a real disk")
    junk = path / JUNK_DIR
    junk.mkdir(parents=True, exist_ok=True)
    chunk = b"order_id,sku,quantity,exported_at\n" * (CHUNK_BYTES // 34)
    written, number = 0, len(list(junk.iterdir()))
    while usage_percent(path) < percent:
        target = junk / f"export-{number:06d}.csv"
        number += 1
        try:
            with target.open("wb") as file:
                for _ in range(16):  # files of 4 MiB, checked chunk by chunk
                    if usage_percent(path) >= percent:
                        break
                    file.write(chunk)
                    file.flush()
                    written += len(chunk)
        except OSError:  # ENOSPC: as full as it gets
            break
    return written


def clean(path: Path) -> tuple[int, int]:
    """Delete the junk export files: only regular files, only under `path/exports/tmp`, never
    following a symbolic link out of it. Returns (files, bytes) removed."""
    junk = path / JUNK_DIR
    if junk.is_symlink() or not junk.is_dir():
        return 0, 0
    files = removed_bytes = 0
    for root, _dirs, names in os.walk(junk, followlinks=False):
        for name in names:
            entry = Path(root) / name
            if entry.is_symlink() or not entry.is_file():
                continue
            removed_bytes += entry.stat().st_size
            entry.unlink()
            files += 1
    return files, removed_bytes


def junk_files(path: Path) -> int:
    junk = path / JUNK_DIR
    if junk.is_symlink() or not junk.is_dir():
        return 0
    return sum(1 for entry in junk.rglob("*") if entry.is_file() and not entry.is_symlink())
