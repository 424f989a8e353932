"""The unit's annual PAR plan (Kế hoạch CCHC): import, tracking, score feed, reports."""

from flask import Blueprint

bp = Blueprint("plan", __name__, url_prefix="/plan")

from webapp.plan import models, routes  # noqa: E402,F401


@bp.app_template_global("plan_for_leaf")
def _plan_for_leaf(assessment: object, leaf: object) -> object:
    """The plan behind a `source: plan_completion` leaf (assessment pages)."""
    from webapp.plan.score_feed import leaf_plan

    return leaf_plan(assessment, leaf)  # type: ignore[arg-type]
