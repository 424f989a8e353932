from flask import Blueprint

bp = Blueprint("assessment", __name__, url_prefix="/assessments")

from webapp.assessment import routes  # noqa: E402,F401
