"""The bell and the notifications page; the coordinator's outbox."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import roles_required
from webapp.fields import EmptyForm
from webapp.models import ROLES, User
from webapp.notify import bp, inbox
from webapp.notify.delivery import MAX_ATTEMPTS, smtp_configured
from webapp.notify.services import KIND_LABELS


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """The unread count for the bell in the top bar, read once per request."""

    def unread() -> int:
        if "unread_notifications" not in g:
            g.unread_notifications = inbox.unread_count(current_user.id)
        return int(g.unread_notifications)

    if not has_request_context() or not current_user.is_authenticated:
        return {}
    return {"unread_notifications": unread}


@bp.get("/")
@roles_required(*ROLES)
def index() -> str:
    """The user's notifications, newest first; unread ones stand out."""
    return render_template(
        "notify/index.html",
        notifications=inbox.latest(_user()),
        kinds=KIND_LABELS,
        form=EmptyForm(),
    )


@bp.post("/<int:notification_id>/open")
@roles_required(*ROLES)
def open_(notification_id: int) -> Response:
    """Mark it read and go to the page it is about."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = inbox.open_notification(_user(), notification_id)
    if target is None:
        abort(404)
    return redirect(target, code=303)


@bp.post("/read-all")
@roles_required(*ROLES)
def read_all() -> Response:
    if EmptyForm().validate_on_submit():
        n = inbox.mark_all_read(_user())
        flash(f"Đã đánh dấu {n} thông báo là đã đọc.", "success")
    return redirect(url_for("notify.index"), code=303)


@bp.get("/outbox")
@roles_required("admin")
def outbox() -> str:
    """Every email the app queued: to whom, what, and whether it went out."""
    return render_template(
        "notify/outbox.html",
        emails=inbox.outbox(),
        counts=inbox.outbox_counts(),
        kinds=KIND_LABELS,
        smtp=smtp_configured(),
        max_attempts=MAX_ATTEMPTS,
    )
