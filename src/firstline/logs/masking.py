"""What varies between otherwise identical log lines, replaced by a named mask such as
`<UUID>` before drain3 sees the line.

Order matters: each rule sees the output of the ones before it, so the widest spans go first
(a quoted string may hold an id; a timestamp holds numbers). Every rule is bounded by
non-word characters, so an id inside a word such as `v2` or `sha256` stays text. A match
whose `keep` group took part is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple


class Mask(NamedTuple):
    name: str
    pattern: str


_B = r"(?<![A-Za-z0-9_])"  # no word character just before
_E = r"(?![A-Za-z0-9_])"  # no word character just after
_HEX = "[0-9a-fA-F]"

MASKS: tuple[Mask, ...] = (
    # A quoted value, but not a JSON key: `"user":"bob"` keeps "user" and masks "bob", so
    # structured logs keep their shape. Keys are matched (and kept) so that the scan never
    # starts a string at a key's closing quote.
    Mask("STR", r'"(?:[^"\\\n]|\\.)*"(?P<keep>\s*:)?'),
    # Single quotes only as delimiters, never as the apostrophe in "can't ... isn't".
    Mask("STR", _B + r"'(?:[^'\\\n]|\\.)*'" + _E),
    Mask(
        "TS",
        _B + r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?" + _E,
    ),
    Mask("TS", _B + r"\d{2}:\d{2}:\d{2}(?:[.,]\d+)?" + _E),
    Mask("UUID", _B + _HEX + r"{8}-" + rf"(?:{_HEX}{{4}}-){{3}}" + _HEX + r"{12}" + _E),
    Mask("IP", _B + r"(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?" + r"(?![A-Za-z0-9_.])"),
    # IPv6 only in its unambiguous forms (eight groups, or with `::`), so that a time of day
    # or a `key:value:value` token is not taken for one.
    Mask("IP", _B + rf"(?:{_HEX}{{1,4}}:){{7}}{_HEX}{{1,4}}" + r"(?![A-Za-z0-9_:])"),
    Mask(
        "IP",
        _B + rf"(?:{_HEX}{{1,4}}:){{1,6}}:(?:{_HEX}{{1,4}}(?::{_HEX}{{1,4}}){{0,5}})?"
        r"(?![A-Za-z0-9_:])",
    ),
    Mask("IP", rf"(?<![A-Za-z0-9_:])::{_HEX}{{1,4}}(?::{_HEX}{{1,4}}){{0,6}}(?![A-Za-z0-9_:])"),
    Mask("HEX", _B + rf"0[xX]{_HEX}+" + _E),
    # Bare hex ids (trace ids, hashes, container ids). From 16 characters on, whatever the
    # digits happen to be: a random trace id is sometimes all digits, and must not become a
    # different template. Shorter ones need a digit and a letter, so that words and plain
    # numbers are left to the other rules.
    Mask("HEX", _B + rf"{_HEX}{{16,}}" + _E),
    Mask("HEX", _B + rf"(?={_HEX}*\d)(?={_HEX}*[a-fA-F]){_HEX}{{8,}}" + _E),
    Mask(
        "DURATION",
        _B + r"\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d)(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))*" + _E,
    ),
    Mask("NUM", r"(?<![A-Za-z0-9_.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![A-Za-z0-9_]|\.\d)"),
)


def _rule(item: Mask) -> tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]:
    regex, token = re.compile(item.pattern), f"<{item.name}>"
    if "keep" not in regex.groupindex:
        return regex, token  # a plain string replacement is the fast path

    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group("keep") is not None else token

    return regex, replace


_RULES = tuple(_rule(item) for item in MASKS)


def mask(line: str) -> str:
    """The line with every variable part replaced by its mask, e.g. `<UUID>`."""
    for regex, replacement in _RULES:
        line = regex.sub(replacement, line)
    return line
