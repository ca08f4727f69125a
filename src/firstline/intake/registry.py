"""Which parser reads which vendor's webhook, by the name used in /webhooks/{vendor}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firstline.domain.alert import Alert
from firstline.intake import (
    alertmanager,
    cloudwatch,
    datadog,
    generic,
    grafana,
    opsgenie,
    pagerduty,
)

Parser = Callable[[Any], list[Alert]]

# Every parser takes the decoded JSON body and returns its alerts or raises AlertParseError.
# cloudwatch's entry drops SNS subscription confirmations: the server's cloudwatch route
# should call cloudwatch.parse_envelope to confirm them (and verify the SNS signature).
PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse_webhook,
    "grafana": grafana.parse_webhook,
    "pagerduty": pagerduty.parse_webhook,
    "datadog": datadog.parse_webhook,
    "cloudwatch": cloudwatch.parse_webhook,
    "opsgenie": opsgenie.parse_webhook,
    "generic": generic.parse_webhook,
}
