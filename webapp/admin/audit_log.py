"""The audit log's read side: filters, pages and events described in Vietnamese."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from scoring import format_points
from webapp import audit
from webapp.admin.periods import vn_start_of_day
from webapp.clock import to_vn
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus, PeriodStatus
from webapp.models import (
    ROLE_LABELS,
    UNIT_KIND_LABELS,
    Assessment,
    AuditEvent,
    Period,
    Unit,
    User,
)

AUDIT_PER_PAGE = 50


OBJECT_TYPE_LABELS = {
    "unit": "Đơn vị",
    "user": "Tài khoản",
    "period": "Kỳ đánh giá",
    "extension": "Gia hạn",
    "criteria_set": "Bộ tiêu chí",
    "assessment": "Hồ sơ tự đánh giá",
    "criterion_score": "Điểm tiêu chí",
    "evidence": "Tài liệu kiểm chứng",
    "return_request": "Yêu cầu giải trình, bổ sung",
    "assignment": "Phân công thẩm định",
    "leaf_message": "Trao đổi về tiêu chí",
}
FIELD_LABELS = {
    "code": "Mã",
    "name": "Tên",
    "kind": "Loại",
    "parent_body": "Cơ quan chủ quản",
    "place_name": "Địa danh",
    "leader_name": "Người ký",
    "leader_title": "Chức danh người ký",
    "report_number": "Số, ký hiệu báo cáo",
    "is_active": "Đang hoạt động",
    "username": "Tên đăng nhập",
    "full_name": "Họ và tên",
    "role": "Vai trò",
    "unit": "Đơn vị",
    "session_version": "Phiên đăng nhập",
    "must_change_password": "Phải đổi mật khẩu",
    "email": "Thư điện tử",
    "phone": "Số điện thoại",
    "email_notifications": "Nhận thông báo qua thư điện tử",
    "session": "Phiên đăng nhập",
    "ended": "Phiên đã kết thúc",
    "current": "Phiên đang dùng",
    "criterion_code": "Tiêu chí",
    "body": "Nội dung",
    "year": "Năm",
    "criteria_set_id": "Bộ tiêu chí",
    "units": "Đơn vị tham gia",
    "opens_at": "Ngày mở",
    "self_deadline": "Hạn tự đánh giá",
    "appraisal_deadline": "Hạn thẩm định",
    "status": "Trạng thái",
    "assessments_created": "Hồ sơ được tạo",
    "deadline": "Hạn",
    "reason": "Lý do",
    "created": "Đã tạo",
    "sha256": "SHA-256",
    "title": "Tên",
    # Answers and scores
    "answer": "Câu trả lời",
    "is_not_applicable": "Không phát sinh",
    "self_points": "Điểm tự chấm",
    "score_explanation": "Cách tính điểm",
    "note": "Thuyết minh / giải trình",
    "appraised_points": "Điểm thẩm định",
    "appraised_answer": "Số liệu thẩm định",
    "appraiser_comment": "Ý kiến thẩm định",
    "appraised_at": "Thời điểm thẩm định",
    "survey_value": "Kết quả điều tra XHH (%)",
    "value": "Giá trị",
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "checked": "Nội dung đạt",
    "counts": "Số lần",
    "level": "Mức",
    "not_applicable": "Không phát sinh",
    # Evidence
    "doc_type": "Loại văn bản",
    "doc_number": "Số/ký hiệu",
    "issued_on": "Ngày ban hành",
    "issuer": "Cơ quan ban hành",
    "summary": "Trích yếu",
    "criterion_codes": "Tiêu chí",
    "original_filename": "Tên tệp",
    "mime_type": "Kiểu tệp",
    "size": "Dung lượng (byte)",
    "storage_key": "Khóa lưu trữ",
    "replaced_by_id": "Thay bằng tài liệu số",
    "deleted_at": "Thời điểm xóa",
    "id": "Số",
    # Submission, returns, publication
    "submitted_at": "Thời điểm gửi",
    "submitted_by_id": "Người gửi",
    "resubmitted": "Gửi lại",
    "return_request": "Yêu cầu giải trình, bổ sung",
    "return_requests": "Yêu cầu giải trình, bổ sung",
    "due_at": "Hạn giải trình, bổ sung",
    "message": "Nội dung",
    "area_codes": "Lĩnh vực",
    "published_at": "Thời điểm công bố",
    "closed_early_at": "Thời điểm kết thúc sớm",
    "results": "Kết quả",
    "points": "Điểm",
    "max_points": "Điểm tối đa",
    "index": "Chỉ số (%)",
    "band": "Xếp loại",
    "rank": "Xếp hạng",
    "totals": "Tổng điểm",
    "leaves": "Tiêu chí",
    "evidence_count": "Số tài liệu",
    "difficulties": "Khó khăn, kiến nghị",
    "format": "Định dạng",
    "bytes": "Dung lượng (byte)",
    "source": "Nguồn",
    "user": "Tài khoản",
}
_VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "role": ROLE_LABELS,
    "kind": UNIT_KIND_LABELS,
    # A logged "draft" reads as the assessment's (the more frequent of the two).
    "status": {
        s.value: s.label for enum in (PeriodStatus, AssessmentStatus) for s in enum
    },
}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
# Keys whose values are amounts (points, percentages): shown with a decimal comma.
_NUMBER_KEYS = {
    "self_points", "appraised_points", "survey_value", "points", "max_points",
    "index", "value", "numerator", "denominator",
}  # fmt: skip


@dataclass
class AuditFilters:
    unit_id: int | None = None
    period_id: int | None = None
    action: str | None = None
    actor_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_audit_events(filters: AuditFilters, page: int) -> Pagination:
    """Newest first; date bounds are whole days in Vietnam time."""
    stmt = sa.select(AuditEvent).order_by(
        AuditEvent.occurred_at.desc(), AuditEvent.id.desc()
    )
    if filters.unit_id:
        stmt = stmt.where(AuditEvent.unit_id == filters.unit_id)
    if filters.period_id:
        stmt = stmt.where(AuditEvent.period_id == filters.period_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor_id:
        stmt = stmt.where(AuditEvent.actor_id == filters.actor_id)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= vn_start_of_day(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(
            AuditEvent.occurred_at
            < vn_start_of_day(filters.date_to + timedelta(days=1))
        )
    return db.paginate(
        stmt,
        page=page,
        per_page=AUDIT_PER_PAGE,
        max_per_page=AUDIT_PER_PAGE,
        error_out=False,
        count=True,
    )


def audit_filter_choices() -> dict[str, list[tuple[Any, str]]]:
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name))
    periods = db.session.scalars(
        sa.select(Period).order_by(Period.year.desc(), Period.id.desc())
    )
    users = db.session.scalars(sa.select(User).order_by(User.full_name))
    return {
        "unit": [
            (0, "Tất cả đơn vị"),
            *((u.id, f"{u.name} ({u.code})") for u in units),
        ],
        "period": [(0, "Tất cả kỳ"), *((p.id, p.name) for p in periods)],
        "action": [
            ("", "Tất cả thao tác"),
            *sorted(audit.ACTION_LABELS.items(), key=lambda kv: kv[1]),
        ],
        "user": [
            (0, "Tất cả người dùng"),
            *((u.id, f"{u.full_name} ({u.username})") for u in users),
        ],
    }


@dataclass
class AuditRow:
    event: AuditEvent
    action_label: str
    object_label: str
    unit_name: str
    diff: list[tuple[str, str | None, str | None]]


def describe_events(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Readable rows: action label, object by name, changed keys before → after."""
    events = list(events)
    names = _object_names(events)
    unit_ids = {e.unit_id for e in events if e.unit_id}
    unit_names = (
        dict(
            db.session.execute(
                sa.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))
            ).all()
        )
        if unit_ids
        else {}
    )
    rows = []
    for e in events:
        type_label = OBJECT_TYPE_LABELS.get(e.object_type, e.object_type)
        name = names.get((e.object_type, e.object_id))
        if name:
            obj = f"{type_label}: {name}"
        elif e.object_id.isdigit():
            obj = f"{type_label} #{e.object_id}"
        elif e.object_id:
            obj = f"{type_label}: {e.object_id}"
        else:
            obj = type_label
        rows.append(
            AuditRow(
                event=e,
                action_label=audit.ACTION_LABELS.get(e.action, e.action),
                object_label=obj,
                unit_name=unit_names.get(e.unit_id, "") if e.unit_id else "",
                diff=audit_diff(e.before, e.after),
            )
        )
    return rows


