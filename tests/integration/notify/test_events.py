"""Event notifications: queued with the event (same transaction), to the right people,
and delivered by the next `flask notify send-due`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.admin.periods import open_period
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.extensions import db
from webapp.lifecycle import PeriodStatus
from webapp.models import Period
from webapp.notify.models import Notification, OutgoingEmail

pytestmark = pytest.mark.db

DAY = datetime(2026, 12, 2, 9, 0, tzinfo=VN_TZ)


def inbox(demo: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each demo user's notifications: (kind, title), oldest first."""
    names = {u.id: u.username for u in demo["users"].values()}
    out: dict[str, list[tuple[str, str]]] = {}
    for n in db.session.scalars(sa.select(Notification).order_by(Notification.id)):
        out.setdefault(names[n.user_id], []).append((n.kind, n.title))
    return out


def queued_to() -> list[str]:
    return sorted(
        db.session.scalars(
            sa.select(OutgoingEmail.to_address).where(OutgoingEmail.sent_at.is_(None))
        )
    )


def test_opening_a_period_tells_each_units_staff_once(
    demo: dict[str, Any], clock: Any, mailbox: Any, send_due: Any
) -> None:
    clock.value = DAY
    period = Period(
        name="Đánh giá bổ sung năm 2026",
        year=2026,
        criteria_set_id=demo["period"].criteria_set_id,
        opens_at=DAY,
        self_deadline=vn_end_of_day(2026, 12, 30),
        appraisal_deadline=vn_end_of_day(2027, 1, 30),
        status=PeriodStatus.DRAFT,
        units=[demo["units"]["TRUCLAM"]],
    )
    db.session.add(period)
    db.session.commit()

    open_period(period)

    assert inbox(demo) == {
        "truclam.chuyenvien": [("period_open", "Đã mở Đánh giá bổ sung năm 2026")],
        "truclam.lanhdao": [("period_open", "Đã mở Đánh giá bổ sung năm 2026")],
    }
    assert queued_to() == [
        "truclam.chuyenvien@demo.parindex.invalid",
        "truclam.lanhdao@demo.parindex.invalid",
    ]
    assert mailbox.messages == []  # queued, delivered by the command
    send_due(DAY)
    assert "Hạn gửi hồ sơ tự đánh giá: 23:59 30/12/2026." in mailbox.text(
        mailbox.messages[0]
    )
    # Closing and reopening tells no one again.
    period.status = PeriodStatus.CLOSED
    db.session.commit()
    open_period(period)
    assert len(inbox(demo)["truclam.lanhdao"]) == 1


def test_submission_tells_the_head_and_the_assigned_appraiser(
    demo: dict[str, Any],
    clock: Any,
    client: Any,
    login_as: Any,
    fill_assessment: Any,
    mailbox: Any,
    send_due: Any,
) -> None:
    clock.value = DAY
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    login_as("truclam.lanhdao")

    response = client.post(f"/assessments/{assessment.id}/submit")

    assert response.status_code == 303
    assert inbox(demo) == {
        "truclam.lanhdao": [("submitted", "Đã nhận hồ sơ tự đánh giá của đơn vị")],
        "thamdinh": [("submitted", "Phường Trúc Lâm đã gửi hồ sơ tự đánh giá")],
    }
    send_due(DAY)
    to_appraiser = next(m for m in mailbox.messages if "thamdinh" in str(m["To"]))
    text = mailbox.text(to_appraiser)
    assert (
        "đã gửi hồ sơ Đánh giá Chỉ số CCHC năm 2026 (cấp xã) lúc 09:00 02/12/2026"
        in (text)
    )
    assert f"/appraisal/assessments/{assessment.id}" in text


def test_a_refused_submission_queues_nothing(
    demo: dict[str, Any], clock: Any, client: Any, login_as: Any
) -> None:
    clock.value = DAY
    login_as("truclam.lanhdao")

    response = client.post(f"/assessments/{demo['assessments']['TRUCLAM'].id}/submit")

    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutgoingEmail.id))) == 0


