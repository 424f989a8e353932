"""Reminders that fall due with time, computed at a given moment (`--at`).

Deadline reminders: 7, 3 and 1 days before a unit's effective deadline
(webapp.lifecycle.unit_deadline, extensions included) while its assessment is still a
draft. Days are calendar days in Asia/Ho_Chi_Minh: the reminder "D-w" is due from
07:00 on the day w days before the deadline's day (08/12 for a deadline on 15/12,
with a week left to work), and stays due until the deadline passes. When several are
due at once (the command did not run for a while), only the nearest to the deadline
is sent, never a backlog of three. Each is recorded per user under a key naming the
assessment, the deadline and w, so it is sent once; an extension (a new deadline)
starts the reminders again.

Return reminders: one day before a return request's due date while it is open,
unless the request itself was made within that last day (its own notice says it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from scoring import format_decimal
from webapp.assessment.overview import assessment_view, points_at_risk
from webapp.clock import to_vn
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus, PeriodStatus, ReturnStatus, unit_deadline
from webapp.models import Assessment, Period, ReturnRequest
from webapp.notify.events import vn_day, vn_time
from webapp.notify.models import Notification
from webapp.notify.services import (
    Message,
    leaf_path,
    notify,
    path_for,
    unit_users,
)

WINDOWS = (7, 3, 1)  # days before the deadline
RETURN_WINDOW = timedelta(days=1)
REMINDER_HOUR = 7  # Vietnam time: a reminder day starts at the office, not at 00:00
RISK_LINES = 5  # leaves named in the message; the page lists them all


def deadline_window(deadline: datetime, at: datetime) -> int | None:
    """The reminder due at `at` (days before the deadline), or None."""
    if at > deadline:
        return None
    local = to_vn(at)
    days_left = (to_vn(deadline).date() - local.date()).days
    due = [
        w
        for w in WINDOWS
        if days_left < w or (days_left == w and local.hour >= REMINDER_HOUR)
    ]
    return min(due) if due else None


def _missing(key: str, user_ids: list[int]) -> bool:
    """Some of the users have not had this reminder yet."""
    if not user_ids:
        return False
    had = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.dedupe_key == key, Notification.user_id.in_(user_ids))
    )
    return (had or 0) < len(user_ids)


def risk_text(assessment: Assessment) -> str:
    """The points at risk, as the dashboard counts them, with the largest leaves."""
    risks = points_at_risk(assessment_view(assessment))
    if not risks:
        return "Không còn tiêu chí nào có nguy cơ bị mất điểm; mời lãnh đạo gửi hồ sơ."
    total = sum((p.stake for p in risks), Decimal(0))
    lines = [
        f"Điểm có nguy cơ bị mất: {format_decimal(total)} điểm ở {len(risks)} tiêu chí:"
    ]
    lines += [
        f"- {p.code} {p.title}: {p.reason} ({format_decimal(p.stake)} điểm)"
        for p in risks[:RISK_LINES]
    ]
    if len(risks) > RISK_LINES:
        lines.append(f"- … và {len(risks) - RISK_LINES} tiêu chí khác.")
    return "\n".join(lines)


def deadline_reminders(at: datetime) -> int:
    """Queue the due deadline reminders; returns how many users got one now."""
    sent = 0
    assessments = db.session.scalars(
        sa.select(Assessment)
        .join(Period, Period.id == Assessment.period_id)
        .where(
            Period.status == PeriodStatus.OPEN,
            Assessment.status == AssessmentStatus.DRAFT,
        )
        .order_by(Assessment.id)
    ).all()
    for assessment in assessments:
        if assessment.closed_early_at is not None and assessment.closed_early_at <= at:
            continue
        deadline = unit_deadline(assessment.period, assessment.unit_id)
        window = deadline_window(deadline, at)
        if window is None:
            continue
        key = f"deadline:{assessment.id}:{deadline:%Y%m%dT%H%M%S}:{window}"
        users = unit_users(assessment.unit_id)
        if not _missing(key, [u.id for u in users]):
            continue
        unit = assessment.unit
        message = Message(
            kind="deadline",
            title=(
                f"Còn {window} ngày đến hạn gửi hồ sơ tự đánh giá ({vn_day(deadline)})"
            ),
            body=(
                f"Hồ sơ {assessment.period.name} của {unit.name} chưa được gửi; "
                f"hạn gửi: {vn_time(deadline)}.\n" + risk_text(assessment)
            ),
            link=path_for("assessment.dashboard", anchor="at-risk"),
        )
        sent += notify(users, message, key=key)
    return sent


def return_reminders(at: datetime) -> int:
    """Queue the reminders of open return requests due within a day."""
    sent = 0
    requests = db.session.scalars(
        sa.select(ReturnRequest)
        .join(Assessment, Assessment.id == ReturnRequest.assessment_id)
        .where(
            ReturnRequest.status == ReturnStatus.OPEN,
            Assessment.status == AssessmentStatus.RETURNED,
            ReturnRequest.due_at >= at,
            ReturnRequest.due_at <= at + RETURN_WINDOW,
        )
        .order_by(ReturnRequest.id)
    ).all()
    for request in requests:
        if request.created_at >= request.due_at - RETURN_WINDOW:
            continue
        assessment = request.assessment
        codes = ", ".join(request.criterion_codes)
        message = Message(
            kind="return_due",
            title=f"Ngày mai hết hạn giải trình, bổ sung ({vn_day(request.due_at)})",
            body=(
                f"Yêu cầu giải trình, bổ sung tiêu chí {codes} hết hạn lúc "
                f"{vn_time(request.due_at)}.\nSau hạn này các tiêu chí không còn "
                "sửa được và hồ sơ được thẩm định như đã gửi."
            ),
            link=leaf_path(assessment.id, request.criterion_codes[0]),
        )
        sent += notify(
            unit_users(assessment.unit_id), message, key=f"return-due:{request.id}"
        )
    return sent


def queue_due(at: datetime) -> int:
    """Every reminder due at `at`, committed; returns the notifications created.

    Two runs at once (a slow run overlapping the next timer tick) may both queue
    the same reminder; the unique (user, key) refuses the second, which starts again
    and finds it already recorded.
    """
    for attempt in range(2):
        try:
            sent = deadline_reminders(at) + return_reminders(at)
            db.session.commit()
            return sent
        except sa.exc.IntegrityError:
            db.session.rollback()
            if attempt:
                raise
    return 0  # not reached: the loop returns or raises
