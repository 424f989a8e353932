"""The bell, the notifications page, and the outbox of the embedded default (no SMTP
configured: the coordinator reads every email in the app)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import vn_end_of_day
from webapp.extensions import db
from webapp.notify.models import Notification, OutgoingEmail

pytestmark = pytest.mark.db

DEADLINE = vn_end_of_day(2026, 12, 15)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The embedded default: no SMTP server configured."""
    app_config.pop("SMTP_HOST")
    return app_config


def bell(page: str) -> str | None:
    import lxml.html

    found = lxml.html.fromstring(page).xpath('//a[contains(@class, "bell")]')
    return str(found[0].get("aria-label")) if found else None


def test_without_smtp_the_messages_go_to_the_outbox_the_coordinator_reads(
    demo: dict[str, Any], client: Any, login_as: Any, send_due: Any, mailbox: Any
) -> None:
    result = send_due(DEADLINE - timedelta(days=7))

    assert result.exit_code == 0
    assert (
        "Đã gửi 4 thư vào hộp thư đi của hệ thống (chưa cấu hình PARINDEX_SMTP_HOST)."
        in result.output
    )
    assert mailbox.messages == []
    emails = db.session.scalars(sa.select(OutgoingEmail)).all()
    assert {e.delivered_via for e in emails} == {"outbox"}

    login_as("admin")
    page = client.get("/notifications/outbox")
    assert page.status_code == 200
    assert page.text.count('class="outbox-row"') == 4
    assert "Còn 7 ngày đến hạn gửi hồ sơ tự đánh giá (15/12/2026)" in page.text
    assert "Trong hộp thư đi" in page.text
    assert "Chưa cấu hình máy chủ SMTP" in page.text
    login_as("truclam.chuyenvien")
    assert client.get("/notifications/outbox").status_code == 403


def test_the_bell_counts_unread_and_opening_one_marks_it_read(
    demo: dict[str, Any], client: Any, login_as: Any, send_due: Any, sql_statements: Any
) -> None:
    send_due(DEADLINE - timedelta(days=7))
    send_due(DEADLINE - timedelta(days=3))
    login_as("truclam.chuyenvien")

    with sql_statements() as seen:
        home = client.get("/assessments/")
    assert bell(home.text) == "Thông báo: 2 chưa đọc"
    assert sum("notifications" in s for s in seen) == 1  # the bell: one COUNT

    page = client.get("/notifications/")
    assert page.text.count('class="notification unread"') == 2
    assert "Điểm có nguy cơ bị mất:" in page.text
    newest = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == demo["users"]["truclam.chuyenvien"].id)
        .order_by(Notification.id.desc())
    ).first()
    assert newest is not None

    opened = client.post(f"/notifications/{newest.id}/open")

    assert opened.status_code == 303
    assert opened.headers["Location"] == "/assessments/#at-risk"
    assert bell(client.get("/assessments/").text) == "Thông báo: 1 chưa đọc"
    client.post("/notifications/read-all")
    assert bell(client.get("/assessments/").text) == "Thông báo"


def test_no_one_opens_anothers_notification(
    demo: dict[str, Any], client: Any, login_as: Any, send_due: Any
) -> None:
    send_due(DEADLINE - timedelta(days=7))
    theirs = db.session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == demo["users"]["nghison.chuyenvien"].id
        )
    )
    login_as("truclam.chuyenvien")

    assert client.post(f"/notifications/{theirs}/open").status_code == 404
    assert db.session.get(Notification, theirs).read_at is None  # type: ignore[union-attr]
    assert "Phường Nghi Sơn" not in client.get("/notifications/").text
