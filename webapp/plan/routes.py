"""Plan pages: dashboard, import with preview, task tracking, report download."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from webapp.access import roles_required
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.lifecycle import PlanTaskStatus
from webapp.models import Evidence, Unit, User
from webapp.plan import bp, reports, tracking
from webapp.plan.forms import (
    ConfirmForm,
    DueForm,
    EvidenceForm,
    ImportForm,
    NoteForm,
    OwnersForm,
    StatusForm,
)
from webapp.plan.models import PlanTask
from webapp.plan.parsing import ParsedTask, PlanFileError, parse_plan_file

ROLES = ("admin", "unit_editor", "unit_head")
SAMPLE_NAME = "ke-hoach-cchc-2026-phuong-truc-lam.docx"


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _unit_or_404(unit_id: int) -> Unit:
    """Another unit's plan does not exist for a unit user."""
    user = _user()
    if user.role != "admin" and user.unit_id != unit_id:
        abort(404)
    return db.get_or_404(Unit, unit_id)


def _task_or_404(task_id: int) -> PlanTask:
    task = db.get_or_404(PlanTask, task_id)
    _unit_or_404(task.unit_id)
    return task


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="plan-import")


@bp.get("/")
@roles_required(*ROLES)
def index() -> Any:
    user = _user()
    if user.role != "admin" and user.unit_id is not None:
        years = tracking.plan_years(user.unit_id) or [tracking.today().year]
        return redirect(url_for("plan.dashboard", unit_id=user.unit_id, year=years[0]))
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name)).all()
    return render_template(
        "plan/index.html",
        units=units,
        year=tracking.today().year,
        years={u.id: tracking.plan_years(u.id) for u in units},
    )


@bp.get("/<int:unit_id>/<int:year>")
@roles_required(*ROLES)
def dashboard(unit_id: int, year: int) -> Any:
    unit = _unit_or_404(unit_id)
    lead = request.args.get("lead", "").strip()
    board = reports.dashboard(unit.id, year, lead=lead)
    return render_template(
        "plan/dashboard.html",
        unit=unit,
        year=year,
        board=board,
        lead=lead,
        today=tracking.today(),
    )


@bp.route("/<int:unit_id>/<int:year>/import", methods=["GET", "POST"])
@roles_required(*ROLES)
def import_plan(unit_id: int, year: int) -> Any:
    unit = _unit_or_404(unit_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("plan/import.html", unit=unit, year=year, form=form)
    upload = form.file.data
    try:
        rows = parse_plan_file(upload.filename or "", upload.read())
    except PlanFileError as exc:
        form.file.errors = [exc.message]
        return render_template("plan/import.html", unit=unit, year=year, form=form), 422
    payload = _serializer().dumps(
        {"file": upload.filename, "rows": [vars(r) for r in rows]}
    )
    preview = tracking.plan_import(unit, year, rows)
    return render_template(
        "plan/preview.html",
        unit=unit,
        year=year,
        rows=rows,
        preview=preview,
        confirm=ConfirmForm(payload=payload),
        filename=upload.filename,
        deadlines=reports.deadlines_of(rows, year),
    )


@bp.post("/<int:unit_id>/<int:year>/import/confirm")
@roles_required(*ROLES)
def confirm_import(unit_id: int, year: int) -> Response:
    unit = _unit_or_404(unit_id)
    form = ConfirmForm()
    try:
        if not form.validate_on_submit():
            raise BadSignature("csrf")
        data = _serializer().loads(form.payload.data or "")
        rows = [ParsedTask(**r) for r in data["rows"]]
    except (BadSignature, KeyError, TypeError):
        flash("Bản xem trước đã hết hiệu lực; vui lòng tải tệp lên lại.", "error")
        return redirect(url_for("plan.import_plan", unit_id=unit.id, year=year))
    result = tracking.apply_import(
        unit, year, rows, actor=_user(), filename=data["file"]
    )
    flash(
        f"Đã nhập {len(rows)} nhiệm vụ: mới {len(result.created)}, cập nhật "
        f"{len(result.updated)}, không đổi {len(result.unchanged)}.",
        "success",
    )
    return redirect(url_for("plan.dashboard", unit_id=unit.id, year=year))


@bp.get("/task/<int:task_id>")
@roles_required(*ROLES)
def task(task_id: int) -> Any:
    task = _task_or_404(task_id)
    owners = OwnersForm(owners=[u.id for u in task.owners])
    owners.owners.choices = [
        SelectChoice(u.id, u.full_name) for u in _unit_staff(task.unit_id)
    ]
    evidence = EvidenceForm()
    evidence.evidence_id.choices = [
        SelectChoice(e.id, e.summary or e.original_filename)
        for e in _unit_evidence(task.unit_id)
    ]
    return render_template(
        "plan/task.html",
        task=task,
        today=tracking.today(),
        status_form=StatusForm(status=task.status.value, reason=task.status_reason),
        due_form=DueForm(due_date=task.due_date),
        note_form=NoteForm(),
        owners_form=owners,
        evidence_form=evidence,
    )


def _unit_staff(unit_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.unit_id == unit_id, User.is_active.is_(True))
            .order_by(User.full_name)
        )
    )


