"""One's own profile: name, contact details, notification choice."""

from __future__ import annotations

import logging
from typing import Any

from webapp import audit
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.fields import clean_text, parse_email, parse_phone
from webapp.models import User

logger = logging.getLogger(__name__)

FIELDS = ("full_name", "email", "phone", "email_notifications")


def _snapshot(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in FIELDS}


def update_profile(
    user: User, *, full_name: str, email: str, phone: str, email_notifications: bool
) -> bool:
    """Save the profile; False when nothing changed. Refusals name their field."""
    name = clean_text(full_name, label="Họ và tên", field="full_name")
    if not name:
        raise ParIndexError("Vui lòng nhập họ và tên.", field="full_name")
    if len(name) > 120:
        raise ParIndexError("Họ và tên dài quá 120 ký tự.", field="full_name")
    address = parse_email(email)
    number = parse_phone(phone)
    before = _snapshot(user)
    user.full_name = name
    user.email = address
    user.phone = number
    user.email_notifications = email_notifications
    after = _snapshot(user)
    changed = [k for k in FIELDS if before[k] != after[k]]
    if not changed:
        return False
    audit.record(
        "user.profile",
        "user",
        user.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        unit_id=user.unit_id,
        actor=user,
    )
    db.session.commit()
    logger.info("profile of %s updated: %s", user.username, changed)
    return True
