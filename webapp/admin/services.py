"""Coordinator (admin) services: units, users, periods, extensions, criteria, audit.

Every public function that changes state is one transaction and records exactly one
audit event (who, when, what, before → after) before its commit. Rules that need the
database (unique codes, deadlines against the period, role and unit consistency) are
checked here and raised as FieldError, so the view can show it next to the field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from criteria import CriteriaError, parse_criteria_set, shipped_set_paths
from webapp import audit
from webapp.auth.services import PasswordPolicyError, end_sessions, hash_password
from webapp.clock import VN_TZ, to_vn, vn_end_of_day
from webapp.criteria_sets import CriteriaSetInUse, get_criteria_set, import_criteria_set
from webapp.extensions import db
from webapp.formatting import fold, vn_datetime
from webapp.models import (
    ASSESSMENT_STATUS_LABELS,
    ASSESSMENT_STATUSES,
    PERIOD_STATUS_LABELS,
    ROLE_LABELS,
    ROLES,
    UNIT_KIND_LABELS,
    UNIT_KINDS,
    Assessment,
    AuditEvent,
    CriteriaSetRecord,
    CriterionScore,
    Extension,
    Period,
    Unit,
    User,
)

logger = logging.getLogger(__name__)

UNIT_FIELDS = [
    "code",
    "name",
    "kind",
    "parent_body",
    "place_name",
    "leader_name",
    "leader_title",
    "report_number",
]
UNIT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]*$")
CSV_MAX_BYTES = 1024 * 1024
CSV_HEADER = ["code", "name", "kind"]
AUDIT_PER_PAGE = 50


class AdminError(Exception):
    """A refusal shown to the coordinator as a message (nothing was changed)."""


class FieldError(AdminError):
    """A refusal that belongs next to one form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class CsvImportError(AdminError):
    """The CSV list was refused as a whole; each problem names its line (1 = header)."""

    problems: list[tuple[int | None, str]]

    def __str__(self) -> str:
        return "; ".join(f"Dòng {n}: {m}" if n else m for n, m in self.problems)


def _commit_or_field_error(field_name: str, message: str) -> None:
    # The unique constraints are the backstop when two admins save one code at once.
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError(field_name, message) from exc


# --- Units ----------------------------------------------------------------------------


def list_units(query: str = "", *, include_inactive: bool = True) -> list[Unit]:
    """Units by name; `query` matches code or name without regard to accents."""
    stmt = sa.select(Unit)
    if not include_inactive:
        stmt = stmt.where(Unit.is_active.is_(True))
    # Sorted here: database collations put "Tĩnh" after "Trúc"; folded text does not.
    units = sorted(
        db.session.scalars(stmt), key=lambda u: (not u.is_active, fold(u.name))
    )
    if query.strip():
        needle = fold(query.strip())
        units = [u for u in units if needle in fold(f"{u.code} {u.name}")]
    return units


def active_unit_choices() -> list[tuple[int, str]]:
    return [(u.id, f"{u.name} ({u.code})") for u in list_units(include_inactive=False)]


def get_unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(Unit.id).where(sa.func.upper(Unit.code) == code.upper())
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _clean_unit_data(data: Mapping[str, Any]) -> dict[str, str]:
    out = {f: str(data.get(f) or "").strip() for f in UNIT_FIELDS}
    out["code"] = out["code"].upper()
    if out["kind"] not in UNIT_KINDS:
        raise FieldError("kind", "Vui lòng chọn loại đơn vị trong danh sách.")
    return out


