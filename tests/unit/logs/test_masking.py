"""What masking turns into a placeholder, and what it must leave alone."""

from __future__ import annotations

import pytest

from firstline.logs.masking import mask


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("req 3f2b8c1e-9a4d-4e6b-8f7a-1c2d3e4f5a6b done", "req <UUID> done"),
        ("from 10.0.12.7:44321 to 192.168.0.1", "from <IP> to <IP>"),
        ("peer fe80::1 and 2001:db8:0:0:0:0:2:1 and ::1", "peer <IP> and <IP> and <IP>"),
        ("ptr 0xDEADbeef", "ptr <HEX>"),
        ("trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7", "trace=<HEX> span=<HEX>"),
        ("trace=1234567890123456", "trace=<HEX>"),  # a random id that happens to be all digits
        ("container 9f86d081e", "container <HEX>"),
        ("took 150ms, then 1.5s, then 2m30s, then 250µs", "took <DURATION>, then <DURATION>, then <DURATION>, then <DURATION>"),
        ("at 2026-03-04T14:00:00.123Z and 2026-03-04 14:00:00+01:00", "at <TS> and <TS>"),
        ("time 12:30:45.123 ok", "time <TS> ok"),
        ('user="bob smith" msg="can\'t \\"quote\\""', "user=<STR> msg=<STR>"),
        ("open 'config.yaml' failed", "open <STR> failed"),
        ("retry 3 of 5, -1 left, ratio 0.25, 1e-3 err", "retry <NUM> of <NUM>, <NUM> left, ratio <NUM>, <NUM> err"),
        ("95% used", "<NUM>% used"),
    ],
)  # fmt: skip
def test_variable_parts_are_masked(line: str, masked: str) -> None:
    assert mask(line) == masked


@pytest.mark.parametrize(
    "line",
    [
        "can't connect: isn't ready",  # apostrophes are not quotes
        "api v2 uses sha256 and utf8",  # digits inside words
        "deadline exceeded",  # a word made of hex letters
        "cafe babe",
        "key:value:other",  # not an IPv6 address
    ],
)
def test_text_is_left_alone(line: str) -> None:
    assert mask(line) == line


def test_json_keys_stay_and_values_go() -> None:
    line = '{"level":"error", "msg":"payment failed","order":12345,"ok":false}'
    assert mask(line) == '{"level":<STR>, "msg":<STR>,"order":<NUM>,"ok":false}'
