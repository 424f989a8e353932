"""Per-period rules and a period holding both unit families (issue 18)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from criteria import DATA_DIR
from webapp.admin.periods import open_period
from webapp.criteria_sets import import_criteria_set
from webapp.extensions import db
from webapp.models import Assessment, Period, Unit
from webapp.results.ranking import period_results
from webapp.workflow import criteria_for, score_row

pytestmark = pytest.mark.db

WARD_ID = "thanhhoa-ubnd-xa-phuong-2026-draft"
DEPT_ID = "thanhhoa-so-ban-nganh-2026-draft"


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    import_criteria_set(DATA_DIR / f"{DEPT_ID}.yaml")
    for code, name in (("SONOIVU", "Sở Nội vụ"), ("SOTAICHINH", "Sở Tài chính")):
        db.session.add(Unit(code=code, name=name, kind="so_ban_nganh"))
    db.session.commit()
    return login_as("admin")


def _create(admin: Any, **extra: str) -> Period:
    units = db.session.scalars(
        sa.select(Unit).where(
            Unit.code.in_(["TRUCLAM", "NGHISON", "SONOIVU", "SOTAICHINH"])
        )
    )
    data = {
        "name": "Đánh giá năm 2026 (sở và xã)",
        "year": "2026",
        "criteria_set_id": WARD_ID,
        "unit_ids": [str(u.id) for u in units],
        "opens_on": "01/11/2026",
        **extra,
    }
    response = admin.post("/admin/periods/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    period = db.session.scalars(sa.select(Period).order_by(Period.id.desc())).first()
    assert period is not None
    return period


def _answer(assessment: Assessment, answers: dict[str, Any]) -> None:
    for code, answer in answers.items():
        score_row(assessment, code).answer = answer
    assessment.status = "submitted"
    db.session.commit()


def test_one_period_scores_and_ranks_each_family_on_its_own_set(admin: Any) -> None:
    period = _create(admin, second_criteria_set_id=DEPT_ID)
    assert [(f.unit_kind, f.criteria_set_id) for f in period.family_sets] == [
        ("so_ban_nganh", DEPT_ID)
    ]
    detail = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "Bộ tiêu chí thứ hai (sở, ban, ngành)" in detail and DEPT_ID in detail
    open_period(period)
    by_unit = {
        a.unit.code: a
        for a in db.session.scalars(
            sa.select(Assessment).where(Assessment.period_id == period.id)
        )
    }
    assert criteria_for(by_unit["SONOIVU"]).id == DEPT_ID
    assert criteria_for(by_unit["TRUCLAM"]).id == WARD_ID
    _answer(by_unit["TRUCLAM"], {"1.1.3": {"value": 100}})  # 1 point
    _answer(by_unit["NGHISON"], {"1.1.3": {"value": 100}, "1.6": {"value": 100}})
    _answer(by_unit["SONOIVU"], {"1.1.3": {"value": 100}, "9.1.2": {"value": True}})
    _answer(by_unit["SOTAICHINH"], {"1.1.3": {"value": 90}})
    results = period_results(period)
    ranks = {r.unit.code: r.rank for r in results.rows}
    # Two rankings: each family's best is first in its family.
    assert ranks == {"NGHISON": 1, "TRUCLAM": 2, "SONOIVU": 1, "SOTAICHINH": 2}
    sonoivu = next(r for r in results.rows if r.unit.code == "SONOIVU")
    assert sonoivu.final.bonus == Decimal(2)  # the department set's bonus leaf
    page = admin.get(f"/results/periods/{period.id}").get_data(as_text=True)
    assert "Nhóm (xếp hạng trong nhóm)" in page and "Sở, ban, ngành" in page
    # The department's own result page: its set's areas and leaves, its family's rank.
    mine = admin.get(f"/results/assessments/{by_unit['SONOIVU'].id}")
    assert mine.status_code == 200
    text = mine.get_data(as_text=True)
    assert "quản lý nhà nước của ngành" in text and "/2 đơn vị" in text
    differences = admin.get(f"/results/periods/{period.id}/differences")
    assert differences.status_code == 200
    across = admin.get(f"/results/periods/{period.id}/criteria?code=1.3.1")
    assert across.status_code == 200 and "Sở Tài chính" not in across.text


def test_a_second_set_of_the_same_family_is_refused(
    admin: Any, form_errors: Any
) -> None:
    import_criteria_set(DATA_DIR / "test-mini.yaml")  # also a ward set
    response = admin.post(
        "/admin/periods/new",
        data={
            "name": "Kỳ thử",
            "year": "2026",
            "criteria_set_id": WARD_ID,
            "second_criteria_set_id": "test-mini",
            "unit_ids": [str(db.session.scalars(sa.select(Unit.id)).first())],
            "opens_on": "01/11/2026",
        },
    )
    errors = form_errors(response.data)
    assert "phải dành cho nhóm đơn vị khác" in " ".join(
        errors["second_criteria_set_id"]
    )


def test_period_bands_reach_below_55_and_replace_the_sets(admin: Any) -> None:
    period = _create(
        admin, classification_bands="Tốt: 80\nKhá: 65\nTrung bình: 50\nYếu: dưới 50"
    )
    assert period.classification_bands == [
        {"label": "Tốt", "min": 80.0},
        {"label": "Khá", "min": 65.0, "max_lt": 80.0},
        {"label": "Trung bình", "min": 50.0, "max_lt": 65.0},
        {"label": "Yếu", "max_lt": 50.0},
    ]
    detail = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "Tốt (từ 80%); Khá (từ 65%); Trung bình (từ 50%); Yếu (dưới 50%)" in detail
    open_period(period)
    truclam = db.session.scalars(
        sa.select(Assessment)
        .join(Unit)
        .where(Assessment.period_id == period.id, Unit.code == "TRUCLAM")
    ).one()
    _answer(truclam, {"1.1.3": {"value": 100}})
    row = next(r for r in period_results(period).rows if r.unit.code == "TRUCLAM")
    assert row.final.band == "Yếu"  # index 1,47 %: the lowest band
    assert [b.label for b in criteria_for(truclam).bands] == [
        "Tốt",
        "Khá",
        "Trung bình",
        "Yếu",
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Tốt: 80\nKhá: 60", "dưới 55%"),  # the lowest band must reach below 55 %
        ("Tốt: 80\nKhá: 90\nYếu: 0", "từ cao xuống thấp"),
        ("Tốt: tám mươi", "không phải tỷ lệ"),
    ],
)
def test_bad_period_bands_are_refused_at_the_field(
    admin: Any, form_errors: Any, text: str, words: str
) -> None:
    response = admin.post(
        "/admin/periods/new",
        data={
            "name": "Kỳ thử",
            "year": "2026",
            "criteria_set_id": WARD_ID,
            "unit_ids": [str(db.session.scalars(sa.select(Unit.id)).first())],
            "opens_on": "01/11/2026",
            "classification_bands": text,
        },
    )
    assert words in " ".join(form_errors(response.data)["classification_bands"])


def test_a_period_without_survey_drops_the_survey_leaves(admin: Any) -> None:
    period = _create(admin, exclude_survey="y", signed_report_required="y")
    assert not period.include_survey and period.signed_report_required
    open_period(period)
    truclam = db.session.scalars(
        sa.select(Assessment)
        .join(Unit)
        .where(Assessment.period_id == period.id, Unit.code == "TRUCLAM")
    ).one()
    cs = criteria_for(truclam)
    assert all(leaf.assessed_by != "survey" for leaf in cs.leaves())
    _answer(truclam, {"1.1.3": {"value": 100}})
    row = next(r for r in period_results(period).rows if r.unit.code == "TRUCLAM")
    assert not row.missing_survey and row.final.max_points == Decimal(68)
    edit = admin.get(f"/admin/periods/{period.id}/edit").get_data(as_text=True)
    box = edit[
        edit.index('id="exclude_survey"') - 80 : edit.index('id="exclude_survey"') + 80
    ]
    assert "checked" in box


def test_a_department_scores_the_set_with_bonus_and_penalty_in_the_browser_pages(
    admin: Any, client: Any, login_as: Any, save_leaf: Any, clock: Any
) -> None:
    from datetime import datetime

    from webapp.auth.services import hash_password
    from webapp.clock import VN_TZ
    from webapp.models import User

    period = _create(admin, second_criteria_set_id=DEPT_ID)
    open_period(period)
    unit = db.session.scalars(sa.select(Unit).where(Unit.code == "SONOIVU")).one()
    db.session.add(
        User(
            username="sonoivu.lanhdao",
            full_name="Lãnh đạo Sở Nội vụ",
            role="unit_head",
            unit=unit,
            password_hash=hash_password("ParIndex@2026"),
        )
    )
    db.session.commit()
    assessment = db.session.scalars(
        sa.select(Assessment).where(
            Assessment.period_id == period.id, Assessment.unit_id == unit.id
        )
    ).one()
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    login_as("sonoivu.lanhdao")
    page = client.get(f"/assessments/{assessment.id}?area=all").get_data(as_text=True)
    assert "Điểm thưởng, điểm trừ" in page and 'id="leaf-9.2.1"' in page
    penalty = page[page.index('id="leaf-9.2.1"') :][:2000]
    assert "Điểm trừ (số điểm bị trừ)" in penalty
    assert save_leaf(assessment.id, "9.1.1", level="1").status_code == 303
    assert save_leaf(assessment.id, "9.2.1", count_0="3").status_code == 303
    db.session.expire_all()
    rows = {r.criterion_code: r for r in assessment.scores}
    assert rows["9.1.1"].self_points == Decimal(1)  # bonus 1
    assert rows["9.2.1"].self_points == Decimal("1.5")  # 3 × 0,5 taken away
    page = client.get(f"/assessments/{assessment.id}?area=all").get_data(as_text=True)
    assert "+1,00 / −1,50" in page  # bonus and penalty, already in the total
    for path in ("scores.xlsx", "report.docx"):
        export = client.get(f"/dossier/assessments/{assessment.id}/{path}")
        assert export.status_code == 200, path


def test_survey_results_are_entered_for_each_family_on_its_own_leaves(
    admin: Any,
) -> None:
    period = _create(admin, second_criteria_set_id=DEPT_ID)
    open_period(period)
    by_unit = {
        a.unit.code: a
        for a in db.session.scalars(
            sa.select(Assessment).where(Assessment.period_id == period.id)
        )
    }
    ward, dept = by_unit["TRUCLAM"], by_unit["SONOIVU"]
    page = admin.get(f"/appraisal/periods/{period.id}/survey").get_data(as_text=True)
    # 1.8 is a ward survey leaf, 1.7 the department's: each unit only has its own cell.
    assert f'name="v-{ward.id}-1.8"' in page and f'name="v-{ward.id}-1.7"' not in page
    assert f'name="v-{dept.id}-1.7"' in page and f'name="v-{dept.id}-1.8"' not in page
    saved = admin.post(
        f"/appraisal/periods/{period.id}/survey",
        data={
            f"v-{ward.id}-1.8": "80",
            f"v-{dept.id}-1.7": "90,5",
            f"v-{dept.id}-1.8": "1",
        },
    )
    assert saved.status_code in (302, 303)
    db.session.expire_all()
    values = {
        (r.assessment_id, r.criterion_code): r.survey_value
        for a in (ward, dept)
        for r in a.scores
    }
    assert values[(ward.id, "1.8")] == Decimal(80)
    assert values[(dept.id, "1.7")] == Decimal("90.5")
    assert (dept.id, "1.8") not in values  # a cell the grid never showed is ignored
