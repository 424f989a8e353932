"""Each rule type, band edge, N/A policy and bad answer, on the mini set (DESIGN §4).

test-mini.yaml, for reading these tables:
  1.1.1 tiers/date max 1: until 31/01/2026 → 1; 01/02–28/02/2026 → 0.5; otherwise 0
  1.1.2 checklist max 1: items 0.5, 0.25, 0.25
  1.1.3 tiers/% max 2 (full_points): ≥100 → 2; [80,100) → 2v/100; [50,80) → 0.5; else 0
  1.2   deduction max 2: start 2, −0.5 per late report, −1 per missing one, floor 0.5
  1.3   binary max 1 (exclude_from_max): 1 or 0
  1.4   survey max 3
  2.1.1 ratio max 4 (exclude_from_max): target 80%, floor 20%
  2.1.2 manual max 2 (full_points): levels 2, 1, 0
  2.2   survey max 2
  2.3   binary max 2: 2 or 0.5
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from criteria import RULE_TYPES, CriteriaSet
from scoring import (
    AnswerError,
    check_rule_coverage,
    describe_rule,
    format_decimal,
    format_points,
    normalize_answer,
    rank,
    score_assessment,
    score_leaf,
    score_report,
)

D = Decimal

# (leaf, answer, points, explanation)
SCORED: list[tuple[str, dict[str, Any], str, str]] = [
    # tiers on a date: "until" and "from" are inclusive
    (
        "1.1.1",
        {"value": "2025-12-15"},
        "1.00",
        "Ban hành ngày 15/12/2025, trong hạn đến 31/01/2026: 1,00/1 điểm",
    ),
    (
        "1.1.1",
        {"value": "2026-01-31"},
        "1.00",
        "Ban hành ngày 31/01/2026, trong hạn đến 31/01/2026: 1,00/1 điểm",
    ),
    (
        "1.1.1",
        {"value": "2026-02-01"},
        "0.50",
        "Ban hành ngày 01/02/2026, trong khoảng từ 01/02/2026 đến 28/02/2026: "
        "0,50/1 điểm",
    ),
    (
        "1.1.1",
        {"value": "2026-02-28"},
        "0.50",
        "Ban hành ngày 28/02/2026, trong khoảng từ 01/02/2026 đến 28/02/2026: "
        "0,50/1 điểm",
    ),
    (
        "1.1.1",
        {"value": "2026-03-01"},
        "0.00",
        "Ban hành ngày 01/03/2026, ngoài các mốc thời hạn: 0,00/1 điểm",
    ),
    (
        "1.1.1",
        {"value": date(2026, 1, 15)},
        "1.00",
        "Ban hành ngày 15/01/2026, trong hạn đến 31/01/2026: 1,00/1 điểm",
    ),
    # tiers on a percentage: "min" inclusive, "max_lt" exclusive, ratio band
    (
        "1.1.3",
        {"value": 100},
        "2.00",
        "Tỷ lệ 100,00% thuộc khoảng từ 100% trở lên: 2,00/2 điểm",
    ),
    (
        "1.1.3",
        {"value": "99.99"},
        "2.00",
        "Tỷ lệ 99,99% thuộc khoảng từ 80% đến dưới 100%: 2,00/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 92.5},
        "1.85",
        "Tỷ lệ 92,50% thuộc khoảng từ 80% đến dưới 100%: 1,85/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 80.25},
        "1.61",
        "Tỷ lệ 80,25% thuộc khoảng từ 80% đến dưới 100%: 1,61/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 80},
        "1.60",
        "Tỷ lệ 80,00% thuộc khoảng từ 80% đến dưới 100%: 1,60/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 79.99},
        "0.50",
        "Tỷ lệ 79,99% thuộc khoảng từ 50% đến dưới 80%: 0,50/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 50},
        "0.50",
        "Tỷ lệ 50,00% thuộc khoảng từ 50% đến dưới 80%: 0,50/2 điểm",
    ),
    (
        "1.1.3",
        {"value": 49.99},
        "0.00",
        "Tỷ lệ 49,99% thuộc khoảng dưới 50%: 0,00/2 điểm",
    ),
    ("1.1.3", {"value": 0}, "0.00", "Tỷ lệ 0,00% thuộc khoảng dưới 50%: 0,00/2 điểm"),
    (
        "1.1.3",
        {"numerator": 37, "denominator": 40},
        "1.85",
        "Tỷ lệ 37/40 = 92,50% thuộc khoảng từ 80% đến dưới 100%: 1,85/2 điểm",
    ),
    (
        "1.1.3",
        {"numerator": 81, "denominator": 99},
        "1.64",
        "Tỷ lệ 81/99 = 81,82% thuộc khoảng từ 80% đến dưới 100%: 1,64/2 điểm",
    ),
    # Rounded half-up as the engine rounds (81/99 = 81,82 %, not truncated to 81,81);
    # 79999/100000 gets a third decimal rather than "80,00" beside "dưới 80%"
    (
        "1.1.3",
        {"numerator": 79999, "denominator": 100000},
        "0.50",
        "Tỷ lệ 79.999/100.000 = 79,999% thuộc khoảng từ 50% đến dưới 80%: 0,50/2 điểm",
    ),
    (
        "1.1.3",
        {"numerator": 2, "denominator": 3},
        "0.50",
        "Tỷ lệ 2/3 = 66,67% thuộc khoảng từ 50% đến dưới 80%: 0,50/2 điểm",
    ),
    (
        "1.1.3",
        {"numerator": 40, "denominator": 40},
        "2.00",
        "Tỷ lệ 40/40 = 100,00% thuộc khoảng từ 100% trở lên: 2,00/2 điểm",
    ),
    # ratio: target reached, proportional, floor inclusive, below floor
    ("2.1.1", {"value": 100}, "4.00", "Tỷ lệ 100,00% đạt mục tiêu 80%: 4,00/4 điểm"),
    ("2.1.1", {"value": 80}, "4.00", "Tỷ lệ 80,00% đạt mục tiêu 80%: 4,00/4 điểm"),
    (
        "2.1.1",
        {"value": 45},
        "2.25",
        "Tỷ lệ 45,00% so với mục tiêu 80% (4 × 45,00 ÷ 80): 2,25/4 điểm",
    ),
    (
        "2.1.1",
        {"value": 30.1},
        "1.51",
        "Tỷ lệ 30,10% so với mục tiêu 80% (4 × 30,10 ÷ 80): 1,51/4 điểm",
    ),
    (
        "2.1.1",
        {"value": 20},
        "1.00",
        "Tỷ lệ 20,00% so với mục tiêu 80% (4 × 20,00 ÷ 80): 1,00/4 điểm",
    ),
    ("2.1.1", {"value": 19.99}, "0.00", "Tỷ lệ 19,99% dưới mức sàn 20%: 0,00/4 điểm"),
    (
        "2.1.1",
        {"numerator": 1, "denominator": 3},
        "1.67",
        "Tỷ lệ 1/3 = 33,33% so với mục tiêu 80% (4 × 33,33 ÷ 80): 1,67/4 điểm",
    ),
    # binary
    (
        "1.3",
        {"value": True},
        "1.00",
        "Đạt yêu cầu “Đã xử lý hết các vấn đề phát hiện”: 1,00/1 điểm",
    ),
    (
        "1.3",
        {"value": False},
        "0.00",
        "Không đạt yêu cầu “Đã xử lý hết các vấn đề phát hiện”: 0,00/1 điểm",
    ),
    (
        "2.3",
        {"value": False},
        "0.50",
        "Không đạt yêu cầu “Niêm yết đầy đủ”: 0,50/2 điểm",
    ),
    # checklist
    ("1.1.2", {"checked": []}, "0.00", "Không đạt nội dung nào: 0,00/1 điểm"),
    ("1.1.2", {"checked": [0]}, "0.50", "Đạt nội dung 1 (0,5): 0,50/1 điểm"),
    (
        "1.1.2",
        {"checked": [2, 0]},
        "0.75",
        "Đạt nội dung 1, 3 (0,5 + 0,25): 0,75/1 điểm",
    ),
    (
        "1.1.2",
        {"checked": [0, 1, 2]},
        "1.00",
        "Đạt nội dung 1, 2, 3 (0,5 + 0,25 + 0,25): 1,00/1 điểm",
    ),
    # deduction, down to the floor
    ("1.2", {"counts": [0, 0]}, "2.00", "Không có trường hợp bị trừ điểm: 2,00/2 điểm"),
    (
        "1.2",
        {"counts": [1, 0]},
        "1.50",
        "Điểm khởi đầu 2, trừ 1 × 0,5 = 0,5: 1,50/2 điểm",
    ),
    (
        "1.2",
        {"counts": [1, 1]},
        "0.50",
        "Điểm khởi đầu 2, trừ 1 × 0,5 + 1 × 1 = 1,5: 0,50/2 điểm",
    ),
    (
        "1.2",
        {"counts": [3, 0]},
        "0.50",
        "Điểm khởi đầu 2, trừ 3 × 0,5 = 1,5: 0,50/2 điểm",
    ),
    (
        "1.2",
        {"counts": [4, 0]},
        "0.50",
        "Điểm khởi đầu 2, trừ 4 × 0,5 = 2, không thấp hơn mức sàn 0,5: 0,50/2 điểm",
    ),
    (
        "1.2",
        {"counts": [0, 5]},
        "0.50",
        "Điểm khởi đầu 2, trừ 5 × 1 = 5, không thấp hơn mức sàn 0,5: 0,50/2 điểm",
    ),
    # manual
    ("2.1.2", {"level": 0}, "2.00", "Mức “Được công nhận”: 2,00/2 điểm"),
    ("2.1.2", {"level": 1}, "1.00", "Mức “Có triển khai”: 1,00/2 điểm"),
    ("2.1.2", {"level": 2}, "0.00", "Mức “Không có”: 0,00/2 điểm"),
    # survey values (entered by the coordinator)
    (
        "1.4",
        {"value": 85},
        "2.55",
        "Kết quả điều tra xã hội học 85,00% (3 × 85,00 ÷ 100): 2,55/3 điểm",
    ),
    (
        "1.4",
        {"value": 50.5},
        "1.52",
        "Kết quả điều tra xã hội học 50,50% (3 × 50,50 ÷ 100): 1,52/3 điểm",
    ),
    (
        "1.4",
        {"value": 100},
        "3.00",
        "Kết quả điều tra xã hội học 100,00% (3 × 100,00 ÷ 100): 3,00/3 điểm",
    ),
    (
        "1.4",
        {"value": 0},
        "0.00",
        "Kết quả điều tra xã hội học 0,00% (3 × 0,00 ÷ 100): 0,00/3 điểm",
    ),
]


@pytest.mark.parametrize(
    ("code", "answer", "points", "explanation"),
    SCORED,
    ids=[f"{s[0]}-{s[1]}" for s in SCORED],
)
def test_rule_scores_and_explains(
    mini_set: CriteriaSet,
    code: str,
    answer: dict[str, Any],
    points: str,
    explanation: str,
) -> None:
    leaf = mini_set.node(code)
    result = score_leaf(leaf, answer)
    assert result.status == "scored"
    assert result.points == D(points)
    assert result.points.as_tuple().exponent == -2  # rounded to two decimals
    assert (result.max_points, result.counted_max) == (leaf.max_points, leaf.max_points)
    assert result.explanation == explanation
    assert result.code == code


# (leaf, answer, status, points, counted max, explanation)
NOT_SCORED: list[tuple[str, dict[str, Any] | None, str, str | None, str, str]] = [
    ("1.1.1", None, "unanswered", "0", "1", "Chưa trả lời: 0,00/1 điểm"),
    ("1.1.1", {}, "unanswered", "0", "1", "Chưa trả lời: 0,00/1 điểm"),
    (
        "1.2",
        {"not_applicable": False},
        "unanswered",
        "0",
        "2",
        "Chưa trả lời: 0,00/2 điểm",
    ),
    ("1.4", None, "pending", None, "0", "Chờ kết quả điều tra xã hội học"),
    (
        "1.1.3",
        {"not_applicable": True},
        "not_applicable",
        "2.00",
        "2",
        "Không phát sinh (tính tối đa): 2,00/2 điểm",
    ),
    (
        "2.1.2",
        {"not_applicable": True},
        "not_applicable",
        "2.00",
        "2",
        "Không phát sinh (tính tối đa): 2,00/2 điểm",
    ),
    (
        "1.3",
        {"not_applicable": True},
        "not_applicable",
        None,
        "0",
        "Không phát sinh (không tính vào điểm tối đa)",
    ),
    (
        "2.1.1",
        {"not_applicable": True},
        "not_applicable",
        None,
        "0",
        "Không phát sinh (không tính vào điểm tối đa)",
    ),
    # a denominator of 0 means the case did not arise
    (
        "1.1.3",
        {"numerator": 0, "denominator": 0},
        "not_applicable",
        "2.00",
        "2",
        "Không phát sinh (mẫu số bằng 0, tính tối đa): 2,00/2 điểm",
    ),
    (
        "2.1.1",
        {"numerator": "0", "denominator": "0"},
        "not_applicable",
        None,
        "0",
        "Không phát sinh (mẫu số bằng 0, không tính vào điểm tối đa)",
    ),
]


@pytest.mark.parametrize(
    ("code", "answer", "status", "points", "counted", "explanation"),
    NOT_SCORED,
    ids=[f"{s[0]}-{s[1]}" for s in NOT_SCORED],
)
def test_missing_pending_and_not_applicable(
    mini_set: CriteriaSet,
    code: str,
    answer: dict[str, Any] | None,
    status: str,
    points: str | None,
    counted: str,
    explanation: str,
) -> None:
    result = score_leaf(mini_set.node(code), answer)
    assert result.status == status
    assert result.points == (None if points is None else D(points))
    assert result.counted_max == D(counted)
    assert result.explanation == explanation


# (leaf, answer, field, message)
BAD: list[tuple[str, Any, str, str]] = [
    ("1.1.3", {"value": 101}, "value", "1.1.3: tỷ lệ 101% vượt quá 100%"),
    ("1.1.3", {"value": "100.5"}, "value", "1.1.3: tỷ lệ 100,5% vượt quá 100%"),
    ("1.1.3", {"value": -1}, "value", "1.1.3: giá trị -1 không được là số âm"),
    (
        "1.1.3",
        {"value": "chín mươi"},
        "value",
        "1.1.3: giá trị 'chín mươi' không phải là số",
    ),
    ("1.1.3", {"value": True}, "value", "1.1.3: giá trị True không phải là số"),
    ("1.1.3", {"value": None}, "value", "1.1.3: giá trị None không phải là số"),
    (
        "1.1.3",
        {"value": "NaN"},
        "value",
        "1.1.3: giá trị 'NaN' không phải là số hữu hạn",
    ),
    (
        "1.1.3",
        {"value": float("inf")},
        "value",
        "1.1.3: giá trị 'inf' không phải là số hữu hạn",
    ),
    (
        "1.1.3",
        {"numerator": "1e999999", "denominator": "1e999999"},
        "numerator",
        "1.1.3: giá trị '1e999999' nằm ngoài phạm vi cho phép",
    ),
    (
        "1.1.3",
        {"value": "1e-999999"},
        "value",
        "1.1.3: giá trị '1e-999999' nằm ngoài phạm vi cho phép",
    ),
    (
        "1.1.3",
        {"numerator": 41, "denominator": 40},
        "numerator",
        "1.1.3: tử số 41 lớn hơn mẫu số 40",
    ),
    (
        "1.1.3",
        {"numerator": 3, "denominator": 0},
        "numerator",
        "1.1.3: tử số 3 lớn hơn mẫu số 0",
    ),
    (
        "1.1.3",
        {"numerator": -1, "denominator": 4},
        "numerator",
        "1.1.3: giá trị -1 không được là số âm",
    ),
    (
        "1.1.3",
        {"numerator": 1, "denominator": -4},
        "denominator",
        "1.1.3: giá trị -4 không được là số âm",
    ),
    ("1.1.3", {"numerator": 3}, "denominator", "1.1.3: thiếu mẫu số (denominator)"),
    ("1.1.3", {"denominator": 3}, "numerator", "1.1.3: thiếu tử số (numerator)"),
    (
        "1.1.3",
        {"value": 50, "numerator": 1, "denominator": 2},
        "numerator",
        "1.1.3: khóa 'numerator' không hợp lệ; "
        "nhập value (tỷ lệ %) hoặc numerator và denominator",
    ),
    (
        "1.1.3",
        {"valeu": 5},
        "valeu",
        "1.1.3: khóa 'valeu' không hợp lệ; "
        "nhập value (tỷ lệ %) hoặc numerator và denominator",
    ),
    (
        "1.1.3",
        {"not_applicable": True, "value": 50},
        "not_applicable",
        "1.1.3: đã khai không phát sinh thì không nhập thêm số liệu",
    ),
    (
        "1.1.3",
        {"not_applicable": "có"},
        "not_applicable",
        "1.1.3: chỉ nhận true hoặc false",
    ),
    ("1.1.3", [50], "answer", "1.1.3: câu trả lời phải là một đối tượng JSON"),
    (
        "1.1.1",
        {"value": "2026-02-31"},
        "value",
        "1.1.1: ngày '2026-02-31' không hợp lệ (cần ngày có thật, dạng YYYY-MM-DD)",
    ),
    (
        "1.1.1",
        {"value": "31/01/2026"},
        "value",
        "1.1.1: ngày '31/01/2026' không hợp lệ (cần ngày có thật, dạng YYYY-MM-DD)",
    ),
    (
        "1.1.1",
        {"value": "20260115"},
        "value",
        "1.1.1: ngày '20260115' không hợp lệ (cần ngày có thật, dạng YYYY-MM-DD)",
    ),
    (
        "1.1.1",
        {"value": 20260115},
        "value",
        "1.1.1: ngày '20260115' không hợp lệ (cần ngày có thật, dạng YYYY-MM-DD)",
    ),
    (
        "1.1.1",
        {"numerator": 1, "denominator": 2},
        "numerator",
        "1.1.1: khóa 'numerator' không hợp lệ; nhập value là ngày dạng YYYY-MM-DD",
    ),
    (
        "1.1.1",
        {"not_applicable": True},
        "not_applicable",
        "1.1.1: tiêu chí này không được khai không phát sinh",
    ),
    (
        "1.1.2",
        {"checked": [3]},
        "checked",
        "1.1.2: nội dung số 3 không có; số thứ tự hợp lệ từ 0 đến 2",
    ),
    (
        "1.1.2",
        {"checked": [-1]},
        "checked",
        "1.1.2: nội dung số -1 không có; số thứ tự hợp lệ từ 0 đến 2",
    ),
    ("1.1.2", {"checked": [0, 0]}, "checked", "1.1.2: nội dung số 0 được chọn hai lần"),
    ("1.1.2", {"checked": [True]}, "checked", "1.1.2: giá trị True phải là số nguyên"),
    (
        "1.1.2",
        {"checked": "0,1"},
        "checked",
        "1.1.2: phải là danh sách số thứ tự nội dung đạt",
    ),
    (
        "1.2",
        {"counts": [1]},
        "counts",
        "1.2: cần 2 số lần (mỗi trường hợp trừ điểm một số), nhận được 1",
    ),
    ("1.2", {"counts": [1, -1]}, "counts", "1.2: số lần -1 không được âm"),
    ("1.2", {"counts": [1.5, 0]}, "counts", "1.2: giá trị 1.5 phải là số nguyên"),
    (
        "1.2",
        {"count": [0, 0]},
        "count",
        "1.2: khóa 'count' không hợp lệ; "
        "nhập counts là số lần của từng trường hợp trừ điểm",
    ),
    ("2.1.2", {"level": 3}, "level", "2.1.2: mức 3 không có; chọn từ 0 đến 2"),
    ("2.1.2", {"level": "1"}, "level", "2.1.2: mức '1' phải là số nguyên"),
    ("1.3", {"value": "true"}, "value", "1.3: giá trị 'true' phải là true hoặc false"),
    ("1.4", {"value": 101}, "value", "1.4: tỷ lệ 101% vượt quá 100%"),
    (
        "1.4",
        {"numerator": 1, "denominator": 2},
        "numerator",
        "1.4: khóa 'numerator' không hợp lệ; nhập value (tỷ lệ %)",
    ),
]


@pytest.mark.parametrize(
    ("code", "answer", "field", "message"), BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD]
)
def test_bad_answers_are_refused_with_a_vietnamese_message(
    mini_set: CriteriaSet, code: str, answer: Any, field: str, message: str
) -> None:
    leaf = mini_set.node(code)
    with pytest.raises(AnswerError) as caught:
        normalize_answer(leaf, answer, allow_survey=True)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message == message
    assert str(caught.value) == message
    with pytest.raises(AnswerError):
        score_leaf(leaf, answer)


def test_denominator_zero_is_refused_where_not_applicable_is_not_allowed(
    mini_set: CriteriaSet,
) -> None:
    leaf = dataclasses.replace(mini_set.node("1.1.3"), not_applicable="not_allowed")
    with pytest.raises(AnswerError) as caught:
        normalize_answer(leaf, {"numerator": 0, "denominator": 0})
    assert caught.value.field == "denominator"
    assert caught.value.message == (
        "1.1.3: mẫu số bằng 0 (không phát sinh) nhưng tiêu chí này "
        "không được khai không phát sinh"
    )
    assert score_leaf(leaf, {"numerator": 0, "denominator": 5}).points == D("0.00")


def test_units_cannot_answer_survey_leaves(mini_set: CriteriaSet) -> None:
    leaf = mini_set.node("1.4")
    with pytest.raises(AnswerError) as caught:
        normalize_answer(leaf, {"value": 80})
    assert (caught.value.code, caught.value.field) == ("1.4", "value")
    assert caught.value.message == (
        "1.4: tiêu chí đánh giá qua điều tra xã hội học do Sở Nội vụ nhập, "
        "đơn vị không tự chấm"
    )
    assert normalize_answer(leaf, None) is None
    assert normalize_answer(leaf, {"value": 80}, allow_survey=True) == {"value": "80"}


def test_a_non_leaf_takes_no_answer(mini_set: CriteriaSet) -> None:
    with pytest.raises(AnswerError) as caught:
        normalize_answer(mini_set.node("1.1"), {"value": True})
    assert (caught.value.code, caught.value.field) == ("1.1", "code")


CANONICAL: list[tuple[str, Any, dict[str, Any] | None]] = [
    ("1.1.3", {"value": 92.5}, {"value": "92.5"}),
    ("1.1.3", {"value": "92.50"}, {"value": "92.5"}),
    ("1.1.3", {"value": D("100.00")}, {"value": "100"}),
    ("1.1.3", {"value": " 80 "}, {"value": "80"}),
    ("1.1.3", {"value": -0.0}, {"value": "0"}),
    (
        "1.1.3",
        {"numerator": 37, "denominator": 40.0},
        {"numerator": "37", "denominator": "40"},
    ),
    ("1.1.3", {"not_applicable": True}, {"not_applicable": True}),
    ("1.1.3", {"not_applicable": False, "value": 90}, {"value": "90"}),
    ("1.1.1", {"value": date(2026, 1, 5)}, {"value": "2026-01-05"}),
    ("1.1.1", {"value": "2026-01-05"}, {"value": "2026-01-05"}),
    ("1.1.2", {"checked": [2, 0]}, {"checked": [0, 2]}),
    ("1.1.2", {"checked": (1,)}, {"checked": [1]}),
    ("1.2", {"counts": [0, 3]}, {"counts": [0, 3]}),
    ("2.1.2", {"level": 1}, {"level": 1}),
    ("1.3", {"value": False}, {"value": False}),
    ("1.3", None, None),
    ("1.3", {}, None),
]


@pytest.mark.parametrize(("code", "answer", "canonical"), CANONICAL)
def test_normalized_answers_are_canonical_json_and_stable(
    mini_set: CriteriaSet, code: str, answer: Any, canonical: dict[str, Any] | None
) -> None:
    leaf = mini_set.node(code)
    normal = normalize_answer(leaf, answer)
    assert normal == canonical
    assert json.loads(json.dumps(normal)) == normal
    assert normalize_answer(leaf, normal) == normal  # idempotent
    assert score_leaf(leaf, normal) == score_leaf(leaf, answer)


# -- describe_rule ---------------------------------------------------------------

# (leaf, the description's clauses, which describe_rule joins with "; ")
DESCRIBED: list[tuple[str, list[str]]] = [
    (
        "1.1.1",
        [
            "Theo ngày ký số của Kế hoạch: đến 31/01/2026: 1 điểm",
            "từ 01/02/2026 đến 28/02/2026: 0,5 điểm",
            "còn lại: 0 điểm",
        ],
    ),
    (
        "1.1.2",
        [
            "Cộng điểm các nội dung đạt: (1) Đủ nhiệm vụ: 0,5 điểm",
            "(2) Có phân công: 0,25 điểm",
            "(3) Có sản phẩm đầu ra: 0,25 điểm",
        ],
    ),
    (
        "1.1.3",
        [
            "Theo tỷ lệ nhiệm vụ hoàn thành: từ 100% trở lên: 2 điểm",
            "từ 80% đến dưới 100%: 2 × tỷ lệ ÷ 100 điểm",
            "từ 50% đến dưới 80%: 0,5 điểm",
            "dưới 50%: 0 điểm (không phát sinh: tính điểm tối đa)",
        ],
    ),
    (
        "1.2",
        [
            "Điểm khởi đầu 2",
            "mỗi báo cáo chậm: trừ 0,5 điểm",
            "mỗi báo cáo không gửi: trừ 1 điểm",
            "thấp nhất 0,5 điểm",
        ],
    ),
    (
        "1.3",
        [
            "Đạt yêu cầu “Đã xử lý hết các vấn đề phát hiện”: 1 điểm",
            "không đạt: 0 điểm (không phát sinh: không tính vào điểm tối đa)",
        ],
    ),
    (
        "1.4",
        [
            "Theo kết quả điều tra xã hội học (Phiếu điều tra XHH): "
            "3 × kết quả (%) ÷ 100",
            "đơn vị không tự chấm",
        ],
    ),
    (
        "2.1.1",
        [
            "Theo tỷ lệ hồ sơ trực tuyến: 4 × tỷ lệ ÷ 80, "
            "tối đa 4 điểm khi đạt mục tiêu 80%",
            "dưới 20%: 0 điểm (không phát sinh: không tính vào điểm tối đa)",
        ],
    ),
    (
        "2.1.2",
        [
            "Chọn một mức: Được công nhận: 2 điểm",
            "Có triển khai: 1 điểm",
            "Không có: 0 điểm (không phát sinh: tính điểm tối đa)",
        ],
    ),
]


@pytest.mark.parametrize(("code", "clauses"), DESCRIBED)
def test_describe_rule_in_plain_vietnamese(
    mini_set: CriteriaSet, code: str, clauses: list[str]
) -> None:
    assert describe_rule(mini_set.node(code)) == "; ".join(clauses)


def test_describe_rule_of_the_ward_plan_date(ward_set: CriteriaSet) -> None:
    assert describe_rule(ward_set.node("1.1.1")) == (
        "Theo ngày ký số của Kế hoạch: đến 31/01/2026: 0,5 điểm; "
        "từ 01/02/2026 đến 28/02/2026: 0,25 điểm; còn lại: 0 điểm"
    )
    with pytest.raises(ValueError):
        describe_rule(ward_set.node("1.1"))


def test_every_ward_leaf_is_described_and_scorable(ward_set: CriteriaSet) -> None:
    for leaf in ward_set.leaves():
        assert describe_rule(leaf)
        assert score_leaf(leaf, None).explanation


# -- whole assessment ------------------------------------------------------------

MINI_ANSWERS: dict[str, dict[str, Any] | None] = {
    "1.1.1": {"value": "2026-02-10"},  # 0.50
    "1.1.2": {"checked": [0, 2]},  # 0.75
    "1.1.3": {"numerator": 37, "denominator": 40},  # 1.85
    "1.2": {"counts": [1, 1]},  # 0.50
    "1.3": {"not_applicable": True},  # excluded: max −1
    "1.4": {"value": 85},  # 2.55
    "2.1.1": {"value": 45},  # 2.25
    "2.1.2": {"level": 1},  # 1.00
    "2.2": None,  # pending survey: max −2
    "2.3": {"value": False},  # 0.50
}


def test_mini_assessment_by_hand(mini_set: CriteriaSet) -> None:
    result = score_assessment(mini_set, MINI_ANSWERS)
    area1 = D("0.50") + D("0.75") + D("1.85") + D("0.50") + D("2.55")  # 6.15
    area2 = D("2.25") + D("1.00") + D("0.50")  # 3.75
    assert (
        result.nodes["1.1"].points == D("3.10") and result.nodes["1.1"].max_points == 4
    )
    assert (result.nodes["1"].points, result.nodes["1"].max_points) == (area1, D(9))
    assert (result.nodes["2"].points, result.nodes["2"].max_points) == (area2, D(8))
    assert (result.points, result.max_points) == (area1 + area2, D(17))
    assert result.index == D("58.24")  # 100 × 9.90 ÷ 17 = 58.235…
    assert result.band == "Trung bình"
    assert result.pending == ("2.2",)
    assert result.set_id == "test-mini"
    assert result.nodes["1"].index == D("68.33")  # 615 ÷ 9
    assert result.nodes["1.3"].index is None  # nothing counts
    assert result.nodes["1.3"].status == "not_applicable"
    assert (
        result.nodes["1.1"].explanation is None and result.nodes["1.1"].status is None
    )
    assert list(result.nodes) == list(mini_set.nodes())
    assert list(result.leaves) == [leaf.code for leaf in mini_set.leaves()]


def test_mini_report_json(mini_set: CriteriaSet) -> None:
    report = score_report(mini_set, MINI_ANSWERS)
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report
    assert report["set"] == "test-mini"
    assert report["total"] == {"points": "9.90", "max": "17.00", "index": "58.24"}
    assert report["band"] == "Trung bình"
    assert report["pending"] == ["2.2"]
    assert report["nodes"]["1"] == {"points": "6.15", "max": "9.00"}
    assert report["nodes"]["2.2"] == {
        "points": "0.00",
        "max": "0.00",
        "explanation": "Chờ kết quả điều tra xã hội học",
    }
    assert report["nodes"]["1.1.3"]["explanation"] == (
        "Tỷ lệ 37/40 = 92,50% thuộc khoảng từ 80% đến dưới 100%: 1,85/2 điểm"
    )


def test_empty_assessment(mini_set: CriteriaSet) -> None:
    result = score_assessment(mini_set, {})
    assert (result.points, result.max_points) == (D(0), D(15))  # surveys pending
    assert result.index == D("0.00") and result.band == "Yếu"
    assert result.pending == ("1.4", "2.2")


def test_a_node_whose_leaves_are_all_excluded_has_no_index(
    mini_set: CriteriaSet,
) -> None:
    answers = {code: {"not_applicable": True} for code in ("1.3", "2.1.1")}
    result = score_assessment(mini_set, answers)
    assert result.nodes["1.3"].index is None
    assert (result.nodes["2.1"].points, result.nodes["2.1"].max_points) == (D(0), D(2))
    assert result.max_points == D(20) - 3 - 2 - 1 - 4  # surveys pending, two excluded


@pytest.mark.parametrize(
    ("answers", "code", "field"),
    [
        ({"9.9": {"value": True}}, "9.9", "code"),
        ({"1.1": {"value": True}}, "1.1", "code"),
        ({"1.1.3": {"value": 120}}, "1.1.3", "value"),
    ],
)
def test_assessment_refuses_unknown_codes_and_bad_answers(
    mini_set: CriteriaSet, answers: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        score_assessment(mini_set, answers)
    assert (caught.value.code, caught.value.field) == (code, field)


# -- appraised points ------------------------------------------------------------------


def test_points_override_replaces_a_leaf(mini_set: CriteriaSet) -> None:
    base = score_assessment(mini_set, MINI_ANSWERS)
    appraised = score_assessment(
        mini_set, MINI_ANSWERS, points_override={"1.1.3": D("1.5"), "2.2": D("1.234")}
    )
    leaf = appraised.leaves["1.1.3"]
    assert (leaf.points, leaf.status) == (D("1.50"), "scored")
    assert leaf.explanation == "Điểm thẩm định: 1,50/2 điểm"
    # 2.2 was a pending survey: now scored (rounded half up) and counted.
    assert appraised.leaves["2.2"].points == D("1.23")
    assert appraised.pending == ()
    assert appraised.points == base.points - D("1.85") + D("1.50") + D("1.23")
    assert appraised.max_points == base.max_points + D(2)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (D("2.01"), "1.1.3: điểm thẩm định 2.01 phải nằm trong khoảng từ 0 đến 2"),
        (D("-0.5"), "1.1.3: điểm thẩm định -0.5 phải nằm trong khoảng từ 0 đến 2"),
        ("hai", "1.1.3: điểm thẩm định 'hai' không phải là số"),
        (True, "1.1.3: điểm thẩm định True không phải là số"),
    ],
)
def test_points_override_must_be_within_the_leaf_maximum(
    mini_set: CriteriaSet, override: Any, message: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        score_assessment(mini_set, {}, points_override={"1.1.3": override})
    assert (caught.value.code, caught.value.field) == ("1.1.3", "points")
    assert caught.value.message == message


def test_points_override_on_an_unknown_code(mini_set: CriteriaSet) -> None:
    with pytest.raises(AnswerError) as caught:
        score_assessment(mini_set, {}, points_override={"7.7": D(1)})
    assert (caught.value.code, caught.value.field) == ("7.7", "code")


# -- classification bands: min inclusive, max_lt exclusive ----------------------


def _overrides_summing_to(
    criteria_set: CriteriaSet, total: Decimal, skip: tuple[str, ...] = ()
) -> dict[str, Decimal]:
    """Appraised points for every leaf but ``skip``, filled greedily up to ``total``."""
    out: dict[str, Decimal] = {}
    left = total
    for leaf in criteria_set.leaves():
        if leaf.code not in skip:
            out[leaf.code] = min(left, leaf.max_points)
            left -= out[leaf.code]
    assert left == 0
    return out


@pytest.mark.parametrize(
    ("points", "index", "band"),
    [
        ("20", "100.00", "Xuất sắc"),
        ("18", "90.00", "Xuất sắc"),
        ("17.99", "89.95", "Tốt"),
        ("16", "80.00", "Tốt"),
        ("15.99", "79.95", "Khá"),
        ("14", "70.00", "Khá"),
        ("10", "50.00", "Trung bình"),
        ("9.99", "49.95", "Yếu"),
        ("0", "0.00", "Yếu"),
    ],
)
def test_classification_band_edges(
    mini_set: CriteriaSet, points: str, index: str, band: str
) -> None:
    result = score_assessment(
        mini_set, {}, points_override=_overrides_summing_to(mini_set, D(points))
    )
    assert (result.points, result.max_points) == (D(points), D(20))
    assert result.index == D(index)
    assert result.band == band


@pytest.mark.parametrize(
    ("points", "index", "band"),
    [("17.10", "90.00", "Xuất sắc"), ("17.09", "89.95", "Tốt")],
)
def test_band_is_decided_on_the_rounded_index(
    mini_set: CriteriaSet, points: str, index: str, band: str
) -> None:
    # 1.3 not applicable → max 19; 17.10 ÷ 19 = 90% exactly; 17.09 ÷ 19 = 89.947…%
    overrides = _overrides_summing_to(mini_set, D(points), skip=("1.3",))
    result = score_assessment(
        mini_set, {"1.3": {"not_applicable": True}}, points_override=overrides
    )
    assert result.max_points == D(19)
    assert (result.points, result.index, result.band) == (D(points), D(index), band)


# -- helpers ---------------------------------------------------------------------


def test_every_rule_type_has_a_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    check_rule_coverage()
    from scoring import rules

    assert set(rules.HANDLERS) == set(RULE_TYPES)
    monkeypatch.delitem(rules.HANDLERS, "survey")
    with pytest.raises(RuntimeError, match="survey"):
        check_rule_coverage()


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        ("8.5", 2, "8,50"),
        ("0", 2, "0,00"),
        ("1234.5", 2, "1.234,50"),
        ("1234567.891", 2, "1.234.567,89"),
        ("999.995", 2, "1.000,00"),
        ("0.005", 2, "0,01"),
        ("2.675", 2, "2,68"),
        ("-1234.5", 2, "-1.234,50"),
        ("1234.5", 0, "1.235"),
        ("91.65", 1, "91,7"),
        ("0.0000001", 8, "0,00000010"),
        ("0", 6, "0,000000"),
    ],
)
def test_format_decimal(value: str, places: int, text: str) -> None:
    assert format_decimal(D(value), places) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.50", "0,5"),
        ("0.25", "0,25"),
        ("100", "100"),
        ("1E+2", "100"),
        ("0.00", "0"),
        ("1234.50", "1.234,5"),
        ("3", "3"),
    ],
)
def test_format_points(value: str, text: str) -> None:
    assert format_points(D(value)) == text


@pytest.mark.parametrize(
    ("scores", "ranks"),
    [
        ({"a": "10", "b": "9", "c": "9", "d": "8"}, {"a": 1, "b": 2, "c": 2, "d": 4}),
        ({"a": "9.5", "b": "9.50", "c": "1"}, {"a": 1, "b": 1, "c": 3}),
        ({"x": "5", "y": "5", "z": "5"}, {"x": 1, "y": 1, "z": 1}),
        ({"low": "1", "high": "2"}, {"high": 1, "low": 2}),
        ({}, {}),
    ],
)
def test_rank_is_competition_ranking(
    scores: dict[str, str], ranks: dict[str, int]
) -> None:
    assert rank({key: D(value) for key, value in scores.items()}) == ranks
