"""The dossier page: report section III (khó khăn, kiến nghị), edited and audited."""

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
    assert "Khó khăn, vướng mắc và đề xuất, kiến nghị" in page
    assert "1.2" in page  # the leaf section II will list (no evidence)

    response = client.post(_url(assessment), data={"difficulties": TEXT})
    assert response.status_code == 303
    db.session.refresh(assessment)
    assert assessment.difficulties == TEXT
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.difficulties")
    )
    assert event is not None
    assert event.before == {"difficulties": ""} and event.after == {
        "difficulties": TEXT
    }
    assert event.actor_name == "Hoàng Thị Lan"

    doc = Document(
        io.BytesIO(client.get(f"/dossier/assessments/{assessment.id}/report.docx").data)
    )
    texts = [p.text for p in doc.paragraphs]
    start = texts.index("III. KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ")
    assert texts[start + 1 : start + 3] == TEXT.splitlines()


def test_difficulties_are_frozen_once_submitted(
    dossier_case: dict[str, Any], submit_directly: Any, login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    client = login_as("truclam.lanhdao")
    page = client.get(_url(assessment)).get_data(as_text=True)
    assert "<textarea" not in page and "Hồ sơ đang khóa" in page

    response = client.post(_url(assessment), data={"difficulties": TEXT})
    assert response.status_code == 303
    db.session.refresh(assessment)
    assert assessment.difficulties == ""
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.difficulties")
    ).all()
    follow = client.get(_url(assessment)).get_data(as_text=True)
    assert "khóa" in follow


def test_too_long_text_is_refused_next_to_the_field(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    response = login_as("truclam.chuyenvien").post(
        _url(assessment), data={"difficulties": "x" * 20001}
    )
    assert response.status_code == 422
    assert "không được dài quá 20000 ký tự" in response.get_data(as_text=True)
    db.session.refresh(assessment)
    assert assessment.difficulties == ""


def test_admin_sees_the_page_but_cannot_edit(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("admin")
    assert "<textarea" not in client.get(_url(assessment)).get_data(as_text=True)
    client.post(_url(assessment), data={"difficulties": TEXT})
    db.session.refresh(assessment)
    assert assessment.difficulties == ""


def test_dashboard_shows_the_download_buttons(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    page = login_as("truclam.chuyenvien").get("/assessments/").get_data(as_text=True)
    for suffix in ("scores.xlsx", "report.docx", "dossier.zip", "settings"):
        assert f"/dossier/assessments/{assessment.id}/{suffix}" in page
