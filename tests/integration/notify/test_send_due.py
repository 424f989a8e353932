"""`flask notify send-due`: the deadline reminders of the year, sent once each, to the
unit's editors and head, over a real SMTP server; a failed server loses nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from scoring import format_decimal
from webapp.admin.periods import grant_extension
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.notify.models import Notification, OutgoingEmail

pytestmark = pytest.mark.db

DEADLINE = vn_end_of_day(2026, 12, 15)
UNIT_STAFF = sorted(
    f"{u}@demo.parindex.invalid"
    for u in (
        "truclam.chuyenvien",
        "truclam.lanhdao",
        "nghison.chuyenvien",
        "nghison.lanhdao",
    )
)


def unanswered_stake(assessment: Any) -> Decimal:
    """Nothing answered yet: every self-assessed leaf's maximum is at risk."""
    return sum(
        (
            leaf.max_points
            for leaf in criteria_for(assessment).leaves()
            if leaf.assessed_by in ("self", "system")
        ),
        Decimal(0),
    )


def test_reminders_at_8_7_3_1_and_0_days_before_the_deadline(
    demo: dict[str, Any], mailbox: Any, send_due: Any
) -> None:
    expected = {8: [], 7: UNIT_STAFF, 3: UNIT_STAFF, 1: UNIT_STAFF, 0: []}
    stake = format_decimal(unanswered_stake(demo["assessments"]["TRUCLAM"]))
    for days, recipients in expected.items():
        before = len(mailbox.messages)
        result = send_due(DEADLINE - timedelta(days=days))

        assert result.exit_code == 0, result.output
        assert f"Đã gửi {len(recipients)} thư." in result.output
        new = mailbox.messages[before:]
        assert sorted(str(m["To"]) for m in new) == recipients, days
        for message in new:
            assert mailbox.subject(message) == (
                f"[Chỉ số CCHC] Còn {days} ngày đến hạn gửi hồ sơ tự đánh giá "
                "(15/12/2026)"
            )
            text = mailbox.text(message)
            assert "hạn gửi: 23:59 15/12/2026" in text
            assert f"Điểm có nguy cơ bị mất: {stake} điểm" in text
            assert "https://cchc.thanhhoa.test/assessments/#at-risk" in text
            assert 'href="https://cchc.thanhhoa.test/assessments/#at-risk"' in (
                mailbox.html(message)
            )
        # The same moment again sends nothing: each reminder is recorded once.
        again = send_due(DEADLINE - timedelta(days=days))
        assert "Đã gửi 0 thư." in again.output
        assert len(mailbox.messages) == before + len(recipients)

    assert len(mailbox.messages) == 12
    head = demo["users"]["truclam.lanhdao"]
    titles = db.session.scalars(
        sa.select(Notification.title)
        .where(Notification.user_id == head.id)
        .order_by(Notification.id)
    ).all()
    assert [t.split(" ngày")[0] for t in titles] == ["Còn 7", "Còn 3", "Còn 1"]


def test_a_first_run_late_sends_only_the_nearest_reminder(
    demo: dict[str, Any], mailbox: Any, send_due: Any
) -> None:
    result = send_due(DEADLINE - timedelta(days=2))

    assert "Đã gửi 4 thư." in result.output
    assert set(mailbox.subjects()) == {
        "[Chỉ số CCHC] Còn 3 ngày đến hạn gửi hồ sơ tự đánh giá (15/12/2026)"
    }
    # After the deadline nothing more is sent for the unsubmitted units.
    assert "Đã gửi 0 thư." in send_due(DEADLINE + timedelta(minutes=1)).output


def test_submitted_units_get_no_reminder_and_an_extension_starts_them_again(
    demo: dict[str, Any],
    clock: Any,
    mailbox: Any,
    send_due: Any,
    fill_assessment: Any,
    submit_directly: Any,
) -> None:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    fill_assessment(demo["assessments"]["NGHISON"])
    submit_directly(demo["assessments"]["NGHISON"])
    send_due(DEADLINE - timedelta(days=7))
    assert mailbox.recipients() == [
        "truclam.chuyenvien@demo.parindex.invalid",
        "truclam.lanhdao@demo.parindex.invalid",
    ]
    grant_extension(
        demo["period"],
        unit_id=demo["units"]["TRUCLAM"].id,
        new_deadline=date(2026, 12, 22),
        reason="Thay đổi nhân sự",
        actor=demo["users"]["admin"],
    )
    mailbox.messages.clear()

    # One day before the period's deadline Trúc Lâm still has eight days: nothing.
    assert "Đã gửi 0 thư." in send_due(DEADLINE - timedelta(days=1)).output
    # Seven days before its own deadline the reminders start again.
    send_due(vn_end_of_day(2026, 12, 22) - timedelta(days=7))
    assert (
        mailbox.subjects()
        == ["[Chỉ số CCHC] Còn 7 ngày đến hạn gửi hồ sơ tự đánh giá (22/12/2026)"] * 2
    )


