"""The dossier page: the report's unit-written sections, edited, audited, frozen."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from docx import Document

from webapp.extensions import db
from webapp.models import AuditEvent

TEXT = "Hạ tầng mạng còn chậm.\nĐề nghị Sở Nội vụ tổ chức tập huấn nghiệp vụ."


def _url(assessment: Any) -> str:
    return f"/dossier/assessments/{assessment.id}/settings"


def test_unit_saves_difficulties_and_the_report_prints_them(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    page = client.get(_url(assessment)).get_data(as_text=True)
    assert "Khó khăn, vướng mắc" in page and "Kiến nghị, đề xuất" in page
    assert "1.2" in page  # the leaf section II will list (no evidence)

    response = client.post(
        _url(assessment),
        data={
            "section-kho_khan": TEXT,
            "section-ton_tai": "Còn hồ sơ trễ hạn.",
            "narrative-1": "Lĩnh vực 1 do đơn vị viết.",
        },
    )
    assert response.status_code == 303
    db.session.refresh(assessment)
    assert assessment.report_sections == {
        "kho_khan": TEXT,
        "ton_tai": "Còn hồ sơ trễ hạn.",
        "narratives": {"1": "Lĩnh vực 1 do đơn vị viết."},
    }
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.sections")
    )
    assert event is not None
    assert event.after == assessment.report_sections
    assert event.actor_name == "Hoàng Thị Lan"

    doc = Document(
        io.BytesIO(client.get(f"/dossier/assessments/{assessment.id}/report.docx").data)
    )
    texts = [p.text for p in doc.paragraphs]
    start = texts.index("IV. KHÓ KHĂN, VƯỚNG MẮC")
    assert texts[start + 1 : start + 3] == TEXT.splitlines()
    assert "Còn hồ sơ trễ hạn." in texts and "Lĩnh vực 1 do đơn vị viết." in texts
    assert not any("DỰ THẢO" in t for t in texts)


def test_sections_are_frozen_once_submitted(
    dossier_case: dict[str, Any], submit_directly: Any, login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    client = login_as("truclam.lanhdao")
    page = client.get(_url(assessment)).get_data(as_text=True)
    assert 'name="section-' not in page and "Hồ sơ đang khóa" in page
    assert "Báo cáo đã ký số" in page  # signed after submission, so still offered

    response = client.post(_url(assessment), data={"section-kho_khan": TEXT})
    assert response.status_code == 422
    db.session.refresh(assessment)
    assert not assessment.report_sections
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.sections")
    ).all()
    assert "khóa" in response.get_data(as_text=True)


def test_too_long_text_is_refused_next_to_the_field(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    response = login_as("truclam.chuyenvien").post(
        _url(assessment), data={"section-giai_phap": "x" * 20001}
    )
    assert response.status_code == 422
    assert "không được dài quá 20000 ký tự" in response.get_data(as_text=True)
    db.session.refresh(assessment)
    assert not assessment.report_sections


def test_admin_sees_the_page_but_cannot_edit(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("admin")
    assert "<textarea" not in client.get(_url(assessment)).get_data(as_text=True)
    client.post(_url(assessment), data={"section-kho_khan": TEXT})
    db.session.refresh(assessment)
    assert not assessment.report_sections


def test_dashboard_shows_the_download_buttons(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    page = login_as("truclam.chuyenvien").get("/assessments/").get_data(as_text=True)
    for suffix in ("scores.xlsx", "report.docx", "dossier.zip", "settings"):
        assert f"/dossier/assessments/{assessment.id}/{suffix}" in page


def test_the_page_calls_the_band_expected_while_survey_points_are_pending(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    page = client.get(_url(assessment)).get_data(as_text=True)
    assert "· dự kiến " in page
    assert "chưa tính 10 tiêu chí điều tra xã hội học, chờ kết quả" in page
    assessment.period.include_survey = False  # this round has no survey
    db.session.commit()
    page = client.get(_url(assessment)).get_data(as_text=True)
    assert "dự kiến" not in page and "chờ kết quả" not in page
