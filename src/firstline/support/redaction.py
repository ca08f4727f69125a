"""Secrets out of firstline's own logs: a structlog processor that rewrites every value of a
log record before it is rendered.

Three nets, because no single one catches everything:

- the configured secrets themselves (every SecretStr of the settings, the webhook URL),
  wherever they appear, even inside an exception's text;
- the shapes secrets take in text: `Bearer <token>`, the password of a URL
  (`postgresql://user:pass@host`), `password=...` and `token=...` pairs, Slack tokens,
  Slack incoming-webhook URLs and Slack request signatures;
- fields whose name says secret (`authorization`, `token`, `password`, ...): their text
  value goes whole.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, MutableMapping
from typing import Any

from pydantic import BaseModel, SecretStr

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
"""Shorter configured values are not searched for: they would blank out ordinary words."""

_SENSITIVE_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api_?key|routing_key|authorization|cookie|credential)"
)
_SHAPES: tuple[tuple[str, str], ...] = (
    # `Authorization: Bearer abc`
    (r"\b((?i:bearer))\s+[A-Za-z0-9._~+/=-]{6,}", rf"\1 {REDACTED}"),
    # `Basic dXNlcjpwYXNz`: base64 with a capital, digit or symbol after its first
    # character, so that prose ("basic troubleshooting") stays as it is
    (r"\b((?i:basic))\s+(?=[A-Za-z0-9+/]+?[A-Z0-9+/=])[A-Za-z0-9+/]{8,}={0,2}", rf"\1 {REDACTED}"),
    # the password of any URL with credentials: postgresql://user:pass@host, redis://:pw@h
    (r"\b([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@\s/]+@", rf"\1:{REDACTED}@"),
    # key=value in query strings and libpq keyword DSNs: password=..., api_key=..., sig=...
    (
        r"(?i:\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|token|sig|signature"
        r"|(?:api|access|private|routing|integration|signing)[_-]?key))"
        r"=(?!\[redacted\])[^\s&;,'\"]+)",
        rf"\1={REDACTED}",
    ),
    # Slack bot, user, app and configuration tokens
    (r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]{6,}", rf"\1-{REDACTED}"),
    # Slack incoming webhooks: the path is the credential
    (
        r"((?i:https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/))\S+",
        rf"\1{REDACTED}",
    ),
    # Slack request signatures (X-Slack-Signature: v0=<hex>)
    (r"\bv0=[0-9a-fA-F]{16,}", f"v0={REDACTED}"),
)
_PATTERNS = tuple((re.compile(p), r) for p, r in _SHAPES)
# Each shape needs one of these; most values hold none, and a substring test costs far less
# than six regular expressions on every value of every line.
_CLUES = ("://", "=", "bearer", "basic", "xox", "xapp")
_OURS = frozenset({"timestamp", "level", "logger"})
"""Fields the logging setup itself fills in: nothing secret can be in them."""


@functools.lru_cache(maxsize=1024)
def sensitive_name(key: str) -> bool:
    return bool(key) and _SENSITIVE_NAME.search(key) is not None


class Redactor:
    """The structlog processor. Values that are not text are rendered to text first (the
    JSON renderer would print their repr, which may hold a secret), except numbers,
    booleans and None."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first: a secret that contains another is replaced whole
        self.secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def __call__(
        self, logger: object, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in list(event_dict.items()):
            if key not in _OURS:
                event_dict[key] = self._value(key, value)
        return event_dict

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        lowered = text.lower()
        if not any(clue in lowered for clue in _CLUES):
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _value(self, key: str, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return REDACTED if sensitive_name(key) else self.text(value)
        if isinstance(value, dict):
            return {str(k): self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value("", v) for v in value]
        return self._value(key, str(value))


def secret_values(model: BaseModel) -> list[str]:
    """Every SecretStr value set anywhere in a settings tree (nested models, lists and
    dicts of them), revealed so the redactor can look for it."""
    found: list[str] = []
    _collect(model, found)
    return found


def _collect(value: Any, found: list[str]) -> None:
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect(getattr(value, name), found)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found)
