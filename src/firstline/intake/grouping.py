"""Which incident an alert belongs to: the values of the group_by labels, hashed.

As Alertmanager's group_by, with two conveniences: `alertname` falls back to the alert's
name and `service` to the component firstline derives (deployment, app, pod owner...), so
alerts about one workload group together even when only some carry a `service` label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from firstline.domain.alert import Alert


def group_values(alert: Alert, group_by: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in group_by:
        value = alert.labels.get(name, "")
        if not value and name == "alertname":
            value = alert.name
        if not value and name == "service":
            value = alert.service or ""
        values[name] = value
    return values


def group_key(alert: Alert, group_by: Sequence[str]) -> str:
    canonical = "\x1f".join(f"{k}={v}" for k, v in group_values(alert, group_by).items())
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]
