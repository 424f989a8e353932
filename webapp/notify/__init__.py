"""Notifications (the bell), the email outbox and the reminders of the year."""

from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/notifications")

from webapp.notify import models, routes  # noqa: E402,F401