def _object_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    ids: dict[str, set[int]] = {}
    for e in events:
        if e.object_id.isdigit():
            ids.setdefault(e.object_type, set()).add(int(e.object_id))
    out: dict[tuple[str, str], str] = {}
    lookups: dict[str, Any] = {
        "unit": (Unit, lambda u: f"{u.name} ({u.code})"),
        "user": (User, lambda u: f"{u.full_name} ({u.username})"),
        "period": (Period, lambda p: p.name),
        "assessment": (Assessment, lambda a: f"{a.unit.name}, {a.period.name}"),
    }
    for object_type, (model, label) in lookups.items():
        wanted = ids.get(object_type)
        if wanted:
            for obj in db.session.scalars(sa.select(model).where(model.id.in_(wanted))):
                out[(object_type, str(obj.id))] = label(obj)
    return out


def audit_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[str, str | None, str | None]]:
    """(label, before, after) for every key whose value differs; None where absent."""
    before = before or {}
    after = after or {}
    keys = list(dict.fromkeys([*before, *after]))
    out = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new and key in before and key in after:
            continue
        out.append(
            (
                FIELD_LABELS.get(key, key),
                _display(key, old) if key in before else None,
                _display(key, new) if key in after else None,
            )
        )
    return out


def _display(key: str, value: Any) -> str:
    """A recorded value as the screens show it: decimal comma, dd/mm/yyyy, labels."""
    if value is None or value == "" or value == []:
        return "(trống)"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int | float | Decimal) and key in _NUMBER_KEYS:
        return format_points(Decimal(str(value)))
    if isinstance(value, str):
        labels = _VALUE_LABELS.get(key)
        if labels and value in labels:
            return labels[value]
        if _ISO_DATETIME.match(value):
            try:
                return to_vn(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")
            except ValueError:
                return value
        if _ISO_DATE.match(value):
            try:
                return date.fromisoformat(value).strftime("%d/%m/%Y")
            except ValueError:
                return value
        if _DECIMAL.match(value):
            return format_points(Decimal(value))
        return value
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list) and all(
        isinstance(v, dict) and "code" in v for v in value
    ):
        return ", ".join(f"{v['code']} ({v.get('name', '')})" for v in value)
    if isinstance(value, dict):
        # An answer ({"value": "92.5"}) or a nested record: "Giá trị: 92,5; …".
        return "; ".join(
            f"{FIELD_LABELS.get(str(k), str(k))}: {_display(str(k), v)}"
            for k, v in value.items()
        )
    return json.dumps(value, ensure_ascii=False)
