"""The appraisal request letter (công văn/tờ trình đề nghị thẩm định): a period setting,
uploaded and validated like the signed report, shown on the dossier page, required for
the ZIP, listed in its manifest and covered by verify."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Period, SignedKind, SignedReport

LETTER_NAME = "Công văn đề nghị thẩm định - TRUCLAM - 2026 (đã ký số).pdf"
REPORT_NAME = "Báo cáo tự đánh giá - TRUCLAM - 2026 (đã ký số).pdf"


def _post(client: Any, assessment: Any, data: bytes, what: str) -> Any:
    return client.post(
        f"/dossier/assessments/{assessment.id}/{what}",
        data={"file": (io.BytesIO(data), "Công văn số 12.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.fixture
def letter_pdf(evidence_files: Any) -> bytes:
    return evidence_files.pdf(["UY BAN NHAN DAN", "De nghi tham dinh ket qua CCHC"])


@pytest.fixture
def report_pdf(evidence_files: Any) -> bytes:
    return evidence_files.pdf(["UY BAN NHAN DAN", "BAO CAO tu danh gia CCHC"])


@pytest.fixture
def letter_period(dossier_case: dict[str, Any]) -> Period:
    period: Period = dossier_case["assessment"].period
    period.request_letter_required = True
    db.session.commit()
    return period


def test_the_coordinator_sets_the_letter_per_period_and_the_change_is_audited(
    demo: dict[str, Any], login_as: Any
) -> None:
    period = demo["assessments"]["TRUCLAM"].period
    admin = login_as("admin")
    form = admin.get(f"/admin/periods/{period.id}/edit").get_data(as_text=True)
    assert "Yêu cầu công văn (tờ trình) đề nghị thẩm định đã ký số" in form
    data = {
        "name": period.name,
        "year": str(period.year),
        "criteria_set_id": period.criteria_set_id,
        "unit_ids": [str(u.id) for u in period.units],
        "opens_on": "01/11/2026",
        "report_recipient": period.report_recipient,
        "request_letter_required": "y",
    }
    response = admin.post(f"/admin/periods/{period.id}/edit", data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    db.session.refresh(period)
    assert period.request_letter_required
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "period")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.before["request_letter_required"] is False
    assert event.after["request_letter_required"] is True
    detail = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "Công văn đề nghị thẩm định" in detail and "bắt buộc" in detail


def test_a_signed_letter_is_shown_apart_from_the_report(
    dossier_case: dict[str, Any],
    letter_period: Period,
    login_as: Any,
    letter_pdf: bytes,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    page = client.get(f"/dossier/assessments/{assessment.id}/settings")
    text = page.get_data(as_text=True)
    assert "Công văn đề nghị thẩm định đã ký số" in text
    assert "chưa tải lên nên hồ sơ (ZIP) chưa xuất được" in text

    signed = sign_pdf(letter_pdf, signer_name="Nguyễn Thị Hoa")
    page = _post(client, assessment, signed, "request-letter").get_data(as_text=True)
    assert "Đã tải lên công văn đề nghị thẩm định đã ký số." in page
    assert "Nguyễn Thị Hoa" in page and "CA thử nghiệm" in page
    assert "chưa tải lên nên hồ sơ (ZIP) chưa xuất được" not in page
    (row,) = db.session.scalars(sa.select(SignedReport)).all()
    assert row.kind == SignedKind.REQUEST_LETTER and row.signature["intact"]
    # The report is still missing: the letter does not stand in for it.
    assert 'Báo cáo đã ký số</dt><dd><span class="muted">chưa tải lên' in page
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.signed_report")
    ).one()
    assert event.after["kind"] == "request_letter"
    assert "công văn đề nghị thẩm định" in event.summary


def test_a_broken_or_unsigned_letter_is_refused_when_signatures_are_required(
    dossier_case: dict[str, Any],
    letter_period: Period,
    login_as: Any,
    letter_pdf: bytes,
    sign_pdf: Any,
) -> None:
    assessment = dossier_case["assessment"]
    letter_period.signed_report_required = True
    db.session.commit()
    client = login_as("truclam.chuyenvien")
    data = bytearray(sign_pdf(letter_pdf))
    at = data.index(b"BT")
    data[at + 3] = ord("9") if data[at + 3] != ord("9") else ord("8")
    changed = _post(client, assessment, bytes(data), "request-letter")
    assert changed.status_code == 422
    text = changed.get_data(as_text=True)
    assert "bị thay đổi sau khi ký số" in text
    assert "yêu cầu công văn đề nghị thẩm định có chữ ký số hợp lệ" in text
    unsigned = _post(client, assessment, letter_pdf, "request-letter")
    assert unsigned.status_code == 422
    assert "không có chữ ký số" in unsigned.get_data(as_text=True)
    not_pdf = _post(client, assessment, b"hello", "request-letter")
    assert not_pdf.status_code == 422
    assert not db.session.scalars(sa.select(SignedReport)).all()


def test_an_unsigned_letter_is_kept_with_a_warning_when_signatures_are_not_required(
    dossier_case: dict[str, Any],
    letter_period: Period,
    login_as: Any,
    letter_pdf: bytes,
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    page = _post(client, assessment, letter_pdf, "request-letter")
    assert page.status_code == 200
    assert "Tệp PDF không có chữ ký số." in page.get_data(as_text=True)
    (row,) = db.session.scalars(sa.select(SignedReport)).all()
    assert row.kind == SignedKind.REQUEST_LETTER


def test_the_zip_waits_for_the_letter_then_carries_it_and_verify_names_its_signer(
    dossier_case: dict[str, Any],
    letter_period: Period,
    app: Any,
    login_as: Any,
    letter_pdf: bytes,
    report_pdf: bytes,
    sign_pdf: Any,
    tmp_path: Path,
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    refused = client.get(
        f"/dossier/assessments/{assessment.id}/dossier.zip", follow_redirects=True
    )
    text = refused.get_data(as_text=True)
    assert refused.request.path.endswith("/settings")
    assert "đơn vị chưa tải lên nên hồ sơ (ZIP) chưa xuất được" in text
    cli = app.test_cli_runner().invoke(
        args=["dossier", "export", "--assessment", str(assessment.id), "x.zip"]
    )
    assert cli.exit_code == 1 and "chưa xuất được" in cli.output
    exports = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.export")
    ).all()
    assert exports == []  # nothing was issued

    letter = sign_pdf(letter_pdf, signer_name="Nguyễn Thị Hoa")
    _post(client, assessment, letter, "request-letter")
    _post(client, assessment, sign_pdf(report_pdf), "signed-report")
    response = client.get(f"/dossier/assessments/{assessment.id}/dossier.zip")
    assert response.status_code == 200
    out = tmp_path / "hoso.zip"
    out.write_bytes(response.get_data())
    with zipfile.ZipFile(out) as zf:
        assert zf.read(LETTER_NAME) == letter
        assert REPORT_NAME in zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    docs = {d["kind"]: d for d in manifest["documents"]}
    assert docs["request_letter"]["path"] == LETTER_NAME
    assert docs["request_letter"]["signature"]["signer"] == "Nguyễn Thị Hoa"
    assert docs["request_letter"]["original_filename"] == "Công văn số 12.pdf"
    assert docs["signed_report"]["signature"]["signer"] == "Lê Văn Minh"

    result = app.test_cli_runner().invoke(args=["dossier", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "Công văn đề nghị thẩm định" in result.output
    assert "ký số bởi Nguyễn Thị Hoa" in result.output

    # The letter swapped for another one (and its hash in the manifest): caught.
    swapped = tmp_path / "sua.zip"
    other = sign_pdf(letter_pdf, signer_name="Người khác")
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(swapped, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == LETTER_NAME:
                data = other
            elif info.filename == "manifest.json":
                edited = json.loads(data)
                for doc in edited["documents"]:
                    if doc["path"] == LETTER_NAME:
                        doc["sha256"] = hashlib.sha256(other).hexdigest()
                        doc["size"] = len(other)
                data = json.dumps(edited, ensure_ascii=False, indent=2).encode()
            dst.writestr(info, data)
    result = app.test_cli_runner().invoke(args=["dossier", "verify", str(swapped)])
    assert result.exit_code == 1
    assert "KHÔNG khớp hồ sơ nào do hệ thống xuất" in result.output

    staff = login_as("thamdinh")
    page = staff.post(
        "/dossier/verify",
        data={"file": (io.BytesIO(out.read_bytes()), "hoso.zip")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Văn bản đã ký số trong hồ sơ" in page and "Nguyễn Thị Hoa" in page


def test_submission_says_the_letter_is_missing_without_blocking(
    dossier_case: dict[str, Any],
    letter_period: Period,
    login_as: Any,
    fill_assessment: Any,
) -> None:
    assessment = dossier_case["assessment"]
    fill_assessment(assessment)
    client = login_as("truclam.lanhdao")
    page = client.get(f"/assessments/{assessment.id}/submit").get_data(as_text=True)
    assert "Kỳ đánh giá yêu cầu công văn (tờ trình) đề nghị thẩm định đã ký số" in page
    assert "Việc gửi hồ sơ không bị chặn" in page
    assert "Xác nhận gửi hồ sơ" in page


def test_the_verify_page_takes_a_zip_larger_than_an_upload(
    dossier_case: dict[str, Any], app: Any, login_as: Any, tmp_path: Path
) -> None:
    out = tmp_path / "hoso.zip"
    result = app.test_cli_runner().invoke(
        args=["dossier", "export", "--assessment", str(dossier_case["assessment"].id)]
        + [str(out)]
    )
    assert result.exit_code == 0, result.output
    # Evidence uploads stop at MAX_CONTENT_LENGTH; a whole dossier may be far larger.
    app.config["MAX_CONTENT_LENGTH"] = out.stat().st_size // 2
    response = login_as("thamdinh").post(
        "/dossier/verify",
        data={"file": (io.BytesIO(out.read_bytes()), "hoso.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Hồ sơ do hệ thống xuất lúc" in response.get_data(as_text=True)
