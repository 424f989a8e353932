"""Coordinator (admin) screens: units, users, periods, criteria sets, audit log.

Views only parse the form, call one service and redirect; every rule and every audit
record lives in the admin service modules (units, users, periods, criteria_sets,
audit_log). Every route here is admin-only (DESIGN.md §5).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from evidence_store.text import content_disposition
from webapp.access import roles_required
from webapp.admin import bp
from webapp.admin.audit_log import (
    AuditFilters,
    audit_filter_choices,
    describe_events,
    list_audit_events,
)
from webapp.admin.criteria_files import (
    XLSX_MIMETYPE,
    check_workbook,
    import_workbook,
    predecessor_choices,
    save_mapping,
    set_workbook,
    template_bytes,
    year_over_year,
)
from webapp.admin.criteria_sets import (
    import_shipped_set,
    list_criteria_sets,
    shipped_file_choices,
    shipped_files,
)
from webapp.admin.forms import (
    AuditFilterForm,
    CriteriaImportForm,
    CriteriaWorkbookForm,
    ExtensionForm,
    PeriodForm,
    ResetPasswordForm,
    UnitForm,
    UnitImportForm,
    UserCreateForm,
    UserEditForm,
    as_choices,
    code_map_form,
)
from webapp.admin.periods import (
    PeriodInput,
    close_period,
    create_period,
    criteria_set_choices,
    get_period,
    grant_extension,
    list_extensions,
    list_periods,
    open_period,
    period_unit_choices,
    update_period,
)
from webapp.admin.progress import admin_counts, open_periods_progress, period_progress
from webapp.admin.units import (
    CsvImportError,
    active_unit_choices,
    create_unit,
    get_unit,
    import_units_csv,
    list_units,
    set_unit_active,
    update_unit,
)
from webapp.admin.users import (
    create_user,
    force_password_change,
    get_user,
    list_users,
    reset_password,
    set_user_active,
    update_user,
)
from webapp.clock import now, to_vn
from webapp.errors import ParIndexError, back_to, show_on_form
from webapp.fields import EmptyForm, page_number, text_arg
from webapp.models import Period, Unit, User
from webapp.period_rules import format_bands

Page = str | Response | tuple[str, int]
SAVED = "Đã lưu thay đổi."
UNCHANGED = "Không có thay đổi nào."


def _actor() -> User:
    actor: User = current_user._get_current_object()
    return actor


def _unit_or_404(unit_id: int) -> Unit:
    return get_unit(unit_id) or abort(404)


def _user_or_404(user_id: int) -> User:
    return get_user(user_id) or abort(404)


def _period_or_404(period_id: int) -> Period:
    return get_period(period_id) or abort(404)


def _button_posted() -> bool:
    # One-click POST buttons carry only the CSRF token (CSRFProtect checks it).
    return bool(EmptyForm().validate_on_submit())


# --- Dashboard ------------------------------------------------------------------------


@bp.get("/")
@roles_required("admin")
def dashboard() -> Page:
    """Open periods with each unit's progress."""
    return render_template(
        "admin/dashboard.html",
        progress=open_periods_progress(),
        counts=admin_counts(),
    )


# --- Units ----------------------------------------------------------------------------


@bp.get("/units")
@roles_required("admin")
def units() -> Page:
    """Unit list with accent-insensitive search."""
    q = text_arg(request.args, "q")
    return render_template("admin/units.html", units=list_units(q), q=q)


