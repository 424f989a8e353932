from flask import Blueprint

bp = Blueprint("discussion", __name__, url_prefix="/discussion")

from webapp.discussion import routes  # noqa: E402,F401
