"""The signed PDFs the unit files with its dossier: upload, validation, what is missing.

Two kinds (``SignedKind``): the report, which the unit exports, signs in its e-office
and uploads as a PDF; and the appraisal request letter (công văn/tờ trình đề nghị thẩm
định) when the period asks for one. Both are validated alike: when the period requires a
signature, an unsigned or broken PDF is refused; otherwise it is kept with a warning.
Each upload is one row and one audit event; the latest of each kind counts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, BinaryIO

import sqlalchemy as sa

from evidence_store import (
    EvidenceStore,
    StorageError,
    UploadLimits,
    UploadRejected,
    new_key,
    validate_upload,
)
from webapp import audit
from webapp.clock import now
from webapp.dossier.builders.types import SignatureInfo
from webapp.extensions import db
from webapp.models import Assessment, SignedKind, SignedReport, User
from webapp.signatures import is_good, validate_pdf

logger = logging.getLogger(__name__)


class SignedReportRefused(Exception):
    """The file is not accepted as the signed PDF; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def latest_signed_report(
    assessment: Assessment, kind: SignedKind = SignedKind.REPORT
) -> SignedReport | None:
    """The last signed PDF of this kind uploaded for the assessment."""
    return db.session.scalars(
        sa.select(SignedReport)
        .where(SignedReport.assessment_id == assessment.id, SignedReport.kind == kind)
        .order_by(SignedReport.id.desc())
        .limit(1)
    ).first()


def latest_signed(assessment: Assessment) -> dict[SignedKind, SignedReport]:
    """The latest signed PDF of each kind the unit has uploaded."""
    rows = db.session.scalars(
        sa.select(SignedReport)
        .where(SignedReport.assessment_id == assessment.id)
        .order_by(SignedReport.id)
    ).all()
    return {row.kind: row for row in rows}


def missing_request_letter(assessment: Assessment) -> str:
    """Why the dossier is not complete without the request letter ("" if it is)."""
    if not assessment.period.request_letter_required:
        return ""
    if latest_signed_report(assessment, SignedKind.REQUEST_LETTER) is not None:
        return ""
    return (
        "Kỳ đánh giá yêu cầu công văn (tờ trình) đề nghị thẩm định đã ký số: đơn vị "
        "chưa tải lên nên hồ sơ (ZIP) chưa xuất được. Đơn vị tải bản PDF đã ký lên "
        "tại trang Hồ sơ tự chấm điểm."
    )


def signature_info(record: dict[str, Any] | None) -> SignatureInfo:
    """The stored validation record as the builders read it."""
    record = record or {}
    raw = record.get("signed_at")
    return SignatureInfo(
        signed=bool(record.get("signed")),
        intact=bool(record.get("intact")),
        modified_after=bool(record.get("modified_after")),
        signer=str(record.get("signer") or ""),
        issuer=str(record.get("issuer") or ""),
        signed_at=datetime.fromisoformat(raw) if raw else None,
        problem=str(record.get("problem") or ""),
    )


def upload_signed_report(
    assessment: Assessment,
    fileobj: BinaryIO,
    filename: str,
    *,
    store: EvidenceStore,
    limits: UploadLimits,
    user: User,
    kind: SignedKind = SignedKind.REPORT,
) -> tuple[SignedReport, list[str]]:
    """Validate and keep a signed PDF of ``kind``; returns the row and warnings.

    Raises SignedReportRefused: not the unit's, not a PDF, or (period requiring a
    signature) unsigned or changed after signing.
    """
    label = kind.label
    if not user.is_unit_user or user.unit_id != assessment.unit_id:
        raise SignedReportRefused(f"Chỉ cán bộ của đơn vị được tải lên {label} đã ký.")
    try:
        validated = validate_upload(fileobj, filename, limits)
    except UploadRejected as exc:
        raise SignedReportRefused(exc.message) from exc
    if validated.kind != "pdf":
        raise SignedReportRefused(f"Bản {label} đã ký số phải là tệp PDF.")
    fileobj.seek(0)
    record = validate_pdf(fileobj)
    warnings = [] if is_good(record) else [record["problem"]]
    if warnings and assessment.period.signed_report_required:
        raise SignedReportRefused(
            f"{record['problem']} Kỳ đánh giá này yêu cầu {label} có chữ ký số hợp lệ."
        )
    fileobj.seek(0)
    key = new_key(assessment.unit.code)
    try:
        stored = store.put(key, fileobj, content_type="application/pdf")
    except StorageError as exc:
        logger.error("signed report put failed for %s: %s", key, exc, exc_info=True)
        raise SignedReportRefused("Không lưu được tệp, vui lòng thử lại sau.") from exc
    report = SignedReport(
        assessment_id=assessment.id,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        original_filename=validated.filename,
        kind=kind,
        signature=record,
        uploaded_by_id=user.id,
        uploaded_at=now(),
    )
    try:
        db.session.add(report)
        db.session.flush()
        audit.record(
            "dossier.signed_report",
            "assessment",
            assessment.id,
            after={
                "signed_report_id": report.id,
                "kind": kind,
                "sha256": report.sha256,
                "original_filename": report.original_filename,
                **record,
            },
            unit_id=assessment.unit_id,
            period_id=assessment.period_id,
            summary=f"Tải lên {label} đã ký số “{report.original_filename}”",
            actor=user,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.delete(key)
        raise
    return report, warnings