def create_unit(data: Mapping[str, Any]) -> Unit:
    """Create a unit; its code must be unused (case-insensitive)."""
    values = _clean_unit_data(data)
    if _code_taken(values["code"]):
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    unit = Unit(**values)
    db.session.add(unit)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.") from exc
    audit.record(
        "unit.create",
        "unit",
        unit.id,
        after=audit.changes(unit, UNIT_FIELDS),
        unit_id=unit.id,
    )
    _commit_or_field_error("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    logger.info("unit %s created", unit.code)
    return unit


def update_unit(unit: Unit, data: Mapping[str, Any]) -> bool:
    """Change a unit's names, kind and report settings; False when nothing changed."""
    values = _clean_unit_data(data)
    if values["code"] != unit.code and _code_taken(values["code"], exclude_id=unit.id):
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    before, after = _apply(unit, values)
    if not after:
        return False
    audit.record(
        "unit.update", "unit", unit.id, before=before, after=after, unit_id=unit.id
    )
    _commit_or_field_error("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    logger.info("unit %s updated: %s", unit.code, sorted(after))
    return True


def _apply(
    obj: object, values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set attributes; return only the changed ones, as (before, after)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = old, value
            setattr(obj, name, value)
    return before, after


def set_unit_active(unit: Unit, active: bool) -> None:
    """Deactivate (or reactivate) a unit; inactive units are left out of new periods."""
    if unit.is_active == active:
        raise AdminError(
            "Đơn vị đang hoạt động."
            if active
            else "Đơn vị đã ngừng hoạt động từ trước."
        )
    unit.is_active = active
    audit.record(
        "unit.activate" if active else "unit.deactivate",
        "unit",
        unit.id,
        before={"is_active": not active},
        after={"is_active": active},
        unit_id=unit.id,
    )
    db.session.commit()
    logger.info("unit %s active=%s", unit.code, active)


def _kind_from_csv(text: str) -> str | None:
    wanted = fold(text.strip())
    for kind in UNIT_KINDS:
        if wanted in (kind, fold(UNIT_KIND_LABELS[kind])):
            return kind
    return None


def import_units_csv(raw: bytes) -> list[Unit]:
    """Import `code,name,kind` rows (UTF-8, BOM optional): all rows or none.

    Raises CsvImportError listing every bad line with its reason.
    """
    problems: list[tuple[int | None, str]] = []
    if len(raw) > CSV_MAX_BYTES:
        raise CsvImportError([(None, "Tệp quá lớn (tối đa 1 MB).")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            [
                (
                    None,
                    "Tệp không phải mã UTF-8. "
                    "Hãy lưu lại dạng “CSV UTF-8” rồi thử lại.",
                )
            ]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                if header != CSV_HEADER:
                    raise CsvImportError(
                        [(line, "Dòng tiêu đề phải đúng là: code,name,kind")]
                    )
                continue
            row, problem = _check_csv_row(cells, line, seen)
            if problem:
                problems.append((line, problem))
            else:
                rows.append((line, row))
    except csv.Error as exc:
        problems.append((reader.line_num, f"Lỗi định dạng CSV ({exc})."))
    if header is None:
        raise CsvImportError([(None, "Tệp trống: cần dòng tiêu đề code,name,kind.")])
    if not rows and not problems:
        raise CsvImportError([(None, "Tệp không có dòng dữ liệu nào.")])
    existing = {
        c.upper()
        for c in db.session.scalars(
            sa.select(Unit.code).where(sa.func.upper(Unit.code).in_(list(seen)))
        )
    }
    for line, row in rows:
        if row["code"] in existing:
            problems.append((line, f"Mã đơn vị {row['code']} đã có trong hệ thống."))
    if problems:
        raise CsvImportError(sorted(problems, key=lambda p: p[0] or 0))
    units = [Unit(code=r["code"], name=r["name"], kind=r["kind"]) for _, r in rows]
    db.session.add_all(units)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise CsvImportError(
            [(None, "Có mã đơn vị vừa được tạo trùng; vui lòng thử lại.")]
        ) from exc
    audit.record(
        "unit.import",
        "unit",
        "",
        before=None,
        after={
            "created": [{"code": u.code, "name": u.name, "kind": u.kind} for u in units]
        },
        summary=f"Nhập danh sách đơn vị: {len(units)} đơn vị",
    )
    db.session.commit()
    logger.info("units imported: %s", [u.code for u in units])
    return units


def _check_csv_row(
    cells: list[str], line: int, seen: dict[str, int]
) -> tuple[dict[str, str], str | None]:
    if len(cells) != 3:
        return {}, f"Cần đúng 3 cột (code,name,kind), dòng này có {len(cells)} cột."
    code, name, kind_text = (c.strip() for c in cells)
    code = code.upper()
    if not code:
        return {}, "Thiếu mã đơn vị (code)."
    if len(code) > 32:
        return {}, "Mã đơn vị dài quá 32 ký tự."
    if not UNIT_CODE_RE.match(code):
        return (
            {},
            f"Mã đơn vị “{code}” chỉ được gồm chữ in hoa không dấu, chữ số và _ . -",
        )
    if code in seen:
        return {}, f"Mã đơn vị {code} trùng với dòng {seen[code]}."
    seen[code] = line
    if not name:
        return {}, "Thiếu tên đơn vị (name)."
    if len(name) > 200:
        return {}, "Tên đơn vị dài quá 200 ký tự."
    kind = _kind_from_csv(kind_text)
    if kind is None:
        return {}, (
            f"Loại đơn vị “{kind_text}” không hợp lệ: dùng so_ban_nganh "
            "(Sở, ban, ngành) "
            "hoặc xa_phuong (UBND xã, phường)."
        )
    return {"code": code, "name": name, "kind": kind}, None


# --- Users ----------------------------------------------------------------------------


def list_users(query: str = "") -> list[User]:
    users = list(
        db.session.scalars(
            sa.select(User).order_by(User.is_active.desc(), User.username)
        )
    )
    if query.strip():
        needle = fold(query.strip())
        users = [
            u
            for u in users
            if needle
            in fold(f"{u.username} {u.full_name} {u.unit.name if u.unit else ''}")
        ]
    return users


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
        "is_active": user.is_active,
    }


def _check_role_unit(
    role: str, unit_id: int | None, current_unit_id: int | None = None
) -> Unit | None:
    if role not in ROLES:
        raise FieldError("role", "Vui lòng chọn vai trò.")
    unit = db.session.get(Unit, unit_id) if unit_id else None
    # An account may stay in a unit that has since stopped, but none may join one.
    stopped = unit is not None and not unit.is_active and unit.id != current_unit_id
    if unit_id and (unit is None or stopped):
        raise FieldError("unit_id", "Đơn vị không tồn tại hoặc đã ngừng hoạt động.")
    if role in ("unit_editor", "unit_head") and unit is None:
        raise FieldError(
            "unit_id", "Chuyên viên và lãnh đạo đơn vị phải thuộc một đơn vị."
        )
    if role in ("admin", "appraiser") and unit is not None:
        raise FieldError(
            "unit_id",
            "Quản trị và thẩm định không thuộc đơn vị nào: "
            "hãy chọn “Không thuộc đơn vị”.",
        )
    return unit


def create_user(
    *, username: str, full_name: str, role: str, unit_id: int | None, password: str
) -> User:
    """Create an account; usernames are unique and lower case (as login reads them)."""
    username = username.strip().lower()
    if db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.username) == username)
    ):
        raise FieldError("username", f"Tên đăng nhập {username} đã tồn tại.")
    unit = _check_role_unit(role, unit_id)
    try:
        password_hash = hash_password(password)
    except PasswordPolicyError as exc:
        raise FieldError("password", str(exc)) from exc
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        unit=unit,
        password_hash=password_hash,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError("username", f"Tên đăng nhập {username} đã tồn tại.") from exc
    audit.record(
        "user.create",
        "user",
        user.id,
        after=_user_snapshot(user),
        unit_id=unit.id if unit else None,
    )
    _commit_or_field_error("username", f"Tên đăng nhập {username} đã tồn tại.")
    logger.info("user %s created (%s)", user.username, role)
    return user


def update_user(
    user: User, *, full_name: str, role: str, unit_id: int | None, actor: User
) -> bool:
    """Change name, role and unit; False when nothing changed."""
    if user.id == actor.id and role != user.role:
        raise FieldError("role", "Không thể tự thay đổi vai trò của chính mình.")
    unit = _check_role_unit(role, unit_id, current_unit_id=user.unit_id)
    before = _user_snapshot(user)
    before_unit_id = user.unit_id
    user.full_name = full_name.strip()
    user.role = role
    user.unit = unit
    after = _user_snapshot(user)
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return False
    audit.record(
        "user.update",
        "user",
        user.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
        unit_id=unit.id if unit else before_unit_id,
    )
    db.session.commit()
    logger.info("user %s updated: %s", user.username, sorted(changed))
    return True


def reset_password(user: User, new_password: str, *, actor: User) -> None:
    """Set a new password for someone else and end all their sessions."""
    if user.id == actor.id:
        raise AdminError(
            "Hãy dùng trang “Đổi mật khẩu” để đổi mật khẩu của chính mình."
        )
    try:
        user.password_hash = hash_password(new_password)
    except PasswordPolicyError as exc:
        raise FieldError("password", str(exc)) from exc
    before = {"session_version": user.session_version}
    end_sessions(user)
    audit.record(
        "user.reset_password",
        "user",
        user.id,
        before=before,
        after={"session_version": user.session_version},
        unit_id=user.unit_id,
    )
    db.session.commit()
    logger.info("password of %s reset by %s", user.username, actor.username)


def set_user_active(user: User, active: bool, *, actor: User) -> None:
    """Lock (or unlock) an account; locking ends every session at once."""
    if user.id == actor.id:
        raise AdminError("Không thể tự khóa hoặc mở khóa tài khoản của chính mình.")
    if user.is_active == active:
        raise AdminError(
            "Tài khoản đang hoạt động." if active else "Tài khoản đã bị khóa từ trước."
        )
    if active and user.unit is not None and not user.unit.is_active:
        raise AdminError(
            "Đơn vị của tài khoản đã ngừng hoạt động: "
            "hãy chuyển tài khoản sang đơn vị khác trước."
        )
    before = {"is_active": user.is_active, "session_version": user.session_version}
    user.is_active = active
    if not active:
        end_sessions(user)
    audit.record(
        "user.activate" if active else "user.deactivate",
        "user",
        user.id,
        before=before,
        after={"is_active": active, "session_version": user.session_version},
        unit_id=user.unit_id,
    )
    db.session.commit()
    logger.info("user %s active=%s by %s", user.username, active, actor.username)


# --- Periods --------------------------------------------------------------------------


def default_self_deadline(year: int) -> datetime:
    """15/12 of the evaluation year, 23:59:59 Asia/Ho_Chi_Minh (DESIGN.md §1)."""
    return vn_end_of_day(year, 12, 15)


def default_appraisal_deadline(year: int) -> datetime:
    return vn_end_of_day(year + 1, 1, 15)


def vn_start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=VN_TZ)


