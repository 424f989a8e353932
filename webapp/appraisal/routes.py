"""Appraisal and results pages: small views that call webapp/appraisal services."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from evidence_store.text import content_disposition
from webapp.access import get_assessment_or_404, roles_required
from webapp.appraisal import bp
from webapp.appraisal.assignments import (
    appraisal_queue,
    create_assignment,
    delete_assignment,
    list_appraisers,
    list_assignments,
    list_periods,
)
from webapp.appraisal.forms import (
    LeafAppraisalForm,
    ReturnForm,
    SurveyImportForm,
    assignment_form,
)
from webapp.appraisal.leaves import area_of
from webapp.appraisal.returns import create_return
from webapp.appraisal.scores import save_appraisal
from webapp.appraisal.screen import (
    FILTERS,
    appraisal_screen,
    focus_after_save,
    known_filter,
    next_leaf_to_appraise,
)
from webapp.appraisal.survey import (
    SurveyImportRejected,
    SurveyValuesRejected,
    import_survey,
    save_survey_values,
    survey_grid,
)
from webapp.appraisal.survey_template import (
    XLSX_MIMETYPE,
    template_csv,
    template_filename,
    template_xlsx,
)
from webapp.criteria_sets import criteria_for
from webapp.discussion.threads import message_counts
from webapp.errors import ParIndexError, show_on_form
from webapp.extensions import db
from webapp.fields import EmptyForm
from webapp.models import AppraiserAssignment, Assessment, Period
from webapp.storage import get_store

STAFF = ("admin", "appraiser")
UNIT_ROLES = ("unit_editor", "unit_head")
SURVEY_UPLOAD_MAX = 5 * 1024 * 1024


def _user() -> Any:
    return current_user._get_current_object()


def _period_or_404(period_id: int) -> Period:
    return db.get_or_404(Period, period_id)


# -- home ----------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF)
def index() -> str:
    """The appraiser's queue and, for the coordinator, each period's tools."""
    user = _user()
    return render_template(
        "appraisal/index.html", queue=appraisal_queue(user), periods=list_periods(user)
    )


# -- assignments ---------------------------------------------------------------------


@bp.route("/periods/<int:period_id>/assignments", methods=["GET", "POST"])
@roles_required("admin")
def assignments(period_id: int) -> str | Response:
    """Phân công thẩm định: who appraises which unit (and which areas) in the period."""
    period = _period_or_404(period_id)
    areas = criteria_for(period).areas
    form = assignment_form(period, areas, list_appraisers())
    status = 200
    if form.validate_on_submit():
        try:
            create_assignment(
                period,
                unit_id=_int(form.unit_id.data),
                user_id=_int(form.user_id.data),
                area_codes=form.area_codes.data or [],
                actor=_user(),
            )
        except ParIndexError as exc:
            exc.field = exc.field or "unit_id"
            show_on_form(form, exc)
            status = 422
        else:
            flash("Đã phân công thẩm định.", "success")
            return redirect(url_for("appraisal.assignments", period_id=period.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "appraisal/assignments.html",
        period=period,
        form=form,
        rows=list_assignments(period),
        delete_form=EmptyForm(),
    ), status  # type: ignore[return-value]


@bp.post("/assignments/<int:assignment_id>/delete")
@roles_required("admin")
def remove_assignment(assignment_id: int) -> Response:
    assignment = db.get_or_404(AppraiserAssignment, assignment_id)
    if EmptyForm().validate_on_submit():
        period_id = assignment.period_id
        delete_assignment(assignment, actor=_user())
        flash("Đã hủy phân công.", "success")
        return redirect(url_for("appraisal.assignments", period_id=period_id))
    abort(400)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the appraisal screen ------------------------------------------------------------


def _render_screen(
    assessment: Assessment,
    *,
    failed: tuple[str, LeafAppraisalForm] | None = None,
    return_form: ReturnForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    filter_name = known_filter(request.args.get("filter"))
    verify = request.args.get("verify") == "1"
    screen = appraisal_screen(
        assessment,
        _user(),
        filter_name=filter_name,
        verify=verify,
        store=get_store() if verify else None,
        area=request.args.get("area") or None,
    )
    focus = failed[0] if failed else request.args.get("focus")
    if focus is None:
        focus = next_leaf_to_appraise(screen, None)
    return render_template(
        "appraisal/screen.html",
        screen=screen,
        a=assessment,
        filters=FILTERS,
        filter_name=filter_name,
        verify=verify,
        focus=focus,
        failed=failed,
        return_form=return_form or ReturnForm(formdata=None),
        message_counts=message_counts(assessment),
    ), status


@bp.get("/assessments/<int:assessment_id>")
@roles_required(*STAFF)
def screen(assessment_id: int) -> tuple[str, int]:
    """Thẩm định: each leaf's answer, evidence and self-score beside the appraisal."""
    return _render_screen(get_assessment_or_404(assessment_id))


@bp.post("/assessments/<int:assessment_id>/leaves/<code>")
@roles_required(*STAFF)
def save_leaf(assessment_id: int, code: str) -> Response | tuple[str, int]:
    """Save one leaf's appraised score; "save and next" jumps to the next leaf to do."""
    assessment = get_assessment_or_404(assessment_id)
    form = LeafAppraisalForm()
    if not form.validate_on_submit():
        return _render_screen(assessment, failed=(code, form), status=422)
    try:
        save_appraisal(assessment, code, form.to_input(), actor=_user())
    except ParIndexError as exc:
        exc.field = exc.field or "points"
        show_on_form(form, exc)
        # Also at the top: the leaf may be hidden by a filter or far down the page.
        flash(f"Chưa lưu điểm thẩm định tiêu chí {code}: {exc.message}", "error")
        return _render_screen(assessment, failed=(code, form), status=422)
    filter_name = known_filter(request.args.get("filter"))
    jump = bool(form.save_next.data or not form.save.data)
    focus, done = focus_after_save(assessment, _user(), code, filter_name, jump=jump)
    if done:
        flash("Đã thẩm định xong các tiêu chí trong danh sách này.", "success")
    flash(f"Đã lưu điểm thẩm định tiêu chí {code}.", "success")
    return redirect(
        url_for(
            "appraisal.screen",
            assessment_id=assessment.id,
            filter=filter_name,
            focus=focus,
            # Working area by area: stay on the area of the next leaf to appraise.
            area=area_of(focus) if request.args.get("area") else None,
            _anchor="leaf-" + focus.replace(".", "-"),
        )
    )