def test_a_return_goes_to_the_unit_and_the_resubmission_to_the_appraiser(
    demo: dict[str, Any],
    clock: Any,
    client: Any,
    login_as: Any,
    fill_assessment: Any,
    submit_directly: Any,
    mailbox: Any,
    send_due: Any,
) -> None:
    clock.value = DAY
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    login_as("thamdinh")

    response = client.post(
        f"/appraisal/assessments/{assessment.id}/returns",
        data={
            "codes": ["1.1.1", "1.2"],
            "message": "Bổ sung quyết định ban hành kế hoạch.",
            "due_date": "05/12/2026",
        },
    )

    assert response.status_code == 302
    title = "Yêu cầu giải trình, bổ sung 2 tiêu chí, hạn 05/12/2026"
    assert inbox(demo) == {
        "truclam.chuyenvien": [("returned", title)],
        "truclam.lanhdao": [("returned", title)],
    }
    send_due(DAY)
    text = mailbox.text(mailbox.messages[0])
    assert "- 1.1.1 " in text and "- 1.2 " in text
    assert "Nội dung: Bổ sung quyết định ban hành kế hoạch." in text
    assert "Hạn gửi lại: 23:59 05/12/2026." in text
    assert f"/assessments/{assessment.id}?area=1#leaf-1.1.1" in text

    login_as("truclam.lanhdao")
    client.post(f"/assessments/{assessment.id}/submit")

    assert inbox(demo)["thamdinh"] == [
        (
            "resubmitted",
            "Phường Trúc Lâm đã gửi lại hồ sơ sau giải trình, bổ sung",
        )
    ]
    assert queued_to() == ["thamdinh@demo.parindex.invalid"]


def test_publication_tells_every_participant(
    demo: dict[str, Any],
    clock: Any,
    client: Any,
    login_as: Any,
    fill_assessment: Any,
    submit_directly: Any,
    appraise_directly: Any,
    enter_survey: Any,
) -> None:
    clock.value = DAY
    for assessment in demo["assessments"].values():
        fill_assessment(assessment)
        submit_directly(assessment)
        appraise_directly(assessment)
        enter_survey(assessment, "80")
    login_as("admin")

    response = client.post(f"/results/periods/{demo['period'].id}/publish")

    assert response.status_code in (302, 303)
    got = inbox(demo)
    assert sorted(got) == [
        "nghison.chuyenvien",
        "nghison.lanhdao",
        "thamdinh",
        "truclam.chuyenvien",
        "truclam.lanhdao",
    ]
    assert all(
        kinds == [("published", f"Đã công bố kết quả {demo['period'].name}")]
        for kinds in got.values()
    )
    body = db.session.scalar(
        sa.select(Notification.body).where(
            Notification.user_id == demo["users"]["truclam.lanhdao"].id
        )
    )
    assert body is not None and "Phường Trúc Lâm: " in body and "xếp hạng" in body


def test_the_html_email_shows_user_text_as_text(
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    submit_directly: Any,
    mailbox: Any,
    send_due: Any,
) -> None:
    from webapp.appraisal.returns import create_return

    clock.value = DAY
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    create_return(
        assessment,
        ["1.1.1"],
        message='Bổ sung <a href="http://x.invalid">văn bản</a> & phụ lục',
        due_text="05/12/2026",
        actor=demo["users"]["thamdinh"],
    )
    send_due(DAY)

    html = mailbox.html(mailbox.messages[0])
    escaped = "&lt;a href=&#34;http://x.invalid&#34;&gt;văn bản&lt;/a&gt; &amp; phụ lục"
    assert escaped in html
    assert 'Bổ sung <a href="http://x.invalid">văn bản</a> & phụ lục' in (
        mailbox.text(mailbox.messages[0])
    )
