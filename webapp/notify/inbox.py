"""A user's notifications: the bell's count, the list, marking them read; and the
coordinator's view of the outbox."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.notify.models import Notification, OutgoingEmail
from webapp.redirects import safe_path

PAGE = 100


def unread_count_query(user_id: int | sa.BindParameter[int]) -> sa.Select[int]:
    """The bell's number: one COUNT over the (user_id, read_at) index."""
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def unread_count(user_id: int) -> int:
    return int(db.session.scalar(unread_count_query(user_id)) or 0)


def latest(user: User, limit: int = PAGE) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def open_notification(user: User, notification_id: int) -> str | None:
    """Mark one of the user's notifications read; its link, or None if not theirs.

    Reading is the user's own bookkeeping, not a change to the assessment: it is not
    written to the audit log.
    """
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return safe_path(notification.link) or "/notifications/"


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def outbox(limit: int = 200) -> list[OutgoingEmail]:
    """The latest emails, queued and sent, newest first."""
    return list(
        db.session.scalars(
            sa.select(OutgoingEmail)
            .order_by(OutgoingEmail.created_at.desc(), OutgoingEmail.id.desc())
            .limit(limit)
        )
    )


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(
            OutgoingEmail.delivered_via.is_(None), sa.func.count(OutgoingEmail.id)
        ).group_by(OutgoingEmail.delivered_via.is_(None))
    ).all()
    counts = {"queued": 0, "sent": 0}
    for queued, n in rows:
        counts["queued" if queued else "sent"] += int(n)
    return counts