def test_a_server_that_is_down_loses_nothing_and_a_later_run_sends_it(
    app: Any, demo: dict[str, Any], mailbox: Any, send_due: Any, closed_port: int
) -> None:
    app.config["SMTP_PORT"] = closed_port
    at = DEADLINE - timedelta(days=7)

    down = send_due(at)

    assert down.exit_code == 1
    assert "Đã gửi 0 thư." in down.output
    assert "4 thư chưa gửi được" in down.stderr
    queued = db.session.scalars(sa.select(OutgoingEmail)).all()
    assert len(queued) == 4
    assert all(e.sent_at is None and e.attempts == 1 for e in queued)
    assert all("Connection refused" in e.last_error for e in queued)

    app.config["SMTP_PORT"] = mailbox.port
    up = send_due(at)

    assert up.exit_code == 0, up.output
    assert "Nhắc việc mới: 0 thông báo." in up.output  # not queued a second time
    assert "Đã gửi 4 thư." in up.output
    assert mailbox.recipients() == UNIT_STAFF
    assert "Đã gửi 0 thư." in send_due(at).output
    assert len(mailbox.messages) == 4


def test_a_refusing_server_keeps_the_message_queued_until_it_accepts(
    demo: dict[str, Any], mailbox: Any, send_due: Any
) -> None:
    mailbox.refuse = True
    at = DEADLINE - timedelta(days=3)

    assert send_due(at).exit_code == 1
    emails = db.session.scalars(sa.select(OutgoingEmail)).all()
    assert [e.sent_at for e in emails] == [None] * 4
    assert all("451" in e.last_error for e in emails)

    mailbox.refuse = False
    assert "Đã gửi 4 thư." in send_due(at + timedelta(minutes=5)).output
    emails = db.session.scalars(sa.select(OutgoingEmail)).all()
    assert all(e.delivered_via == "smtp" and e.attempts == 2 for e in emails)


def test_email_off_still_shows_the_reminder_in_the_app(
    demo: dict[str, Any], mailbox: Any, send_due: Any
) -> None:
    editor = demo["users"]["truclam.chuyenvien"]
    editor.email_notifications = False
    db.session.commit()

    result = send_due(DEADLINE - timedelta(days=7))

    assert "Nhắc việc mới: 4 thông báo." in result.output
    assert "Đã gửi 3 thư." in result.output
    assert editor.email not in mailbox.recipients()
    mine = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == editor.id)
    ).all()
    assert [n.kind for n in mine] == ["deadline"]


def test_the_at_time_reads_without_an_offset_as_vietnam_time(
    demo: dict[str, Any], mailbox: Any, app: Any
) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["notify", "send-due", "--at", "2026-12-08T23:59:59"])

    assert "Thời điểm: 23:59 08/12/2026." in result.output
    assert "Đã gửi 4 thư." in result.output
    bad = runner.invoke(args=["notify", "send-due", "--at", "ngày mai"])
    assert bad.exit_code == 2
    assert "không phải thời điểm ISO 8601" in bad.output


def test_return_request_reminder_one_day_before_its_due_date(
    demo: dict[str, Any],
    clock: Any,
    mailbox: Any,
    send_due: Any,
    fill_assessment: Any,
    submit_directly: Any,
    return_directly: Any,
) -> None:
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    return_directly(assessment, ["1.1.1"], due_at=vn_end_of_day(2026, 12, 20))
    due = vn_end_of_day(2026, 12, 20)

    assert "Đã gửi 0 thư." in send_due(due - timedelta(days=1, minutes=1)).output
    result = send_due(due - timedelta(days=1))

    assert "Đã gửi 2 thư." in result.output
    assert mailbox.recipients() == [
        "truclam.chuyenvien@demo.parindex.invalid",
        "truclam.lanhdao@demo.parindex.invalid",
    ]
    message = mailbox.messages[0]
    assert mailbox.subject(message) == (
        "[Chỉ số CCHC] Ngày mai hết hạn giải trình, bổ sung (20/12/2026)"
    )
    assert "tiêu chí 1.1.1 hết hạn lúc 23:59 20/12/2026" in mailbox.text(message)
    assert "Đã gửi 0 thư." in send_due(due - timedelta(hours=2)).output


@pytest.mark.parametrize(
    ("at", "window"),
    [
        (datetime(2026, 12, 7, 23, 0, tzinfo=VN_TZ), None),
        (datetime(2026, 12, 8, 6, 59, tzinfo=VN_TZ), None),  # before office hours
        (datetime(2026, 12, 8, 7, 0, tzinfo=VN_TZ), 7),
        (datetime(2026, 12, 12, 7, 0, tzinfo=VN_TZ), 3),
        (datetime(2026, 12, 13, 23, 0, tzinfo=VN_TZ), 3),
        (datetime(2026, 12, 14, 7, 0, tzinfo=VN_TZ), 1),
        (DEADLINE, 1),
        (DEADLINE + timedelta(seconds=1), None),
    ],
)
def test_which_reminder_is_due_when(at: datetime, window: int | None) -> None:
    from webapp.notify.reminders import deadline_window

    assert deadline_window(DEADLINE, at) == window
