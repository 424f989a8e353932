"""Sending the queued emails: over SMTP (Flask-Mailman) when PARINDEX_SMTP_HOST is
set, else into the app's outbox, where the coordinator reads them.

A message leaves the queue only once the SMTP server accepted it; a refusal or a
server that is down adds one attempt and the error, and the next run tries again.
Each message is locked while it is sent (PostgreSQL: FOR UPDATE SKIP LOCKED), so two
runs side by side never send the same one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_mailman import EmailMultiAlternatives

from webapp.clock import utcnow
from webapp.extensions import db, mail
from webapp.notify.models import OutgoingEmail

logger = logging.getLogger(__name__)

# After this many failed attempts a message stays in the outbox, marked failed, and
# is not retried (a bad address must not be tried every five minutes for ever).
MAX_ATTEMPTS = 20
BATCH = 500
# Emails whose body is a credential (the reset link): not kept once sent over SMTP.
SECRET_KINDS = frozenset({"password_reset"})
SENT_SECRET = "(Đã gửi. Nội dung chứa liên kết dùng một lần nên không được lưu lại.)"


@dataclass(frozen=True)
class Delivery:
    sent: int  # accepted by the SMTP server
    to_outbox: int  # kept in the app's outbox (no SMTP configured)
    failed: int  # attempted and refused: still queued
    waiting: int  # still queued after this run (failed ones included)


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _queued(ids: Iterable[int] | None) -> list[int]:
    q = (
        sa.select(OutgoingEmail.id)
        .where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutgoingEmail.id)
        .limit(BATCH)
    )
    if ids is not None:
        q = q.where(OutgoingEmail.id.in_(list(ids)))
    return list(db.session.scalars(q))


def _waiting() -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutgoingEmail)
            .where(
                OutgoingEmail.sent_at.is_(None),
                OutgoingEmail.attempts < MAX_ATTEMPTS,
            )
        )
        or 0
    )


def _connection() -> Any:
    config = current_app.config
    return mail.get_connection(
        backend="smtp",
        host=config["SMTP_HOST"],
        port=int(config["SMTP_PORT"]),
        username=config.get("SMTP_USERNAME") or "",
        password=config.get("SMTP_PASSWORD") or "",
        use_tls=bool(config["SMTP_USE_TLS"]),
        use_ssl=bool(config["SMTP_USE_SSL"]),
        timeout=int(config["SMTP_TIMEOUT"]),
    )


def _claim(email_id: int) -> OutgoingEmail | None:
    """The message, locked for this run, if it is still queued."""
    return db.session.scalar(
        sa.select(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.sent_at.is_(None))
        .with_for_update(skip_locked=True)
    )


def _failed(email: OutgoingEmail, exc: BaseException) -> None:
    email.attempts += 1
    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    db.session.commit()
    logger.warning("email %s not sent (attempt %s): %s", email.id, email.attempts, exc)


def deliver(ids: Iterable[int] | None = None) -> Delivery:
    """Send the queued emails (or only `ids`); each is committed as it goes."""
    queued = _queued(ids)
    if not smtp_configured():
        if queued:
            db.session.execute(
                sa.update(OutgoingEmail)
                .where(OutgoingEmail.id.in_(queued))
                .values(sent_at=utcnow(), delivered_via="outbox")
            )
            db.session.commit()
        return Delivery(0, len(queued), 0, _waiting())
    sent = failed = 0
    connection = _connection()
    try:
        for email_id in queued:
            email = _claim(email_id)
            if email is None:
                db.session.rollback()
                continue
            message = EmailMultiAlternatives(
                subject=email.subject,
                body=email.text,
                from_email=current_app.config["SMTP_FROM"],
                to=[email.to_address],
                connection=connection,
            )
            message.attach_alternative(email.html, "text/html")
            try:
                accepted = message.send()
                if not accepted:
                    raise RuntimeError("máy chủ thư không nhận thư")
            except Exception as exc:  # any SMTP or network error: keep it queued
                _failed(email, exc)
                failed += 1
                continue
            email.attempts += 1
            email.sent_at = utcnow()
            email.delivered_via = "smtp"
            email.last_error = ""
            if email.kind in SECRET_KINDS:
                # Its link is a password: once delivered, the copy here goes.
                email.text = email.html = SENT_SECRET
            db.session.commit()
            sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # closing a dead connection must not hide what was sent
            logger.debug("closing the SMTP connection failed", exc_info=True)
    return Delivery(sent, 0, failed, _waiting())
