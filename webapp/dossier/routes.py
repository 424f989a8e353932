"""Dossier pages and downloads: score table, NĐ 30 report, evidence ZIP, ranking."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from evidence_store.text import content_disposition
from webapp.access import get_assessment_or_404, roles_required
from webapp.dossier import bp
from webapp.dossier.builders.types import REPORT_SECTIONS
from webapp.dossier.contents import build_dossier, report_sections
from webapp.dossier.exports import (
    DossierIncomplete,
    NotAppraised,
    export_appraisal,
    export_ranking,
    export_report,
    export_scores,
    export_zip,
    exportable,
    verify_upload,
)
from webapp.dossier.forms import ReportTextForm, SignedReportForm
from webapp.dossier.settings import (
    SettingsError,
    can_edit_settings,
    missing_summary,
    save_sections,
    save_signer,
)
from webapp.dossier.signed import (
    SignedReportRefused,
    latest_signed,
    missing_request_letter,
    upload_signed_report,
)
from webapp.extensions import db
from webapp.fields import InvalidInput
from webapp.formatting import no_store_downloads
from webapp.lifecycle import NotEditable
from webapp.models import Assessment, Period, SignedKind
from webapp.storage import get_store, upload_limits

ALL_ROLES = ("admin", "unit_editor", "unit_head", "appraiser")

bp.after_request(no_store_downloads)


def _user() -> Any:
    return current_user._get_current_object()


@bp.get("/")
@roles_required(*ALL_ROLES)
def index() -> str:
    """Every dossier the user may export; the coordinator also gets period rankings."""
    assessments, periods = exportable(_user())
    return render_template(
        "dossier/index.html", assessments=assessments, periods=periods
    )


@bp.route("/assessments/<int:assessment_id>/settings", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def settings(assessment_id: int) -> Any:
    """Downloads plus the report's text, editable by the unit while it may."""
    assessment = get_assessment_or_404(assessment_id)
    form = ReportTextForm()
    if request.method == "GET":
        return _render_settings(assessment, 200)
    if not form.validate():
        flash("Phiên làm việc đã hết hạn, vui lòng gửi lại.", "error")
        return _render_settings(assessment, 400)
    try:
        changed = save_sections(
            assessment,
            _prefixed("section-"),
            _prefixed("narrative-"),
            user=_user(),
        )
        flash(
            "Đã lưu nội dung báo cáo." if changed else "Nội dung không đổi.", "success"
        )
    except (NotEditable, SettingsError, InvalidInput) as exc:
        flash(str(exc), "error")
        return _render_settings(assessment, 422)
    return redirect(url_for("dossier.settings", assessment_id=assessment.id), 303)


def _prefixed(prefix: str) -> dict[str, str]:
    return {
        k.removeprefix(prefix): v
        for k, v in request.form.items()
        if k.startswith(prefix)
    }


@bp.post("/assessments/<int:assessment_id>/signer")
@roles_required(*ALL_ROLES)
def signer(assessment_id: int) -> Any:
    """The unit's signer (quyền hạn, chức vụ, họ tên) and Nơi nhận."""
    assessment = get_assessment_or_404(assessment_id)
    if not ReportTextForm().validate():
        flash("Phiên làm việc đã hết hạn, vui lòng gửi lại.", "error")
        return _render_settings(assessment, 400)
    form = request.form
    try:
        changed = save_signer(
            assessment.unit,
            authority=form.get("signer_authority", ""),
            title=form.get("leader_title", ""),
            name=form.get("leader_name", ""),
            recipients=form.get("report_recipients", ""),
            user=_user(),
        )
        flash(
            "Đã lưu người ký, nơi nhận." if changed else "Nội dung không đổi.",
            "success",
        )
    except (NotEditable, SettingsError, InvalidInput) as exc:
        flash(str(exc), "error")
        return _render_settings(assessment, 422)
    return redirect(url_for("dossier.settings", assessment_id=assessment.id), 303)


@bp.post("/assessments/<int:assessment_id>/signed-report")
@roles_required(*ALL_ROLES)
def signed_report(assessment_id: int) -> Any:
    """Upload the signed PDF of the report; refused or warned as the period says."""
    return _upload_signed(assessment_id, SignedKind.REPORT)


@bp.post("/assessments/<int:assessment_id>/request-letter")
@roles_required(*ALL_ROLES)
def request_letter(assessment_id: int) -> Any:
    """Upload the signed appraisal request letter (công văn đề nghị thẩm định)."""
    return _upload_signed(assessment_id, SignedKind.REQUEST_LETTER)


