"""Every CLI error goes through common.fail: one `error:` line, or under --json one JSON
object on stderr, for a user's mistake (exit 2) and for a bug (exit 1) alike."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer

from firstline.cli.common import G, error_kind, guard, wants_json
from firstline.errors import Conflict, InvalidValue
from firstline.store.incidents import AmbiguousIncidentId, UnknownIncident


@pytest.fixture
def json_mode() -> Iterator[None]:
    G.json_errors = True
    try:
        yield
    finally:
        G.json_errors = False


def failing(exc: Exception) -> object:
    def body() -> object:
        raise exc

    return body


@pytest.mark.usefixtures("json_mode")
@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [
        (UnknownIncident("inc-x"), "not_found", 2),
        (AmbiguousIncidentId("inc-", 3), "invalid_input", 2),
        (Conflict("already approved by alice"), "conflict", 2),
        (InvalidValue("--limit must be positive"), "invalid_value", 2),
        (ValueError("bad date"), "invalid_value", 2),
        (ZeroDivisionError("division by zero"), "internal", 1),
    ],
)
def test_under_json_an_error_is_one_object_on_stderr(
    exc: Exception, kind: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited:
        guard(failing(exc))  # type: ignore[arg-type]
    assert exited.value.exit_code == code
    out, err = capsys.readouterr()
    assert out == ""
    error = json.loads(err)["error"]
    assert error == {"kind": kind, "message": error["message"], "exit_code": code}
    assert str(exc).split(":")[0] in error["message"]


def test_without_json_an_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        guard(failing(RuntimeError("boom\nsecond line")))  # type: ignore[arg-type]
    assert exited.value.exit_code == 1
    assert (
        capsys.readouterr().err == "error: unexpected RuntimeError: boom … (rerun with --debug)\n"
    )


def test_json_mode_is_read_from_the_command_line_before_a_double_dash() -> None:
    assert wants_json(["show", "inc-1", "--json"])
    assert not wants_json(["show", "inc-1"])
    assert not wants_json(["investigate", "--", "--json"])
    assert error_kind(UnknownIncident("x")) == "not_found"
