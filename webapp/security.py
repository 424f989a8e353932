"""Sessions that really end, idle timeout, security headers on every response."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Flask,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user

from webapp.account.sessions import (
    TOUCH_EVERY,
    current_session_id,
    expire_idle,
    load_user_and_session,
    touch,
)
from webapp.clock import now
from webapp.errors import wants_json
from webapp.extensions import login_manager
from webapp.models import User

MUST_CHANGE_MESSAGE = (
    "Bạn đang dùng mật khẩu tạm thời: hãy đổi mật khẩu trước khi tiếp tục."
)
# Reachable while a temporary password is still in use: the change page itself,
# logging out, and the static files the page needs.
MUST_CHANGE_EXEMPT = frozenset(
    {
        "static",
        "account.password",
        "auth.change_password",
        "auth.logout",
        "auth.login",
        "main.healthz",
    }
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'self'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The cookie carries "id:session_version"; a version bump (logout, password,
        # deactivation) makes every older cookie load no user.
        try:
            raw_id, raw_version = user_id.split(":", 1)
            uid, version = int(raw_id), int(raw_version)
        except ValueError:
            return None
        # The login's own record must still be open: "sign out this session" and
        # "everywhere else" end records, not versions. User, record and (for a page
        # view) the bell's count come in one round trip: every request pays it.
        reading = request.method in ("GET", "HEAD")  # a GET changes no notification
        found = load_user_and_session(uid, current_session_id(), with_unread=reading)
        if found is None:
            return None
        user, record, unread = found
        if not user.is_active or user.session_version != version:
            return None
        g.parindex_session = record
        if reading and unread is not None:
            g.unread_notifications = int(unread)
        return user

    @app.before_request
    def enforce_idle_timeout() -> Response | None:
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        limit = timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))
        # The app clock (not utcnow) so tests can move time past the idle limit.
        now_ts = now().timestamp()
        last = session.get("last_seen")
        if last is not None and now_ts - float(last) > limit.total_seconds():
            record = g.get("parindex_session")
            if record is not None:
                expire_idle(record)
            logout_user()
            session.clear()
            flash(
                "Phiên làm việc đã hết hạn do không thao tác. Vui lòng đăng nhập lại.",
                "warning",
            )
            return redirect(url_for("auth.login"))  # type: ignore[return-value]
        # Noted at most once a minute, as the login's record is (touch): an unchanged
        # session is not signed and sent again with every response.
        if last is None or now_ts - float(last) >= TOUCH_EVERY.total_seconds():
            session["last_seen"] = now_ts
        if not session.permanent:  # setting it marks the session changed
            session.permanent = True
        record = g.get("parindex_session")
        if record is not None:
            touch(record)
        return None

    @app.before_request
    def require_new_password() -> Response | None:
        """A temporary password (set by the coordinator) must be changed first."""
        if request.endpoint in MUST_CHANGE_EXEMPT or not current_user.is_authenticated:
            return None
        if not current_user.must_change_password:
            return None
        if wants_json():
            response = jsonify({"ok": False, "error": MUST_CHANGE_MESSAGE})
            response.status_code = 403
            return response
        flash(MUST_CHANGE_MESSAGE, "warning")
        return redirect(url_for("account.password"))  # type: ignore[return-value]

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Referrer-Policy"] = "same-origin"
        max_age = int(app.config["HSTS_MAX_AGE"])
        if app.config["SESSION_COOKIE_SECURE"] and max_age > 0:
            # Browsers ignore it over plain HTTP, so it is safe to send on every reply.
            response.headers["Strict-Transport-Security"] = (
                f"max-age={max_age}; includeSubDomains"
            )
        if current_user.is_authenticated and request.endpoint != "static":
            # Pages with unit data must not linger in shared browsers' caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
