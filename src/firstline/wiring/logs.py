"""Configuring firstline's own logs from the settings, once per process."""

from __future__ import annotations

from firstline.support.logging_config import configure_logging, logging_configured
from firstline.support.redaction import secret_values
from firstline.wiring.settings import Settings


def setup_logging(settings: Settings, *, serving: bool) -> None:
    """`serving`: serve and worker, whose logs are their only output (info by default).
    The other commands log warnings only unless `log.level` says otherwise."""
    secrets = secret_values(settings)
    if settings.notify.webhook.url:  # a plain URL setting, but its path is often the token
        secrets.append(settings.notify.webhook.url)
    configure_logging(settings.log, default_level="info" if serving else "warning", secrets=secrets)


def setup_logging_once(settings: Settings) -> None:
    """For a command that runs the graph: configure unless this process already did (a
    server's runtime keeps the server's configuration)."""
    if not logging_configured():
        setup_logging(settings, serving=False)
