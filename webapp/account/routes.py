"""Hồ sơ cá nhân: profile, password change, active sessions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from webapp.account import bp
from webapp.account.forms import ProfileForm
from webapp.account.profile import update_profile
from webapp.account.sessions import (
    current_session_id,
    end_other_sessions,
    end_session,
    list_sessions,
    open_session,
)
from webapp.auth import services
from webapp.auth.forms import ChangePasswordForm
from webapp.errors import ParIndexError, back_to, show_on_form
from webapp.fields import EmptyForm
from webapp.models import User

Page = str | Response | tuple[str, int]


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile() -> Page:
    """Name, e-mail, phone, notification choice; links to password and sessions."""
    user = _user()
    form = ProfileForm(
        data={
            "full_name": user.full_name,
            "email": user.email or "",
            "phone": user.phone or "",
            "email_notifications": user.email_notifications,
        }
    )
    status = 200
    if form.validate_on_submit():
        try:
            changed = update_profile(
                user,
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                phone=form.phone.data or "",
                email_notifications=bool(form.email_notifications.data),
            )
        except ParIndexError as exc:
            show_on_form(form, exc)
            status = 422
        else:
            flash("Đã lưu hồ sơ." if changed else "Không có thay đổi nào.", "success")
            return redirect(url_for("account.profile"))
    elif form.errors:
        status = 422
    html = render_template(
        "account/profile.html",
        form=form,
        user=user,
        sessions=list_sessions(user),
        current_session=current_session_id(),
    )
    return html if status == 200 else (html, status)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Page:
    """Change one's own password (required first when it is a temporary one)."""
    user = _user()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                user,
                form.current.data or "",
                form.new.data or "",
                session_id=current_session_id(),
            )
        except ParIndexError as exc:
            exc.field = exc.field or "current"
            show_on_form(form, exc)
        else:
            # Other sessions are now dead; keep this one alive with the new version.
            login_user(user)
            flash(
                "Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất.", "success"
            )
            return redirect(url_for("main.index"))
    return render_template(
        "account/password.html", form=form, forced=user.must_change_password
    )


@bp.get("/sessions")
@login_required
def sessions() -> Response:
    """The sessions are listed on the profile page."""
    return redirect(url_for("account.profile", _anchor="sessions"))


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_one(session_id: int) -> Response:
    """Sign one of one's sessions out; ending this one is a logout."""
    back = url_for("account.profile", _anchor="sessions")
    back_to(back)
    if open_session(_user().id, session_id) is None:
        abort(404)  # someone else's, or already ended: ids are not to be probed
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    current = current_session_id()
    end_session(_user(), session_id, current=current)
    if session_id == current:
        logout_user()
        session.clear()
        flash("Đã đăng xuất khỏi phiên này.", "info")
        return redirect(url_for("auth.login"))
    flash("Đã đăng xuất phiên đăng nhập đó.", "success")
    return redirect(back)


@bp.post("/sessions/end-others")
@login_required
def end_others() -> Response:
    """Sign out everywhere but this browser."""
    back = url_for("account.profile", _anchor="sessions")
    if EmptyForm().validate_on_submit():
        user = _user()
        count = end_other_sessions(user, current=current_session_id())
        login_user(user)  # the version moved: this browser's cookie follows it
        flash(f"Đã đăng xuất {count} phiên đăng nhập khác.", "success")
    return redirect(back)
