"""Home: send each role to its own starting page."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from webapp.main import bp

HOME_BY_ROLE = {
    "admin": "admin.dashboard",
    "unit_editor": "assessment.dashboard",
    "unit_head": "assessment.dashboard",
    "appraiser": "appraisal.index",
}


@bp.get("/")
@login_required
def index() -> Response:
    """Redirect to the role's home page."""
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    """Liveness probe for the load balancer."""
    return "ok", 200
