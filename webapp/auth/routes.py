"""Login, logout, password change, and the forgotten-password link."""

from __future__ import annotations

import logging

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.account.sessions import SESSION_KEY, current_session_id
from webapp.auth import bp, reset, services
from webapp.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from webapp.clock import now
from webapp.errors import ParIndexError, show_on_form
from webapp.extensions import limiter
from webapp.fields import EmptyForm
from webapp.redirects import next_url

logger = logging.getLogger(__name__)


def _account_key() -> str:
    # One account from one address: an attacker elsewhere cannot lock its owner out.
    username = (request.form.get("username") or "").strip().lower()
    return f"{username}|{request.remote_addr}"


def _address_key() -> str:
    # One address across all accounts: 40 usernames tried from one place are refused.
    return f"address|{request.remote_addr}"


def _account_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_RATE_LIMIT"])


def _failed(response: Response) -> bool:
    # Only failures count: a successful login answers with a redirect.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _address_limit,
    key_func=_address_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=(
        "Có quá nhiều lần đăng nhập sai từ địa chỉ mạng này. "
        "Vui lòng đợi 15 phút rồi thử lại."
    ),
)
@limiter.limit(
    _account_limit,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=(
        "Bạn đã đăng nhập sai quá nhiều lần. Vui lòng đợi 15 phút rồi thử lại."
    ),
)
def login() -> str | Response:
    """Log in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user, record = services.authenticate(
            form.username.data or "", form.password.data or ""
        )
        if user is not None and record is not None:
            session.clear()
            session[SESSION_KEY] = record.id
            login_user(user)
            # Start the idle clock now: a client that does not follow the redirect
            # at once must not hold a session with no idle limit.
            session["last_seen"] = now().timestamp()
            if user.must_change_password:
                flash(
                    "Đây là lần đăng nhập đầu với mật khẩu tạm thời: "
                    "vui lòng đặt mật khẩu mới.",
                    "warning",
                )
                return redirect(url_for("account.password"))
            # Back to the page that asked for a login (Flask-Login's ?next=), if local.
            return redirect(next_url(url_for("main.index")))
        flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
        return render_template("auth/login.html", form=form), 401  # type: ignore[return-value]
    # A refused form (say, a control character in the username) is a 400 with its
    # message next to the field.
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status  # type: ignore[return-value]


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out and invalidate every copy of this session cookie."""
    if EmptyForm().validate_on_submit():
        services.logout(current_user._get_current_object(), current_session_id())
        logout_user()
        session.clear()
        flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """The old address of the password page: still works (bookmarks, tests)."""
    from webapp.account.routes import password

    page: str | Response | tuple[str, int] = password()
    return page


def _identifier_key() -> str:
    # As the login throttle: one account (username or email) from one address.
    identifier = (request.form.get("identifier") or "").strip().lower()
    return f"forgot|{identifier}|{request.remote_addr}"


def _forgot_address_key() -> str:
    return f"forgot-address|{request.remote_addr}"


def _deliver_after(response: Response, email_id: int) -> None:
    """Send the reset email once the answer has gone out: the time the answer takes
    does not tell whether an email was sent (no account enumeration by timing)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send() -> None:
        from webapp.notify.delivery import deliver

        with app.app_context():
            try:
                deliver([email_id])
            except Exception:  # it stays queued; flask notify send-due retries it
                logger.exception("password reset email %s not delivered", email_id)

    response.call_on_close(send)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(
    _address_limit,
    key_func=_forgot_address_key,
    methods=["POST"],
    error_message=(
        "Có quá nhiều yêu cầu đặt lại mật khẩu từ địa chỉ mạng này. "
        "Vui lòng đợi 15 phút rồi thử lại."
    ),
)
@limiter.limit(
    _account_limit,
    key_func=_identifier_key,
    methods=["POST"],
    error_message=(
        "Đã có quá nhiều yêu cầu đặt lại mật khẩu cho tài khoản này. "
        "Vui lòng đợi 15 phút rồi thử lại."
    ),
)
def forgot_password() -> str | Response | tuple[str, int]:
    """Ask for a reset link by username or email; the answer never tells which."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email_id = reset.request_reset(form.identifier.data or "")
        flash(reset.SAME_ANSWER, "info")
        response = redirect(url_for("auth.login"), code=303)
        if email_id is not None:
            _deliver_after(response, email_id)
        return response
    status = 400 if form.errors else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(
    _address_limit,
    key_func=_forgot_address_key,
    methods=["POST"],
    error_message="Có quá nhiều lần thử từ địa chỉ mạng này. Vui lòng đợi 15 phút.",
)
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through the emailed link (once, within 30 minutes)."""
    if reset.usable_token(token) is None:
        return render_template(
            "auth/reset_invalid.html", message=reset.LINK_UNUSABLE
        ), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset.reset_password(token, form.new.data or "")
        except reset.ResetLinkUnusable as exc:
            return render_template("auth/reset_invalid.html", message=exc.message), 404
        except ParIndexError as exc:
            exc.field = exc.field or "new"
            show_on_form(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(
                "Đã đặt mật khẩu mới. Mọi phiên đăng nhập cũ đã kết thúc; "
                "vui lòng đăng nhập bằng mật khẩu mới.",
                "success",
            )
            return redirect(url_for("auth.login"), code=303)
    status = 400 if form.errors else 200
    return render_template("auth/reset.html", form=form), status
