"""Bad input: each case is a clear error or the documented handling, never a crash."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from firstline.detection.series import SeriesError, parse_timestamp, read_table


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("timestamp,value\n", "0 data row"),
        ("timestamp,value\n2024-01-01T00:00:00Z,1\n", "1 data row"),
        ("timestamp,value\n1,1\n2,abc\n", ":3: value 'abc' is not a number"),
        ("timestamp,value\n1,1\n2,inf\n", "infinite"),
        ("timestamp,value\nyesterday,1\n2,2\n", "neither ISO 8601 nor unix seconds"),
        ("timestamp,value\n1,1\n2\n", "1 fields, header has 2"),
        ("timestamp\n1\n2\n", "need a timestamp column"),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SeriesError, match=message.replace("(", r"\(")) as info:
        read_table(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_gaps_and_duplicates_are_kept(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "timestamp,value\n1,1\n1,2\n2,\n3,NaN\n4,5\n"))
    values = table.columns["value"]
    assert len(values) == 5 and math.isnan(values[2]) and math.isnan(values[3])


def test_a_step_back_is_kept_in_file_order(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "timestamp,value\n5,1\n2,2\n"))
    assert table.clock_steps == 1 and list(table.written_seconds) == [5.0, 2.0]
    assert table.timestamps[1] >= table.timestamps[0]


def test_timestamp_formats() -> None:
    assert parse_timestamp("1700000000") == 1_700_000_000
    assert parse_timestamp("2023-11-14T22:13:20Z") == 1_700_000_000
    assert parse_timestamp("2023-11-14 22:13:20") == 1_700_000_000  # naive means UTC
    assert parse_timestamp("2023-11-15T00:13:20+02:00") == 1_700_000_000
