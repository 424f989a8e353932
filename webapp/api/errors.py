"""Every API error as ``{"error": {"code", "message"}}``: a stable English code for
scripts, the Vietnamese message the page would show, and (when there is one) the
field and details. Statuses: 401 token, 403 role, 404 not found or another unit's,
409 state, 422 validation, 429 rate limit."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from webapp.errors import ParIndexError, error_message

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
    507: "storage_full",
}

UNAUTHORIZED = (
    "Thiếu hoặc sai mã truy cập API (Authorization: Bearer …), hoặc mã đã hết hạn, "
    "bị thu hồi. Tạo mã mới ở trang “Mã truy cập API”."
)
RATE_LIMITED = "Quá nhiều yêu cầu với mã truy cập này. Vui lòng đợi rồi thử lại."


def error_body(
    status: int,
    message: str,
    code: str | None = None,
    *,
    field: str | None = None,
    details: Any = None,
) -> Response:
    error: dict[str, Any] = {
        "code": code or HTTP_CODES.get(status, "error"),
        "message": message,
    }
    if field:
        error["field"] = field
    if details is not None:
        error["details"] = details
    response = jsonify({"error": error})
    response.status_code = status
    return response


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def refusal_code(exc: ParIndexError) -> str:
    """A stable code named for the refusal's class (NotEditable → not_editable).

    The base classes say no more than the status, so they answer with its name.
    """
    name = type(exc).__name__
    if name in ("ParIndexError", "AdminError", "AppraisalError", "InvalidInput"):
        return {
            "InvalidInput": "invalid_input",
        }.get(name) or HTTP_CODES.get(exc.status, "refused")
    if name == "EvidenceError":
        return {
            413: "too_large",
            409: "evidence_conflict",
            503: "storage_unavailable",
            507: "storage_full",
        }.get(exc.status, "evidence_refused")
    return _snake(name.removesuffix("Error"))


def refusal(exc: ParIndexError) -> Response:
    details = getattr(exc, "problems", None)
    if details is not None:
        details = [getattr(p, "__dict__", None) or str(p) for p in details]
        details = [_jsonable(d) for d in details]
    # A plain refusal (400) always means "what you sent cannot be accepted": the API
    # answers 422 for it, as for a request its schema refuses.
    status = 422 if exc.status == 400 else exc.status
    return error_body(
        status, exc.message, refusal_code(exc), field=exc.field, details=details
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 401:
        return unauthorized()
    return error_body(status, error_message(status))


def rate_limited(exc: RateLimitExceeded) -> Response:
    return error_body(429, RATE_LIMITED)


def unauthorized() -> Response:
    response = error_body(401, UNAUTHORIZED)
    response.headers["WWW-Authenticate"] = 'Bearer realm="parindex"'
    return response


def unexpected(exc: Exception) -> Response:
    from webapp.extensions import db

    current_app.logger.exception("api request failed")
    db.session.rollback()
    return error_body(500, error_message(500))
