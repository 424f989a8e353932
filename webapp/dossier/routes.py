"""Dossier pages and downloads: score table, NĐ 30 report, evidence ZIP, ranking."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Response,
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
from webapp.dossier.contents import build_dossier
from webapp.dossier.exports import (
    export_ranking,
    export_report,
    export_scores,
    export_zip,
    exportable,
)
from webapp.dossier.forms import DifficultiesForm
from webapp.dossier.settings import (
    can_edit_settings,
    missing_summary,
    save_difficulties,
)
from webapp.errors import back_to
from webapp.extensions import db
from webapp.formatting import no_store_downloads
from webapp.models import Assessment, Period
from webapp.storage import get_store

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
    """Downloads plus the report's section III, editable by the unit while it may."""
    assessment = get_assessment_or_404(assessment_id)
    if request.method == "GET":
        form = DifficultiesForm(data={"difficulties": assessment.difficulties})
        return _render_settings(assessment, form, 200)
    form = DifficultiesForm()
    if not form.validate():
        return _render_settings(assessment, form, 422)
    back = url_for("dossier.settings", assessment_id=assessment.id)
    back_to(back)
    changed = save_difficulties(assessment, form.difficulties.data or "", user=_user())
    flash("Đã lưu nội dung báo cáo." if changed else "Nội dung không đổi.", "success")
    return redirect(back, 303)


def _render_settings(
    assessment: Assessment, form: DifficultiesForm, status: int
) -> tuple[str, int]:
    dossier = build_dossier(assessment)
    page = render_template(
        "dossier/settings.html",
        assessment=assessment,
        dossier=dossier,
        gaps=missing_summary(dossier),
        form=form,
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


@bp.get("/assessments/<int:assessment_id>/dossier.zip")
@roles_required(*ALL_ROLES)
def dossier_zip(assessment_id: int) -> Response:
    """The whole dossier as a ZIP, streamed while it is built (never held in memory)."""
    export = export_zip(
        get_assessment_or_404(assessment_id),
        _user(),
        store=get_store(),
        ip_address=request.remote_addr or "",
    )
    response = Response(stream_with_context(export.chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(export.filename)
    response.headers["X-Accel-Buffering"] = "no"  # a proxy must pass it on as it comes
    return response


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
