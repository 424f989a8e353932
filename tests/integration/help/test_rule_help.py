"""Hướng dẫn trả lời: every rule class has its help, shown beside the leaf's form."""

from __future__ import annotations

import typing
from typing import Any

import lxml.html
import pytest

import criteria
from webapp.assessment.forms import RULE_HELP, rule_help
from webapp.criteria_sets import criteria_for

pytestmark = pytest.mark.db


def test_every_rule_class_has_help() -> None:
    # Generated from the Rule union: a new rule class without help fails here.
    classes = set(typing.get_args(criteria.Rule))
    assert len(classes) >= 7
    missing = sorted(c.__name__ for c in classes - set(RULE_HELP))
    assert missing == []
    for help in RULE_HELP.values():
        assert help.title and help.lines
        assert all(line.strip() for line in help.lines)


def test_each_leaf_form_shows_the_help_of_its_rule_class(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    login_as("truclam.chuyenvien")
    pages: dict[str, Any] = {}
    shown_types = set()
    for leaf in criteria_for(assessment).leaves():
        # The criteria page shows one area at a time.
        area = leaf.code.split(".")[0]
        if area not in pages:
            url = f"/assessments/{assessment.id}?area={area}"
            pages[area] = lxml.html.fromstring(client.get(url).get_data(as_text=True))
        section = pages[area].get_element_by_id(f"leaf-{leaf.code}")
        details = section.xpath('.//details[@class="rule-help"]')
        assert len(details) == 1, leaf.code
        expected = rule_help(leaf)
        assert expected is not None
        text = " ".join(details[0].text_content().split())
        assert expected.title.lower() in text, leaf.code
        assert " ".join(expected.lines[0].split()) in text, leaf.code
        assert details[0].get("open") is None  # collapsed until asked for
        shown_types.add(leaf.rule.type)
    # The demo set uses most rule types; each shows its own text.
    assert {"binary", "checklist", "survey"} <= shown_types


def test_the_not_applicable_policy_is_explained_where_it_applies() -> None:
    words = {
        "full_points": "được tính điểm tối đa",
        "exclude_from_max": "không tính vào điểm tối đa",
    }
    checked = set()
    for path in criteria.shipped_set_paths():
        for leaf in criteria.load_criteria_set(path).leaves():
            help = rule_help(leaf)
            assert help is not None, leaf.code
            if leaf.not_applicable in words and leaf.rule.type != "survey":
                assert words[leaf.not_applicable] in help.lines[-1], leaf.code
                checked.add(leaf.not_applicable)
            else:
                assert not any("Không phát sinh" in line for line in help.lines)
    assert checked  # the shipped sets use at least one of the two policies
