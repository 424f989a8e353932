"""Flask extensions, created unbound; create_app binds them."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class HeaderFirstCSRFProtect(CSRFProtect):
    """CSRFProtect that reads the token from a header before the form: an XHR upload
    sends it as X-CSRFToken, so the check never parses (and stores) a 100 MB body
    first. A plain form still sends the field."""

    def _get_csrf_token(self) -> str | None:
        for header_name in current_app.config["WTF_CSRF_HEADERS"]:
            token = request.headers.get(header_name)
            if token:
                return token
        token = super()._get_csrf_token()
        return str(token) if token else None


csrf = HeaderFirstCSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Email over SMTP (webapp/notify/delivery.py passes the PARINDEX_SMTP_* settings).
mail = Mail()
