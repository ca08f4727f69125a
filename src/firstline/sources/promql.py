"""Filling query templates safely: label values are escaped, never spliced raw.

Templates use `$name` / `${name}` placeholders (string.Template), because PromQL and LogQL
are full of braces.
"""

from __future__ import annotations

import string
from collections import defaultdict


def escape_label_value(value: str) -> str:
    """Escape for use inside a double-quoted PromQL string (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_template(template: str, values: dict[str, str]) -> str:
    """Replace placeholders with escaped values; unknown names become empty strings."""
    escaped: defaultdict[str, str] = defaultdict(str)
    escaped.update({k: escape_label_value(v) for k, v in values.items()})
    return string.Template(template).substitute(escaped)
