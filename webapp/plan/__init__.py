"""The unit's annual PAR plan (Kế hoạch CCHC): import, tracking, score feed, reports."""

from flask import Blueprint

bp = Blueprint("plan", __name__, url_prefix="/plan")

from webapp.plan import models, routes  # noqa: E402,F401
