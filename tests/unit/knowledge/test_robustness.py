"""prior_for survives whatever an alert carries (the parser is native code: a crash there
would take the whole process down, so the fuzzing matters)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from firstline.domain.alert import Alert
from firstline.knowledge import prior_for
from firstline.knowledge.promql import parse_selectors

TOKENS = [
    "sum", "(", ")", "{", "}", "[5m]", "[1m:5s]", "foo", "kube_job_failed", "=", '"x"', "=~",
    "!~", ",", "+", "-", "*", "/", ">", "==", " and ", " or ", " unless ", " by ", " on ",
    "group_left", "rate", " offset 5m", "@", "1", "0.5", "^", "%", "# c\n", " ", "$x", "{{",
    "}}", "histogram_quantile", "__name__", " bool ", "absent", "vector", "time()", "'",
]  # fmt: skip

expressions = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(TOKENS), max_size=80).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_selectors_never_raise(expression: str) -> None:
    selectors = parse_selectors(expression)
    assert selectors is None or isinstance(selectors, list)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80), expressions, st.text(max_size=60))
def test_prior_never_raises(name: str, expression: str, url_tail: str) -> None:
    for url in (
        f"http://prom/graph?g0.expr={quote(expression, safe='')}&g0.tab=1",
        f"http://prom/graph?{url_tail}",
        url_tail,
    ):
        alert = Alert(
            source="alertmanager",
            name=name,
            labels={"expr": expression},
            annotations={"expr": url_tail},
            starts_at=datetime(2026, 1, 1, tzinfo=UTC),
            fingerprint="f",
            generator_url=url,
        )
        prior = prior_for(alert)
        assert prior.matched_by in ("name", "expression", "none")
