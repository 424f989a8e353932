from flask import Blueprint

bp = Blueprint("dossier", __name__, url_prefix="/dossier")

from webapp.dossier import routes  # noqa: E402,F401
