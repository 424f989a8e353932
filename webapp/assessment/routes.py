"""Self-assessment pages: dashboard, criteria tree (a form per leaf), submit, reopen."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from webapp.access import get_assessment_or_404, roles_required
from webapp.assessment import bp
from webapp.assessment.answers import (
    AnswerInvalid,
    StaleAnswer,
    check_leaf_editable,
    save_answer,
)
from webapp.assessment.autosave import (
    conflict_payload,
    errors_payload,
    saved_payload,
    stash_draft,
    take_drafts,
)
from webapp.assessment.forms import (
    LeafForm,
    ReopenForm,
    SubmitForm,
    build_leaf_form,
    rule_help,
)
from webapp.assessment.leaf_cache import leaf_html, tree_html
from webapp.assessment.leaf_inputs import leaf_forms
from webapp.assessment.overview import (
    LEAF_FILTERS,
    AssessmentView,
    Problem,
    area_bars,
    area_of,
    assessment_view,
    criteria_page,
    current_assessment,
    deadline_info,
    points_at_risk,
    progress,
    submit_problems,
    unit_assessments,
)
from webapp.assessment.page_cache import criteria_body
from webapp.assessment.submission import (
    SubmitRefused,
    reopen_assessment,
    submit_assessment,
)
from webapp.criteria_sets import criteria_for
from webapp.discussion.threads import message_counts
from webapp.dossier.signed import missing_request_letter
from webapp.errors import back_to, wants_json
from webapp.lifecycle import NotEditable, check_submit
from webapp.models import Assessment, Period, User
from webapp.results.ranking import published_result
from webapp.workflow import self_score

Page = str | Response | tuple[str, int]
UNIT_ROLES = ("unit_editor", "unit_head")
READERS = ("unit_editor", "unit_head", "admin", "appraiser")
# The criteria page reads the period (its deadline, extensions and family sets), the
# unit and the return requests at once: with the assessment, in the same round trip.
# The collections are a handful of rows each, so joining them costs less than a query.
WITH_PERIOD_AND_UNIT = (
    joinedload(Assessment.period).joinedload(Period.extensions),
    joinedload(Assessment.period).joinedload(Period.family_sets),
    joinedload(Assessment.unit),
    joinedload(Assessment.return_requests),
)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.app_template_global()
def leaf_url(assessment_id: int, code: str) -> str:
    """A leaf on the criteria page: the page of its area (one area renders at a time),
    scrolled to the leaf, so the link works without JavaScript too."""
    return url_for(
        "assessment.detail",
        assessment_id=assessment_id,
        area=area_of(code),
        _anchor=f"leaf-{code}",
    )


def _message_counts(view: AssessmentView) -> dict[str, int]:
    # Read with the document counts when the view listed one area's leaves.
    if view.message_counts is not None:
        return view.message_counts
    return message_counts(view.assessment)


def _leaf_url(assessment: Assessment, code: str) -> str:
    return leaf_url(assessment.id, code)


@bp.app_template_global("rule_help")
def _rule_help(leaf: Any) -> Any:
    # The leaf partial asks for the answering help of its rule class (forms.RULE_HELP).
    return rule_help(leaf)


bp.add_app_template_global(leaf_html, "leaf_html")
bp.add_app_template_global(tree_html, "tree_html")


@bp.get("/")
@roles_required(*UNIT_ROLES)
def dashboard() -> str:
    """The unit's home: deadline, progress, score, points at risk, return requests."""
    assessment = current_assessment(_user())
    if assessment is None:
        return render_template("assessment/dashboard.html", assessment=None, view=None)
    view = assessment_view(assessment, _user())
    return render_template(
        "assessment/dashboard.html",
        assessment=assessment,
        view=view,
        deadline=deadline_info(assessment),
        progress=progress(view),
        bars=area_bars(view),
        at_risk=points_at_risk(view),
        others=[a for a in unit_assessments(_user()) if a.id != assessment.id],
        published=published_result(assessment),
    )


@bp.get("/<int:assessment_id>")
@roles_required(*READERS)
def detail(assessment_id: int) -> Page:
    """The criteria tree and one area's leaves (?area=<code>, or "all"); unit users
    get a form on every leaf they may change. Other areas load on demand."""
    assessment = get_assessment_or_404(assessment_id, options=WITH_PERIOD_AND_UNIT)
    bound, notices = take_drafts(assessment, criteria_for(assessment).nodes())
    return _render_detail(
        assessment, bound=bound, notices=notices, area=request.args.get("area")
    )


@bp.get("/<int:assessment_id>/areas/<code>")
@roles_required(*READERS)
def area_fragment(assessment_id: int, code: str) -> str:
    """One area's leaves as an HTML fragment, fetched by the page when it is shown."""
    assessment = get_assessment_or_404(assessment_id, options=WITH_PERIOD_AND_UNIT)
    criteria = criteria_for(assessment)
    area = next((a for a in criteria.areas if a.code == code), None)
    if area is None:
        abort(404)
    page = criteria_page(criteria, area.code)
    view = assessment_view(assessment, _user(), listed=page.leaf_codes)
    return render_template(
        "assessment/_area.html",
        assessment=assessment,
        view=view,
        page=page,
        area=area,
        forms=leaf_forms(view, {}, codes=page.leaf_codes),
        notices={},
        message_counts=_message_counts(view),
    )


