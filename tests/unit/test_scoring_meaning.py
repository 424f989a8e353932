"""What a rule means beyond its score: the points it can reach and how answers read.

The mini set's leaves are listed at the top of test_scoring_rules.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from criteria import CriteriaSet
from scoring import (
    PointOption,
    answer_correctable,
    describe_answer,
    reachable_points,
    score_leaf,
)

D = Decimal


def _points(options: tuple[PointOption, ...] | None) -> list[str] | None:
    return None if options is None else [str(option.points) for option in options]


@pytest.mark.parametrize(
    ("code", "points"),
    [
        ("1.1.1", ["1.00", "0.50", "0.00"]),  # date tiers; no band matched: 0
        # checklist 0.5, 0.25, 0.25: every sum of checked items
        ("1.1.2", ["1.00", "0.75", "0.50", "0.25", "0.00"]),
        ("1.1.3", None),  # a ratio band: any value
        ("1.2", ["2.00", "1.50", "1.00", "0.50"]),  # deduction down to its floor 0.5
        ("1.3", ["1.00", "0.00"]),  # binary
        ("1.4", None),  # survey
        ("2.1.1", None),  # ratio
        ("2.1.2", ["2.00", "1.00", "0.00"]),  # manual levels (full_points adds 2)
        ("2.3", ["2.00", "0.50"]),
    ],
)
def test_reachable_points_are_what_the_rule_can_give(
    mini_set: CriteriaSet, code: str, points: list[str] | None
) -> None:
    assert _points(reachable_points(mini_set.node(code))) == points


def test_reachable_points_name_the_binary_outcomes_and_manual_levels(
    mini_set: CriteriaSet,
) -> None:
    binary = reachable_points(mini_set.node("2.3"))
    assert binary == (
        PointOption(D("2.00"), ("Đạt",)),
        PointOption(D("0.50"), ("Không đạt",)),
    )
    manual = reachable_points(mini_set.node("2.1.2"))
    assert manual is not None
    assert [option.labels for option in manual] == [
        ("Được công nhận",),
        ("Có triển khai",),
        ("Không có",),
    ]


def test_every_reachable_score_is_one_the_engine_gives(mini_set: CriteriaSet) -> None:
    checklist = mini_set.node("1.1.2")
    given = {
        score_leaf(checklist, {"checked": checked}).points
        for checked in ([], [0], [1], [0, 1], [1, 2], [0, 1, 2])
    }
    options = reachable_points(checklist)
    assert options is not None
    assert given == {option.points for option in options}


def test_full_points_leaves_also_reach_their_maximum(mini_set: CriteriaSet) -> None:
    # The ward set uses no full_points leaf any more; the mini set keeps two.
    checked = 0
    for leaf in mini_set.leaves():
        options = reachable_points(leaf)
        if options is not None and leaf.not_applicable == "full_points":
            assert options[0].points == leaf.max_points
            checked += 1
    assert checked >= 1


def test_a_non_leaf_has_no_reachable_points(mini_set: CriteriaSet) -> None:
    with pytest.raises(ValueError):
        reachable_points(mini_set.node("1.1"))


@pytest.mark.parametrize(
    ("code", "answer", "lines"),
    [
        ("1.1.1", {"value": "2026-01-31"}, ["Ngày ký số của Kế hoạch: 31/01/2026"]),
        (
            "1.1.2",
            {"checked": [2, 0]},
            [
                "☑ Đủ nhiệm vụ (0,50)",
                "☐ Có phân công (0,25)",
                "☑ Có sản phẩm đầu ra (0,25)",
            ],
        ),
        ("1.1.3", {"value": "92.50"}, ["Tỷ lệ 92,5%"]),
        # Truncated like the explanation: 66,66% stays below a 66,67% bound.
        ("1.1.3", {"numerator": 2, "denominator": 3}, ["Tỷ lệ 2/3 = 66,67%"]),
        ("1.1.3", {"numerator": 0, "denominator": 0}, ["Tỷ lệ 0/0: không phát sinh"]),
        (
            "1.2",
            {"counts": [1, 0]},
            ["mỗi báo cáo chậm: 1 lần", "mỗi báo cáo không gửi: 0 lần"],
        ),
        ("1.3", {"value": True}, ["Đạt: “Đã xử lý hết các vấn đề phát hiện”"]),
        ("2.3", {"value": False}, ["Không đạt: “Niêm yết đầy đủ”"]),
        ("2.1.2", {"level": 1}, ["Mức “Có triển khai”"]),
        ("1.4", {"value": 85}, ["Kết quả điều tra xã hội học 85%"]),
        ("2.1.1", {"not_applicable": True}, ["Không phát sinh / không áp dụng"]),
        ("2.1.1", None, ["Chưa trả lời"]),
        ("2.1.1", {}, ["Chưa trả lời"]),
        ("2.3", {"value": 3}, ["Câu trả lời không đọc được: {'value': 3}"]),
    ],
)
def test_an_answer_reads_in_vietnamese(
    mini_set: CriteriaSet, code: str, answer: dict[str, Any] | None, lines: list[str]
) -> None:
    assert list(describe_answer(mini_set.node(code), answer)) == lines


def test_appraisers_correct_figures_but_choose_levels(mini_set: CriteriaSet) -> None:
    correctable = {leaf.code for leaf in mini_set.leaves() if answer_correctable(leaf)}
    # manual 2.1.2 and the survey leaves 1.4 and 2.2 are not corrected by figures
    assert correctable == {"1.1.1", "1.1.2", "1.1.3", "1.2", "1.3", "2.1.1", "2.3"}
