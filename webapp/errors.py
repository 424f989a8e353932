"""Friendly Vietnamese error pages (JSON errors under /api)."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return _render(
            400,
            "Phiên làm việc hoặc mã bảo mật biểu mẫu đã hết hạn. "
            "Vui lòng tải lại trang và thử lại.",
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> tuple[object, int]:
        # The limit's own message says which throttle refused (account or address).
        return _render(429, exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[object, int]:
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[object, int]:
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


def _render(code: int, detail: str | None = None) -> tuple[object, int]:
    title = MESSAGES.get(code, (f"Lỗi {code}", ""))[0]
    message = detail or error_message(code)
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": code, "message": message}}), code
    return render_template(
        "errors/error.html", code=code, title=title, message=message
    ), code
