"""Signed PDFs (ký số): the unit's signed report and signed evidence, validated with
pyHanko against a throwaway CA made here (no private key is ever committed)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import to_vn
from webapp.extensions import db
from webapp.models import Evidence, SignedReport


def _tampered(signed: bytes) -> bytes:
    """One byte of the signed content changed after signing."""
    data = bytearray(signed)
    at = data.index(b"BT")
    data[at + 3] = ord("9") if data[at + 3] != ord("9") else ord("8")
    return bytes(data)


def _post_report(client: Any, assessment: Any, data: bytes) -> Any:
    return client.post(
        f"/dossier/assessments/{assessment.id}/signed-report",
        data={"file": (io.BytesIO(data), "Báo cáo đã ký.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.fixture
def report_pdf(evidence_files: Any) -> bytes:
    return evidence_files.pdf(["UY BAN NHAN DAN", "BAO CAO tu danh gia CCHC"])


def test_a_signed_report_is_accepted_and_shows_signer_and_time(
    dossier_case: dict[str, Any],
    login_as: Any,
    report_pdf: bytes,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    assessment.period.signed_report_required = True
    db.session.commit()
    client = login_as("truclam.chuyenvien")
    page = _post_report(client, assessment, sign_pdf(report_pdf)).get_data(as_text=True)
    (row,) = db.session.scalars(sa.select(SignedReport)).all()
    assert row.signature["signed"] and row.signature["intact"]
    assert "Lê Văn Minh" in page and "CA thử nghiệm" in page
    shown = to_vn(datetime.fromisoformat(row.signature["signed_at"]))
    assert shown.strftime("%d/%m/%Y") in page
    assert "Hợp lệ, tài liệu không bị thay đổi sau khi ký" in page


def test_a_report_changed_after_signing_or_unsigned_is_refused_when_required(
    dossier_case: dict[str, Any],
    login_as: Any,
    report_pdf: bytes,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    assessment.period.signed_report_required = True
    db.session.commit()
    client = login_as("truclam.chuyenvien")
    changed = _post_report(client, assessment, _tampered(sign_pdf(report_pdf)))
    assert changed.status_code == 422
    assert "bị thay đổi sau khi ký số" in changed.get_data(as_text=True)
    unsigned = _post_report(client, assessment, report_pdf)
    assert unsigned.status_code == 422
    assert "không có chữ ký số" in unsigned.get_data(as_text=True)
    assert not db.session.scalars(sa.select(SignedReport)).all()


def test_an_unsigned_report_is_kept_with_a_warning_when_not_required(
    dossier_case: dict[str, Any],
    login_as: Any,
    report_pdf: bytes,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    page = _post_report(client, assessment, report_pdf).get_data(as_text=True)
    assert "Tệp PDF không có chữ ký số." in page
    assert len(db.session.scalars(sa.select(SignedReport)).all()) == 1


def test_signed_evidence_shows_its_signer_and_proposes_the_signing_date(
    dossier_case: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    signed = sign_pdf(evidence_files.pdf(["KE HOACH", "Cai cach hanh chinh 2026"]))
    response = upload_file(assessment.id, "Kế hoạch đã ký.pdf", signed, ("1.1.1",))
    assert response.status_code == 200, response.get_json()
    row = db.session.scalars(
        sa.select(Evidence).where(Evidence.original_filename == "Kế hoạch đã ký.pdf")
    ).one()
    assert row.signature["intact"] and row.signature["signer"] == "Lê Văn Minh"
    day = to_vn(datetime.fromisoformat(row.signature["signed_at"])).strftime("%d/%m/%Y")
    warnings = " ".join(response.get_json().get("warnings", []))
    # 1.1.1 is measured on a date; the case entered 15/01/2026.
    assert f"ngày đã nhập 15/01/2026 khác ngày ký số {day}" in warnings
    page = client.get(f"/evidence/{row.id}").get_data(as_text=True)
    assert "Lê Văn Minh" in page and "CA thử nghiệm" in page and day in page

    broken = _tampered(signed)
    response = upload_file(assessment.id, "Kế hoạch sửa.pdf", broken, ("1.1.1",))
    warnings = " ".join(response.get_json().get("warnings", []))
    assert "bị thay đổi sau khi ký số" in warnings
