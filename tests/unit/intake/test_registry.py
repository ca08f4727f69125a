"""The vendor table, and the promise every parser keeps: alerts or AlertParseError, nothing else.

The property tests throw arbitrary JSON, and valid payloads with one part swapped for
arbitrary JSON or removed, at every parser. Anything but a list of alerts or an
AlertParseError would be a 5xx at the server.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstline.domain.alert import Alert
from firstline.intake.errors import AlertParseError
from firstline.intake.registry import PARSERS
from tests.unit.intake import (
    test_cloudwatch,
    test_datadog,
    test_generic,
    test_grafana,
    test_opsgenie,
    test_pagerduty,
)

SAMPLES: dict[str, list[Any]] = {
    "alertmanager": [
        {
            "version": "4",
            "status": "firing",
            "receiver": "firstline",
            "groupLabels": {"alertname": "KubePodCrashLooping"},
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop"},
                    "annotations": {"summary": "checkout restarts"},
                    "startsAt": "2026-03-04T14:07:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": "a1b2c3d4e5f60718",
                }
            ],
        }
    ],
    "grafana": [test_grafana._webhook(test_grafana._alert())],
    "pagerduty": [test_pagerduty._event()],
    "datadog": [test_datadog._default(), test_datadog._extended()],
    "cloudwatch": [
        test_cloudwatch._notification(test_cloudwatch._alarm()),
        test_cloudwatch._alarm(),
        test_cloudwatch._confirmation(),
    ],
    "opsgenie": [test_opsgenie._action()],
    "generic": [test_generic._alert(), [test_generic._alert()]],
}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def test_every_vendor_has_a_parser() -> None:
    assert set(PARSERS) == {
        "alertmanager",
        "grafana",
        "pagerduty",
        "datadog",
        "cloudwatch",
        "opsgenie",
        "generic",
    }
    assert set(SAMPLES) == set(PARSERS)


@pytest.mark.parametrize("vendor", sorted(PARSERS))
def test_every_sample_parses(vendor: str) -> None:
    for sample in SAMPLES[vendor]:
        alerts = PARSERS[vendor](copy.deepcopy(sample))
        assert all(isinstance(a, Alert) for a in alerts)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


def _keeps_the_promise(vendor: str, payload: Any) -> None:
    try:
        alerts = PARSERS[vendor](payload)
    except AlertParseError as exc:
        assert str(exc), "the error must say something"
        return
    assert isinstance(alerts, list)
    for alert in alerts:
        assert isinstance(alert, Alert)
        assert alert.name and alert.fingerprint
        json.dumps(alert.model_dump(mode="json"))  # storable as JSON


@pytest.mark.parametrize("vendor", sorted(PARSERS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=JSON)
def test_arbitrary_json_never_breaks_a_parser(vendor: str, payload: Any) -> None:
    _keeps_the_promise(vendor, payload)


@pytest.mark.parametrize("vendor", sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), new=JSON, delete=st.booleans())
def test_a_damaged_sample_never_breaks_a_parser(
    vendor: str, data: st.DataObject, new: Any, delete: bool
) -> None:
    sample = copy.deepcopy(data.draw(st.sampled_from(SAMPLES[vendor])))
    path = data.draw(st.sampled_from(_paths(sample)))
    _keeps_the_promise(vendor, _replace(sample, path, new, delete))
