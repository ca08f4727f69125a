"""The metric selectors of a PromQL expression, read with promql-parser, with bounded work.

Only what the catalog needs: each vector selector's metric name and label matchers. Anything
the parser refuses (templated text, a Grafana `$variable`, garbage, a newer function) gives
None instead of an exception. The parser is native code whose cost grows quadratically with
long chains of binary operators and which crashes the process on very long ones, so
expressions over the limits below (length, operators, bracket depth: real rules stay far
below them) are not handed to it at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import promql_parser

MAX_CHARS = 16_000
MAX_BINARY_OPERATORS = 300
MAX_DEPTH = 128
MAX_NODES = 20_000

_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# Arithmetic, comparison and set operators; a rough count (it also counts '-' in durations
# or label values), only used to refuse expressions that are too long to parse safely.
_OPERATOR = re.compile(r"==|!=|>=|<=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b")

_OPS = {
    "MatchOp.Equal": "=",
    "MatchOp.NotEqual": "!=",
    "MatchOp.Re": "=~",
    "MatchOp.NotRe": "!~",
}


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # "=", "!=", "=~", "!~"
    value: str


@dataclass(frozen=True)
class Selector:
    """One vector selector: `metric{label="value"}`; `metric` is None for `{__name__=~"..."}`."""

    metric: str | None
    matchers: tuple[Matcher, ...]

    def names(self) -> list[str]:
        """The metric name, or the exact `__name__` matcher value when no name is written."""
        if self.metric:
            return [self.metric]
        return [m.value for m in self.matchers if m.label == "__name__" and m.op == "="]


def too_big(expression: str) -> bool:
    """Whether the expression is past the limits where parsing is slow or unsafe."""
    return (
        len(expression) > MAX_CHARS
        or len(_OPERATOR.findall(expression)) > MAX_BINARY_OPERATORS
        or _depth(expression) > MAX_DEPTH
    )


def _depth(expression: str) -> int:
    depth = deepest = 0
    for char in expression:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def parse_selectors(expression: str | None) -> list[Selector] | None:
    """The expression's vector selectors in order of appearance; None when it cannot be read."""
    if not expression or not expression.strip() or too_big(expression):
        return None
    if _TEMPLATE.search(expression):
        return None  # a template that was never rendered: not what Prometheus evaluated
    try:
        tree = promql_parser.parse(expression)
    except Exception:  # the parser raises ValueError, but any refusal means "unreadable"
        return None
    return _collect(tree)


def metric_names(selectors: list[Selector]) -> list[str]:
    return sorted({name for selector in selectors for name in selector.names()})


def _collect(tree: Any) -> list[Selector]:
    found: list[Selector] = []
    stack: list[Any] = [tree]
    visited = 0
    while stack and visited < MAX_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, promql_parser.VectorSelector):
            found.append(_selector(node))
        else:
            stack.extend(reversed(children(node)))
    return found


def children(node: Any) -> list[Any]:
    """A promql-parser node's operands, in order of appearance."""
    if isinstance(node, promql_parser.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, promql_parser.AggregateExpr):
        return [node.expr] if node.param is None else [node.param, node.expr]
    if isinstance(node, promql_parser.Call):
        return list(node.args)
    if isinstance(node, promql_parser.MatrixSelector):
        return [node.vector_selector]
    if isinstance(
        node, promql_parser.SubqueryExpr | promql_parser.ParenExpr | promql_parser.UnaryExpr
    ):
        return [node.expr]
    return []  # NumberLiteral, StringLiteral


def _selector(node: Any) -> Selector:
    matchers: list[Matcher] = []
    groups = [node.matchers.matchers, *node.matchers.or_matchers]
    for group in groups:
        for matcher in group:
            op = _OPS.get(str(matcher.op), str(matcher.op))
            matchers.append(Matcher(label=matcher.name, op=op, value=matcher.value))
    return Selector(metric=node.name or None, matchers=tuple(matchers))
