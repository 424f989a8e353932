"""Bonus and penalty points (điểm thưởng, điểm trừ), computed by hand on a small set.

tests/unit/data/bonus-mini.yaml: area 1 is the 10-point scale (1.1 binary 4, 1.2
checklist 3 + 2 + 1); area 2 holds 2.1 bonus (cap 3: 2.1.1 binary 2, 2.1.2 manual 2/1/0)
and 2.2 penalty (cap 2: 2.2.1 deduction 0,5 per event from 2, 2.2.2 binary 1,5). Bands:
Tốt ≥ 80, Khá 60–<80, Trung bình 40–<60, Yếu < 40. docs/bonus-penalty.md is the rule.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from criteria import CriteriaError, CriteriaSet, parse_criteria_set
from scoring import rank, score_assessment, score_report

D = Decimal

# unit: (answers, base points, bonus, penalty, final points, index, band)
CASES: dict[str, tuple[dict[str, Any], str, str, str, str, str, str]] = {
    # base 4 + 5 = 9; bonus 2 + 2 = 4 capped at 3; 9 + 3 = 12 capped at the max 10.
    "A": (
        {
            "1.1": {"value": True},
            "1.2": {"checked": [0, 1]},
            "2.1.1": {"value": True},
            "2.1.2": {"level": 0},
            "2.2.1": {"counts": [0]},
            "2.2.2": {"value": False},
        },
        "9.00",
        "3.00",
        "0.00",
        "10.00",
        "100.00",
        "Tốt",
    ),
    # base 4 + 3 = 7; bonus 1; penalty 0,5 + 1,5 = 2 (= cap): penalty beats the bonus.
    "B": (
        {
            "1.1": {"value": True},
            "1.2": {"checked": [0]},
            "2.1.2": {"level": 1},
            "2.2.1": {"counts": [1]},
            "2.2.2": {"value": True},
        },
        "7.00",
        "1.00",
        "2.00",
        "6.00",
        "60.00",
        "Khá",
    ),
    # base 0 + 1 = 1; penalty 5 × 0,5 = 2,5 stops at its leaf's 2, + 1,5 = 3,5 → cap 2;
    # 1 − 2 is below zero: the total stops at 0.
    "C": (
        {
            "1.1": {"value": False},
            "1.2": {"checked": [2]},
            "2.2.1": {"counts": [5]},
            "2.2.2": {"value": True},
        },
        "1.00",
        "0.00",
        "2.00",
        "0.00",
        "0.00",
        "Yếu",
    ),
    # base 4 + 3 + 1 = 8; bonus 2; penalty 3 × 0,5 = 1,5; 8 + 2 − 1,5 = 8,5.
    "D": (
        {
            "1.1": {"value": True},
            "1.2": {"checked": [0, 2]},
            "2.1.1": {"value": True},
            "2.2.1": {"counts": [3]},
        },
        "8.00",
        "2.00",
        "1.50",
        "8.50",
        "85.00",
        "Tốt",
    ),
    # base 9 (more than D's 8) but penalty 1,5: 7,5 ranks below D.
    "E": (
        {
            "1.1": {"value": True},
            "1.2": {"checked": [0, 1]},
            "2.2.2": {"value": True},
        },
        "9.00",
        "0.00",
        "1.50",
        "7.50",
        "75.00",
        "Khá",
    ),
}


@pytest.mark.parametrize("unit", sorted(CASES))
def test_totals_index_and_band_by_hand(bonus_set: CriteriaSet, unit: str) -> None:
    answers, base, bonus, penalty, final, index, band = CASES[unit]
    result = score_assessment(bonus_set, answers)
    assert result.nodes["1"].points == D(base)
    assert result.bonus == D(bonus)
    assert result.penalty == D(penalty)
    assert result.points == D(final)
    assert result.max_points == D(10)  # the maximum never includes the extras
    assert result.index == D(index)
    assert result.band == band


def test_caps_per_leaf_and_per_part(bonus_set: CriteriaSet) -> None:
    result = score_assessment(bonus_set, CASES["C"][0])
    # 5 reprimands would take 2,5 but the leaf takes at most its 2.
    assert result.leaves["2.2.1"].points == D(2)
    assert result.nodes["2.2"].points == D(2)  # 2 + 1,5 capped at the part's 2
    a = score_assessment(bonus_set, CASES["A"][0])
    assert a.nodes["2.1"].points == D(3)  # 2 + 2 capped at 3
    assert a.nodes["2.1"].max_points == D(3)
    assert a.nodes["2"].points == D(3)  # the mixed area: bonus − penalty
    assert a.nodes["2"].index is None  # no index for a part outside the scale


def test_ranking_uses_the_index_after_bonus_and_penalty(
    bonus_set: CriteriaSet,
) -> None:
    indexes = {}
    for unit, case in CASES.items():
        index = score_assessment(bonus_set, case[0]).index
        assert index is not None
        indexes[unit] = index
    assert rank(indexes) == {"A": 1, "D": 2, "E": 3, "B": 4, "C": 5}


def test_index_above_100_only_when_the_set_says_so(bonus_set: CriteriaSet) -> None:
    allowing = dataclasses.replace(
        bonus_set, id="test-bonus-open", index_may_exceed_100=True
    )
    result = score_assessment(allowing, CASES["A"][0])
    assert result.points == D(12)  # 9 + 3
    assert result.index == D("120.00")
    assert result.band == "Tốt"


def test_penalty_explanations_say_what_was_taken(bonus_set: CriteriaSet) -> None:
    result = score_assessment(bonus_set, CASES["D"][0])
    assert result.leaves["2.2.1"].explanation == (
        "Điểm khởi đầu 2, trừ 3 × 0,5 = 1,5: 1,50/2 điểm trừ"
    )
    assert result.leaves["2.1.1"].explanation.endswith("2,00/2 điểm thưởng")


def test_score_report_has_bonus_and_penalty_totals(bonus_set: CriteriaSet) -> None:
    report = score_report(bonus_set, CASES["B"][0])
    assert report["total"] == {"points": "6.00", "max": "10.00", "index": "60.00"}
    assert report["bonus"] == "1.00"
    assert report["penalty"] == "2.00"
    assert report["nodes"]["2.2"]["kind"] == "penalty"
    assert report["nodes"]["2.1.2"]["kind"] == "bonus"
    assert "kind" not in report["nodes"]["1.1"]


def test_appraised_points_on_a_penalty_leaf_stay_within_its_cap(
    bonus_set: CriteriaSet,
) -> None:
    result = score_assessment(
        bonus_set, CASES["B"][0], points_override={"2.2.2": D("0.5")}
    )
    assert result.penalty == D(1)  # 0,5 + 0,5
    assert result.points == D(7)  # 7 + 1 − 1


# -- loader checks ---------------------------------------------------------------------

BROKEN: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    (
        "bonus part without a cap",
        [("    kind: bonus\n    max_points: 3\n", "    kind: bonus\n")],
        ["bad.yaml: 2.1: thiếu mức trần điểm thưởng (max_points) (max_points)"],
    ),
    (
        "bonus cap of zero",
        [
            (
                "    kind: bonus\n    max_points: 3\n",
                "    kind: bonus\n    max_points: 0\n",
            )
        ],
        ["bad.yaml: 2.1: mức trần điểm thưởng phải lớn hơn 0 (max_points)"],
    ),
    (
        "a leaf above its part's cap",
        [
            (
                "    kind: penalty\n    max_points: 2\n",
                "    kind: penalty\n    max_points: 1\n",
            )
        ],
        ["bad.yaml: 2.2.1: mức trần 2 vượt mức trần điểm trừ 1 của 2.2 (max_points)"],
    ),
    (
        "bonus leaf with a negative best outcome",
        [("points_true: 2, points_false: 0}", "points_true: -2, points_false: 0}")],
        [
            "bad.yaml: 2.1.1: điểm thưởng không được âm (điểm cao nhất phải là số "
            "dương); để trừ điểm hãy dùng kind: penalty (rule)"
        ],
    ),
    (
        "total that counts the bonus part",
        [("  total_max_points: 10\n", "  total_max_points: 15\n")],
        [
            "bad.yaml: meta: tổng điểm các lĩnh vực 10 khác tổng điểm tối đa 15 "
            "(không kể điểm thưởng, điểm trừ) (total_max_points)"
        ],
    ),
    (
        "regular criterion among bonus and penalty parts",
        [
            (
                '  - code: "2.1"\n    title: "Điểm thưởng"\n    kind: bonus\n',
                '  - code: "2.1"\n    title: "Điểm thưởng"\n',
            )
        ],
        ["bad.yaml: 2: phần có điểm thưởng, điểm trừ chỉ chứa tiêu chí điểm thưởng"],
    ),
    (
        "full points for a bonus that did not arise",
        [
            (
                "    not_applicable: exclude_from_max\n",
                "    not_applicable: full_points\n",
            )
        ],
        ["bad.yaml: 2.1.1: điểm thưởng không dùng full_points"],
    ),
    (
        "unknown kind",
        [("    kind: penalty\n", "    kind: malus\n")],
        ["bad.yaml: 2.2: loại 'malus' không hợp lệ"],
    ),
    (
        "penalty inside a bonus part",
        [
            (
                '    - code: "2.1.2"\n      title: "Sáng kiến CCHC được công nhận"\n',
                '    - code: "2.1.2"\n      title: "Sáng kiến CCHC được công nhận"\n'
                "      kind: penalty\n",
            )
        ],
        ["bad.yaml: 2.1.2: tiêu chí thuộc phần điểm thưởng không được là điểm trừ"],
    ),
]


@pytest.mark.parametrize(
    ("edits", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_each_bonus_mistake_is_reported(
    bonus_path: Path, edits: list[tuple[str, str]], expected: list[str]
) -> None:
    text = bonus_path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"fixture edit no longer applies: {old!r}"
        text = text.replace(old, new, 1)
    with pytest.raises(CriteriaError) as caught:
        parse_criteria_set(text, "bad.yaml")
    problems = caught.value.problems
    for part in expected:
        assert any(part in problem for problem in problems), (part, problems)


def test_index_may_exceed_100_must_be_a_flag(bonus_path: Path) -> None:
    text = bonus_path.read_text(encoding="utf-8").replace(
        "  total_max_points: 10\n",
        "  total_max_points: 10\n  index_may_exceed_100: sometimes\n",
    )
    with pytest.raises(CriteriaError, match="index_may_exceed_100"):
        parse_criteria_set(text, "bad.yaml")
