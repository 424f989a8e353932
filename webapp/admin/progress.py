"""Progress of open periods, for the coordinator's dashboard and period page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from criteria import CriteriaError
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.formatting import fold
from webapp.lifecycle import AssessmentStatus, PeriodStatus, unit_deadline
from webapp.models import (
    Assessment,
    CriteriaSetRecord,
    CriterionScore,
    Period,
    Unit,
    User,
)


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
        return self.assessment is not None and self.assessment.status.handed_in


@dataclass
class PeriodProgress:
    period: Period
    rows: list[UnitProgress]
    counts: dict[AssessmentStatus, int] = field(default_factory=dict)
    leaf_count: int = 0

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.submitted)

    def count_items(self) -> list[tuple[str, str, int]]:
        return [(s, s.label, self.counts.get(s, 0)) for s in AssessmentStatus]


def period_progress(period: Period) -> PeriodProgress:
    """Each unit's assessment status, deadline and number of answered sub-criteria."""
    try:
        cs = criteria_for(period.criteria_set_id)
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
    out = []
    for unit in sorted(period.units, key=lambda u: fold(u.name)):
        a = assessments.get(unit.id)
        deadline = unit_deadline(period, unit.id)
        out.append(
            UnitProgress(
                unit=unit,
                assessment=a,
                deadline=deadline,
                extended=deadline != period.self_deadline,
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
        .where(Period.status == PeriodStatus.OPEN)
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