def list_periods() -> list[Period]:
    return list(
        db.session.scalars(
            sa.select(Period).order_by(Period.year.desc(), Period.id.desc())
        )
    )


def get_period(period_id: int) -> Period | None:
    return db.session.get(Period, period_id)


def criteria_set_choices() -> list[tuple[str, str]]:
    records = db.session.scalars(
        sa.select(CriteriaSetRecord).order_by(
            CriteriaSetRecord.evaluation_year.desc(), CriteriaSetRecord.id
        )
    )
    return [(r.id, f"{r.title} ({r.id})") for r in records]


def period_unit_choices(period: Period | None = None) -> list[tuple[int, str]]:
    """Active units, plus inactive units already in the period (so they stay listed)."""
    choices = active_unit_choices()
    if period is not None:
        known = {c[0] for c in choices}
        choices += [
            (u.id, f"{u.name} ({u.code})") for u in period.units if u.id not in known
        ]
    return choices


@dataclass
class PeriodInput:
    name: str
    year: int
    criteria_set_id: str
    unit_ids: list[int]
    opens_on: date
    self_deadline: date | None = None
    appraisal_deadline: date | None = None


def _period_values(data: PeriodInput, period: Period | None) -> dict[str, Any]:
    if db.session.get(CriteriaSetRecord, data.criteria_set_id) is None:
        raise FieldError("criteria_set_id", "Vui lòng chọn một bộ tiêu chí đã nhập.")
    if not data.unit_ids:
        raise FieldError("unit_ids", "Vui lòng chọn ít nhất một đơn vị tham gia.")
    units = list(db.session.scalars(sa.select(Unit).where(Unit.id.in_(data.unit_ids))))
    already = {u.id for u in period.units} if period else set()
    if len(units) != len(set(data.unit_ids)) or any(
        not u.is_active and u.id not in already for u in units
    ):
        raise FieldError("unit_ids", "Có đơn vị không tồn tại hoặc đã ngừng hoạt động.")
    opens_at = vn_start_of_day(data.opens_on)
    self_deadline = (
        vn_end_of_day(
            data.self_deadline.year, data.self_deadline.month, data.self_deadline.day
        )
        if data.self_deadline
        else default_self_deadline(data.year)
    )
    appraisal_deadline = (
        vn_end_of_day(
            data.appraisal_deadline.year,
            data.appraisal_deadline.month,
            data.appraisal_deadline.day,
        )
        if data.appraisal_deadline
        else default_appraisal_deadline(data.year)
    )
    if self_deadline <= opens_at:
        raise FieldError("self_deadline", "Hạn tự đánh giá phải sau ngày mở.")
    if appraisal_deadline < self_deadline:
        raise FieldError(
            "appraisal_deadline", "Hạn thẩm định không được trước hạn tự đánh giá."
        )
    return {
        "name": data.name.strip(),
        "year": data.year,
        "criteria_set_id": data.criteria_set_id,
        "units": sorted(units, key=lambda u: u.name),
        "opens_at": opens_at,
        "self_deadline": self_deadline,
        "appraisal_deadline": appraisal_deadline,
    }


