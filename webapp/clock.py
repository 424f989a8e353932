"""The app's clock: one place to read the time, so tests can set it (deadlines)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """Current time, aware UTC (a callable default, never evaluated at import)."""
    return datetime.now(UTC)


def now() -> datetime:
    """Current aware UTC time, or config["CLOCK"]() when tests fix the time."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def vn_end_of_day(year: int, month: int, day: int) -> datetime:
    """23:59:59 of a calendar day in Asia/Ho_Chi_Minh, the way deadlines are stated."""
    from datetime import date

    return datetime.combine(date(year, month, day), time(23, 59, 59), tzinfo=VN_TZ)


def to_vn(value: datetime) -> datetime:
    return value.astimezone(VN_TZ)