@bp.route("/units/new", methods=["GET", "POST"])
@roles_required("admin")
def unit_new() -> Page:
    """Create a unit."""
    form = UnitForm(data={"leader_title": "CHỦ TỊCH"})
    if form.validate_on_submit():
        try:
            unit = create_unit(form.data)
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(f"Đã tạo đơn vị {unit.name}.", "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def unit_edit(unit_id: int) -> Page:
    """Edit a unit and its report settings."""
    unit = _unit_or_404(unit_id)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        try:
            changed = update_unit(unit, form.data)
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(SAVED if changed else UNCHANGED, "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit)


@bp.post("/units/<int:unit_id>/deactivate")
@roles_required("admin")
def unit_deactivate(unit_id: int) -> Response:
    """Stop a unit (it is left out of new periods and new accounts)."""
    return _set_unit_active(_unit_or_404(unit_id), False)


@bp.post("/units/<int:unit_id>/activate")
@roles_required("admin")
def unit_activate(unit_id: int) -> Response:
    """Reactivate a unit."""
    return _set_unit_active(_unit_or_404(unit_id), True)


def _set_unit_active(unit: Unit, active: bool) -> Response:
    back = url_for("admin.units")
    if _button_posted():
        back_to(back)
        set_unit_active(unit, active)
        done = "Đã kích hoạt lại" if active else "Đã ngừng hoạt động"
        flash(f"{done} đơn vị {unit.name}.", "success")
    return redirect(back)


@bp.route("/units/import", methods=["GET", "POST"])
@roles_required("admin")
def units_import() -> Page:
    """Import a CSV list of units (all rows or none)."""
    form = UnitImportForm()
    problems: list[tuple[int | None, str]] = []
    if form.validate_on_submit():
        try:
            created = import_units_csv(form.file.data.read())
        except CsvImportError as exc:
            problems = exc.problems
            form.file.errors = [
                *form.file.errors,
                "Không nhập đơn vị nào: tệp có lỗi, xem danh sách bên dưới.",
            ]
        else:
            flash(f"Đã nhập {len(created)} đơn vị.", "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_import.html", form=form, problems=problems)


# --- Users ----------------------------------------------------------------------------


@bp.get("/users")
@roles_required("admin")
def users() -> Page:
    """Account list with accent-insensitive search."""
    q = text_arg(request.args, "q")
    return render_template("admin/users.html", users=list_users(q), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def user_new() -> Page:
    """Create an account with a role and (for unit roles) a unit."""
    form = UserCreateForm()
    form.set_unit_choices(active_unit_choices())
    if form.validate_on_submit():
        try:
            user = create_user(
                username=form.username.data or "",
                full_name=form.full_name.data or "",
                role=form.role.data or "",
                unit_id=form.unit_id.data or None,
                password=form.password.data or "",
            )
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(f"Đã tạo tài khoản {user.username}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def user_edit(user_id: int) -> Page:
    """Change an account's full name, role and unit."""
    user = _user_or_404(user_id)
    form = UserEditForm(
        data={
            "full_name": user.full_name,
            "role": user.role,
            "unit_id": user.unit_id or 0,
        }
    )
    choices = active_unit_choices()
    if user.unit is not None and user.unit_id not in {c[0] for c in choices}:
        choices.append((user.unit.id, f"{user.unit.name} ({user.unit.code})"))
    form.set_unit_choices(choices)
    if form.validate_on_submit():
        try:
            changed = update_user(
                user,
                full_name=form.full_name.data or "",
                role=form.role.data or "",
                unit_id=form.unit_id.data or None,
                actor=_actor(),
            )
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(SAVED if changed else UNCHANGED, "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@roles_required("admin")
def user_password(user_id: int) -> Page:
    """Set a new password for an account; its sessions end."""
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(user, form.password.data or "", actor=_actor())
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(
                f"Đã đặt lại mật khẩu cho {user.username}; "
                "các phiên đăng nhập của tài khoản này đã kết thúc.",
                "success",
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/user_password.html", form=form, user=user)


@bp.post("/users/<int:user_id>/force-password-change")
@roles_required("admin")
def user_force_password_change(user_id: int) -> Response:
    """Buộc đổi mật khẩu: sessions end, the next login asks for a new password."""
    user = _user_or_404(user_id)
    back = url_for("admin.users")
    if _button_posted():
        back_to(back)
        force_password_change(user, actor=_actor())
        flash(
            f"Đã buộc {user.username} đổi mật khẩu: các phiên đăng nhập đã kết thúc, "
            "lần đăng nhập tới phải đặt mật khẩu mới.",
            "success",
        )
    return redirect(back)


@bp.post("/users/<int:user_id>/deactivate")
@roles_required("admin")
def user_deactivate(user_id: int) -> Response:
    """Lock an account; its sessions end at once."""
    return _set_user_active(_user_or_404(user_id), False)


@bp.post("/users/<int:user_id>/activate")
@roles_required("admin")
def user_activate(user_id: int) -> Response:
    """Unlock an account."""
    return _set_user_active(_user_or_404(user_id), True)


def _set_user_active(user: User, active: bool) -> Response:
    back = url_for("admin.users")
    if _button_posted():
        back_to(back)
        set_user_active(user, active, actor=_actor())
        done = "Đã mở khóa" if active else "Đã khóa"
        flash(f"{done} tài khoản {user.username}.", "success")
    return redirect(back)


# --- Periods and extensions -----------------------------------------------------------


@bp.get("/periods")
@roles_required("admin")
def periods() -> Page:
    """All periods, newest first."""
    return render_template("admin/periods.html", periods=list_periods())


def _period_form(period: Period | None) -> PeriodForm:
    if period is None:
        today = to_vn(now()).date()
        data: dict[str, Any] = {"year": today.year, "opens_on": today, "unit_ids": []}
    else:
        data = {
            "name": period.name,
            "year": period.year,
            "criteria_set_id": period.criteria_set_id,
            "unit_ids": [u.id for u in period.units],
            "opens_on": to_vn(period.opens_at).date(),
            "self_deadline": to_vn(period.self_deadline).date(),
            "appraisal_deadline": to_vn(period.appraisal_deadline).date(),
            "second_criteria_set_id": next(
                (f.criteria_set_id for f in period.family_sets), ""
            ),
            "classification_bands": format_bands(period.classification_bands),
            "exclude_survey": not period.include_survey,
            "signed_report_required": period.signed_report_required,
            "request_letter_required": period.request_letter_required,
            "report_recipient": period.report_recipient,
            "report_bases": period.report_bases,
        }
    form = PeriodForm(data=data)
    form.criteria_set_id.choices = as_choices(criteria_set_choices())
    form.second_criteria_set_id.choices = as_choices(
        [("", "— không có —"), *criteria_set_choices()]
    )
    form.unit_ids.choices = as_choices(period_unit_choices(period))
    return form


def _period_input(form: PeriodForm) -> PeriodInput:
    assert form.opens_on.data is not None  # DataRequired: the form was validated
    return PeriodInput(
        name=form.name.data or "",
        year=int(form.year.data or 0),
        criteria_set_id=form.criteria_set_id.data or "",
        unit_ids=list(form.unit_ids.data or []),
        opens_on=form.opens_on.data,
        self_deadline=form.self_deadline.data,
        appraisal_deadline=form.appraisal_deadline.data,
        second_criteria_set_id=form.second_criteria_set_id.data or "",
        classification_bands=form.classification_bands.data or "",
        include_survey=not form.exclude_survey.data,
        signed_report_required=bool(form.signed_report_required.data),
        request_letter_required=bool(form.request_letter_required.data),
        report_recipient=form.report_recipient.data or "",
        report_bases=form.report_bases.data or "",
    )


@bp.route("/periods/new", methods=["GET", "POST"])
@roles_required("admin")
def period_new() -> Page:
    """Create a period from an imported criteria set."""
    form = _period_form(None)
    if form.validate_on_submit():
        try:
            period = create_period(_period_input(form))
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(
                "Đã tạo kỳ đánh giá. Bấm “Mở kỳ đánh giá” để các đơn vị bắt đầu.",
                "success",
            )
            return redirect(url_for("admin.period_detail", period_id=period.id))
    return render_template("admin/period_form.html", form=form, period=None)


@bp.get("/periods/<int:period_id>")
@roles_required("admin")
def period_detail(period_id: int) -> Page:
    """A period: its units' progress, extensions and actions."""
    period = _period_or_404(period_id)
    return render_template(
        "admin/period_detail.html",
        period=period,
        progress=period_progress(period),
        extensions=list_extensions(period),
    )


@bp.route("/periods/<int:period_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def period_edit(period_id: int) -> Page:
    """Edit a period (units added to an open period get their assessment)."""
    period = _period_or_404(period_id)
    form = _period_form(period)
    if form.validate_on_submit():
        try:
            changed = update_period(period, _period_input(form))
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash(SAVED if changed else UNCHANGED, "success")
            return redirect(url_for("admin.period_detail", period_id=period.id))
    return render_template("admin/period_form.html", form=form, period=period)


@bp.post("/periods/<int:period_id>/open")
@roles_required("admin")
def period_open(period_id: int) -> Response:
    """Open the period: each unit taking part gets a draft assessment."""
    period = _period_or_404(period_id)
    back = url_for("admin.period_detail", period_id=period.id)
    if _button_posted():
        back_to(back)
        created = open_period(period)
        flash(
            f"Kỳ đánh giá đang mở; đã tạo {len(created)} hồ sơ tự đánh giá.", "success"
        )
    return redirect(back)


@bp.post("/periods/<int:period_id>/close")
@roles_required("admin")
def period_close(period_id: int) -> Response:
    """Close the period."""
    period = _period_or_404(period_id)
    back = url_for("admin.period_detail", period_id=period.id)
    if _button_posted():
        back_to(back)
        close_period(period)
        flash("Đã đóng kỳ đánh giá.", "success")
    return redirect(back)


@bp.route("/periods/<int:period_id>/extensions/new", methods=["GET", "POST"])
@roles_required("admin")
def extension_new(period_id: int) -> Page:
    """Extend one unit's self-assessment deadline, with a reason."""
    period = _period_or_404(period_id)
    form = ExtensionForm()
    unit_id = request.args.get("unit", type=int)
    if request.method == "GET" and unit_id:
        form.unit_id.data = unit_id
    form.unit_id.choices = as_choices(
        (u.id, f"{u.name} ({u.code})") for u in period.units
    )
    if form.validate_on_submit():
        assert form.new_deadline.data is not None  # DataRequired
        try:
            grant_extension(
                period,
                unit_id=form.unit_id.data,
                new_deadline=form.new_deadline.data,
                reason=form.reason.data or "",
                actor=_actor(),
            )
        except ParIndexError as exc:
            show_on_form(form, exc)
        else:
            flash("Đã gia hạn.", "success")
            return redirect(url_for("admin.period_detail", period_id=period.id))
    return render_template("admin/extension_form.html", form=form, period=period)


# --- Criteria sets --------------------------------------------------------------------


@bp.get("/criteria-sets")
@roles_required("admin")
def criteria_sets() -> Page:
    """Imported criteria sets, and the shipped files that can be imported."""
    return render_template(
        "admin/criteria_sets.html",
        sets=list_criteria_sets(),
        files=shipped_files(),
        upload_form=CriteriaWorkbookForm(),
        check=None,
    )


@bp.post("/criteria-sets/import")
@roles_required("admin")
def criteria_import() -> Response:
    """Import one shipped criteria-set file."""
    form = CriteriaImportForm()
    form.filename.choices = as_choices(shipped_file_choices())
    back = url_for("admin.criteria_sets")
    back_to(back)
    if not form.validate_on_submit():
        raise ParIndexError("Tệp bộ tiêu chí không có trong danh sách.")
    record, outcome = import_shipped_set(form.filename.data or "")
    if outcome == "unchanged":
        flash(f"Bộ tiêu chí {record.id} đã nhập trước đó; không thay đổi.", "info")
    else:
        flash(f"Đã nhập bộ tiêu chí {record.title}.", "success")
    return redirect(back)


# --- Audit log ------------------------------------------------------------------------


@bp.get("/audit")
@roles_required("admin")
def audit() -> Page:
    """The audit log, filterable by unit, period, action, user and date range."""
    form = AuditFilterForm(formdata=request.args)
    for name, choices in audit_filter_choices().items():
        form[name].choices = as_choices(choices)
    form.validate()

    def ok(name: str) -> Any:
        field = form[name]
        return None if field.errors else field.data

    filters = AuditFilters(
        unit_id=ok("unit") or None,
        period_id=ok("period") or None,
        action=ok("action") or None,
        actor_id=ok("user") or None,
        date_from=ok("date_from"),
        date_to=ok("date_to"),
    )
    page = list_audit_events(filters, page_number(request.args))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        rows=describe_events(page.items),
        args=args,
    )


# --- Criteria sets as spreadsheets, year over year (issue 18) ------------------------


@bp.post("/criteria-sets/upload")
@roles_required("admin")
def criteria_upload() -> Page:
    """Check an uploaded XLSX (every problem by sheet, row, column), or import it."""
    form = CriteriaWorkbookForm()
    back_to(url_for("admin.criteria_sets"))
    check = None
    if form.validate_on_submit():
        upload = form.file.data
        data, name = upload.read(), upload.filename or "bo-tieu-chi.xlsx"
        if form.action.data == "import":
            check, record, outcome = import_workbook(data, name)
            if record is not None:
                flash(_import_message(record.title, outcome), "success")
                return redirect(url_for("admin.criteria_sets"))
        else:
            check = check_workbook(data, name)
    page = render_template(
        "admin/criteria_sets.html",
        sets=list_criteria_sets(),
        files=shipped_files(),
        upload_form=form,
        check=check,
    )
    return page, 200 if check is None or check.imported else 422


def _import_message(title: str, outcome: str) -> str:
    if outcome == "unchanged":
        return f"Bộ tiêu chí {title} đã nhập trước đó; không thay đổi."
    return f"Đã nhập bộ tiêu chí {title}."


@bp.get("/criteria-sets/template.xlsx")
@roles_required("admin")
def criteria_template() -> Response:
    """The empty spreadsheet template."""
    return _xlsx(*template_bytes())


@bp.get("/criteria-sets/example.xlsx")
@roles_required("admin")
def criteria_example() -> Response:
    """The draft ward set, filled in the template as an example."""
    return _xlsx(*template_bytes(example=True))


@bp.get("/criteria-sets/<set_id>/export.xlsx")
@roles_required("admin")
def criteria_export(set_id: str) -> Response:
    """Any imported set as a spreadsheet, for review and next year's edits."""
    try:
        return _xlsx(*set_workbook(set_id))
    except KeyError:
        abort(404)


def _xlsx(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


@bp.route("/criteria-sets/<set_id>/changes", methods=["GET", "POST"])
@roles_required("admin")
def criteria_changes(set_id: str) -> Page:
    """Diff against the set this one replaces, and the old → new code mapping."""
    choices = predecessor_choices(set_id)
    old_id = request.values.get("from") or (choices[0][0] if choices else "")
    if not any(old_id == c[0] for c in choices):
        return render_template("admin/criteria_changes.html", set_id=set_id, yoy=None)
    yoy = year_over_year(set_id, old_id)
    form = code_map_form(yoy.old.leaves(), yoy.new.leaves(), dict(yoy.diff.mapping))
    back: dict[str, Any] = {"set_id": set_id, "from": old_id}
    back_to(url_for("admin.criteria_changes", **back))
    if form.validate_on_submit():
        save_mapping(set_id, old_id, form.mapping(), actor=_actor())
        flash("Đã lưu cách ghép mã tiêu chí.", "success")
        return redirect(url_for("admin.criteria_changes", **back))
    return render_template(
        "admin/criteria_changes.html",
        set_id=set_id,
        old_id=old_id,
        choices=choices,
        yoy=yoy,
        form=form,
    )