@bp.post("/assessments/<int:assessment_id>/returns")
@roles_required(*STAFF)
def return_leaves(assessment_id: int) -> Response | tuple[str, int]:
    """Yêu cầu giải trình, bổ sung: reopen chosen leaves for the unit until a date."""
    assessment = get_assessment_or_404(assessment_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            request_row = create_return(
                assessment,
                form.codes.data or [],
                message=form.message.data or "",
                due_text=form.due_date.data or "",
                actor=_user(),
            )
        except ParIndexError as exc:
            exc.field = exc.field or "codes"
            show_on_form(form, exc)
            flash(f"Chưa gửi được yêu cầu giải trình, bổ sung: {exc.message}", "error")
            return _render_screen(assessment, return_form=form, status=422)
        else:
            flash(
                "Đã gửi yêu cầu giải trình, bổ sung tiêu chí "
                + ", ".join(request_row.criterion_codes)
                + " đến đơn vị.",
                "success",
            )
            return redirect(url_for("appraisal.screen", assessment_id=assessment.id))
    flash("Chưa gửi được yêu cầu giải trình, bổ sung: xem lỗi bên dưới.", "error")
    return _render_screen(assessment, return_form=form, status=422)


# -- survey results ------------------------------------------------------------------


def _render_survey(
    period: Period,
    *,
    typed: dict[tuple[int, str], str] | None = None,
    cell_errors: dict[tuple[int, str], str] | None = None,
    import_form: SurveyImportForm | None = None,
    import_errors: list[Any] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "appraisal/survey.html",
        period=period,
        grid=survey_grid(period),
        typed=typed or {},
        cell_errors=cell_errors or {},
        form=EmptyForm(),
        import_form=import_form or SurveyImportForm(formdata=None),
        import_errors=import_errors or [],
    ), status


@bp.route("/periods/<int:period_id>/survey", methods=["GET", "POST"])
@roles_required("admin")
def survey(period_id: int) -> Response | tuple[str, int]:
    """Kết quả điều tra XHH: one input per unit and survey leaf."""
    period = _period_or_404(period_id)
    if request.method == "GET":
        return _render_survey(period)
    if not EmptyForm().validate_on_submit():
        abort(400)
    typed: dict[tuple[int, str], str] = {}
    for name, value in request.form.items():
        parts = name.split("-", 2)
        # An id is a short run of digits: a forged 5,000-digit one is no cell at all.
        cell_id = parts[1] if len(parts) == 3 and parts[0] == "v" else ""
        if cell_id.isdigit() and len(cell_id) <= 18:
            typed[(int(cell_id), parts[2])] = value
    try:
        changed = save_survey_values(period, typed, actor=_user())
    except ParIndexError as exc:
        flash(exc.message, "error")
        cells = exc.errors if isinstance(exc, SurveyValuesRejected) else {}
        return _render_survey(period, typed=typed, cell_errors=cells, status=exc.status)
    flash(f"Đã lưu kết quả điều tra XHH ({changed} ô thay đổi).", "success")
    return redirect(url_for("appraisal.survey", period_id=period.id))


def _template_response(
    period: Period, data: bytes, mimetype: str, ext: str
) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(
        template_filename(period, ext)
    )
    return response


@bp.get("/periods/<int:period_id>/survey/template.xlsx")
@roles_required("admin")
def survey_template_xlsx(period_id: int) -> Response:
    """Tệp mẫu Excel: the import's three columns, every unit and survey leaf."""
    period = _period_or_404(period_id)
    return _template_response(period, template_xlsx(period), XLSX_MIMETYPE, "xlsx")


@bp.get("/periods/<int:period_id>/survey/template.csv")
@roles_required("admin")
def survey_template_csv(period_id: int) -> Response:
    """Tệp mẫu CSV: the same three columns."""
    period = _period_or_404(period_id)
    return _template_response(
        period, template_csv(period), "text/csv; charset=utf-8", "csv"
    )


@bp.post("/periods/<int:period_id>/survey/import")
@roles_required("admin")
def survey_import(period_id: int) -> Response | tuple[str, int]:
    """Import survey results from CSV or XLSX: every row checked, all or nothing."""
    period = _period_or_404(period_id)
    form = SurveyImportForm()
    if not form.validate_on_submit():
        return _render_survey(period, import_form=form, status=422)
    upload = form.file.data
    data = upload.read(SURVEY_UPLOAD_MAX + 1)
    if len(data) > SURVEY_UPLOAD_MAX:
        form.file.errors = ["Tệp kết quả tối đa 5 MB."]
        return _render_survey(period, import_form=form, status=422)
    try:
        count = import_survey(period, upload.filename or "", data, actor=_user())
    except ParIndexError as exc:
        flash(exc.message, "error")
        rows = exc.errors if isinstance(exc, SurveyImportRejected) else []
        return _render_survey(
            period, import_form=form, import_errors=rows, status=exc.status
        )
    flash(f"Đã nhập {count} kết quả điều tra XHH.", "success")
    return redirect(url_for("appraisal.survey", period_id=period.id))
