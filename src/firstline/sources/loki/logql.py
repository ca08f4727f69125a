r"""LogQL stream selectors built from alert labels. Values are escaped, never spliced raw.

Two real parsers read what we write, and they disagree at the edges: Loki unquotes string
literals with Go's rules (strconv.Unquote), qryn with JSON.parse behind a grammar that only
takes Latin-1 characters raw. So a literal here is printable ASCII only, using the escapes
both accept: \\ \" \n \r \t and \uXXXX. Characters beyond the Basic Multilingual Plane
have no such common escape (Go wants \U0001F600, JSON a surrogate pair), so a value holding
one becomes an anchored RE2 regex matcher written in ASCII, which matches the same single
string on both. So does a value holding U+001A: qryn's SQL layer escapes it MySQL-style
(`\Z`), which ClickHouse does not read back, so `="\u001a"` never matches there.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BMP_END = 0xFFFF


def quote(value: str) -> str:
    """A double-quoted LogQL string literal whose unquoted value is exactly `value`."""
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= _BMP_END:
            out.append(f"\\u{code:04x}")
        else:  # valid for Loki (Go); selector() keeps such values away from qryn's parser
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def exact_regex(value: str) -> str:
    """An ASCII-only RE2 pattern that matches exactly `value` and nothing else."""
    out: list[str] = []
    for char in value:
        if char.isascii() and (char.isalnum() or char == "_"):
            out.append(char)
        elif char.isascii() and char.isprintable() and char != " ":
            out.append("\\" + char)  # RE2 (Go and C++) reads an escaped punctuation mark as itself
        else:
            out.append(f"\\x{{{ord(char):x}}}")
    return "^" + "".join(out) + "$"


def _needs_regex(value: str) -> bool:
    return any(ord(char) > _BMP_END or char == "\x1a" for char in value)


def matcher(name: str, value: str) -> str:
    """`name="value"`, or an exact regex matcher for the values equality cannot reach on
    every server (see the module docstring)."""
    if not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"not a LogQL label name: {name!r}")
    if _needs_regex(value):
        return f"{name}=~{quote(exact_regex(value))}"
    return f"{name}={quote(value)}"


@dataclass(frozen=True)
class SelectorPlan:
    """Which alert labels become matchers, and which were left out and why."""

    matchers: tuple[tuple[str, str], ...]
    unknown: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def selector(self) -> str | None:
        """The LogQL stream selector, or None when no label qualifies (Loki needs one)."""
        if not self.matchers:
            return None
        return "{" + ", ".join(matcher(name, value) for name, value in self.matchers) + "}"


def plan_selector(
    labels: Mapping[str, str], names: Sequence[str], known: Collection[str] | None = None
) -> SelectorPlan:
    """Matchers for the alert labels listed in `names`, in that order.

    Empty values are skipped (in LogQL `name=""` means "label absent", the opposite of what the
    alert says). With `known` (the label names the server has seen in the window) a label the
    server does not index is left out rather than turned into a matcher that can never match.
    """
    chosen: list[tuple[str, str]] = []
    unknown: list[str] = []
    invalid: list[str] = []
    for name in dict.fromkeys(names):
        value = labels.get(name)
        if not value:
            continue
        if not _LABEL_NAME.fullmatch(name):
            invalid.append(name)
        elif known is not None and name not in known:
            unknown.append(name)
        else:
            chosen.append((name, value))
    return SelectorPlan(tuple(chosen), tuple(unknown), tuple(invalid))
