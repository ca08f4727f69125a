"""Shared intake helpers: times in every unit vendors use, tags, fingerprints and caps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstline.domain.alert import Alert, AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import (
    MAX_ANNOTATIONS,
    MAX_LABELS,
    build_alert,
    parse_end_time,
    parse_time,
    split_tags,
    tags_to_labels,
    vendor_fingerprint,
)

WHEN = datetime(2026, 3, 4, 14, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        1772633220,  # seconds
        1772633220000,  # milliseconds (Datadog $DATE, Opsgenie createdAt)
        1772633220000000,  # microseconds
        1772633220000000000,  # nanoseconds (Opsgenie updatedAt)
        "1772633220000",
        "2026-03-04T14:07:00Z",
        "2026-03-04T14:07:00+00:00",
        "2026-03-04T14:07:00.000+0000",  # CloudWatch's StateChangeTime style
        "2026-03-04T15:07:00+01:00",
        "2026-03-04T14:07:00",  # naive: taken as UTC
    ],
)
def test_parse_time_understands_every_vendor_unit(value: object) -> None:
    assert parse_time(value, "t") == WHEN


@pytest.mark.parametrize("value", [True, None, [], {}, "yesterday", -5, float("nan"), 1e30])
def test_parse_time_rejects_non_times_naming_the_field(value: object) -> None:
    with pytest.raises(AlertParseError, match=r"^startsAt: "):
        parse_time(value, "startsAt")


def test_zero_and_empty_end_times_mean_still_firing() -> None:
    assert parse_end_time("0001-01-01T00:00:00Z", "endsAt") is None
    assert parse_end_time("", "endsAt") is None
    assert parse_end_time(None, "endsAt") is None
    assert parse_end_time("2026-03-04T14:07:00Z", "endsAt") == WHEN


def test_tags_become_labels_and_bare_tags_stay_out() -> None:
    tags = split_tags("monitor, env:prod , team:a,team:b, url:https://x.example/a:b,, :nokey")
    assert tags == [
        "monitor",
        "env:prod",
        "team:a",
        "team:b",
        "url:https://x.example/a:b",
        ":nokey",
    ]
    assert tags_to_labels(tags) == {"env": "prod", "team": "a,b", "url": "https://x.example/a:b"}
    assert split_tags(["a:1", " "]) == ["a:1"]
    assert split_tags(None) == []


def test_vendor_fingerprint_is_stable_and_namespaced() -> None:
    assert vendor_fingerprint("pagerduty", "P1") == vendor_fingerprint("pagerduty", "P1")
    assert vendor_fingerprint("pagerduty", "P1") != vendor_fingerprint("opsgenie", "P1")
    # Parts are kept apart, so ("ab", "c") and ("a", "bc") differ.
    assert vendor_fingerprint("x", "ab", "c") != vendor_fingerprint("x", "a", "bc")
    assert len(vendor_fingerprint("x", "y")) == 16


def _alert(labels: dict[str, str], annotations: dict[str, str] | None = None) -> Alert:
    return build_alert(
        where="alerts.0",
        source="test",
        name="X",
        status=AlertStatus.FIRING,
        labels=labels,
        annotations=annotations or {},
        starts_at=WHEN,
        ends_at=None,
        fingerprint=None,
        generator_url=None,
        raw={},
    )


def test_label_and_annotation_counts_are_capped() -> None:
    at_cap = {f"k{i}": "v" for i in range(MAX_LABELS - 1)}  # alertname makes it MAX_LABELS
    _alert(at_cap)
    with pytest.raises(AlertParseError, match=r"^alerts\.0: 129 labels, more than the 128"):
        _alert({**at_cap, "one_more": "v"})
    with pytest.raises(AlertParseError, match=r"annotations, more than the"):
        _alert({}, {f"a{i}": "v" for i in range(MAX_ANNOTATIONS + 1)})


def test_huge_strings_are_fine() -> None:
    alert = _alert({"blob": "x" * 1_000_000})
    assert len(alert.labels["blob"]) == 1_000_000


def test_blank_names_are_refused() -> None:
    with pytest.raises(AlertParseError, match="no name"):
        build_alert(
            where="payload",
            source="t",
            name="  ",
            status=AlertStatus.FIRING,
            labels={},
            annotations={},
            starts_at=WHEN,
            ends_at=None,
            fingerprint=None,
            generator_url=None,
            raw={},
        )
