"""Jinja filters: Vietnamese formats (decimal comma, dd/mm/yyyy, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response

from evidence_store.text import strip_diacritics
from scoring import format_decimal, format_points
from webapp.clock import now, to_vn


def points(value: Decimal | int | float | str | None, places: int = 2) -> str:
    """8.5 → "8,50"; None → "—"."""
    if value is None or value == "":
        return "—"
    return format_decimal(Decimal(str(value)), places)


def number(value: Decimal | int | str | None) -> str:
    """A figure as users write it (and the parser reads it): 1215 → "1.215"."""
    if value is None or value == "":
        return ""
    return format_points(Decimal(str(value)))


def vn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_vn(value)
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_vn(value).strftime("%d/%m/%Y %H:%M")


def vn_time(value: datetime | None) -> str:
    """The time of day in Asia/Ho_Chi_Minh: "09:05"."""
    if value is None:
        return ""
    return to_vn(value).strftime("%H:%M")


def iso_vn_datetime(value: str | None) -> str:
    """An ISO timestamp kept in JSON (signing time), shown in Vietnam time."""
    return vn_datetime(datetime.fromisoformat(value)) if value else ""


def filesize(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            text = f"{size:.0f}" if unit == "B" else f"{size:.1f}".replace(".", ",")
            return f"{text} {unit}"
        size /= 1024
    return str(n)


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) for accent-insensitive search."""
    return strip_diacritics(text).lower()


def no_store_downloads(response: Response) -> Response:
    """`after_request` hook of the blueprints that serve files: a file (any response
    with a Content-Disposition, or a redirect to a presigned URL) is never kept by a
    browser or a shared proxy cache, so a shared computer or proxy cannot hand one
    unit's document to the next user."""
    if "Content-Disposition" in response.headers or response.status_code in (302, 303):
        response.headers["Cache-Control"] = "no-store"
    return response


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("coc_coc_browser", "Cốc Cốc"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def user_agent_label(agent: str | None) -> str:
    """A browser string read as people say it: "Chrome trên Windows"."""
    if not agent:
        return "Không rõ trình duyệt"
    browser = next((name for key, name in _BROWSERS if key in agent), "")
    system = next((name for key, name in _SYSTEMS if key in agent), "")
    if browser and system:
        return f"{browser} trên {system}"
    return browser or system or agent[:60]


def init_app(app: Flask) -> None:
    filters: dict[str, Any] = {
        "points": points,
        "number": number,
        "vn_date": vn_date,
        "vn_datetime": vn_datetime,
        "vn_time": vn_time,
        "iso_vn_datetime": iso_vn_datetime,
        "filesize": filesize,
        "user_agent_label": user_agent_label,
    }
    app.jinja_env.filters.update(filters)
    # The print header's time; print.js refreshes it when the page is printed later.
    app.jinja_env.globals["print_time"] = lambda: vn_datetime(now())
