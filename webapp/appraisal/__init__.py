from flask import Blueprint

bp = Blueprint("appraisal", __name__, url_prefix="/appraisal")

from webapp.appraisal import routes  # noqa: E402,F401
