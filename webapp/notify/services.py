"""Queueing notifications: one in-app message per user, and its email when wanted.

Every function here only adds rows to the caller's transaction; the service that owns
the event (submission, return, publication, opening a period) commits them with its
own change, so an event is never recorded without its notifications or the reverse.
Delivery is `webapp.notify.delivery`, run by `flask notify send-due`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from webapp.extensions import db
from webapp.models import AppraiserAssignment, User
from webapp.notify.models import Notification, OutgoingEmail

UNIT_ROLES = ("unit_editor", "unit_head")

# Vietnamese name of each kind, shown on the notifications page and the outbox.
KIND_LABELS = {
    "period_open": "Mở kỳ đánh giá",
    "deadline": "Nhắc hạn gửi hồ sơ",
    "submitted": "Hồ sơ đã gửi",
    "returned": "Yêu cầu giải trình, bổ sung",
    "return_due": "Nhắc hạn giải trình, bổ sung",
    "resubmitted": "Hồ sơ gửi lại",
    "published": "Công bố kết quả",
    "password_reset": "Đặt lại mật khẩu",
}


@dataclass(frozen=True)
class Message:
    """What one notification says: the same words in the bell and in the email."""

    kind: str
    title: str
    body: str
    link: str  # a path inside the app ("/assessments/#at-risk")


def path_for(endpoint: str, anchor: str = "", **values: Any) -> str:
    """The app path of an endpoint, with or without a request (the CLI has none)."""
    adapter = current_app.url_map.bind("localhost")
    path = str(adapter.build(endpoint, values))
    return f"{path}#{anchor}" if anchor else path


def leaf_path(assessment_id: int, code: str) -> str:
    """A leaf on the criteria page: its area's page, scrolled to it (as leaf_url)."""
    from webapp.assessment.overview import area_of

    return path_for(
        "assessment.detail",
        anchor=f"leaf-{code}",
        assessment_id=assessment_id,
        area=area_of(code),
    )


def absolute_url(path: str) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def unit_users(unit_id: int, roles: Iterable[str] = UNIT_ROLES) -> list[User]:
    """Active users of a unit with one of the roles, by username."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.unit_id == unit_id,
                User.role.in_(list(roles)),
                User.is_active.is_(True),
            )
            .order_by(User.username)
        )
    )


def assigned_appraisers(period_id: int, unit_id: int) -> list[User]:
    """Active appraisers assigned to the unit in the period."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(AppraiserAssignment, AppraiserAssignment.user_id == User.id)
            .where(
                AppraiserAssignment.period_id == period_id,
                AppraiserAssignment.unit_id == unit_id,
                User.is_active.is_(True),
            )
            .order_by(User.username)
            .distinct()
        )
    )


def render_email(user_name: str, subject: str, body: str, url: str) -> tuple[str, str]:
    """The plain-text and HTML bodies (Vietnamese) of a message with its link."""
    env = current_app.jinja_env
    values = {"name": user_name, "subject": subject, "body": body, "url": url}
    text = env.get_template("notify/email.txt").render(values)
    html = env.get_template("notify/email.html").render(values)
    return text, html


def queue_email(
    user: User | None, to_address: str, kind: str, title: str, body: str, link: str
) -> OutgoingEmail:
    """Add an email to the outbox queue (the caller's transaction)."""
    subject = f"[Chỉ số CCHC] {title}"
    name = user.full_name if user is not None else ""
    text, html = render_email(name, subject, body, absolute_url(link))
    email = OutgoingEmail(
        user_id=user.id if user is not None else None,
        to_address=to_address,
        kind=kind,
        subject=subject,
        text=text,
        html=html,
    )
    db.session.add(email)
    return email


def wants_email(user: User) -> bool:
    return bool(user.is_active and user.email and user.email_notifications)


def notify(users: Iterable[User], message: Message, key: str | None = None) -> int:
    """Give each user the message in the app and, if they chose so, by email.

    With a `key`, users who already got it are skipped (reminders are sent once).
    Returns how many users got it now.
    """
    targets = {u.id: u for u in users if u.is_active}
    if key is not None and targets:
        already = set(
            db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.dedupe_key == key,
                    Notification.user_id.in_(list(targets)),
                )
            )
        )
        targets = {i: u for i, u in targets.items() if i not in already}
    for user in targets.values():
        db.session.add(
            Notification(
                user_id=user.id,
                kind=message.kind,
                title=message.title,
                body=message.body,
                link=message.link,
                dedupe_key=key,
            )
        )
        if wants_email(user):
            assert user.email is not None  # wants_email checked it
            queue_email(
                user,
                user.email,
                message.kind,
                message.title,
                message.body,
                message.link,
            )
    return len(targets)