def _upload_signed(assessment_id: int, kind: SignedKind) -> Any:
    assessment = get_assessment_or_404(assessment_id)
    form = SignedReportForm()
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return _render_settings(assessment, 422)
    try:
        _, warnings = upload_signed_report(
            assessment,
            form.file.data.stream,
            form.file.data.filename or "van-ban-da-ky.pdf",
            store=get_store(),
            limits=upload_limits(),
            user=_user(),
            kind=kind,
        )
    except SignedReportRefused as exc:
        flash(exc.message, "error")
        return _render_settings(assessment, 422)
    flash(f"Đã tải lên {kind.label} đã ký số.", "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(url_for("dossier.settings", assessment_id=assessment.id), 303)


def _render_settings(assessment: Assessment, status: int) -> tuple[str, int]:
    dossier = build_dossier(assessment)
    page = render_template(
        "dossier/settings.html",
        assessment=assessment,
        dossier=dossier,
        gaps=missing_summary(dossier),
        form=ReportTextForm(),
        upload_form=SignedReportForm(),
        sections=REPORT_SECTIONS,
        edited=report_sections(assessment),
        signed=latest_signed(assessment),
        missing_letter=missing_request_letter(assessment),
        editable=can_edit_settings(assessment, _user()),
    )
    return page, status


@bp.get("/assessments/<int:assessment_id>/scores.xlsx")
@roles_required(*ALL_ROLES)
def scores_xlsx(assessment_id: int) -> Response:
    """The score table (Excel)."""
    export = export_scores(get_assessment_or_404(assessment_id), _user())
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )


@bp.get("/assessments/<int:assessment_id>/report.docx")
@roles_required(*ALL_ROLES)
def report_docx(assessment_id: int) -> Response:
    """The self-scoring report (Word, NĐ 30/2020 format)."""
    export = export_report(get_assessment_or_404(assessment_id), _user())
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )


@bp.get("/assessments/<int:assessment_id>/appraisal.docx")
@roles_required(*ALL_ROLES)
def appraisal_docx(assessment_id: int) -> Any:
    """The Sở's appraisal result for the unit (Word, NĐ 30/2020 format)."""
    assessment = get_assessment_or_404(assessment_id)
    try:
        export = export_appraisal(assessment, _user())
    except NotAppraised as exc:
        flash(str(exc), "error")
        return redirect(url_for("dossier.settings", assessment_id=assessment.id), 303)
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )


@bp.get("/assessments/<int:assessment_id>/dossier.zip")
@roles_required(*ALL_ROLES)
def dossier_zip(assessment_id: int) -> Any:
    """The whole dossier as a ZIP, streamed while it is built (never held in memory)."""
    assessment = get_assessment_or_404(assessment_id)
    try:
        export = export_zip(
            assessment,
            _user(),
            store=get_store(),
            ip_address=request.remote_addr or "",
        )
    except DossierIncomplete as exc:
        flash(str(exc), "error")
        return redirect(url_for("dossier.settings", assessment_id=assessment.id), 303)
    response = Response(stream_with_context(export.chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(export.filename)
    response.headers["X-Accel-Buffering"] = "no"  # a proxy must pass it on as it comes
    return response


@bp.route("/verify", methods=["GET", "POST"])
@roles_required("admin", "appraiser")
def verify() -> Any:
    """Check a dossier ZIP (or its manifest digest) against what this app issued."""
    result = None
    if request.method == "POST":
        # Set before the body is parsed: the ZIP may be far larger than an upload.
        request.max_content_length = current_app.config["VERIFY_MAX_BYTES"]
        if not ReportTextForm().validate():
            flash("Phiên làm việc đã hết hạn, vui lòng gửi lại.", "error")
            return render_template("dossier/verify.html", form=ReportTextForm()), 400
        upload = request.files.get("file")
        digest = (request.form.get("digest") or "").strip()
        # Werkzeug spools a large upload to disk: the ZIP is read there, by seeking.
        result = verify_upload(
            upload.stream if upload and upload.filename else None, digest
        )
    status = 200 if result is None or result.ok else 422
    page = render_template("dossier/verify.html", form=ReportTextForm(), result=result)
    return page, status


@bp.get("/periods/<int:period_id>/ranking.xlsx")
@roles_required("admin")
def ranking_xlsx(period_id: int) -> Response:
    """The coordinator's export of a period: ranking plus every unit's score table."""
    period = db.get_or_404(Period, period_id)
    export = export_ranking(period, _user())
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )
