"""Coordinator refusals shared by the admin services, and the commit that turns a lost
unique-constraint race into a field error.

Every public function in the admin services that changes state is one transaction
and records exactly one audit event (who, when, what, before → after) before its
commit. Rules that need the database are checked there and raised as FieldError, so
the view can show it next to the field.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from webapp.errors import ParIndexError
from webapp.extensions import db


class AdminError(ParIndexError):
    """A refusal shown to the coordinator as a message (nothing was changed)."""


class FieldError(AdminError):
    """A refusal that belongs next to one form field."""

    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def commit_or_field_error(field_name: str, message: str) -> None:
    # The unique constraints are the backstop when two admins save one code at once.
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError(field_name, message) from exc