@bp.post("/<int:assessment_id>/criteria/<code>")
@roles_required(*UNIT_ROLES)
def save_leaf(assessment_id: int, code: str) -> Any:
    """Save one leaf's answer and explanation: JSON for the autosave, else PRG."""
    assessment = get_assessment_or_404(assessment_id)
    leaf = criteria_for(assessment).nodes().get(code)
    if leaf is None or not leaf.is_leaf:
        abort(404)
    # A refusal (frozen or survey leaf) goes back to the leaf. It is checked before the
    # form is read: what matters is "locked", not a complaint about the figures typed.
    back_to(_leaf_url(assessment, code))
    check_leaf_editable(assessment, leaf)
    form = build_leaf_form(leaf, formdata=request.form)
    if not form.validate():
        return _refused(assessment, form, status=422)
    try:
        outcome = save_answer(
            assessment,
            leaf,
            answer=form.answer(),
            note=form.note.data or "",
            version=form.version_number(),
            user=_user(),
        )
    except (AnswerInvalid, StaleAnswer) as exc:
        return _refused_answer(assessment, form, exc)
    if wants_json():
        return jsonify(saved_payload(leaf, outcome, self_score(assessment)))
    flash(*outcome.notice(code))
    return redirect(_leaf_url(assessment, code), 303)


def _refused_answer(
    assessment: Assessment, form: LeafForm, exc: AnswerInvalid | StaleAnswer
) -> Any:
    """The leaf again with what the user typed; nothing was saved."""
    if isinstance(exc, StaleAnswer):
        if wants_json():
            return jsonify(conflict_payload(form.leaf, exc.row, exc.message)), 409
        # Keep what the user typed, on the current version: saving again is a choice.
        form.version.data = str(exc.row.version if exc.row else 0)
        return _refused(assessment, form, status=409, notice=exc.message)
    name = form.field_for_engine(exc.field)
    if name is None:
        form.form_errors.append(exc.message)
    else:
        form[name].errors = [*form[name].errors, exc.message]
    return _refused(assessment, form, status=exc.status)


def _refused(
    assessment: Assessment, form: LeafForm, *, status: int, notice: str | None = None
) -> Any:
    """A refused save: JSON errors, or the typed form kept across a redirect (PRG)."""
    if wants_json():
        return jsonify(errors_payload(form)), status
    formdata = request.form.copy()
    if notice is not None:
        formdata[form.version.name] = form.version.data or "0"
    if stash_draft(assessment, form, formdata, notice):
        return redirect(_leaf_url(assessment, form.leaf.code), 303)
    notices = {form.leaf.code: notice} if notice else None
    return _render_detail(
        assessment, bound={form.leaf.code: form}, notices=notices, status=status
    )


@bp.route("/<int:assessment_id>/submit", methods=["GET", "POST"])
@roles_required("unit_head")
def submit(assessment_id: int) -> Page:
    """Confirmation page (GET) and submission (POST) by the unit head."""
    assessment = get_assessment_or_404(assessment_id)
    form = SubmitForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _render_submit(assessment, form)
    back_to(url_for("assessment.submit", assessment_id=assessment.id))
    try:
        submit_assessment(assessment, _user())
    except SubmitRefused as exc:
        flash(exc.message, "error")
        return _render_submit(
            assessment, form, problems=exc.problems, status=exc.status
        )
    flash("Đã gửi hồ sơ tự đánh giá. Hồ sơ đã được khóa.", "success")
    if missing := missing_request_letter(assessment):
        flash(missing, "warning")
    return redirect(url_for("assessment.dashboard"), 303)


@bp.post("/<int:assessment_id>/reopen")
@roles_required("admin")
def reopen(assessment_id: int) -> Page:
    """The coordinator sends a submitted assessment back to draft, with a reason."""
    assessment = get_assessment_or_404(assessment_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _render_detail(assessment, reopen_form=form, status=422)
    back = url_for("assessment.detail", assessment_id=assessment.id)
    back_to(back)
    reopen_assessment(assessment, _user(), form.reason.data or "")
    flash("Đã mở lại hồ sơ; đơn vị có thể chỉnh sửa và gửi lại.", "success")
    return redirect(back, 303)


def _render_detail(
    assessment: Assessment,
    *,
    bound: dict[str, LeafForm] | None = None,
    notices: dict[str, str] | None = None,
    reopen_form: ReopenForm | None = None,
    area: str | None = None,
    status: int = 200,
) -> str | tuple[str, int]:
    bound = bound or {}
    # A refused save comes back to its leaf's area.
    wanted = area_of(next(iter(bound))) if bound else area
    page = criteria_page(criteria_for(assessment), wanted)
    user = _user()

    def render_body(view: AssessmentView) -> str:
        return render_template(
            "assessment/_criteria_body.html",
            assessment=assessment,
            view=view,
            page=page,
            forms=leaf_forms(view, bound, codes=page.leaf_codes),
            notices=notices or {},
            filters=LEAF_FILTERS,
            message_counts=_message_counts(view),
        )

    # What the user typed (a refused save, its notice) is shown once: never cached.
    body = criteria_body(
        assessment, user, page, render_body, cacheable=not bound and not notices
    )
    html = render_template(
        "assessment/detail.html",
        assessment=assessment,
        body=body,
        deadline=deadline_info(assessment),
        # Only the coordinator may reopen: nobody else pays for (or sees) the form.
        reopen_form=reopen_form
        or (ReopenForm(formdata=None) if user.role == "admin" else None),
    )
    return html if status == 200 else (html, status)


def _render_submit(
    assessment: Assessment,
    form: SubmitForm,
    *,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> str | tuple[str, int]:
    view = assessment_view(assessment, _user())
    if problems is None:
        problems = submit_problems(view)
    blocked: str | None = None
    try:
        check_submit(assessment)
    except NotEditable as exc:
        blocked = str(exc)
    html = render_template(
        "assessment/submit.html",
        assessment=assessment,
        view=view,
        form=form,
        problems=problems,
        blocked=blocked,
        deadline=deadline_info(assessment),
        missing_letter=missing_request_letter(assessment),
    )
    return html if status == 200 else (html, status)
