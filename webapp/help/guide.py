"""Hướng dẫn: what each role should do now, in order, from the state of their work.

Each step says what to do, whether it is done, and links to the page where it is
done; the figures (answered leaves, leaves without documents, returned leaves and
their due dates, units waiting for appraisal) come from the same services as the
dashboards, so the guide never disagrees with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import url_for

from webapp.access import assigned_unit_ids
from webapp.appraisal.assignments import appraisal_queue
from webapp.assessment.overview import (
    assessment_view,
    countdown_text,
    current_assessment,
    deadline_info,
    progress,
)
from webapp.clock import now
from webapp.extensions import db
from webapp.formatting import vn_date
from webapp.lifecycle import (
    AssessmentStatus,
    PeriodStatus,
    can_still_self_assess,
    pending_returns,
)
from webapp.models import AppraiserAssignment, Assessment, Period, User

LISTED = 8  # leaves named in a step; the rest are counted


@dataclass
class Link:
    label: str
    url: str
    note: str = ""


@dataclass
class Step:
    title: str
    detail: str = ""
    url: str | None = None
    action: str = ""
    done: bool = False
    urgent: bool = False
    items: list[Link] = field(default_factory=list)
    more: int = 0
    more_noun: str = "tiêu chí"


@dataclass
class Guide:
    role: str
    intro: str
    deadline: datetime | None = None
    deadline_label: str = ""
    remaining: str = ""
    passed: bool = False
    context: str = ""
    steps: list[Step] = field(default_factory=list)


def guide_for(user: User) -> Guide:
    if user.is_unit_user:
        return _unit_guide(user)
    if user.role == "appraiser":
        return _appraiser_guide(user)
    return _admin_guide(user)


# -- units ---------------------------------------------------------------------------


def _leaf_link(assessment: Assessment, code: str, title: str, note: str = "") -> Link:
    url = url_for(
        "assessment.detail", assessment_id=assessment.id, _anchor=f"leaf-{code}"
    )
    return Link(f"{code}. {title}", url, note)


def _unit_guide(user: User) -> Guide:
    head = user.role == "unit_head"
    guide = Guide(
        role=user.role,
        intro=(
            "Lãnh đạo đơn vị kiểm tra hồ sơ tự đánh giá do chuyên viên chuẩn bị và "
            "gửi hồ sơ cho Sở Nội vụ trước hạn."
            if head
            else "Chuyên viên trả lời từng tiêu chí, đính kèm tài liệu kiểm chứng và "
            "báo lãnh đạo đơn vị gửi hồ sơ trước hạn."
        ),
    )
    assessment = current_assessment(user)
    if assessment is None:
        guide.steps.append(
            Step(
                "Chờ Sở Nội vụ mở kỳ đánh giá",
                "Đơn vị chưa có hồ sơ tự đánh giá nào: khi kỳ đánh giá mở, hồ sơ sẽ "
                "hiện ở trang Tổng quan.",
                url_for("assessment.dashboard"),
                "Về Tổng quan",
            )
        )
        return guide
    period = assessment.period
    deadline = deadline_info(assessment)
    guide.deadline, guide.passed = deadline.at, deadline.passed
    guide.remaining = deadline.remaining_text
    guide.deadline_label = "Hạn tự đánh giá" + (
        " (đã gia hạn)" if deadline.extended else ""
    )
    guide.context = f"{assessment.unit.name} · {period.name}"
    view = assessment_view(assessment, user)
    counts = progress(view)
    status = assessment.status
    editable = can_still_self_assess(assessment)
    detail_url = url_for("assessment.detail", assessment_id=assessment.id)

    returns = pending_returns(assessment) if status == AssessmentStatus.RETURNED else []
    if returns:
        step = Step(
            "Giải trình, bổ sung các tiêu chí bị trả lại",
            "Thành viên thẩm định yêu cầu giải trình, bổ sung: chỉ các tiêu chí này "
            "được sửa, đến hết hạn ghi bên cạnh; sau đó lãnh đạo gửi lại hồ sơ.",
            detail_url,
            "Mở các tiêu chí bị trả lại",
            urgent=True,
        )
        nodes = view.leaves
        for request in returns:
            left = countdown_text(request.due_at, now())
            due = f"hạn {vn_date(request.due_at)}, {left}"
            for code in request.criterion_codes:
                lv = nodes.get(code)
                title = lv.leaf.title if lv else ""
                step.items.append(_leaf_link(assessment, code, title, due))
        guide.steps.append(step)

    unanswered = [v for v in view.self_leaves() if not v.answered]
    step = Step(
        f"Trả lời các tiêu chí: đã trả lời {counts.answered}/{counts.total}",
        "Mỗi tiêu chí có phần “Cách tính điểm” và “Hướng dẫn trả lời”; hệ thống lưu "
        "tự động khi bạn nhập.",
        detail_url,
        "Mở danh sách tiêu chí",
        done=counts.answered == counts.total,
    )
    step.items = [
        _leaf_link(assessment, v.code, v.leaf.title) for v in unanswered[:LISTED]
    ]
    step.more = max(0, len(unanswered) - LISTED)
    guide.steps.append(step)

    # Answered leaves only: an unanswered one is already in the step above.
    missing = [v for v in view.self_leaves() if v.answered and v.evidence_missing]
    step = Step(
        f"Đính kèm tài liệu kiểm chứng: {len(missing)} tiêu chí còn thiếu",
        "Tiêu chí có điểm cần tài liệu kiểm chứng (văn bản, báo cáo…) hoặc giải trình "
        "vì sao chưa có.",
        url_for("evidence.library"),
        "Mở thư viện tài liệu",
        # Not "done" before any answer: there is nothing proven yet.
        done=not missing and not unanswered,
    )
    step.items = [
        _leaf_link(assessment, v.code, v.leaf.title) for v in missing[:LISTED]
    ]
    step.more = max(0, len(missing) - LISTED)
    guide.steps.append(step)

    sent = status.handed_in and status != AssessmentStatus.RETURNED
    if head:
        guide.steps.append(
            Step(
                "Kiểm tra và gửi hồ sơ cho Sở Nội vụ",
                "Trang gửi hồ sơ liệt kê những tiêu chí còn chặn việc gửi. "
                "Sau khi gửi, hồ sơ bị khóa để thẩm định.",
                url_for("assessment.submit", assessment_id=assessment.id)
                if editable
                else None,
                "Mở trang gửi hồ sơ",
                done=sent,
            )
        )
    else:
        guide.steps.append(
            Step(
                "Báo lãnh đạo đơn vị kiểm tra và gửi hồ sơ",
                "Chỉ lãnh đạo đơn vị gửi được hồ sơ; sau khi gửi, hồ sơ bị khóa để "
                "thẩm định.",
                done=sent,
            )
        )
    guide.steps.append(
        Step(
            "Trao đổi với thành viên thẩm định khi cần",
            "Mỗi tiêu chí có mục “Trao đổi” để hỏi, đáp với thành viên thẩm định ngoài "
            "các yêu cầu giải trình chính thức (đến khi kỳ đánh giá đóng).",
        )
    )
    guide.steps.append(
        Step(
            "Xem kết quả khi Sở Nội vụ công bố",
            "Điểm thẩm định, xếp hạng và giải thích từng tiêu chí.",
            url_for("results.my_results"),
            "Xem kết quả đánh giá",
            done=period.status == PeriodStatus.PUBLISHED,
        )
    )
    return guide


# -- appraisers ----------------------------------------------------------------------


def _appraiser_guide(user: User) -> Guide:
    guide = Guide(
        role=user.role,
        intro="Thành viên thẩm định xem hồ sơ các đơn vị được phân công, chấm điểm "
        "thẩm định từng tiêu chí và yêu cầu giải trình, bổ sung khi cần.",
    )
    period = db.session.scalar(
        sa.select(Period)
        .where(
            Period.id.in_(
                sa.select(AppraiserAssignment.period_id).where(
                    AppraiserAssignment.user_id == user.id
                )
            )
        )
        .order_by(Period.self_deadline.desc())
    )
    if period is None:
        guide.steps.append(
            Step(
                "Chờ Sở Nội vụ phân công thẩm định",
                "Bạn chưa được phân công thẩm định đơn vị nào.",
            )
        )
        return guide
    guide.deadline = period.appraisal_deadline
    guide.deadline_label = "Hạn thẩm định"
    guide.remaining = countdown_text(period.appraisal_deadline, now())
    guide.passed = now() > period.appraisal_deadline
    guide.context = period.name
    assigned = set(db.session.scalars(assigned_unit_ids(user, period.id)))
    queue = [r for r in appraisal_queue(user) if r.assessment.period_id == period.id]
    waiting = len(assigned) - len({r.assessment.unit_id for r in queue})
    step = Step(
        f"Thẩm định hồ sơ đã gửi: {len(queue)} đơn vị",
        "Mở từng hồ sơ, xem câu trả lời và tài liệu kiểm chứng, chấm điểm thẩm định "
        "từng tiêu chí.",
        url_for("appraisal.index"),
        "Mở danh sách thẩm định",
        done=bool(queue) and all(r.remaining == 0 for r in queue),
    )
    for row in queue:
        note = (
            f"còn {row.remaining}/{row.total} tiêu chí chưa thẩm định"
            if row.remaining
            else "đã thẩm định xong"
        )
        if row.open_return is not None:
            note += f"; chờ giải trình đến {vn_date(row.open_return.due_at)}"
        step.items.append(
            Link(
                row.assessment.unit.name,
                url_for("appraisal.screen", assessment_id=row.assessment.id),
                note,
            )
        )
    guide.steps.append(step)
    if waiting > 0:
        guide.steps.append(
            Step(
                f"Chờ {waiting} đơn vị được phân công gửi hồ sơ",
                "Hồ sơ chỉ hiện để thẩm định sau khi lãnh đạo đơn vị gửi.",
            )
        )
    guide.steps.append(
        Step(
            "Yêu cầu giải trình, bổ sung khi cần",
            "Chọn các tiêu chí cần đơn vị giải trình, ghi nội dung và hạn; đơn vị "
            "chỉ sửa được các tiêu chí đó. Câu hỏi nhanh: dùng mục “Trao đổi” của "
            "tiêu chí.",
        )
    )
    guide.steps.append(
        Step(
            f"Hoàn tất thẩm định trước {vn_date(period.appraisal_deadline)}",
            "Khi mọi tiêu chí đã có điểm thẩm định, Sở Nội vụ tổng hợp và công bố.",
            done=period.status == PeriodStatus.PUBLISHED,
        )
    )
    return guide


# -- the coordinator -----------------------------------------------------------------


def _admin_guide(user: User) -> Guide:
    from webapp.admin.progress import period_progress

    guide = Guide(
        role=user.role,
        intro="Sở Nội vụ chuẩn bị kỳ đánh giá, mở kỳ, phân công thẩm định, theo dõi "
        "tiến độ, nhập kết quả điều tra xã hội học, rồi đóng kỳ và công bố kết quả.",
    )
    period = db.session.scalar(
        sa.select(Period)
        .where(Period.status != PeriodStatus.PUBLISHED)
        .order_by(Period.self_deadline.desc())
    ) or db.session.scalar(sa.select(Period).order_by(Period.self_deadline.desc()))
    guide.steps.append(
        Step(
            "Chuẩn bị bộ tiêu chí, đơn vị và tài khoản",
            "Nhập bộ tiêu chí của năm, danh sách đơn vị và tài khoản người dùng. "
            "Mật khẩu Sở đặt là mật khẩu tạm thời: người dùng phải đổi ở lần đăng "
            "nhập đầu.",
            url_for("admin.users"),
            "Quản lý tài khoản",
            done=period is not None,
        )
    )
    if period is None:
        guide.steps.append(
            Step(
                "Tạo kỳ đánh giá",
                "Chọn bộ tiêu chí, đơn vị tham gia, hạn tự đánh giá và hạn thẩm định.",
                url_for("admin.periods"),
                "Mở trang kỳ đánh giá",
            )
        )
        return guide
    guide.deadline = period.self_deadline
    guide.deadline_label = "Hạn tự đánh giá của các đơn vị"
    guide.remaining = countdown_text(period.self_deadline, now())
    guide.passed = now() > period.self_deadline
    guide.context = period.name
    period_url = url_for("admin.period_detail", period_id=period.id)
    guide.steps.append(
        Step(
            "Mở kỳ đánh giá",
            "Khi mở kỳ, mỗi đơn vị tham gia có một hồ sơ tự đánh giá.",
            period_url,
            "Mở trang kỳ đánh giá",
            done=period.status != PeriodStatus.DRAFT,
        )
    )
    assignments = db.session.scalar(
        sa.select(sa.func.count(AppraiserAssignment.id)).where(
            AppraiserAssignment.period_id == period.id
        )
    )
    guide.steps.append(
        Step(
            "Phân công thành viên thẩm định",
            f"{assignments or 0} phân công trong kỳ.",
            url_for("appraisal.assignments", period_id=period.id),
            "Mở trang phân công",
            done=bool(assignments),
        )
    )
    prog = period_progress(period)
    handed_in = sum(
        1 for r in prog.rows if r.assessment and r.assessment.status.handed_in
    )
    step = Step(
        f"Theo dõi tiến độ: {handed_in}/{len(prog.rows)} đơn vị đã gửi hồ sơ",
        "Nhắc các đơn vị chậm; gia hạn cho đơn vị khi cần.",
        period_url,
        "Xem tiến độ",
        done=bool(prog.rows) and handed_in == len(prog.rows),
    )
    for row in prog.rows:
        if row.assessment is not None and row.assessment.status.handed_in:
            continue
        step.items.append(
            Link(
                row.unit.name,
                period_url,
                f"đã trả lời {row.answered}/{row.total}, hạn {vn_date(row.deadline)}",
            )
        )
    step.more = max(0, len(step.items) - LISTED)
    step.more_noun = "đơn vị"
    step.items = step.items[:LISTED]
    guide.steps.append(step)
    guide.steps.append(
        Step(
            "Nhập kết quả điều tra xã hội học",
            "Tải tệp mẫu (đã có sẵn mã các đơn vị), điền kết quả (%) rồi nhập lại.",
            url_for("appraisal.survey", period_id=period.id),
            "Mở trang kết quả điều tra XHH",
        )
    )
    guide.steps.append(
        Step(
            "Đóng kỳ và công bố kết quả",
            "Khi thẩm định xong, đóng kỳ (phần trao đổi của các tiêu chí cũng khóa) "
            "rồi công bố kết quả cho các đơn vị.",
            period_url,
            "Mở trang kỳ đánh giá",
            done=period.status == PeriodStatus.PUBLISHED,
        )
    )
    return guide
