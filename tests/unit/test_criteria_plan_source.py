"""`source: plan_completion` on a leaf: the fact comes from the tracked plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from criteria import CriteriaError, parse_criteria_set

MINI = Path(__file__).parents[2] / "criteria" / "data" / "test-mini.yaml"


def _with_source(after_code: str, source: str) -> str:
    text = MINI.read_text(encoding="utf-8")
    marker = f'code: "{after_code}"\n'
    head, tail = text.split(marker, 1)
    indent = head.rsplit("\n", 1)[1].replace("-", " ")
    return f"{head}{marker}{indent}source: {source}\n{tail}"


def test_a_percent_leaf_may_take_its_fact_from_the_plan() -> None:
    cs = parse_criteria_set(_with_source("1.1.3", "plan_completion"), "mini.yaml")
    fed = [leaf.code for leaf in cs.leaves() if leaf.fact_source]
    assert fed == ["1.1.3"]


def test_other_source_text_stays_documentation() -> None:
    cs = parse_criteria_set(_with_source("1.1.3", '"Hải Phòng 3793"'), "mini.yaml")
    assert not any(leaf.fact_source for leaf in cs.leaves())


def test_a_leaf_that_is_not_a_percentage_cannot_take_the_plan_rate() -> None:
    with pytest.raises(CriteriaError) as caught:
        parse_criteria_set(_with_source("1.3", "plan_completion"), "mini.yaml")
    assert "plan_completion" in str(caught.value)
    assert "1.3" in str(caught.value)
