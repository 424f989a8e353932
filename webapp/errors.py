"""One error base for every refusal, and the friendly Vietnamese error pages.

Services raise :class:`ParIndexError` (or a subclass) with the Vietnamese message, the
form field it belongs to and the HTTP status; nothing has been changed when it is
raised. One handler turns it into what the request expects: JSON for the widgets' XHR,
an error page for a GET, flash-and-redirect for a plain form post. Views that show a
form catch it once and put the message next to its field (:func:`show_on_form`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.redirects import safe_path

MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Dữ liệu gửi lên không hợp lệ. Vui lòng thử lại."),
    403: (
        "Không có quyền truy cập",
        "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    ),
    404: (
        "Không tìm thấy",
        "Trang hoặc dữ liệu bạn tìm không tồn tại hoặc bạn không có quyền xem.",
    ),
    405: ("Thao tác không được phép", "Phương thức truy cập không được hỗ trợ."),
    409: (
        "Dữ liệu đã thay đổi",
        "Dữ liệu đã được người khác thay đổi. Vui lòng tải lại trang.",
    ),
    413: ("Tệp quá lớn", "Tệp tải lên vượt quá dung lượng cho phép."),
    429: (
        "Quá nhiều lần thử",
        "Bạn đã thử quá nhiều lần. Vui lòng đợi ít phút rồi thử lại.",
    ),
    500: (
        "Lỗi hệ thống",
        "Đã có lỗi xảy ra. Dữ liệu của bạn không bị thay đổi; vui lòng thử lại.",
    ),
}


class ParIndexError(Exception):
    """A refusal with a Vietnamese message for the user; nothing was changed.

    ``field`` names the form field the message belongs to (None: the whole request);
    ``status`` is the HTTP status to answer with. Subclasses set their own default.
    """

    status: int = 400

    def __init__(
        self, message: str, field: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


def wants_json() -> bool:
    """The request comes from a script (the widgets' XHR, an API client)."""
    return (
        request.path.startswith("/api/")
        or request.is_json
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.accept_mimetypes.best == "application/json"
    )


def back_to(url: str) -> None:
    """Where a refused plain-form post goes back to (default: the referring page)."""
    g.parindex_back = url


def show_on_form(form: Any, exc: ParIndexError) -> None:
    """Put a refusal next to its field; one that names no field of the form is flashed
    above it. Either way the form is shown again with what the user typed."""
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "error")


def refusal_response(exc: ParIndexError) -> Any:
    """The one way a refusal reaches the user."""
    if wants_json():
        return jsonify({"ok": False, "error": exc.message, "field": exc.field}), (
            exc.status
        )
    if request.method in ("GET", "HEAD"):
        return _render(exc.status, exc.message)
    flash(exc.message, "error")
    return redirect(_back_url(), 303)


def _back_url() -> str:
    referrer = urlsplit(request.referrer or "")
    # The Referer is a full URL: only this host's own pages count, as a local path.
    own_page = (
        referrer.path + (f"?{referrer.query}" if referrer.query else "")
        if referrer.netloc == request.host
        else ""
    )
    for target in (request.values.get("next"), g.get("parindex_back"), own_page):
        local = safe_path(target)
        if local:
            return local
    return url_for("main.index")


def init_app(app: Flask) -> None:
    @app.errorhandler(ParIndexError)
    def refused(exc: ParIndexError) -> Any:
        from webapp.extensions import db

        db.session.rollback()
        return refusal_response(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return _render(
            400,
            "Phiên làm việc hoặc mã bảo mật biểu mẫu đã hết hạn. "
            "Vui lòng tải lại trang và thử lại.",
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> tuple[Response | str, int]:
        # The limit's own message says which throttle refused (account or address).
        return _render(429, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unhandled error")
        from webapp.extensions import db

        db.session.rollback()
        return _render(500)


def error_message(code: int) -> str:
    """The Vietnamese explanation of an HTTP error; 413 names the configured limit."""
    if code == 413:
        limit = int(current_app.config["UPLOAD_MAX_BYTES"]) / (1 << 20)
        size = (
            f"{limit:.0f}" if limit == int(limit) else f"{limit:.1f}".replace(".", ",")
        )
        return f"Tệp tải lên vượt quá dung lượng cho phép ({size} MB)."
    return MESSAGES.get(code, ("", "Đã có lỗi xảy ra."))[1]


def _render(code: int, detail: str | None = None) -> tuple[Response | str, int]:
    title = MESSAGES.get(code, (f"Lỗi {code}", ""))[0]
    message = detail or error_message(code)
    if request.path.startswith("/api/"):
        # Outside the API's own handlers (no route matched): the API's error shape.
        from webapp.api.errors import error_body

        return error_body(code, message), code
    return render_template(
        "errors/error.html", code=code, title=title, message=message
    ), code
