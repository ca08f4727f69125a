"""Merge patches between objects, and the approver's YAML diff."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from firstline.actions.kubernetes.diff import apply_merge_patch, merge_patch_between, yaml_diff

scalars = st.one_of(st.integers(), st.booleans(), st.text(max_size=5))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.text(max_size=3), values, max_size=4)


@given(objects, objects)
def test_the_patch_between_two_objects_turns_one_into_the_other(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert apply_merge_patch(before, merge_patch_between(before, after)) == after


def test_removed_keys_become_null_and_lists_are_replaced_whole() -> None:
    before = {"a": {"keep": 1, "drop": 2}, "l": [1, 2]}
    after = {"a": {"keep": 1}, "l": [2]}
    assert merge_patch_between(before, after) == {"a": {"drop": None}, "l": [2]}


def test_the_diff_names_both_sides_and_shows_only_the_change() -> None:
    text = yaml_diff("deployment/shop/app", {"spec": {"replicas": 3}}, {"spec": {"replicas": 5}})
    assert text.splitlines() == [
        "--- deployment/shop/app (live)",
        "+++ deployment/shop/app (after)",
        "@@ -1,2 +1,2 @@",
        " spec:",
        "-  replicas: 3",
        "+  replicas: 5",
    ]


def test_a_deletion_diffs_against_dev_null() -> None:
    assert yaml_diff("pod/shop/p", {"kind": "Pod"}, None).splitlines()[1] == "+++ /dev/null"
