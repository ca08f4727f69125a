"""firstline's own logs: the `log` settings, both renderers, stdlib records through the
same renderer, and no secret in what is written, whichever way it got into the record."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
import structlog
import uvicorn.config

from firstline.support import logging_config
from firstline.support.logging_config import LogSettings, configure_logging
from firstline.wiring.logs import setup_logging
from firstline.wiring.settings import SettingsError, load_settings

BEARER = "tok-3f9a1c77e2b04d1d"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
SLACK_HOOK = "https://hooks.slack.com/services/T0AAA1111/B0BBB2222/abcDEFghiJKLmnoPQRstu"
SLACK_HOOK_SECRET_PART = "abcDEFghiJKLmnoPQRstu"
GENERIC_HOOK_TOKEN = "q7Xw2mZp9LkR4tVb"
DSN_PASSWORD = "s3cr3t-Pa55"
BOT_TOKEN = "xoxb-1111-2222-abcdefABCDEF"


@pytest.fixture
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Configure from scratch, and leave the process as the test found it."""
    monkeypatch.setattr(logging_config, "_configured", None)
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == "firstline"]:
        root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_log_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRSTLINE_LOG__LEVEL", "DEBUG")
    monkeypatch.setenv("FIRSTLINE_LOG__FORMAT", "console")
    monkeypatch.setenv("FIRSTLINE_LOG__ACCESS_LOG", "true")
    log = load_settings().log
    assert (log.level, log.format, log.access_log) == ("debug", "console", True)
    assert LogSettings().access_log is False and LogSettings().level is None
    monkeypatch.setenv("FIRSTLINE_LOG__FORMAT", "xml")
    with pytest.raises(SettingsError, match=r"log\.format"):
        load_settings()


def test_no_secret_is_written_whichever_way_it_came(
    fresh_logging: None, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    settings = load_settings(
        store={"data_dir": str(tmp_path)},
        log={"format": "json", "level": "info"},
        serve={"auth": {"bearer_tokens": [BEARER]}},
        notify={
            "slack": {"signing_secret": SIGNING_SECRET, "webhook_url": SLACK_HOOK},
            "webhook": {"url": f"https://hooks.example.com/in/{GENERIC_HOOK_TOKEN}"},
        },
    )
    # uvicorn configured first, as uvicorn.Config's default does (its own raw handlers)
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    setup_logging(settings, serving=True)
    log = structlog.get_logger("firstline.test")
    # configured secrets, wherever they appear
    log.info("delivery", url=SLACK_HOOK, note=f"signed with {SIGNING_SECRET}")
    log.info(f"posted to https://hooks.example.com/in/{GENERIC_HOOK_TOKEN}")
    # the shapes of secrets nobody configured here
    log.warning(
        "store unreachable",
        error=f"connection to postgresql://firstline:{DSN_PASSWORD}@db:5432/fl failed",
        header="Authorization: Bearer zzUnconfiguredToken99",
        query="https://api.example.com/x?api_key=k3y-v4lue&page=2",
    )
    log.info("slack", token=BOT_TOKEN, headers={"Authorization": f"Bearer {BEARER}"})
    # an exception's text, and a library's record through the stdlib
    try:
        raise ConnectionError(f"redis://:{DSN_PASSWORD}@cache:6379 refused")
    except ConnectionError:
        log.exception("redis failed")
    logging.getLogger("uvicorn.error").warning(
        "request to %s with %s", SLACK_HOOK, f"password={DSN_PASSWORD}"
    )
    out = capsys.readouterr()
    lines = _json_lines(out.err)
    assert len(lines) == 6 and out.out == "", "JSON lines on stderr, stdout left to the CLI"
    for secret in (
        BEARER, SIGNING_SECRET, SLACK_HOOK_SECRET_PART, GENERIC_HOOK_TOKEN, DSN_PASSWORD,
        "zzUnconfiguredToken99", "k3y-v4lue", "abcdefABCDEF",
    ):  # fmt: skip
        assert secret not in out.err, secret
    assert "postgresql://firstline:[redacted]@db:5432/fl" in out.err, "the rest stays readable"
    assert "page=2" in out.err and "redis failed" in out.err and "ConnectionError" in out.err
    assert lines[-1]["logger"] == "uvicorn.error" and lines[-1]["level"] == "warning"


def test_console_renderer_levels_and_bound_incident(
    fresh_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(LogSettings(format="console"), default_level="warning")
    log = structlog.get_logger("firstline.test")
    with structlog.contextvars.bound_contextvars(incident_id="inc-42"):
        log.info("not shown at the default level of a command")
        log.warning("decision", rule="some_rule")
    logging.getLogger("httpx").info("HTTP Request: POST https://x")
    err = capsys.readouterr().err
    assert "not shown" not in err and "HTTP Request" not in err
    (line,) = err.splitlines()
    assert "decision" in line and "incident_id=inc-42" in line and "rule=some_rule" in line
    assert not line.startswith("{")

    configure_logging(LogSettings(format="json", level="debug"), default_level="warning")
    logging.getLogger("httpx").debug("HTTP Request: POST https://x")
    (shown,) = _json_lines(capsys.readouterr().err)
    assert shown["event"] == "HTTP Request: POST https://x" and shown["level"] == "debug"


def test_shapes_of_secrets_go_and_prose_stays() -> None:
    from firstline.support.redaction import REDACTED, Redactor

    text = Redactor().text
    assert text("Authorization: Basic dXNlcjpwYXNz") == f"Authorization: Basic {REDACTED}"
    assert text("host=db password=s3cret user=x") == f"host=db password={REDACTED} user=x"
    assert text("sig v0=0123456789abcdef0123") == f"sig v0={REDACTED}"
    for prose in ("basic troubleshooting done", "dedup_key=firstline-inc-1", "rule no_hypothesis"):
        assert text(prose) == prose
