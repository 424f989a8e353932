"""Coordinator services for assessment periods and deadline extensions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from webapp import audit, lifecycle
from webapp.admin.errors import AdminError, FieldError
from webapp.admin.units import active_unit_choices
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.extensions import db
from webapp.formatting import vn_datetime
from webapp.lifecycle import AssessmentStatus, PeriodStatus, unit_deadline
from webapp.models import (
    Assessment,
    CriteriaSetRecord,
    Extension,
    Period,
    PeriodCriteriaSet,
    Unit,
    User,
)
from webapp.notify import events as notify_events
from webapp.period_rules import FAMILY_OF_SET, parse_bands

logger = logging.getLogger(__name__)


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
    second_criteria_set_id: str = ""
    classification_bands: str = ""
    include_survey: bool = True
    signed_report_required: bool = False
    request_letter_required: bool = False
    report_recipient: str = ""
    report_bases: str = ""


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
    try:
        bands = parse_bands(data.classification_bands) or None
    except ValueError as exc:
        raise FieldError("classification_bands", str(exc)) from None
    return {
        "name": data.name.strip(),
        "year": data.year,
        "criteria_set_id": data.criteria_set_id,
        "units": sorted(units, key=lambda u: u.name),
        "opens_at": opens_at,
        "self_deadline": self_deadline,
        "appraisal_deadline": appraisal_deadline,
        "family_sets": _family_sets(data, period),
        "classification_bands": bands,
        "include_survey": data.include_survey,
        "signed_report_required": data.signed_report_required,
        "request_letter_required": data.request_letter_required,
        "report_recipient": data.report_recipient.strip() or "Sở Nội vụ",
        "report_bases": "\n".join(
            line.strip() for line in data.report_bases.splitlines() if line.strip()
        ),
    }


def _family_sets(data: PeriodInput, period: Period | None) -> list[PeriodCriteriaSet]:
    """The second family's set, if any: it must be of the other unit family."""
    if not data.second_criteria_set_id:
        return []
    first = db.session.get(CriteriaSetRecord, data.criteria_set_id)
    second = db.session.get(CriteriaSetRecord, data.second_criteria_set_id)
    if second is None:
        raise FieldError(
            "second_criteria_set_id", "Vui lòng chọn một bộ tiêu chí đã nhập."
        )
    kinds = [FAMILY_OF_SET.get(r.unit_type) for r in (first, second) if r]
    if None in kinds or kinds[0] == kinds[1]:
        raise FieldError(
            "second_criteria_set_id",
            "Bộ tiêu chí thứ hai phải dành cho nhóm đơn vị khác (sở, ban, ngành "
            "hoặc UBND xã, phường) với bộ thứ nhất.",
        )
    kind = kinds[1]
    assert kind is not None
    current = {f.unit_kind: f for f in period.family_sets} if period else {}
    row = current.get(kind) or PeriodCriteriaSet(unit_kind=kind)
    row.criteria_set_id = second.id
    return [row]


def _period_snapshot(period: Period) -> dict[str, Any]:
    return {
        "name": period.name,
        "year": period.year,
        "criteria_set_id": period.criteria_set_id,
        "units": sorted(u.code for u in period.units),
        "opens_at": period.opens_at,
        "self_deadline": period.self_deadline,
        "appraisal_deadline": period.appraisal_deadline,
        "report_recipient": period.report_recipient,
        "report_bases": period.report_bases,
        "status": period.status,
        "family_sets": {f.unit_kind: f.criteria_set_id for f in period.family_sets},
        "classification_bands": period.classification_bands,
        "include_survey": period.include_survey,
        "signed_report_required": period.signed_report_required,
        "request_letter_required": period.request_letter_required,
    }


def create_period(data: PeriodInput) -> Period:
    """Create a period in preparation (draft); opening it creates the assessments."""
    values = _period_values(data, None)
    period = Period(status=PeriodStatus.DRAFT, **values)
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
    if period.status == PeriodStatus.PUBLISHED:
        raise AdminError("Kỳ đánh giá đã công bố kết quả: không thể sửa.")
    values = _period_values(data, period)
    has_assessments = _assessment_unit_ids(period)
    if values["criteria_set_id"] != period.criteria_set_id and (
        period.status != PeriodStatus.DRAFT or has_assessments
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
    created = _ensure_assessments(period) if period.status == PeriodStatus.OPEN else []
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
                Assessment(
                    period_id=period.id, unit_id=unit.id, status=AssessmentStatus.DRAFT
                )
            )
            created.append(unit.code)
    db.session.flush()
    return sorted(created)


def open_period(period: Period) -> list[str]:
    """Open a period (or reopen a closed one) and create each unit's draft assessment.

    Idempotent: assessments that exist are kept; opening an open period only adds the
    missing ones. Returns the codes of the units whose assessment was created.
    """
    if not period.units:  # a published period always has units: no message hidden
        raise AdminError("Kỳ đánh giá chưa có đơn vị tham gia.")
    before_status = period.status
    lifecycle.open_period(period, error=AdminError)
    created = _ensure_assessments(period)
    if before_status == PeriodStatus.OPEN and not created:
        db.session.rollback()
        return []
    # Each unit's staff hear of it once (reopening a closed period tells no one).
    notify_events.period_opened(period)
    audit.record(
        "period.open",
        "period",
        period.id,
        before={"status": before_status},
        after={"status": period.status, "assessments_created": created},
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s opened; assessments created for %s", period.id, created)
    return created


def close_period(period: Period) -> None:
    """Close self-assessment for every unit of the period."""
    before_status = period.status
    lifecycle.close_period(period, error=AdminError)
    audit.record(
        "period.close",
        "period",
        period.id,
        before={"status": before_status},
        after={"status": period.status},
        period_id=period.id,
    )
    db.session.commit()
    logger.info("period %s closed", period.id)


def grant_extension(
    period: Period, *, unit_id: int, new_deadline: date, reason: str, actor: User
) -> Extension:
    """Extend one unit's self-assessment deadline to the end of a day (VN time)."""
    if not period.status.grants_extensions:
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
        period=period,  # the period's deadlines see it before the commit too
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