def _period_snapshot(period: Period) -> dict[str, Any]:
    return {
        "name": period.name,
        "year": period.year,
        "criteria_set_id": period.criteria_set_id,
        "units": sorted(u.code for u in period.units),
        "opens_at": period.opens_at,
        "self_deadline": period.self_deadline,
        "appraisal_deadline": period.appraisal_deadline,
        "status": period.status,
    }


def create_period(data: PeriodInput) -> Period:
    """Create a period in preparation (draft); opening it creates the assessments."""
    values = _period_values(data, None)
    period = Period(status="draft", **values)
    db.session.add(period)
    db.session.flush()
    audit.record(
        "period.create",
        "period",
        period.id,
        after=_period_snapshot(period),
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s created", period.id)
    return period


def update_period(period: Period, data: PeriodInput) -> bool:
    """Edit a period; units added to an open period get a draft assessment at once."""
    if period.status == "published":
        raise AdminError("Kỳ đánh giá đã công bố kết quả: không thể sửa.")
    values = _period_values(data, period)
    has_assessments = _assessment_unit_ids(period)
    if values["criteria_set_id"] != period.criteria_set_id and (
        period.status != "draft" or has_assessments
    ):
        raise FieldError(
            "criteria_set_id", "Không thể đổi bộ tiêu chí khi kỳ đánh giá đã mở."
        )
    removed = has_assessments - {u.id for u in values["units"]}
    if removed:
        names = ", ".join(sorted(u.name for u in period.units if u.id in removed))
        raise FieldError(
            "unit_ids", f"Không thể bỏ đơn vị đã có hồ sơ tự đánh giá: {names}."
        )
    before = _period_snapshot(period)
    for name, value in values.items():
        setattr(period, name, value)
    created = _ensure_assessments(period) if period.status == "open" else []
    after = _period_snapshot(period)
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        db.session.rollback()
        return False
    after_changes: dict[str, Any] = {k: after[k] for k in changed}
    if created:
        after_changes["assessments_created"] = created
    audit.record(
        "period.update",
        "period",
        period.id,
        before={k: before[k] for k in changed},
        after=after_changes,
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s updated: %s", period.id, sorted(changed))
    return True


def _assessment_unit_ids(period: Period) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Assessment.unit_id).where(Assessment.period_id == period.id)
        )
    )


