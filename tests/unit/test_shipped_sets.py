"""The shipped draft sets: one per unit family, each labelled as a draft."""

from __future__ import annotations

from decimal import Decimal

import yaml

from criteria import (
    DATA_DIR,
    RatioRule,
    TiersRule,
    load_criteria_set,
    parse_criteria_set,
)
from criteria.xlsx import read_workbook, write_workbook
from scoring import score_assessment

DEPARTMENT = DATA_DIR / "thanhhoa-so-ban-nganh-2026-draft.yaml"
WARD = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"


def test_department_draft_is_a_labelled_set_of_its_own_family() -> None:
    cs = load_criteria_set(DEPARTMENT)
    assert cs.unit_type == "so_ban_nganh"
    assert cs.meta["status"] == "draft-unofficial"
    assert "DỰ THẢO" in cs.title
    # The sector's TTHC and state management instead of the commune service centre.
    titles = " ".join(node.title for node in cs.nodes().values())
    assert "Trung tâm PVHCC cấp xã" not in titles
    assert "phạm vi quản lý của ngành" in cs.node("3").title
    assert "quản lý nhà nước của ngành" in cs.node("8").title


def test_department_draft_split_and_bonus_area_add_up() -> None:
    cs = load_criteria_set(DEPARTMENT)
    scale = [leaf for leaf in cs.leaves() if not leaf.is_extra]
    survey = sum((x.max_points for x in scale if x.assessed_by == "survey"), Decimal(0))
    assert {"appraised": 100 - survey, "survey": survey} == cs.meta["split"]
    assert [a.code for a in cs.scale_areas()] == [str(n) for n in range(1, 9)]
    assert cs.node("9").kind == "mixed"
    assert (cs.node("9.1").kind, cs.node("9.2").kind) == ("bonus", "penalty")
    # Full marks on the scale plus the whole bonus stay at the maximum (index 100).
    answers = {"9.1.1": {"level": 0}, "9.1.2": {"value": True}}
    result = score_assessment(cs, answers)
    assert result.bonus == Decimal(3)  # 2 + 2 capped at 3
    assert result.max_points == Decimal(71)  # surveys pending, extras never counted


def test_department_draft_round_trips_through_the_spreadsheet() -> None:
    text = DEPARTMENT.read_text(encoding="utf-8")
    again = read_workbook(write_workbook(text, DEPARTMENT.name), "so.xlsx")
    assert again.criteria_set == parse_criteria_set(text, DEPARTMENT.name)


def test_ward_draft_follows_the_2026_plan_targets() -> None:
    cs = load_criteria_set(WARD)
    on_time = cs.node("3.2.2").rule
    reuse = cs.node("3.2.5").rule
    payment = cs.node("3.2.6").rule
    assert isinstance(on_time, TiersRule) and on_time.bands[0].min == Decimal("98.01")
    assert isinstance(reuse, RatioRule) and reuse.target == 80
    assert isinstance(payment, RatioRule) and payment.target == 55
    raw = yaml.safe_load(WARD.read_text(encoding="utf-8"))
    sources = {
        node["code"]: node.get("source", "")
        for area in raw["areas"]
        for criterion in area["criteria"]
        for node in [criterion, *criterion.get("children", [])]
    }
    for code in ("3.2.2", "3.2.5", "3.2.6", "3.2.7", "3.2.8", "5.2.3"):
        assert cs.node(code).is_leaf
        assert sources[code].startswith("DỰ THẢO"), code
    changes = " ".join(cs.meta["draft_changes_2026_plan"])  # type: ignore[arg-type]
    for code in ("3.2.2", "3.2.5", "3.2.6", "3.2.7", "3.2.8", "5.2.3", "6.1.3"):
        assert code in changes


def test_a_period_without_survey_scores_the_self_assessed_leaves_only() -> None:
    from criteria import without_survey

    ward = load_criteria_set(WARD)
    cs = without_survey(ward)
    assert all(leaf.assessed_by != "survey" for leaf in cs.leaves())
    assert len(cs.leaves()) == len(ward.leaves()) - 10
    assert cs.total_max_points == 68  # 100 − 32 survey points
    assert cs.node("1").max_points == 8  # 9 − the 1-point survey leaf 1.8
    result = score_assessment(cs, {})
    assert result.pending == () and result.max_points == 68
