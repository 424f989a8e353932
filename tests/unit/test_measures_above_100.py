"""Measures above 100 % (revenue against its estimate): ``max_value`` on a measure.

Small inline set: 6.1 tiers on "thu so với dự toán" (no upper limit), 6.2 ratio with
target 120 % on a measure that stops at 150 %, 6.3 a plain percentage (stops at 100 %).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from criteria import CriteriaError, CriteriaSet, parse_criteria_set
from scoring import AnswerError, score_assessment, score_leaf

D = Decimal

SET = """
meta:
  id: test-above-100
  title: "Thử nghiệm tỷ lệ trên 100%"
  evaluation_year: 2026
  unit_type: ubnd_xa_phuong
  total_max_points: 6
  classification_bands:
    - {label: "Đạt", min: 50}
    - {label: "Chưa đạt", max_lt: 50}
areas:
- code: "6"
  title: "Tài chính công"
  max_points: 6
  criteria:
  - code: "6.1"
    title: "Thu ngân sách so với dự toán"
    max_points: 2
    assessed_by: self
    rule:
      type: tiers
      measure: {name: "tỷ lệ thu so với dự toán", unit: percent, max_value: null}
      bands:
        - {min: 110, points: 2}
        - {min: 100, max_lt: 110, points: 1.5}
        - {min: 90, max_lt: 100, points: 0.5}
        - {otherwise: true, points: 0}
    not_applicable: not_allowed
    evidence: []
  - code: "6.2"
    title: "Tăng thu so với kế hoạch"
    max_points: 3
    assessed_by: self
    rule:
      type: ratio
      measure: {name: "tỷ lệ tăng thu", unit: percent, max_value: 150}
      target: 120
      floor: 50
    not_applicable: not_allowed
    evidence: []
  - code: "6.3"
    title: "Giải ngân vốn đầu tư công"
    max_points: 1
    assessed_by: self
    rule:
      type: tiers
      measure: {name: "tỷ lệ giải ngân", unit: percent}
      bands:
        - {min: 100, points: 1}
        - {min: 80, max_lt: 100, points: ratio, ratio_base: 100}
        - {max_lt: 80, points: 0}
    not_applicable: not_allowed
    evidence: []
"""


@pytest.fixture(scope="module")
def above() -> CriteriaSet:
    return parse_criteria_set(SET, "above.yaml")


@pytest.mark.parametrize(
    ("code", "answer", "points"),
    [
        ("6.1", {"value": 135}, "2.00"),  # ≥ 110
        ("6.1", {"numerator": 1250, "denominator": 1000}, "2.00"),  # 125 %
        ("6.1", {"value": "104.5"}, "1.50"),
        ("6.1", {"value": 99}, "0.50"),
        ("6.2", {"value": 150}, "3.00"),  # above the target: the maximum, not more
        ("6.2", {"value": 130}, "3.00"),
        ("6.2", {"value": 90}, "2.25"),  # 3 × 90 ÷ 120
        ("6.2", {"value": 40}, "0.00"),  # below the floor
        ("6.3", {"value": 100}, "1.00"),
        ("6.3", {"value": 90}, "0.90"),
    ],
)
def test_points_by_hand(
    above: CriteriaSet, code: str, answer: dict[str, Any], points: str
) -> None:
    assert score_leaf(above.node(code), answer).points == D(points)


@pytest.mark.parametrize(
    ("code", "answer", "words"),
    [
        ("6.2", {"value": 151}, "vượt quá 150%"),
        ("6.2", {"numerator": 16, "denominator": 10}, "vượt 150% của mẫu số 10"),
        ("6.3", {"value": 101}, "vượt quá 100%"),  # no max_value: 100 % as before
        ("6.3", {"numerator": 12, "denominator": 10}, "lớn hơn mẫu số 10"),
    ],
)
def test_values_above_the_measure_are_refused(
    above: CriteriaSet, code: str, answer: dict[str, Any], words: str
) -> None:
    with pytest.raises(AnswerError, match=words):
        score_leaf(above.node(code), answer)


def test_points_never_exceed_the_leaf_maximum(above: CriteriaSet) -> None:
    for code, top in (("6.1", 400), ("6.2", 150), ("6.3", 100)):
        leaf = above.node(code)
        for tenth in range(0, top * 10 + 1, 7):
            value = D(tenth) / 10
            points = score_leaf(leaf, {"value": str(value)}).points
            assert points is not None and points <= leaf.max_points, (code, value)


def test_totals_with_values_above_100(above: CriteriaSet) -> None:
    result = score_assessment(
        above, {"6.1": {"value": 120}, "6.2": {"value": 60}, "6.3": {"value": 80}}
    )
    # 2 + 3 × 60 ÷ 120 = 1.5 + 1 × 80 ÷ 100 = 0.8 → 4.3 of 6 = 71.67 %
    assert result.points == D("4.30")
    assert result.index == D("71.67")


BROKEN = [
    (
        "band beyond the measure's limit",
        ("        - {min: 100, points: 1}\n", "        - {min: 120, points: 1}\n"),
        "6.3: cận dưới 120% vượt giá trị lớn nhất 100% của thang đo",
    ),
    (
        "band shadowed by the bands above it",
        (
            "        - {min: 100, max_lt: 110, points: 1.5}\n",
            "        - {min: 100, max_lt: 110, points: 1.5}\n"
            "        - {min: 102, max_lt: 108, points: 1}\n",
        ),
        "6.1: dải điểm không bao giờ đạt được (nằm ngoài thang đo hoặc bị các dải "
        "trước che hết) (rule.bands[2])",
    ),
    (
        "otherwise after bands that take every value",
        (
            "        - {max_lt: 80, points: 0}\n",
            "        - {max_lt: 80, points: 0}\n"
            "        - {otherwise: true, points: 0}\n",
        ),
        "6.3: dải điểm không bao giờ đạt được",
    ),
    (
        "target above the measure's limit",
        ("      target: 120\n", "      target: 160\n"),
        "6.2: mục tiêu 160% phải lớn hơn 0 và tối đa 150% (rule.target)",
    ),
    (
        "ratio band without an upper bound on an unlimited measure",
        (
            "        - {min: 110, points: 2}\n",
            "        - {min: 110, points: ratio, ratio_base: 200}\n",
        ),
        "6.1: dải tính theo tỷ lệ trên thang đo không giới hạn cần cận trên max_lt",
    ),
    (
        "max_value on a date",
        (
            '      measure: {name: "tỷ lệ giải ngân", unit: percent}\n',
            '      measure: {name: "ngày", unit: date, max_value: 100}\n',
        ),
        "6.3: chỉ dùng khi đo theo tỷ lệ (rule.measure.max_value)",
    ),
]


@pytest.mark.parametrize(
    ("edit", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_unreachable_bands_and_bad_limits_are_refused(
    edit: tuple[str, str], words: str
) -> None:
    old, new = edit
    assert old in SET
    with pytest.raises(CriteriaError) as caught:
        parse_criteria_set(SET.replace(old, new, 1), "above.yaml")
    assert any(words in p for p in caught.value.problems), caught.value.problems


def test_a_band_at_exactly_the_limit_is_reachable() -> None:
    # min: 100 on a measure stopping at 100 %: the value 100 itself reaches it.
    cs = parse_criteria_set(SET, "above.yaml")
    assert score_leaf(cs.node("6.3"), {"value": 100}).points == D(1)