def _ensure_assessments(period: Period) -> list[str]:
    """Create the period's missing draft assessments; return their unit codes."""
    existing = _assessment_unit_ids(period)
    created = []
    for unit in period.units:
        if unit.id not in existing:
            db.session.add(
                Assessment(period_id=period.id, unit_id=unit.id, status="draft")
            )
            created.append(unit.code)
    db.session.flush()
    return sorted(created)


def open_period(period: Period) -> list[str]:
    """Open a period (or reopen a closed one) and create each unit's draft assessment.

    Idempotent: assessments that exist are kept; opening an open period only adds the
    missing ones. Returns the codes of the units whose assessment was created.
    """
    if period.status == "published":
        raise AdminError("Kỳ đánh giá đã công bố kết quả: không thể mở lại.")
    if not period.units:
        raise AdminError("Kỳ đánh giá chưa có đơn vị tham gia.")
    before_status = period.status
    period.status = "open"
    created = _ensure_assessments(period)
    if before_status == "open" and not created:
        db.session.rollback()
        return []
    audit.record(
        "period.open",
        "period",
        period.id,
        before={"status": before_status},
        after={"status": "open", "assessments_created": created},
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s opened; assessments created for %s", period.id, created)
    return created


def close_period(period: Period) -> None:
    """Close self-assessment for every unit of the period."""
    if period.status != "open":
        raise AdminError("Chỉ đóng được kỳ đánh giá đang mở.")
    period.status = "closed"
    audit.record(
        "period.close",
        "period",
        period.id,
        before={"status": "open"},
        after={"status": "closed"},
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s closed", period.id)


def unit_deadline(period: Period, unit_id: int) -> datetime:
    """The unit's self-assessment deadline: the period's, or its latest extension."""
    extended = db.session.scalars(
        sa.select(Extension.new_deadline).where(
            Extension.period_id == period.id, Extension.unit_id == unit_id
        )
    )
    return max([period.self_deadline, *extended])


def grant_extension(
    period: Period, *, unit_id: int, new_deadline: date, reason: str, actor: User
) -> Extension:
    """Extend one unit's self-assessment deadline to the end of a day (VN time)."""
    if period.status not in ("draft", "open"):
        raise AdminError("Kỳ đánh giá đã đóng: không thể gia hạn.")
    unit = next((u for u in period.units if u.id == unit_id), None)
    if unit is None:
        raise FieldError("unit_id", "Vui lòng chọn một đơn vị tham gia kỳ đánh giá.")
    if not reason.strip():
        raise FieldError("reason", "Vui lòng nhập lý do gia hạn.")
    deadline = vn_end_of_day(new_deadline.year, new_deadline.month, new_deadline.day)
    current = unit_deadline(period, unit.id)
    if deadline <= current:
        raise FieldError(
            "new_deadline",
            f"Hạn mới phải sau hạn hiện tại của đơn vị ({vn_datetime(current)}).",
        )
    if deadline > period.appraisal_deadline:
        raise FieldError(
            "new_deadline",
            "Hạn mới không được sau hạn thẩm định "
            f"({vn_datetime(period.appraisal_deadline)}).",
        )
    extension = Extension(
        period_id=period.id,
        unit_id=unit.id,
        new_deadline=deadline,
        reason=reason.strip(),
        granted_by_id=actor.id,
    )
    db.session.add(extension)
    db.session.flush()
    audit.record(
        "extension.grant",
        "extension",
        extension.id,
        before={"deadline": current},
        after={"deadline": deadline, "reason": extension.reason},
        unit_id=unit.id,
        period_id=period.id,
        summary=f"Gia hạn cho {unit.name} đến {vn_datetime(deadline)}",
    )
    db.session.commit()
    logger.info("extension for %s in period %s to %s", unit.code, period.id, deadline)
    return extension


def list_extensions(period: Period) -> list[Extension]:
    return list(
        db.session.scalars(
            sa.select(Extension)
            .where(Extension.period_id == period.id)
            .order_by(Extension.created_at.desc(), Extension.id.desc())
        )
    )


# --- Progress (dashboard and period page) ---------------------------------------------


@dataclass
class UnitProgress:
    unit: Unit
    assessment: Assessment | None
    deadline: datetime
    extended: bool
    answered: int
    total: int

    @property
    def status_label(self) -> str:
        return self.assessment.status_label if self.assessment else "Chưa tạo hồ sơ"

    @property
    def submitted(self) -> bool:
        return self.assessment is not None and self.assessment.status != "draft"


@dataclass
class PeriodProgress:
    period: Period
    rows: list[UnitProgress]
    counts: dict[str, int] = field(default_factory=dict)
    leaf_count: int = 0

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.submitted)

    def count_items(self) -> list[tuple[str, str, int]]:
        return [
            (s, ASSESSMENT_STATUS_LABELS[s], self.counts.get(s, 0))
            for s in ASSESSMENT_STATUSES
        ]


def period_progress(period: Period) -> PeriodProgress:
    """Each unit's assessment status, deadline and number of answered sub-criteria."""
    try:
        cs = get_criteria_set(period.criteria_set_id)
        self_codes = {leaf.code for leaf in cs.leaves() if leaf.assessed_by != "survey"}
    except (KeyError, CriteriaError):
        self_codes = set()
    assessments = {
        a.unit_id: a
        for a in db.session.scalars(
            sa.select(Assessment).where(Assessment.period_id == period.id)
        )
    }
    answered: Counter[int] = Counter()
    if assessments:
        rows = db.session.execute(
            sa.select(
                CriterionScore.assessment_id,
                CriterionScore.criterion_code,
                CriterionScore.answer,
                CriterionScore.is_not_applicable,
            ).where(
                CriterionScore.assessment_id.in_([a.id for a in assessments.values()])
            )
        )
        for assessment_id, code, answer, not_applicable in rows:
            if code in self_codes and (not_applicable or answer not in (None, {})):
                answered[assessment_id] += 1
    all_ext: dict[int, datetime] = {}
    for unit_id, deadline in db.session.execute(
        sa.select(Extension.unit_id, Extension.new_deadline).where(
            Extension.period_id == period.id
        )
    ):
        all_ext[unit_id] = max(all_ext.get(unit_id, deadline), deadline)
    out = []
    for unit in sorted(period.units, key=lambda u: fold(u.name)):
        a = assessments.get(unit.id)
        ext = all_ext.get(unit.id)
        out.append(
            UnitProgress(
                unit=unit,
                assessment=a,
                deadline=max(period.self_deadline, ext)
                if ext
                else period.self_deadline,
                extended=ext is not None and ext > period.self_deadline,
                answered=answered.get(a.id, 0) if a else 0,
                total=len(self_codes),
            )
        )
    counts = Counter(a.status for a in assessments.values())
    return PeriodProgress(
        period=period, rows=out, counts=dict(counts), leaf_count=len(self_codes)
    )


def open_periods_progress() -> list[PeriodProgress]:
    periods = db.session.scalars(
        sa.select(Period)
        .where(Period.status == "open")
        .order_by(Period.year.desc(), Period.id)
    )
    return [period_progress(p) for p in periods]


def admin_counts() -> dict[str, int]:
    return {
        "units": db.session.scalar(
            sa.select(sa.func.count()).select_from(Unit).where(Unit.is_active.is_(True))
        )
        or 0,
        "users": db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.is_active.is_(True))
        )
        or 0,
        "periods": db.session.scalar(sa.select(sa.func.count()).select_from(Period))
        or 0,
        "criteria_sets": db.session.scalar(
            sa.select(sa.func.count()).select_from(CriteriaSetRecord)
        )
        or 0,
    }


