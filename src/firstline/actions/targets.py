"""Finding a target's connection in an executor's settings (Redis URLs, PostgreSQL DSNs)."""

from __future__ import annotations

from pydantic import SecretStr

from firstline.domain.action import Target


def connection_for(target: Target, mapping: dict[str, SecretStr]) -> str | None:
    """`namespace/name` wins over a bare `name`, so two same-named targets can differ.
    Only configured connections are ever used: a target's name never becomes a URL."""
    keys = [f"{target.namespace}/{target.name}"] if target.namespace else []
    keys.append(target.name)
    for key in keys:
        if key in mapping:
            return mapping[key].get_secret_value()
    return None


def unknown_target(target: Target, what: str) -> str:
    return f"{target} is not a configured {what} target (settings list the allowed ones)"
