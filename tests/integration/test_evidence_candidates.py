"""Last year's documents offered for next year's mapped leaves: never attached alone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from criteria import DATA_DIR
from webapp.admin.criteria_files import save_mapping
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.criteria_sets import import_criteria_text
from webapp.extensions import db
from webapp.models import Assessment, Evidence, EvidenceLink, Period, User

pytestmark = pytest.mark.db

WARD = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"
NEW_ID = "thanhhoa-ubnd-xa-phuong-2027"


@pytest.fixture
def next_year(
    demo: dict[str, Any], add_evidence: Any, evidence_files: Any, clock: Any
) -> Assessment:
    """TRUCLAM's 2026 documents, the 2027 set mapped leaf to leaf, a 2027 period."""
    old = demo["assessments"]["TRUCLAM"]
    add_evidence(
        old,
        ["1.1.1"],
        filename="KH CCHC 2026.pdf",
        data=evidence_files.pdf(["Kế hoạch cải cách hành chính năm 2026"]),
        doc_type="Kế hoạch",
        doc_number="12/KH-UBND",
        issued_on=date(2026, 1, 20),
    )
    add_evidence(old, ["2.1.1"], filename="Báo cáo khác.pdf")
    text = WARD.read_text(encoding="utf-8").replace(
        "id: thanhhoa-ubnd-xa-phuong-2026-draft", f"id: {NEW_ID}", 1
    )
    import_criteria_text(
        text.replace("evaluation_year: 2026", "evaluation_year: 2027", 1), "2027.yaml"
    )
    admin = db.session.scalars(sa.select(User).where(User.username == "admin")).one()
    codes = {"1.1.1": "1.1.1", "1.1.2": "1.1.2"}  # 2.1.1 deliberately not mapped
    save_mapping(NEW_ID, "thanhhoa-ubnd-xa-phuong-2026-draft", codes, actor=admin)
    period = Period(
        name="Đánh giá năm 2027",
        year=2027,
        criteria_set_id=NEW_ID,
        opens_at=datetime(2027, 11, 1, tzinfo=VN_TZ),
        self_deadline=vn_end_of_day(2027, 12, 15),
        appraisal_deadline=vn_end_of_day(2028, 1, 15),
        status="open",
        units=[old.unit],
    )
    db.session.add(period)
    db.session.flush()
    new = Assessment(period_id=period.id, unit_id=old.unit_id)
    db.session.add(new)
    db.session.commit()
    clock.value = datetime(2027, 12, 1, 9, 0, tzinfo=VN_TZ)
    return new


def _leaf_html(page: str, code: str) -> str:
    start = page.index(f'id="leaf-{code}"')
    end = page.find('<section class="leaf', start + 1)
    return page[start : end if end != -1 else len(page)]


def _linked(assessment: Assessment, code: str) -> list[Evidence]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Evidence)
            .join(EvidenceLink)
            .where(
                Evidence.assessment_id == assessment.id,
                EvidenceLink.criterion_code == code,
            )
        )
    )


def test_mapped_leaves_offer_last_years_documents_with_their_date(
    next_year: Assessment, client: Any, login_as: Any
) -> None:
    login_as("truclam.chuyenvien")
    page = client.get(f"/assessments/{next_year.id}?area=all").get_data(as_text=True)
    plan = _leaf_html(page, "1.1.1")
    assert "Tài liệu năm trước có thể dùng lại (1): chỉ là gợi ý, chưa đính kèm" in plan
    assert "ngày 20/01/2026" in plan and "ngoài năm đánh giá" in plan
    # 2.1.1 was not mapped by the coordinator: nothing offered there.
    assert "Tài liệu năm trước" not in _leaf_html(page, "2.1.1")
    assert _linked(next_year, "1.1.1") == []  # offered, never attached by itself


def test_reusing_a_candidate_stores_a_copy_in_this_years_assessment(
    next_year: Assessment, client: Any, login_as: Any
) -> None:
    login_as("truclam.chuyenvien")
    old = db.session.scalars(
        sa.select(Evidence).where(Evidence.original_filename == "KH CCHC 2026.pdf")
    ).one()
    url = f"/evidence/assessments/{next_year.id}/criteria/1.1.1/reuse/{old.id}"
    assert client.post(url, data={"next": "/"}).status_code == 302
    (copy,) = _linked(next_year, "1.1.1")
    assert copy.id != old.id and copy.storage_key != old.storage_key
    assert copy.sha256 == old.sha256 and copy.doc_number == "12/KH-UBND"
    assert copy.issued_on == date(2026, 1, 20)
    assert db.session.get(Evidence, old.id).assessment_id != next_year.id
    # Only offered documents may be reused: not the unmapped 2.1.1 one.
    other = db.session.scalars(
        sa.select(Evidence).where(Evidence.original_filename == "Báo cáo khác.pdf")
    ).one()
    bad = f"/evidence/assessments/{next_year.id}/criteria/1.1.1/reuse/{other.id}"
    assert client.post(bad, data={"next": "/"}).status_code == 303  # refused
    assert len(_linked(next_year, "1.1.1")) == 1
