"""Accounts: argon2id password hashing, authentication, session invalidation."""

from __future__ import annotations

import contextlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from webapp import audit
from webapp.account.sessions import close_all, close_rows, open_session, start_session
from webapp.api.tokens import revoke_user_tokens
from webapp.clock import utcnow
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import User, UserSession

MIN_PASSWORD_LENGTH = 10


class PasswordPolicyError(ParIndexError, ValueError):
    """A password refused by the policy, or a wrong current password."""


def _hasher() -> PasswordHasher:
    # argon2id with the library's defaults; tests lower the cost through config.
    params = current_app.config.get("ARGON2_PARAMS") or {}
    return PasswordHasher(**params)


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher().hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự."
        )
    if len(password) > 200:
        raise PasswordPolicyError("Mật khẩu quá dài (tối đa 200 ký tự).")


def authenticate(
    username: str, password: str
) -> tuple[User, UserSession] | tuple[None, None]:
    """The active user whose password matches and their new session record, else
    (None, None): one answer for every failure."""
    user: User | None = db.session.scalar(
        sa.select(User).where(User.username == username.strip().lower())
    )
    hasher = _hasher()
    if user is None or not user.is_active:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_DUMMY_HASH.get(hasher), password)
        return None, None
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None, None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    record = start_session(user)
    audit.record(
        "user.login",
        "user",
        user.id,
        actor=user,
        unit_id=user.unit_id,
        after={"session": record.id, "must_change_password": user.must_change_password},
    )
    db.session.commit()
    return user, record


class _DummyHash:
    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int], str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in self._cache:
            self._cache[key] = hasher.hash(secrets.token_hex(8))
        return self._cache[key]


_DUMMY_HASH = _DummyHash()


def end_sessions(user: User, *, keep: int | None = None) -> list[int]:
    """Invalidate every session cookie issued to this user so far (but ``keep``'s
    record, whose browser the caller logs in again); return the records ended."""
    user.session_version += 1
    return close_all(user, keep=keep)


def logout(user: User, session_id: int | None) -> None:
    """End this browser's session: its record closes, so every copy of its cookie
    stops working; the user's other browsers stay signed in."""
    row = open_session(user.id, session_id)
    ended = close_rows([row]) if row is not None else []
    audit.record(
        "user.logout",
        "user",
        user.id,
        actor=user,
        unit_id=user.unit_id,
        after={"ended": ended},
    )
    db.session.commit()


def change_password(
    user: User, current: str, new: str, *, session_id: int | None = None
) -> None:
    """Change the user's own password; ends all their other sessions and lifts a
    forced change (the temporary password is gone)."""
    try:
        _hasher().verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise PasswordPolicyError("Mật khẩu hiện tại không đúng.") from exc
    if new == current:
        raise PasswordPolicyError(
            "Mật khẩu mới phải khác mật khẩu hiện tại.", field="new"
        )
    user.password_hash = hash_password(new)
    forced = user.must_change_password
    user.must_change_password = False
    ended = end_sessions(user, keep=session_id)
    revoked = revoke_user_tokens(user, "password_changed")
    audit.record(
        "user.change_password",
        "user",
        user.id,
        unit_id=user.unit_id,
        before={
            "session_version": user.session_version - 1,
            "must_change_password": forced,
        },
        after={
            "session_version": user.session_version,
            "must_change_password": False,
            "ended": ended,
            "api_tokens_revoked": revoked,
        },
    )
    db.session.commit()
