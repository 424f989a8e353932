"""The /api/v1 blueprint: Bearer tokens only, no session, no CSRF, rate limited per
token, errors in one shape; and the SpecTree instance whose request models validate
every call and make the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import flask
from flask import Blueprint, Flask, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.exceptions import HTTPException

from webapp.api import errors, tokens
from webapp.api.schemas import ErrorBody
from webapp.errors import ParIndexError
from webapp.extensions import csrf, limiter, login_manager

API_PREFIX = "/api/v1"
# Reachable without a token: they describe the API and hold no data.
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.reference"}

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


class ApiPlugin(FlaskPlugin):
    """SpecTree's Flask plugin, except that a file response (a streamed ZIP, a
    download, a 304) is passed on untouched instead of being read into memory."""

    def validate_response(  # type: ignore[no-untyped-def]
        self, resp, resp_model, skip_validation, force_resp_serialize
    ):
        if isinstance(resp, flask.Response) and resp.mimetype != "application/json":
            return resp, None
        return super().validate_response(
            resp, resp_model, skip_validation, force_resp_serialize
        )


def _validation_refused(
    req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """A request its schema refuses: the same error shape and a Vietnamese message."""
    if error is None or resp is None:
        return
    problems = adapter.validation_errors(error)
    fields = [".".join(str(p) for p in item.get("loc", ())) for item in problems]
    named = ", ".join(f"“{f}”" for f in fields if f) or "dữ liệu"
    body = {
        "error": {
            "code": "invalid",
            "message": f"Dữ liệu gửi lên không hợp lệ: kiểm tra {named}.",
            "field": fields[0] if fields else None,
            "details": [
                {"field": f, "problem": str(item.get("msg", ""))}
                for f, item in zip(fields, problems, strict=True)
            ],
        }
    }
    resp.set_data(json.dumps(body, ensure_ascii=False))
    resp.mimetype = "application/json"


spec = SpecTree(
    "flask",
    backend=ApiPlugin,
    mode="strict",
    title="PAR INDEX API",
    description=(
        "JSON API của hệ thống tự chấm điểm Chỉ số CCHC. Xác thực bằng mã truy cập cá "
        "nhân: `Authorization: Bearer pi_…` (tạo ở trang “Mã truy cập API” hoặc "
        "`flask users token create`). Lỗi luôn có dạng "
        '`{"error": {"code", "message"}}`.'
    ),
    version="1.0",
    path="api/v1/_spectree",
    before=_validation_refused,
    validation_error_model=ErrorBody,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"),
        )
    ],
    security={"bearerAuth": []},
    annotations=True,
    # Plain model names: one set of models, so no two share a name.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


class ApiSessionInterface(SecureCookieSessionInterface):
    """The API never reads nor sets the session cookie: a token or nothing."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX + "/"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if request.path.startswith(API_PREFIX + "/"):
            return
        super().save_session(app, session, response)


def _credential() -> str:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def rate_key() -> str:
    """Per token (its public prefix); without a token, per client address."""
    parsed = tokens.parse(_credential())
    return f"api-token:{parsed[0]}" if parsed else f"api-addr:{get_remote_address()}"


@bp.before_request
def authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = tokens.verify(_credential(), ip_address=request.remote_addr or "")
    if token is None:
        return errors.unauthorized()
    g.api_token = token
    # Flask-Login's current_user for this request only (audit, scoping): no session.
    login_manager._update_request_context_with_user(token.user)
    return None


@bp.after_request
def _no_cookie(response: flask.Response) -> flask.Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _refused(exc: ParIndexError) -> Any:
    from webapp.extensions import db

    db.session.rollback()
    return errors.refusal(exc)


# Set up once, at import: a blueprint cannot change after its first registration, and
# the limiter and CSRF objects outlive each app (tests build many).
csrf.exempt(bp)
limiter.limit(lambda: str(current_app.config["API_RATE_LIMIT"]), key_func=rate_key)(bp)
bp.register_error_handler(ParIndexError, _refused)
bp.register_error_handler(RateLimitExceeded, errors.rate_limited)
bp.register_error_handler(HTTPException, errors.http_error)
bp.register_error_handler(Exception, errors.unexpected)


def register(app: Flask) -> None:
    from webapp.api import (  # noqa: F401  (their routes join the blueprint)
        appraisal,
        assessments,
        coordinator,
        docs,
        evidence,
        reference,
    )
    from webapp.api.cli import users_cli
    from webapp.api.pages import pages_bp

    app.session_interface = ApiSessionInterface()
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    app.cli.add_command(users_cli)
