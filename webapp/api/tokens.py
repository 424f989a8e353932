"""Personal API tokens: create (shown once), verify, list, revoke.

A token is ``pi_<prefix>_<secret>``: the prefix (public, unique) finds the row, and
the SHA-256 of the whole token must match the stored one. The secret has 256 bits of
entropy, so a fast hash is enough (no password stretching needed) and verification
costs one indexed lookup. Deactivation and password changes revoke every token of the
user (:func:`revoke_user_tokens`, called by those services in their transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp import audit
from webapp.api.models import ApiToken
from webapp.clock import now, to_vn
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.fields import clean_text
from webapp.models import User

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "pi_"
# Written on a used token at most this often: a script's every request need not write.
LAST_USED_GRANULARITY = timedelta(seconds=60)


class TokenError(ParIndexError):
    status = 422


@dataclass(frozen=True)
class IssuedToken:
    """A new token's row and, once only, its full text."""

    token: ApiToken
    secret: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse(text: str) -> tuple[str, str] | None:
    """The (prefix, whole token) of a well-formed token text, else None."""
    text = text.strip()
    if not text.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = text.removeprefix(TOKEN_PREFIX).partition("_")
    if not sep or not prefix or len(prefix) > 16 or len(secret) < 32:
        return None
    return prefix, text


def create_token(
    user: User, *, name: str, expires_days: int | None, actor: User | None
) -> IssuedToken:
    """Issue a token for ``user`` (audited: api_token.create); its text, once."""
    name = clean_text(name or "", label="Tên mã truy cập", field="name")
    if not name:
        raise TokenError(
            "Vui lòng đặt tên cho mã truy cập (ví dụ: Cổng dữ liệu).", "name"
        )
    if len(name) > 100:
        raise TokenError("Tên mã truy cập tối đa 100 ký tự.", "name")
    if not user.is_active:
        raise TokenError("Tài khoản đã bị khóa: không thể tạo mã truy cập.")
    limit = int(current_app.config["API_TOKEN_MAX_DAYS"])
    days = (
        int(current_app.config["API_TOKEN_DEFAULT_DAYS"])
        if expires_days is None
        else expires_days
    )
    if not 1 <= days <= limit:
        raise TokenError(
            f"Thời hạn của mã truy cập phải từ 1 đến {limit} ngày.", "expires_days"
        )
    prefix = secrets.token_hex(6)
    text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    at = now()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_sha256=_digest(text),
        created_at=at,
        expires_at=at + timedelta(days=days),
        last_used_ip="",
        revoked_reason="",
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.create",
        "api_token",
        token.id,
        after={
            "user": user.username,
            "name": name,
            "prefix": prefix,
            "expires_at": token.expires_at,
        },
        unit_id=user.unit_id,
        summary=f"Tạo mã truy cập API “{name}” của {user.username}, hết hạn "
        f"{to_vn(token.expires_at).strftime('%d/%m/%Y')}",
        actor=actor or user,
    )
    db.session.commit()
    logger.info("api token %s (%s) created for %s", token.id, prefix, user.username)
    return IssuedToken(token, text)


def verify(text: str, *, ip_address: str = "") -> ApiToken | None:
    """The usable token this text names (and its active user), else None."""
    parsed = parse(text)
    if parsed is None:
        return None
    prefix, whole = parsed
    token: ApiToken | None = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.prefix == prefix)
    )
    if token is None or not hmac.compare_digest(token.token_sha256, _digest(whole)):
        return None
    at = now()
    if not token.is_usable(at) or not token.user.is_active:
        return None
    last = token.last_used_at
    if last is None or at - last >= LAST_USED_GRANULARITY:
        token.last_used_at = at
        token.last_used_ip = ip_address[:64]
        db.session.commit()
    return token


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def get_token(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    """Revoke one token (audited: api_token.revoke)."""
    if token.revoked_at is not None:
        raise TokenError("Mã truy cập này đã bị thu hồi từ trước.", status=409)
    token.revoked_at = now()
    token.revoked_reason = "revoked"
    audit.record(
        "api_token.revoke",
        "api_token",
        token.id,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at, "reason": "revoked"},
        unit_id=token.user.unit_id,
        summary=f"Thu hồi mã truy cập API “{token.name}” của {token.user.username}",
        actor=actor,
    )
    db.session.commit()
    logger.info("api token %s revoked", token.id)


def revoke_user_tokens(user: User, reason: str) -> list[int]:
    """Revoke every live token of the user, in the caller's transaction (no commit).

    The caller's own audit event (password change, deactivation) lists the ids.
    """
    at = now()
    live = list(
        db.session.scalars(
            sa.select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
            )
        )
    )
    for token in live:
        token.revoked_at = at
        token.revoked_reason = reason
    return [t.id for t in live]


def token_state(token: ApiToken, at: datetime | None = None) -> str:
    """Đang dùng, Đã thu hồi or Đã hết hạn: how the profile page names it."""
    if token.revoked_at is not None:
        return "Đã thu hồi"
    if (at or now()) >= token.expires_at:
        return "Đã hết hạn"
    return "Đang dùng"
