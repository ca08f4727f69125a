"""Shared paths and helpers for the deployment checks (fast, no network)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
CHART = DEPLOY / "helm" / "firstline"
# Kubernetes version the manifests are validated against (kubernetes-validate's schemas).
KUBERNETES_VERSION = "1.33.0"


def venv_tool(name: str) -> Path:
    """A binary installed by a dev dependency into this interpreter's environment."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is not installed (it is in the dev extra: make install)"
    return path


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
