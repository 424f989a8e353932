"""Append-only audit log: every state change records who, when, what, before → after."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models import AuditEvent, User

logger = logging.getLogger(__name__)

ACTION_LABELS = {
    "unit.create": "Tạo đơn vị",
    "unit.update": "Sửa đơn vị",
    "unit.deactivate": "Ngừng hoạt động đơn vị",
    "unit.import": "Nhập danh sách đơn vị",
    "user.create": "Tạo tài khoản",
    "user.update": "Sửa tài khoản",
    "user.reset_password": "Đặt lại mật khẩu",
    "user.deactivate": "Khóa tài khoản",
    "user.change_password": "Đổi mật khẩu",
    "user.login": "Đăng nhập",
    "user.logout": "Đăng xuất",
    "period.create": "Tạo kỳ đánh giá",
    "period.update": "Sửa kỳ đánh giá",
    "period.open": "Mở kỳ đánh giá",
    "period.close": "Đóng kỳ đánh giá",
    "period.publish": "Công bố kết quả",
    "extension.grant": "Gia hạn",
    "criteria.import": "Nhập bộ tiêu chí",
    "criteria.mapping": "Ghép mã tiêu chí năm trước",
    "answer.save": "Lưu câu trả lời",
    "evidence.upload": "Tải lên tài liệu",
    "evidence.link": "Gắn tài liệu",
    "evidence.unlink": "Gỡ tài liệu",
    "evidence.replace": "Thay tệp tài liệu",
    "evidence.update": "Sửa trích dẫn tài liệu",
    "assessment.submit": "Gửi hồ sơ",
    "assessment.reopen": "Mở lại hồ sơ",
    "appraisal.save": "Thẩm định",
    "appraisal.return": "Yêu cầu giải trình, bổ sung",
    "assignment.create": "Phân công thẩm định",
    "assignment.delete": "Hủy phân công thẩm định",
    "survey.import": "Nhập kết quả điều tra XHH từ tệp",
    "survey.save": "Sửa kết quả điều tra XHH trên bảng",
    "dossier.export": "Xuất hồ sơ",
    "dossier.export_failed": "Xuất hồ sơ thất bại",
    "dossier.sections": "Sửa nội dung báo cáo",
    "dossier.signer": "Sửa người ký, nơi nhận của báo cáo",
    "dossier.signed_report": "Tải lên báo cáo đã ký số",
    # Admin screens (issue 4): undoing a deactivation.
    "unit.activate": "Kích hoạt lại đơn vị",
    "user.activate": "Mở khóa tài khoản",
    # The unit's PAR plan (issue 13).
    "plan.import": "Nhập kế hoạch CCHC",
    "plan.status": "Cập nhật trạng thái nhiệm vụ kế hoạch",
    "plan.deadline": "Sửa hạn nhiệm vụ kế hoạch",
    "plan.note": "Ghi chú tiến độ nhiệm vụ kế hoạch",
    "plan.owners": "Phân công người phụ trách nhiệm vụ",
    "plan.evidence_link": "Gắn sản phẩm nhiệm vụ kế hoạch",
    "plan.evidence_unlink": "Gỡ sản phẩm nhiệm vụ kế hoạch",
    "answer.plan": "Cập nhật tiêu chí từ kế hoạch CCHC",
    # Issue 17.
    "period.close_early": "Kết thúc sớm việc tự đánh giá",
    "evidence.delete": "Xóa tài liệu",
    # Issue 15: forgotten password.
    "user.password_reset_request": "Yêu cầu đặt lại mật khẩu qua thư",
    "user.password_reset": "Đặt lại mật khẩu qua liên kết",
    # The JSON API (issue 14).
    "api_token.create": "Tạo mã truy cập API",
    "api_token.revoke": "Thu hồi mã truy cập API",
    # Accounts and help (issue 15).
    "user.profile": "Sửa hồ sơ cá nhân",
    "user.session_end": "Đăng xuất một phiên đăng nhập",
    "user.sessions_end_others": "Đăng xuất tất cả nơi khác",
    "user.session_idle": "Phiên đăng nhập hết hạn do không thao tác",
    "user.force_password_change": "Buộc đổi mật khẩu",
    "leaf_message.post": "Gửi trao đổi về tiêu chí",
}


def jsonable(value: Any) -> Any:
    """Make before/after values JSON-safe (Decimal, dates) without losing meaning."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):  # lifecycle statuses: the log keeps plain strings
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def record(
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    unit_id: int | None = None,
    period_id: int | None = None,
    summary: str = "",
    actor: User | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        unit_id=unit_id,
        period_id=period_id,
        summary=summary or ACTION_LABELS.get(action, action),
        actor_id=actor.id if actor else None,
        actor_name=actor.full_name if actor else "hệ thống",
        ip_address=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(event)
    logger.info(
        "audit %s %s:%s by %s", action, object_type, object_id, event.actor_name
    )
    return event


def changes(obj: object, fields: list[str]) -> dict[str, Any]:
    """Snapshot the named attributes of a model for before/after records."""
    return {f: jsonable(getattr(obj, f)) for f in fields}
