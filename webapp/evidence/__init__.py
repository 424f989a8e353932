from flask import Blueprint

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

from webapp.evidence import routes  # noqa: E402,F401
