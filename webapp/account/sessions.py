"""Session records: one row per login, listed on the profile and ended on demand.

The Flask session carries the row's id (``SESSION_KEY``); the user loader accepts a
cookie only while its row is open, beside the older ``User.session_version`` check
(which still ends every session at once on deactivation or a password reset).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request, session
from sqlalchemy.orm.util import identity_key

from webapp import audit
from webapp.clock import utcnow
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import User, UserSession

logger = logging.getLogger(__name__)

SESSION_KEY = "sid"
TOUCH_EVERY = timedelta(minutes=1)


def start_session(user: User) -> UserSession:
    """Open a session row for a login (the caller commits with the login's audit)."""
    ip = user_agent = ""
    if has_request_context():
        ip = (request.remote_addr or "")[:64]
        user_agent = (request.user_agent.string or "")[:300]
    row = UserSession(user_id=user.id, ip=ip, user_agent=user_agent)
    db.session.add(row)
    db.session.flush()
    return row


def current_session_id() -> int | None:
    raw = session.get(SESSION_KEY)
    return raw if isinstance(raw, int) else None


def open_session(user_id: int, session_id: int | None) -> UserSession | None:
    """The open row of this user with this id, or None (ended, someone else's)."""
    if session_id is None:
        return None
    row: UserSession | None = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    return row


def load_user_and_session(
    user_id: int, session_id: int | None, *, with_unread: bool = False
) -> tuple[User, UserSession, int | None] | None:
    """The user and this login's open row of theirs, in one query; None if either is
    missing, the row is someone else's or has ended (see `open_session`).
    ``with_unread``: the bell's count comes in the same round trip, else None."""
    if session_id is None:
        return None
    # Both already in this session (a test's, or a second lookup): as Session.get
    # would, no SQL; the bell then reads its own count.
    user = db.session.identity_map.get(identity_key(User, user_id))
    row = db.session.identity_map.get(identity_key(UserSession, session_id))
    if isinstance(user, User) and isinstance(row, UserSession):
        if row.user_id != user.id or row.ended_at is not None:
            return None
        return user, row, None
    found = db.session.execute(
        _user_and_session(with_unread), {"user_id": user_id, "session_id": session_id}
    ).first()
    if found is None or found[1].ended_at is not None:
        return None
    return found[0], found[1], found[2]


_STATEMENTS: dict[bool, sa.Select[Any]] = {}


def _user_and_session(with_unread: bool) -> sa.Select[Any]:
    # Built once: every request runs it, and building a statement (and its cache
    # key) costs more than running it.
    statement = _STATEMENTS.get(with_unread)
    if statement is None:
        from webapp.notify.inbox import unread_count_query

        user_id = sa.bindparam("user_id", type_=sa.Integer)
        extra = (
            unread_count_query(user_id).scalar_subquery() if with_unread else sa.null()
        )
        statement = _STATEMENTS[with_unread] = (
            sa.select(User, UserSession, extra)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                User.id == user_id,
                UserSession.id == sa.bindparam("session_id", type_=sa.Integer),
            )
        )
    return statement


def touch(row: UserSession) -> None:
    """Note activity, at most once a minute (a page view is not worth a write)."""
    current = utcnow()
    if current - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = current
        db.session.commit()


def _open_rows(user: User) -> sa.Select[Any]:
    return (
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )


def list_sessions(user: User) -> list[UserSession]:
    """The sessions still usable, most recently used first.

    A browser closed without logging out leaves its row open; once idle past the
    limit its cookie is refused anyway, so it is no longer listed.
    """
    idle = timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    since = utcnow() - idle - TOUCH_EVERY
    return list(
        db.session.scalars(_open_rows(user).where(UserSession.last_seen_at >= since))
    )


def close_rows(rows: Iterable[UserSession]) -> list[int]:
    """Mark rows ended (no commit, no audit: the caller's change records both)."""
    ended = []
    at = utcnow()
    for row in rows:
        if row.ended_at is None:
            row.ended_at = at
            ended.append(row.id)
    return ended


def close_all(user: User, *, keep: int | None = None) -> list[int]:
    """End every open row of the user but ``keep``; return the ids ended."""
    return close_rows(s for s in db.session.scalars(_open_rows(user)) if s.id != keep)


def expire_idle(row: UserSession) -> None:
    """Close the record of a session the idle limit has just ended."""
    close_rows([row])
    audit.record(
        "user.session_idle",
        "user",
        row.user_id,
        after={"ended": [row.id]},
        unit_id=row.user.unit_id,
        actor=row.user,
    )
    db.session.commit()


def end_session(user: User, session_id: int, *, current: int | None) -> None:
    """Sign one of one's own sessions out ("Đăng xuất khỏi phiên này")."""
    row = open_session(user.id, session_id)
    if row is None:
        raise ParIndexError(
            "Phiên đăng nhập này không còn hoạt động hoặc không phải của bạn.",
            status=404,
        )
    close_rows([row])
    audit.record(
        "user.session_end",
        "user",
        user.id,
        before={"session": row.id},
        after={"ended": [row.id], "current": row.id == current},
        unit_id=user.unit_id,
        actor=user,
    )
    db.session.commit()
    logger.info("session %s of %s ended by its owner", row.id, user.username)


def end_other_sessions(user: User, *, current: int | None) -> int:
    """Sign out everywhere but here ("Đăng xuất tất cả nơi khác"); return how many.

    The session version moves too, so any cookie issued before session records
    existed dies as well; this browser is logged in again by the caller.
    """
    ended = close_all(user, keep=current)
    before = user.session_version
    user.session_version += 1
    audit.record(
        "user.sessions_end_others",
        "user",
        user.id,
        before={"session_version": before},
        after={"session_version": user.session_version, "ended": ended},
        unit_id=user.unit_id,
        actor=user,
    )
    db.session.commit()
    logger.info("%s ended %s other sessions", user.username, len(ended))
    return len(ended)
