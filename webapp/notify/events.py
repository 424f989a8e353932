"""The notifications of the year's events, queued inside the event's transaction.

Each function is called by the service that owns the event, before its commit:
opening a period (admin/periods.py), submitting and resubmitting
(assessment/submission.py), a return request (appraisal/returns.py) and publication
(results/publication.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from webapp.clock import to_vn
from webapp.criteria_sets import criteria_for
from webapp.lifecycle import unit_deadline
from webapp.models import Assessment, Period, ReturnRequest, User
from webapp.notify.services import (
    Message,
    assigned_appraisers,
    leaf_path,
    notify,
    path_for,
    unit_users,
)


def vn_time(value: datetime) -> str:
    return to_vn(value).strftime("%H:%M %d/%m/%Y")


def vn_day(value: datetime) -> str:
    return to_vn(value).strftime("%d/%m/%Y")


def period_opened(period: Period, unit_ids: Iterable[int] | None = None) -> int:
    """Tell the units' staff the period is open and when their deadline is."""
    chosen = set(unit_ids) if unit_ids is not None else {u.id for u in period.units}
    sent = 0
    for unit in period.units:
        if unit.id not in chosen:
            continue
        deadline = unit_deadline(period, unit.id)
        message = Message(
            kind="period_open",
            title=f"Đã mở {period.name}",
            body=(
                f"Sở Nội vụ đã mở {period.name} cho {unit.name}.\n"
                f"Hạn gửi hồ sơ tự đánh giá: {vn_time(deadline)}.\n"
                "Vào hệ thống để trả lời từng tiêu chí và đính kèm tài liệu "
                "kiểm chứng."
            ),
            link=path_for("assessment.dashboard"),
        )
        sent += notify(unit_users(unit.id), message, key=f"period-open:{period.id}")
    return sent


def assessment_submitted(
    assessment: Assessment,
    *,
    at: datetime,
    resubmission: bool,
    points: str,
    resolved: Iterable[ReturnRequest] = (),
) -> int:
    """Submission received: the unit head and the assigned appraisers; a
    resubmission: the appraisers (and whoever made the answered request)."""
    unit = assessment.unit
    when = vn_time(at)
    screen = path_for("appraisal.screen", assessment_id=assessment.id)
    appraisers = assigned_appraisers(assessment.period_id, assessment.unit_id)
    if resubmission:
        extra = [r.created_by for r in resolved if r.created_by is not None]
        recipients = {u.id: u for u in [*appraisers, *extra]}
        codes = sorted({c for r in resolved for c in r.criterion_codes})
        listed = f" (tiêu chí {', '.join(codes)})" if codes else ""
        message = Message(
            kind="resubmitted",
            title=f"{unit.name} đã gửi lại hồ sơ sau giải trình, bổ sung",
            body=(
                f"{unit.name} đã gửi lại hồ sơ lúc {when}{listed}.\n"
                "Mời thẩm định lại các tiêu chí đã trả về."
            ),
            link=screen,
        )
        return notify(recipients.values(), message)
    total = f"Tổng điểm tự chấm: {points} điểm."
    to_staff = Message(
        kind="submitted",
        title=f"{unit.name} đã gửi hồ sơ tự đánh giá",
        body=f"{unit.name} đã gửi hồ sơ {assessment.period.name} lúc {when}.\n{total}",
        link=screen,
    )
    to_head = Message(
        kind="submitted",
        title="Đã nhận hồ sơ tự đánh giá của đơn vị",
        body=(
            f"Hệ thống đã nhận hồ sơ {assessment.period.name} của {unit.name} "
            f"lúc {when}.\n{total}\nHồ sơ đã được khóa để chờ thẩm định."
        ),
        link=path_for("assessment.dashboard"),
    )
    heads = unit_users(assessment.unit_id, roles=("unit_head",))
    return notify(heads, to_head) + notify(appraisers, to_staff)


def return_requested(request: ReturnRequest) -> int:
    """The unit gets the returned criteria, the appraiser's message and the due date."""
    assessment = request.assessment
    cs = criteria_for(assessment)
    titles = {leaf.code: leaf.title for leaf in cs.leaves()}
    lines = [
        f"- {code} {titles.get(code, '')}".rstrip() for code in request.criterion_codes
    ]
    message = Message(
        kind="returned",
        title=(
            f"Yêu cầu giải trình, bổ sung {len(request.criterion_codes)} tiêu chí, "
            f"hạn {vn_day(request.due_at)}"
        ),
        body=(
            "Thành viên thẩm định đề nghị đơn vị giải trình, bổ sung các tiêu chí:\n"
            + "\n".join(lines)
            + f"\nNội dung: {request.message}\n"
            f"Hạn gửi lại: {vn_time(request.due_at)}. Chỉ các tiêu chí này được mở lại."
        ),
        link=leaf_path(assessment.id, request.criterion_codes[0]),
    )
    return notify(unit_users(assessment.unit_id), message)


def period_published(period: Period, results: Iterable[tuple[int, str]]) -> int:
    """Every participant: the units' staff (their own result) and the appraisers.

    `results` pairs each ranked unit's id with the line that states its result.
    """
    lines = dict(results)
    sent = 0
    for unit in period.units:
        line = lines.get(unit.id, "")
        message = Message(
            kind="published",
            title=f"Đã công bố kết quả {period.name}",
            body=(
                f"Sở Nội vụ đã công bố kết quả {period.name}.\n"
                + (f"{unit.name}: {line}\n" if line else "")
                + "Xem kết quả và xếp hạng trong hệ thống."
            ),
            link=path_for("results.my_results"),
        )
        sent += notify(unit_users(unit.id), message, key=f"published:{period.id}")
    appraisers: dict[int, User] = {}
    for unit in period.units:
        for user in assigned_appraisers(period.id, unit.id):
            appraisers[user.id] = user
    staff = Message(
        kind="published",
        title=f"Đã công bố kết quả {period.name}",
        body=f"Sở Nội vụ đã công bố kết quả {period.name} ({len(lines)} đơn vị).",
        link=path_for("results.ranking", period_id=period.id),
    )
    return sent + notify(appraisers.values(), staff, key=f"published:{period.id}")