# --- Criteria sets --------------------------------------------------------------------


@dataclass
class CriteriaSetRow:
    record: CriteriaSetRecord
    leaf_count: int | None
    periods: int


@dataclass
class ShippedFile:
    filename: str
    set_id: str | None
    title: str
    state: str  # "new", "imported", "differs", "invalid"
    problem: str = ""

    @property
    def state_label(self) -> str:
        return {
            "new": "Chưa nhập",
            "imported": "Đã nhập",
            "differs": "Khác bản đã nhập",
            "invalid": "Tệp không hợp lệ",
        }[self.state]


def list_criteria_sets() -> list[CriteriaSetRow]:
    records = db.session.scalars(
        sa.select(CriteriaSetRecord).order_by(
            CriteriaSetRecord.evaluation_year.desc(), CriteriaSetRecord.id
        )
    )
    used = dict(
        db.session.execute(
            sa.select(Period.criteria_set_id, sa.func.count()).group_by(
                Period.criteria_set_id
            )
        ).all()
    )
    out = []
    for r in records:
        try:
            leaves: int | None = len(get_criteria_set(r.id).leaves())
        except CriteriaError:
            leaves = None
        out.append(
            CriteriaSetRow(record=r, leaf_count=leaves, periods=used.get(r.id, 0))
        )
    return out


