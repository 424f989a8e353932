"""Forgotten password: a one-time link by email, valid 30 minutes.

The answer to a request never says whether the account exists (the same page, the
same message); only the SHA-256 of the link's token is stored; a link works once,
and using it ends every session of the account. The email goes through the same
outbox as notifications (webapp/notify), delivered at once after the response.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from webapp import audit
from webapp.api.tokens import revoke_user_tokens
from webapp.auth.services import end_sessions, hash_password
from webapp.clock import now
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import User
from webapp.notify.models import PasswordResetToken
from webapp.notify.services import path_for, queue_email

logger = logging.getLogger(__name__)

SAME_ANSWER = (
    "Nếu tài khoản tồn tại và có địa chỉ thư điện tử, chúng tôi đã gửi tới địa chỉ "
    "đó một liên kết đặt lại mật khẩu. Liên kết dùng được một lần, trong 30 phút."
)
LINK_UNUSABLE = (
    "Liên kết đặt lại mật khẩu không hợp lệ, đã hết hạn hoặc đã được dùng. "
    "Vui lòng yêu cầu một liên kết mới."
)


class ResetLinkUnusable(ParIndexError):
    status = 404


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config["PASSWORD_RESET_MINUTES"]))


def find_account(identifier: str) -> User | None:
    """The active account with this username or email address, if any."""
    key = identifier.strip().lower()
    if not key:
        return None
    return db.session.scalar(
        sa.select(User)
        .where(
            User.is_active.is_(True),
            sa.or_(User.username == key, sa.func.lower(User.email) == key),
        )
        .order_by(User.id)
        .limit(1)
    )


def request_reset(identifier: str) -> int | None:
    """Queue a reset email if the account exists and has an address.

    Returns the queued email's id (for delivery right after the response), or None;
    the caller answers the same either way.
    """
    user = find_account(identifier)
    if user is None or not user.email:
        return None
    token = secrets.token_urlsafe(32)
    at = now()
    row = PasswordResetToken(
        user_id=user.id, token_hash=_digest(token), expires_at=at + _lifetime()
    )
    db.session.add(row)
    minutes = int(_lifetime().total_seconds() // 60)
    email = queue_email(
        user,
        user.email,
        "password_reset",
        "Đặt lại mật khẩu",
        (
            f"Có yêu cầu đặt lại mật khẩu cho tài khoản {user.username}.\n"
            f"Mở liên kết dưới đây trong vòng {minutes} phút để đặt mật khẩu mới; "
            "liên kết chỉ dùng được một lần.\n"
            "Nếu bạn không yêu cầu, hãy bỏ qua thư này: mật khẩu hiện tại vẫn giữ "
            "nguyên."
        ),
        path_for("auth.reset_password", token=token),
    )
    db.session.flush()
    audit.record(
        "user.password_reset_request",
        "user",
        user.id,
        unit_id=user.unit_id,
        after={"expires_at": row.expires_at, "email_id": email.id},
    )
    db.session.commit()
    logger.info("password reset link queued for user %s", user.id)
    return int(email.id)


def usable_token(token: str) -> PasswordResetToken | None:
    """The token's row while it can still be used: unused, unexpired, account active."""
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(
            PasswordResetToken.token_hash == _digest(token)
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now():
        return None
    return row if row.user.is_active else None


def reset_password(token: str, new_password: str) -> User:
    """Set the new password through the link; the link and the others die with it."""
    row = usable_token(token)
    if row is None:
        raise ResetLinkUnusable(LINK_UNUSABLE)
    user = row.user
    password_hash = hash_password(new_password)  # the policy refuses before any change
    at = now()
    # Claimed by one UPDATE: two submissions of the same link cannot both succeed.
    claimed = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise ResetLinkUnusable(LINK_UNUSABLE)
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
        )
        .values(used_at=at)
    )
    user.password_hash = password_hash
    user.must_change_password = False
    end_sessions(user)
    revoked = revoke_user_tokens(user, "password_reset")
    audit.record(
        "user.password_reset",
        "user",
        user.id,
        actor=user,
        unit_id=user.unit_id,
        before={"session_version": user.session_version - 1},
        after={
            "session_version": user.session_version,
            "token": row.id,
            "api_tokens_revoked": revoked,
        },
    )
    db.session.commit()
    logger.info("password reset through a link for user %s", user.id)
    return user
