"""Results pages: ranking, publication, a unit's results and the analyses."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import get_assessment_or_404, roles_required
from webapp.appraisal.assignments import unit_assessments
from webapp.appraisal.leaves import appraised_leaves
from webapp.criteria_sets import criteria_for
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.fields import EmptyForm
from webapp.models import Period
from webapp.results import bp
from webapp.results.analyses import criterion_grid, largest_differences
from webapp.results.figures import area_charts, ranking_chart
from webapp.results.publication import (
    PublicationRefused,
    UnitsStillOpen,
    close_early,
    publish_period,
    still_open_reason,
    units_still_open,
)
from webapp.results.ranking import (
    can_see_ranking,
    can_see_unit_result,
    period_results,
    unit_scores,
    visible_lines,
)

STAFF = ("admin", "appraiser")
UNIT_ROLES = ("unit_editor", "unit_head")
PUBLISH_REFUSED = "Chưa thể công bố kết quả: còn hồ sơ chưa hoàn tất (xem danh sách)."
STILL_OPEN = (
    "Chưa thể công bố kết quả: còn đơn vị đang trong thời gian tự đánh giá "
    "(xem danh sách)."
)


def _user() -> Any:
    return current_user._get_current_object()


def _period_or_404(period_id: int) -> Period:
    return db.get_or_404(Period, period_id)


def _render_ranking(
    period: Period, *, refused: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    user = _user()
    results = period_results(period)
    rows, absent = visible_lines(results, user)
    own_unit = user.unit_id if user.is_unit_user else None
    return render_template(
        "results/ranking.html",
        period=period,
        results=results,
        rows=rows,
        absent=absent,
        chart=ranking_chart(period, rows, own_unit),
        refused=refused,
        still_open=[
            still_open_reason(a)
            for a in units_still_open(
                period, [r.assessment for r in (*results.rows, *results.absent)]
            )
        ]
        if user.role == "admin" and not results.published
        else [],
        form=EmptyForm(),
        own_unit=own_unit,
    ), status


@bp.get("/periods/<int:period_id>")
@roles_required(*STAFF, *UNIT_ROLES)
def ranking(period_id: int) -> tuple[str, int]:
    """Xếp hạng: final score, index, band and rank of every unit, with a bar chart."""
    period = _period_or_404(period_id)
    if not can_see_ranking(period, _user()):
        abort(404)
    return _render_ranking(period)


@bp.post("/periods/<int:period_id>/publish")
@roles_required("admin")
def publish(period_id: int) -> Response | tuple[str, int]:
    """Công bố kết quả (refused, with the list, while anything is missing)."""
    period = _period_or_404(period_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        publish_period(period, actor=_user())
    except ParIndexError as exc:
        # The page again, with the list of what is missing when there is one.
        refused = exc.problems if isinstance(exc, PublicationRefused) else None
        if isinstance(exc, UnitsStillOpen):
            flash(STILL_OPEN, "error")
        else:
            flash(PUBLISH_REFUSED if refused else exc.message, "error")
        return _render_ranking(period, refused=refused, status=409)
    flash(
        "Đã công bố kết quả đánh giá. Các đơn vị đã xem được kết quả của mình.",
        "success",
    )
    return redirect(url_for("results.ranking", period_id=period.id))


@bp.post("/periods/<int:period_id>/close-early")
@roles_required("admin")
def close_early_view(period_id: int) -> Response | tuple[str, int]:
    """Kết thúc sớm: end self-assessment now for the units that still have time."""
    period = _period_or_404(period_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        closed = close_early(period, actor=_user())
    except ParIndexError as exc:
        flash(exc.message, "error")
        return redirect(
            url_for("results.ranking", period_id=period.id, _anchor="publish"), 303
        )
    flash(
        "Đã kết thúc sớm việc tự đánh giá cho "
        + ", ".join(a.unit.name for a in closed)
        + ".",
        "success",
    )
    return redirect(
        url_for("results.ranking", period_id=period.id, _anchor="publish"), 303
    )


@bp.get("/assessments/<int:assessment_id>")
@roles_required(*STAFF, *UNIT_ROLES)
def unit_results(assessment_id: int) -> str:
    """One unit's result: per area self vs appraised, band, rank, vs the average."""
    assessment = get_assessment_or_404(assessment_id)
    if not can_see_unit_result(assessment, _user()):
        return render_template("results/not_published.html", assessment=assessment)
    results = period_results(assessment.period)
    row = results.row_for(assessment.id)
    return render_template(
        "results/unit_results.html",
        a=assessment,
        results=results,
        row=row,
        scores=unit_scores(assessment),
        charts=area_charts(assessment, results, row),
        leaves=appraised_leaves(results.cs_of(row) if row else results.cs),
    )


@bp.get("/")
@roles_required(*UNIT_ROLES)
def my_results() -> str:
    """The unit's own results, one line per period."""
    return render_template(
        "results/my_results.html", assessments=unit_assessments(_user())
    )


@bp.get("/periods/<int:period_id>/criteria")
@roles_required(*STAFF)
def criterion(period_id: int) -> str:
    """One leaf across all units: self vs appraised, evidence count, difference."""
    period = _period_or_404(period_id)
    leaves = appraised_leaves(criteria_for(period))
    code = request.args.get("code") or leaves[0].code
    leaf = next((lf for lf in leaves if lf.code == code), None)
    if leaf is None:
        abort(404)
    return render_template(
        "results/criterion.html",
        period=period,
        leaves=leaves,
        leaf=leaf,
        rows=criterion_grid(period, leaf, _user()),
    )


@bp.get("/periods/<int:period_id>/differences")
@roles_required(*STAFF)
def differences(period_id: int) -> str:
    """The largest differences between self-score and appraised score, across units."""
    period = _period_or_404(period_id)
    return render_template(
        "results/differences.html",
        period=period,
        rows=largest_differences(period, _user()),
    )
