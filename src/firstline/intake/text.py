"""One storage-safe form of untrusted text, applied to every decoded payload.

JSON may carry `\\ud83d` on its own (a sender that cut an emoji in half): a lone UTF-16
surrogate, which Python decodes into a `str` that no UTF-8 encoder accepts, so storing it
would fail. Every lone surrogate, in keys and values alike, becomes U+FFFD (the Unicode
replacement character); paired surrogates were already joined by the JSON decoder, and
everything else (NUL included) is valid text and kept as sent.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# Only a \u escape can produce a surrogate from UTF-8 input: cheap to rule out first.
_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def may_hold_surrogates(json_text: str) -> bool:
    return _ESCAPE.search(json_text) is not None


def safe_text(text: str) -> str:
    return _SURROGATE.sub(REPLACEMENT, text)


def storage_safe(value: Any) -> Any:
    """`value` (decoded JSON) with every lone surrogate replaced. Iterative: a payload
    nested as deeply as the decoder allows does not exhaust the stack here."""
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = safe_text(item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            fixed = {safe_text(k) if isinstance(k, str) else k: v for k, v in item.items()}
            item.clear()
            item.update(fixed)
            stack.extend((item, k) for k in item)
    return root[0]
