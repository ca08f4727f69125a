"""Kubernetes resource quantities ("512Mi", "500m", "2") as exact decimals, and back."""

from __future__ import annotations

import math
from decimal import Decimal

_MI = Decimal(1024 * 1024)


def parse_quantity(text: str | int | float) -> Decimal:
    """Raises ValueError on anything that is not a quantity."""
    # imported here: settings validation calls this, and importing the kubernetes package
    # costs every process that merely reads its settings a tenth of a second
    from kubernetes.utils import quantity as _quantity

    value: Decimal = _quantity.parse_quantity(text)  # type: ignore[no-untyped-call]
    return value


def format_memory(value: Decimal) -> str:
    """Whole mebibytes, rounded up: a raised limit never ends below what was asked."""
    return f"{math.ceil(value / _MI)}Mi"


def format_cpu(value: Decimal) -> str:
    """Whole millicores, rounded up."""
    millis = math.ceil(value * 1000)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"
