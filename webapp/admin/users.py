"""Coordinator services for user accounts.

List, create, edit, reset a password, force a password change, (de)activate. A
password the coordinator sets is a temporary one: its owner must replace it at the
next login (``User.must_change_password``).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.admin.errors import AdminError, FieldError, commit_or_field_error
from webapp.api.tokens import revoke_user_tokens
from webapp.auth.services import PasswordPolicyError, end_sessions, hash_password
from webapp.extensions import db
from webapp.formatting import fold
from webapp.models import (
    ROLES,
    Unit,
    User,
)

logger = logging.getLogger(__name__)


def list_users(query: str = "") -> list[User]:
    users = list(
        db.session.scalars(
            sa.select(User).order_by(User.is_active.desc(), User.username)
        )
    )
    if query.strip():
        needle = fold(query.strip())
        users = [
            u
            for u in users
            if needle
            in fold(f"{u.username} {u.full_name} {u.unit.name if u.unit else ''}")
        ]
    return users


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
        "is_active": user.is_active,
        "must_change_password": user.must_change_password,
    }


def _check_role_unit(
    role: str, unit_id: int | None, current_unit_id: int | None = None
) -> Unit | None:
    if role not in ROLES:
        raise FieldError("role", "Vui lòng chọn vai trò.")
    unit = db.session.get(Unit, unit_id) if unit_id else None
    # An account may stay in a unit that has since stopped, but none may join one.
    stopped = unit is not None and not unit.is_active and unit.id != current_unit_id
    if unit_id and (unit is None or stopped):
        raise FieldError("unit_id", "Đơn vị không tồn tại hoặc đã ngừng hoạt động.")
    if role in ("unit_editor", "unit_head") and unit is None:
        raise FieldError(
            "unit_id", "Chuyên viên và lãnh đạo đơn vị phải thuộc một đơn vị."
        )
    if role in ("admin", "appraiser") and unit is not None:
        raise FieldError(
            "unit_id",
            "Quản trị và thẩm định không thuộc đơn vị nào: "
            "hãy chọn “Không thuộc đơn vị”.",
        )
    return unit


def create_user(
    *, username: str, full_name: str, role: str, unit_id: int | None, password: str
) -> User:
    """Create an account; usernames are unique and lower case (as login reads them)."""
    username = username.strip().lower()
    if db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username)
    ):
        raise FieldError("username", f"Tên đăng nhập {username} đã tồn tại.")
    unit = _check_role_unit(role, unit_id)
    try:
        password_hash = hash_password(password)
    except PasswordPolicyError as exc:
        raise FieldError("password", str(exc)) from exc
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        unit=unit,
        password_hash=password_hash,
        # The coordinator knows this password: the owner chooses their own at login.
        must_change_password=True,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError("username", f"Tên đăng nhập {username} đã tồn tại.") from exc
    audit.record(
        "user.create",
        "user",
        user.id,
        after=_user_snapshot(user),
        unit_id=unit.id if unit else None,
    )
    commit_or_field_error("username", f"Tên đăng nhập {username} đã tồn tại.")
    logger.info("user %s created (%s)", user.username, role)
    return user


def update_user(
    user: User, *, full_name: str, role: str, unit_id: int | None, actor: User
) -> bool:
    """Change name, role and unit; False when nothing changed."""
    if user.id == actor.id and role != user.role:
        raise FieldError("role", "Không thể tự thay đổi vai trò của chính mình.")
    unit = _check_role_unit(role, unit_id, current_unit_id=user.unit_id)
    before = _user_snapshot(user)
    before_unit_id = user.unit_id
    user.full_name = full_name.strip()
    user.role = role
    user.unit = unit
    after = _user_snapshot(user)
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return False
    audit.record(
        "user.update",
        "user",
        user.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        unit_id=unit.id if unit else before_unit_id,
    )
    db.session.commit()
    logger.info("user %s updated: %s", user.username, sorted(changed))
    return True


def reset_password(user: User, new_password: str, *, actor: User) -> None:
    """Set a new password for someone else and end all their sessions."""
    if user.id == actor.id:
        raise AdminError(
            "Hãy dùng trang “Đổi mật khẩu” để đổi mật khẩu của chính mình."
        )
    try:
        user.password_hash = hash_password(new_password)
    except PasswordPolicyError as exc:
        raise FieldError("password", str(exc)) from exc
    before = {
        "session_version": user.session_version,
        "must_change_password": user.must_change_password,
    }
    user.must_change_password = True
    ended = end_sessions(user)
    revoked = revoke_user_tokens(user, "password_reset")
    audit.record(
        "user.reset_password",
        "user",
        user.id,
        before=before,
        after={
            "session_version": user.session_version,
            "must_change_password": True,
            "ended": ended,
            "api_tokens_revoked": revoked,
        },
        unit_id=user.unit_id,
    )
    db.session.commit()
    logger.info("password of %s reset by %s", user.username, actor.username)


def force_password_change(user: User, *, actor: User) -> None:
    """Buộc đổi mật khẩu: end the user's sessions; their next login asks for a new
    password before anything else."""
    if user.id == actor.id:
        raise AdminError(
            "Hãy dùng trang “Đổi mật khẩu” để đổi mật khẩu của chính mình."
        )
    if not user.is_active:
        raise AdminError("Tài khoản đã bị khóa: không cần buộc đổi mật khẩu.")
    before = {
        "session_version": user.session_version,
        "must_change_password": user.must_change_password,
    }
    user.must_change_password = True
    ended = end_sessions(user)
    audit.record(
        "user.force_password_change",
        "user",
        user.id,
        before=before,
        after={
            "session_version": user.session_version,
            "must_change_password": True,
            "ended": ended,
        },
        unit_id=user.unit_id,
        actor=actor,
    )
    db.session.commit()
    logger.info("password change of %s forced by %s", user.username, actor.username)


def set_user_active(user: User, active: bool, *, actor: User) -> None:
    """Lock (or unlock) an account; locking ends every session at once."""
    if user.id == actor.id:
        raise AdminError("Không thể tự khóa hoặc mở khóa tài khoản của chính mình.")
    if user.is_active == active:
        raise AdminError(
            "Tài khoản đang hoạt động." if active else "Tài khoản đã bị khóa từ trước."
        )
    if active and user.unit is not None and not user.unit.is_active:
        raise AdminError(
            "Đơn vị của tài khoản đã ngừng hoạt động: "
            "hãy chuyển tài khoản sang đơn vị khác trước."
        )
    before = {"is_active": user.is_active, "session_version": user.session_version}
    user.is_active = active
    after: dict[str, Any] = {
        "is_active": active,
        "session_version": user.session_version,
    }
    if not active:
        end_sessions(user)
        after["session_version"] = user.session_version
        after["api_tokens_revoked"] = revoke_user_tokens(user, "deactivated")
    audit.record(
        "user.activate" if active else "user.deactivate",
        "user",
        user.id,
        before=before,
        after=after,
        unit_id=user.unit_id,
    )
    db.session.commit()
    logger.info("user %s active=%s by %s", user.username, active, actor.username)
