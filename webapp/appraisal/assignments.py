"""Appraiser assignments (phân công thẩm định), who sees which period and unit, and the
appraiser's queue."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, subqueryload

from webapp import audit
from webapp.access import visible_assessments
from webapp.appraisal.leaves import (
    AppraisalError,
)
from webapp.appraisal.standings import standings
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.lifecycle import HANDED_IN, AssessmentStatus, open_returns
from webapp.models import (
    AppraiserAssignment,
    Assessment,
    Period,
    ReturnRequest,
    Unit,
    User,
)

logger = logging.getLogger(__name__)


def list_assignments(period: Period) -> list[AppraiserAssignment]:
    return list(
        db.session.scalars(
            sa.select(AppraiserAssignment)
            .where(AppraiserAssignment.period_id == period.id)
            .join(Unit, Unit.id == AppraiserAssignment.unit_id)
            .join(User, User.id == AppraiserAssignment.user_id)
            .order_by(Unit.name, User.full_name)
        )
    )


def list_appraisers() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == "appraiser", User.is_active.is_(True))
            .order_by(User.full_name)
        )
    )


def create_assignment(
    period: Period,
    *,
    unit_id: int | None,
    user_id: int | None,
    area_codes: Sequence[str],
    actor: User,
) -> AppraiserAssignment:
    """Assign an appraiser to a unit of the period, for every area or only some."""
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None or unit not in period.units:
        raise AppraisalError("Đơn vị không thuộc kỳ đánh giá này.", "unit_id")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.role != "appraiser" or not user.is_active:
        raise AppraisalError(
            "Tài khoản được chọn không phải thành viên thẩm định.", "user_id"
        )
    cs = criteria_for(period)
    known = {area.code for area in cs.areas}
    codes = sorted(set(area_codes), key=code_key)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise AppraisalError("Lĩnh vực không có: " + ", ".join(unknown), "area_codes")
    exists = db.session.scalar(
        sa.select(AppraiserAssignment).where(
            AppraiserAssignment.period_id == period.id,
            AppraiserAssignment.unit_id == unit.id,
            AppraiserAssignment.user_id == user.id,
        )
    )
    if exists is not None:
        raise AppraisalError(
            f"{user.full_name} đã được phân công thẩm định {unit.name}.", "user_id"
        )
    assignment = AppraiserAssignment(
        period_id=period.id, unit_id=unit.id, user_id=user.id, area_codes=codes or None
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "assignment.create",
        "appraiser_assignment",
        assignment.id,
        after={
            "unit": unit.code,
            "user": user.username,
            "area_codes": codes or "tất cả",
        },
        unit_id=unit.id,
        period_id=period.id,
        summary=f"Phân công {user.full_name} thẩm định {unit.name}"
        + (f" (lĩnh vực {', '.join(codes)})" if codes else ""),
        actor=actor,
    )
    db.session.commit()
    logger.info(
        "assignment %s: %s → %s by %s",
        assignment.id,
        user.username,
        unit.code,
        actor.id,
    )
    return assignment


def delete_assignment(assignment: AppraiserAssignment, *, actor: User) -> None:
    """Remove an assignment; the appraiser's scores already saved stay."""
    before = {
        "unit": assignment.unit.code,
        "user": assignment.user.username,
        "area_codes": assignment.area_codes or "tất cả",
    }
    summary = (
        f"Hủy phân công {assignment.user.full_name} thẩm định {assignment.unit.name}"
    )
    audit.record(
        "assignment.delete",
        "appraiser_assignment",
        assignment.id,
        before=before,
        unit_id=assignment.unit_id,
        period_id=assignment.period_id,
        summary=summary,
        actor=actor,
    )
    db.session.delete(assignment)
    db.session.commit()


def list_periods(user: User) -> list[Period]:
    """Periods the user works on: all (coordinator), or those assigned (appraiser)."""
    q = sa.select(Period).order_by(Period.year.desc(), Period.id.desc())
    if user.role != "admin":
        q = q.where(Period.id.in_(assigned_period_ids(user)))
    return list(db.session.scalars(q))


def assigned_period_ids(user: User) -> sa.Select[int]:
    return sa.select(AppraiserAssignment.period_id).where(
        AppraiserAssignment.user_id == user.id
    )


def unit_assessments(user: User) -> list[Assessment]:
    """The assessments a user may read, newest period first (a unit's own history)."""
    return list(
        db.session.scalars(
            visible_assessments(user)
            .join(Period, Period.id == Assessment.period_id)
            .order_by(Period.year.desc(), Period.id.desc())
        )
    )


def appraiser_areas(user: User, assessment: Assessment) -> set[str] | None:
    """Areas this user may appraise in the assessment: None means every area."""
    if user.role == "admin":
        return None
    if user.role != "appraiser":
        return set()
    rows = db.session.scalars(
        sa.select(AppraiserAssignment.area_codes).where(
            AppraiserAssignment.user_id == user.id,
            AppraiserAssignment.unit_id == assessment.unit_id,
            AppraiserAssignment.period_id == assessment.period_id,
        )
    ).all()
    if not rows:
        return set()
    if any(not codes for codes in rows):
        return None
    return {code for codes in rows for code in (codes or [])}


def code_key(code: str) -> tuple[int, ...]:
    # isdecimal, not isdigit: "³" is a digit that int() refuses (a code typed in the
    # API's JSON, not picked from the page's list).
    return tuple(int(p) if p.isdecimal() else 0 for p in code.split("."))


# -- the appraiser's queue -----------------------------------------------------------


@dataclass
class QueueRow:
    assessment: Assessment
    total: int
    appraised: int
    differing: int
    open_return: ReturnRequest | None

    @property
    def remaining(self) -> int:
        return self.total - self.appraised


def appraisal_queue(user: User) -> list[QueueRow]:
    """Submitted assessments this user may appraise, with their progress."""
    q = (
        visible_assessments(user)
        .where(Assessment.status.in_(HANDED_IN))
        .join(Unit, Unit.id == Assessment.unit_id)
        # One query each for units and return requests, however many assessments.
        .options(
            contains_eager(Assessment.unit), subqueryload(Assessment.return_requests)
        )
        .order_by(Assessment.period_id.desc(), Unit.name)
    )
    assessments = list(db.session.scalars(q))
    by_id = standings(assessments)
    out = []
    for a in assessments:
        returns = open_returns(a) if a.status == AssessmentStatus.RETURNED else []
        standing = by_id[a.id]
        out.append(
            QueueRow(
                a,
                standing.to_appraise,
                standing.appraised,
                standing.differing,
                returns[0] if returns else None,
            )
        )
    return out
