"""The policy's mode: a tiny module, so the CLI can offer `--mode` without loading the policy."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    OBSERVE = "observe"  # never act, only recommend
    APPROVE = "approve"  # every action needs a person's approval
    AUTO = "auto"  # the decision rules choose