def _shipped_paths() -> dict[str, Path]:
    return {p.name: p for p in shipped_set_paths()}


def shipped_files() -> list[ShippedFile]:
    """The criteria-set files shipped with the app and whether each is imported."""
    out = []
    for name, path in _shipped_paths().items():
        text = path.read_text(encoding="utf-8")
        try:
            cs = parse_criteria_set(text, name)
        except CriteriaError as exc:
            out.append(ShippedFile(name, None, "", "invalid", str(exc)))
            continue
        record = db.session.get(CriteriaSetRecord, cs.id)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        state = (
            "new"
            if record is None
            else ("imported" if record.sha256 == digest else "differs")
        )
        out.append(ShippedFile(name, cs.id, cs.title, state))
    return out


def shipped_file_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in _shipped_paths()]


def import_shipped_set(filename: str) -> tuple[CriteriaSetRecord, str]:
    """Import one shipped file by name (never a path from the request)."""
    path = _shipped_paths().get(filename)
    if path is None:
        raise FieldError("filename", "Tệp bộ tiêu chí không có trong danh sách.")
    try:
        return import_criteria_set(path)
    except CriteriaError as exc:
        db.session.rollback()
        raise AdminError(f"Tệp không hợp lệ: {exc}") from exc
    except CriteriaSetInUse as exc:
        db.session.rollback()
        raise AdminError(str(exc)) from exc


# --- Audit log ------------------------------------------------------------------------

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
}
_VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "role": ROLE_LABELS,
    "kind": UNIT_KIND_LABELS,
    "status": {
        **PERIOD_STATUS_LABELS,
        **ASSESSMENT_STATUS_LABELS,
        "open": PERIOD_STATUS_LABELS["open"],
    },
}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


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
    if value is None or value == "" or value == []:
        return "(trống)"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, str):
        labels = _VALUE_LABELS.get(key)
        if labels and value in labels:
            return labels[value]
        if _ISO_DATETIME.match(value):
            try:
                return to_vn(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")
            except ValueError:
                return value
        return value
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list) and all(
        isinstance(v, dict) and "code" in v for v in value
    ):
        return ", ".join(f"{v['code']} ({v.get('name', '')})" for v in value)
    return json.dumps(value, ensure_ascii=False)