def _unit_evidence(unit_id: int) -> list[Evidence]:
    return list(
        db.session.scalars(
            sa.select(Evidence)
            .where(Evidence.unit_id == unit_id, Evidence.replaced_by_id.is_(None))
            .order_by(Evidence.uploaded_at.desc())
        )
    )


def _back(task: PlanTask) -> Response:
    return redirect(url_for("plan.task", task_id=task.id))


def _refused(task: PlanTask, exc: ParIndexError) -> Response:
    if exc.status == 404:
        abort(404)
    flash(exc.message, "error")
    return _back(task)


@bp.post("/task/<int:task_id>/status")
@roles_required(*ROLES)
def set_status(task_id: int) -> Response:
    task = _task_or_404(task_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
        return _back(task)
    try:
        tracking.set_status(
            task,
            PlanTaskStatus(form.status.data),
            reason=form.reason.data or "",
            completed_on=form.completed_on.data,
            actor=_user(),
        )
    except ParIndexError as exc:
        return _refused(task, exc)
    flash(f"Đã cập nhật trạng thái: {task.status.label}.", "success")
    return _back(task)


@bp.post("/task/<int:task_id>/due")
@roles_required(*ROLES)
def set_due(task_id: int) -> Response:
    task = _task_or_404(task_id)
    form = DueForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errs in form.errors.values() for e in errs), "error")
        return _back(task)
    tracking.set_due_date(task, form.due_date.data, actor=_user())
    flash("Đã sửa hạn hoàn thành.", "success")
    return _back(task)


@bp.post("/task/<int:task_id>/note")
@roles_required(*ROLES)
def add_note(task_id: int) -> Response:
    task = _task_or_404(task_id)
    form = NoteForm()
    if not form.validate_on_submit() or not (form.text.data or "").strip():
        flash("Vui lòng nhập nội dung ghi chú.", "error")
        return _back(task)
    tracking.add_note(task, form.text.data.strip(), actor=_user())
    flash("Đã thêm ghi chú tiến độ.", "success")
    return _back(task)


@bp.post("/task/<int:task_id>/owners")
@roles_required(*ROLES)
def set_owners(task_id: int) -> Response:
    task = _task_or_404(task_id)
    form = OwnersForm()
    staff = _unit_staff(task.unit_id)
    form.owners.choices = [SelectChoice(u.id, u.full_name) for u in staff]
    if not form.validate_on_submit():
        flash("Người phụ trách không hợp lệ.", "error")
        return _back(task)
    chosen = [u for u in staff if u.id in set(form.owners.data or [])]
    tracking.set_owners(task, chosen, actor=_user())
    flash("Đã cập nhật người phụ trách.", "success")
    return _back(task)


@bp.post("/task/<int:task_id>/evidence")
@roles_required(*ROLES)
def link_evidence(task_id: int) -> Response:
    task = _task_or_404(task_id)
    evidence = db.session.get(Evidence, request.form.get("evidence_id", type=int) or 0)
    if evidence is None or evidence.unit_id != task.unit_id:
        abort(404)
    tracking.link_evidence(task, evidence, actor=_user())
    flash("Đã gắn tài liệu làm sản phẩm của nhiệm vụ.", "success")
    return _back(task)


@bp.post("/task/<int:task_id>/evidence/<int:evidence_id>/unlink")
@roles_required(*ROLES)
def unlink_evidence(task_id: int, evidence_id: int) -> Response:
    task = _task_or_404(task_id)
    try:
        tracking.unlink_evidence(task, evidence_id, actor=_user())
    except ParIndexError as exc:
        return _refused(task, exc)
    flash("Đã gỡ tài liệu khỏi nhiệm vụ.", "success")
    return _back(task)


@bp.get("/<int:unit_id>/<int:year>/report.xlsx")
@roles_required(*ROLES)
def report_xlsx(unit_id: int, year: int) -> Response:
    unit = _unit_or_404(unit_id)
    quarter = request.args.get("quarter", type=int)
    if quarter is not None and quarter not in (1, 2, 3, 4):
        abort(404)
    data = reports.report_xlsx(unit, year, quarter)
    name = f"ket-qua-ke-hoach-cchc-{unit.code}-{year}" + (
        f"-quy{quarter}" if quarter else ""
    )
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


@bp.get("/sample.docx")
@roles_required(*ROLES)
def sample_docx() -> Response:
    """The demo's seed plan (phường Trúc Lâm, 2026) as the DOCX it was issued as."""
    from webapp.plan.seed import build_docx

    return Response(
        build_docx(),
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{SAMPLE_NAME}"'},
    )
