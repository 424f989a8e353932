"""A complete answer file for the 2026 ward set, scored and checked by hand.

Every expected number below was worked out from the YAML by hand (not by calling the
engine twice): each leaf's points are written next to its answer, then summed per area.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from criteria import CriteriaSet
from scoring import score_report

D = Decimal

ANSWERS: dict[str, dict[str, Any] | None] = {
    # Area 1 (max 9)
    "1.1.1": {"value": "2026-02-10"},  # February band: 0.25
    "1.1.2": {"checked": [0, 1]},  # 0.2 + 0.15 = 0.35
    "1.1.3": {
        "numerator": 37,
        "denominator": 40,
    },  # 92.5%: 1 × 92.5 ÷ 100 = 0.925 → 0.93
    "1.2": {"counts": [1]},  # 1 − 0.25 = 0.75
    "1.3.1": {"checked": [0, 1]},  # 0.25 + 0.25 = 0.5
    "1.3.2": {"not_applicable": True},  # exclude_from_max: out of points and max (0.5)
    "1.4.1": {"value": 85},  # [80, 100): 0.25
    "1.4.2": {"checked": [0, 1, 3]},  # 0.15 + 0.15 + 0.1 = 0.4
    "1.5": {"level": 1},  # 0.5
    "1.6": {"value": 100},  # ≥ 100: 1
    "1.7": {"counts": [3]},  # 1 − 1.5 < floor: 0
    "1.8": {"value": 80},  # survey: 1 × 80 ÷ 100 = 0.8
    # Area 2 (max 8; 2.4 pending, 2.2.2 did not arise → counted max 5)
    "2.1.1": {"value": 90},  # [80, 100): 0.5
    "2.1.2": {"counts": [0, 1]},  # 1 − 0.25 = 0.75
    "2.2.1": {"value": True},  # 0.5
    "2.2.2": {"numerator": 0, "denominator": 0},  # did not arise: out of the max (1)
    "2.3.1": {"value": 79.99},  # < 80: 0
    "2.3.2": {"value": 100},  # 0.5
    "2.3.3": {"value": False},  # 0
    "2.3.4": {"value": 60},  # [60, 80): 0.25
    "2.4": None,  # survey not in yet: pending
    # Area 3 (max 24)
    "3.1.1": {"value": 95},  # 1.5 × 95 ÷ 100 = 1.425 → 1.43 (half up)
    "3.1.2": {"value": True},  # 0.5
    "3.1.3": {"not_applicable": True},  # exclude_from_max: out of the max (1)
    "3.2.1": {"checked": [0, 1, 2, 3]},  # 1
    "3.2.2": {"value": 97},  # [95, 98): 2
    "3.2.3": None,  # unanswered: 0 of 1
    "3.2.4": {"value": 60},  # ratio, target 80: 1 × 60 ÷ 80 = 0.75
    "3.2.5": {"value": 75},  # ratio, target 80: 1 × 75 ÷ 80 = 0.9375 → 0.94
    "3.2.6": {"not_applicable": True},  # exclude_from_max: out of the max (1)
    "3.2.7": {"value": True},  # 0.5
    "3.2.8": None,  # unanswered: 0 of 0.5
    "3.3": {"value": "90.09"},  # ratio, target 100: 4 × 90.09 ÷ 100 = 3.6036 → 3.60
    "3.4": {"value": 87.5},  # survey: 8 × 87.5 ÷ 100 = 7
    # Area 4 (max 8)
    "4.1.1": {"value": True},  # 1
    "4.1.2": {"value": True},  # 1
    "4.2": {"value": False},  # 0
    "4.3": {"numerator": 17, "denominator": 20},  # 85%: 1.5 × 85 ÷ 100 = 1.275 → 1.28
    "4.4.1": {"level": 0},  # 1
    "4.4.2": {"value": True},  # 0.5
    "4.5": {"value": 70},  # survey: 2 × 70 ÷ 100 = 1.4
    # Area 5 (max 12)
    "5.1.1": {"value": True},  # 1
    "5.1.2": {"not_applicable": True},  # exclude_from_max: out of the max (1)
    "5.2.1": {"value": True},  # 0.5
    "5.2.2": {"value": True},  # 0.5
    "5.2.3": {"value": True},  # 0.5
    "5.3": {"value": 80},  # 1.5 × 80 ÷ 100 = 1.2
    "5.4": {"counts": [1, 1, 0, 2]},  # 3 − (0.5 + 1 + 2 × 0.25) = 1
    "5.5": {"checked": [0]},  # 0.5
    "5.6": {"value": 90},  # survey: 3 × 90 ÷ 100 = 2.7
    # Area 6 (max 8; 6.5 pending → counted max 7)
    "6.1.1": {"checked": [0, 2]},  # 0.35 + 0.35 = 0.7
    "6.1.2": {"value": 90},  # [80, 95), base 95: 1 × 90 ÷ 95 = 0.947… → 0.95
    "6.1.3": {"value": 95},  # [90, 100): 0.5
    "6.2": {"value": True},  # 1
    "6.3.1": {"value": True},  # 0.5
    "6.3.2": {"value": 50},  # [50, 100): 1 × 50 ÷ 100 = 0.5
    "6.4": {"counts": [1, 1]},  # 1.5 − 0.5 − 0.5 = 0.5
    "6.5": None,  # survey not in yet: pending
    # Area 7 (max 15)
    "7.1.1": {"value": 99.5},  # [90, 100): 1.5 × 99.5 ÷ 100 = 1.4925 → 1.49
    "7.1.2": {"value": 81},  # [70, 90), base 90: 1.5 × 81 ÷ 90 = 1.35
    "7.2.1": {"value": 35},  # ratio, target 70: 2.5 × 35 ÷ 70 = 1.25
    "7.2.2": {"numerator": 12, "denominator": 20},  # 60%, target 80: 1 × 60 ÷ 80 = 0.75
    "7.2.3": {"checked": [1]},  # 0.75
    "7.3.1": {"checked": []},  # 0
    "7.3.2": {"counts": [0, 0]},  # 1
    "7.4.1": {"value": True},  # 0.5
    "7.4.2": {"checked": [0, 1, 2]},  # 1.5
    "7.5": {"value": "66.67"},  # survey: 3 × 66.67 ÷ 100 = 2.0001 → 2.00
    # Area 8 (max 16)
    "8.1.1": {"value": "88.88"},  # [80, 100): 2 × 88.88 ÷ 100 = 1.7776 → 1.78
    "8.1.2": {"level": 2},  # 0
    "8.1.3": {"level": 1},  # 0.5
    "8.2": {"value": 81.25},  # survey: 6 × 81.25 ÷ 100 = 4.875 → 4.88 (half up)
    "8.3": {"value": 50},  # survey: 3 × 50 ÷ 100 = 1.5
    "8.4": {"value": 100},  # survey: 3
}

AREA_POINTS = {
    "1": D("0.25")
    + D("0.35")
    + D("0.93")
    + D("0.75")
    + D("0.5")
    + D("0.25")
    + D("0.4")
    + D("0.5")
    + D("1")
    + D("0")
    + D("0.8"),  # = 5.73 (1.3.2 excluded)
    "2": D("0.5")
    + D("0.75")
    + D("0.5")
    + D("0")
    + D("0.5")
    + D("0")
    + D("0.25"),  # = 2.50 (2.2.2 excluded)
    "3": D("1.43")
    + D("0.5")
    + D("1")
    + D("2")
    + D("0")
    + D("0.75")
    + D("0.94")
    + D("0.5")
    + D("0")
    + D("3.60")
    + D("7"),  # = 17.72 (3.1.3, 3.2.6 excluded)
    "4": D("1") + D("1") + D("0") + D("1.28") + D("1") + D("0.5") + D("1.4"),  # = 6.18
    "5": D("1")
    + D("0.5")
    + D("0.5")
    + D("0.5")
    + D("1.2")
    + D("1")
    + D("0.5")
    + D("2.7"),  # = 7.90 (5.1.2 excluded)
    "6": D("0.7")
    + D("0.95")
    + D("0.5")
    + D("1")
    + D("0.5")
    + D("0.5")
    + D("0.5"),  # = 4.65
    "7": D("1.49")
    + D("1.35")
    + D("1.25")
    + D("0.75")
    + D("0.75")
    + D("0")
    + D("1")
    + D("0.5")
    + D("1.5")
    + D("2.00"),  # = 10.59
    "8": D("1.78") + D("0") + D("0.5") + D("4.88") + D("1.5") + D("3"),  # = 11.66
}
# Area maxima; 2.4 (2 points) and 6.5 (1 point) are pending surveys, left out, and so
# are the leaves that did not arise (exclude_from_max): 1.3.2 (0.5), 2.2.2 (1), 3.1.3
# (1), 3.2.6 (1), 5.1.2 (1).
AREA_MAX = {
    "1": D("9") - D("0.5"),
    "2": 8 - 2 - 1,
    "3": 24 - 1 - 1,
    "4": 8,
    "5": 12 - 1,
    "6": 8 - 1,
    "7": 15,
    "8": 16,
}


def test_every_leaf_has_an_answer_entry(ward_set: CriteriaSet) -> None:
    assert list(ANSWERS) == [leaf.code for leaf in ward_set.leaves()]


def test_hand_computed_area_sums() -> None:
    # The sums written out above, checked against their stated totals.
    stated = ["5.73", "2.50", "17.72", "6.18", "7.90", "4.65", "10.59", "11.66"]
    assert [AREA_POINTS[area] for area in "12345678"] == [D(s) for s in stated]


def test_score_report_equals_the_hand_computation(ward_set: CriteriaSet) -> None:
    report = score_report(ward_set, ANSWERS)

    total = sum(AREA_POINTS.values(), D(0))  # 66.93
    total_max = sum(AREA_MAX.values(), D(0))  # 92.5
    assert total == D("66.93") and total_max == D("92.5")
    # 100 × 66.93 ÷ 92.5 = 72.3567… → 72.36, in "Khá (C)" (70 ≤ index < 80)
    assert report["set"] == "thanhhoa-ubnd-xa-phuong-2026-draft"
    assert report["total"] == {"points": "66.93", "max": "92.50", "index": "72.36"}
    assert report["band"] == "Khá (C)"
    assert report["pending"] == ["2.4", "6.5"]
    for area, points in AREA_POINTS.items():
        assert report["nodes"][area] == {
            "points": f"{points:.2f}",
            "max": f"{AREA_MAX[area]:.2f}",
        }, area

    # Some criteria inside the areas.
    nodes = report["nodes"]
    assert nodes["1.1"] == {"points": "1.53", "max": "2.00"}  # 0.25 + 0.35 + 0.93
    assert nodes["2.4"] == {
        "points": "0.00",
        "max": "0.00",
        "explanation": "Chờ kết quả điều tra xã hội học",
    }
    # 1 + 2 + 0 + 0.75 + 0.94 + 0.5 + 0 (3.2.6 did not arise: out of the max)
    assert nodes["3.2"] == {"points": "5.19", "max": "8.00"}
    assert nodes["6.1"] == {"points": "2.15", "max": "3.00"}  # 0.7 + 0.95 + 0.5
    assert nodes["7.2"] == {"points": "2.75", "max": "5.00"}  # 1.25 + 0.75 + 0.75

    # Leaves carry their explanation; parents do not.
    assert nodes["1.1.3"] == {
        "points": "0.93",
        "max": "1.00",
        "explanation": (
            "Tỷ lệ 37/40 = 92,50% thuộc khoảng từ 80% đến dưới 100%: 0,93/1 điểm"
        ),
    }
    assert nodes["1.1.1"]["explanation"] == (
        "Ban hành ngày 10/02/2026, trong khoảng từ 01/02/2026 đến 28/02/2026: "
        "0,25/0,5 điểm"
    )
    assert nodes["1.7"]["explanation"] == (
        "Điểm khởi đầu 1, trừ 3 × 0,5 = 1,5, không thấp hơn mức sàn 0: 0,00/1 điểm"
    )
    assert nodes["2.2.2"]["explanation"] == (
        "Không phát sinh (mẫu số bằng 0, không tính vào điểm tối đa)"
    )
    assert nodes["2.2.2"]["max"] == "0.00" and nodes["1.3.2"]["max"] == "0.00"
    assert nodes["3.2.3"]["explanation"] == "Chưa trả lời: 0,00/1 điểm"
    assert nodes["8.2"]["explanation"] == (
        "Kết quả điều tra xã hội học 81,25% (6 × 81,25 ÷ 100): 4,88/6 điểm"
    )
    assert "explanation" not in nodes["1"] and "explanation" not in nodes["1.1"]

    # The contract's shape: every node in document order, two-decimal strings, JSON.
    assert list(nodes) == list(ward_set.nodes())
    for entry in nodes.values():
        for key in ("points", "max"):
            whole, _, cents = entry[key].partition(".")
            assert whole.isdigit() and len(cents) == 2
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report
