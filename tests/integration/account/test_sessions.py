"""Phiên đăng nhập: each login is listed on the profile and can be ended from there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User, UserSession

pytestmark = pytest.mark.db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def browser(app: Any, demo: dict[str, Any]) -> Any:
    """Log a fresh client (another browser) in; returns it."""

    def open_as(username: str, agent: str) -> Any:
        other = app.test_client()
        response = other.post(
            "/auth/login",
            data={"username": username, "password": demo["password"]},
            headers={"User-Agent": agent},
        )
        assert response.status_code == 302
        return other

    return open_as


def _open_sessions(username: str) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username, UserSession.ended_at.is_(None))
            .order_by(UserSession.id)
        )
    )


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_profile_lists_each_browser_and_marks_this_one(
    browser: Any,
) -> None:
    office = browser("truclam.chuyenvien", CHROME)
    browser("truclam.chuyenvien", FIREFOX)
    html = office.get("/account/").get_data(as_text=True)
    assert "Chrome trên Windows" in html
    assert "Firefox trên Linux" in html
    assert html.count("Đăng xuất khỏi phiên này") == 2
    assert "Đăng xuất tất cả nơi khác" in html
    first, _second = _open_sessions("truclam.chuyenvien")
    assert f'<tr data-session="{first.id}" class="is-current">' in html


def test_sign_out_everywhere_else_stops_the_other_browsers_only(
    browser: Any,
) -> None:
    office = browser("truclam.chuyenvien", CHROME)
    home = browser("truclam.chuyenvien", FIREFOX)
    phone = browser("truclam.chuyenvien", FIREFOX)
    assert home.get("/assessments/").status_code == 200
    response = office.post("/account/sessions/end-others")
    assert response.status_code == 302
    assert "Đã đăng xuất 2 phiên đăng nhập khác." in office.get("/account/").get_data(
        as_text=True
    )
    assert _is_login_redirect(home.get("/assessments/"))
    assert _is_login_redirect(phone.get("/assessments/"))
    assert office.get("/assessments/").status_code == 200
    assert len(_open_sessions("truclam.chuyenvien")) == 1
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.sessions_end_others")
    )
    assert event is not None and len(event.after["ended"]) == 2


def test_one_session_can_be_signed_out_from_another(browser: Any) -> None:
    office = browser("nghison.chuyenvien", CHROME)
    lost = browser("nghison.chuyenvien", FIREFOX)
    kept = browser("nghison.chuyenvien", FIREFOX)
    target = _open_sessions("nghison.chuyenvien")[1]
    response = office.post(f"/account/sessions/{target.id}/end")
    assert response.status_code == 302
    assert _is_login_redirect(lost.get("/assessments/"))
    assert kept.get("/assessments/").status_code == 200
    assert office.get("/assessments/").status_code == 200
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.session_end")
    )
    assert event is not None and event.after["ended"] == [target.id]


def test_ending_this_session_is_a_logout(browser: Any) -> None:
    office = browser("nghison.chuyenvien", CHROME)
    mine = _open_sessions("nghison.chuyenvien")[0]
    response = office.post(f"/account/sessions/{mine.id}/end")
    assert _is_login_redirect(response)
    assert _is_login_redirect(office.get("/assessments/"))


def test_someone_elses_session_cannot_be_ended(browser: Any) -> None:
    victim = browser("nghison.chuyenvien", CHROME)
    attacker = browser("truclam.chuyenvien", CHROME)
    theirs = _open_sessions("nghison.chuyenvien")[0]
    assert attacker.post(f"/account/sessions/{theirs.id}/end").status_code == 404
    assert victim.get("/assessments/").status_code == 200


def test_logging_out_ends_this_browser_and_leaves_the_others_signed_in(
    browser: Any,
) -> None:
    office = browser("truclam.lanhdao", CHROME)
    home = browser("truclam.lanhdao", FIREFOX)
    office.post("/auth/logout")
    assert _is_login_redirect(office.get("/assessments/"))
    assert home.get("/assessments/").status_code == 200
    assert len(_open_sessions("truclam.lanhdao")) == 1


def test_last_seen_is_written_at_most_once_a_minute(browser: Any) -> None:
    office = browser("truclam.lanhdao", CHROME)
    row = _open_sessions("truclam.lanhdao")[0]
    stamp = row.last_seen_at
    office.get("/assessments/")
    assert _open_sessions("truclam.lanhdao")[0].last_seen_at == stamp
    row = _open_sessions("truclam.lanhdao")[0]
    row.last_seen_at = stamp - timedelta(minutes=5)
    db.session.commit()
    office.get("/assessments/")
    assert _open_sessions("truclam.lanhdao")[0].last_seen_at > stamp - timedelta(
        seconds=1
    )


def test_deactivation_ends_every_listed_session(
    browser: Any, demo: dict[str, Any]
) -> None:
    browser("truclam.chuyenvien", CHROME)
    browser("truclam.chuyenvien", FIREFOX)
    admin = browser("admin", CHROME)
    user = demo["users"]["truclam.chuyenvien"]
    assert admin.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert _open_sessions("truclam.chuyenvien") == []


def test_an_idle_session_is_closed_and_no_longer_listed(
    app: Any, browser: Any, clock: Any
) -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    clock.value = start
    office = browser("truclam.lanhdao", CHROME)
    forgotten = browser("truclam.lanhdao", FIREFOX)
    browser("truclam.lanhdao", CHROME.replace("Safari/537.36", "Safari/537.36 Edg/131"))
    _office_row, forgotten_row, overnight = _open_sessions("truclam.lanhdao")
    # A browser left open overnight: its last activity is hours old.
    overnight.last_seen_at = overnight.last_seen_at - timedelta(hours=10)
    db.session.commit()
    html = office.get("/account/").get_data(as_text=True)
    assert "Edge trên Windows" not in html and "Firefox trên Linux" in html
    # Coming back after the idle limit ends that session and closes its record.
    limit = timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))
    clock.value = start + limit + timedelta(minutes=1)
    assert _is_login_redirect(forgotten.get("/assessments/"))
    assert forgotten_row.id not in [s.id for s in _open_sessions("truclam.lanhdao")]
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.session_idle")
    )
    assert event is not None and event.after["ended"] == [forgotten_row.id]
