"""Analyses for the coordinator and appraisers: one leaf across units, the largest
differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from criteria import Node
from webapp.access import visible_assessments
from webapp.appraisal.leaves import (
    answer_in_words,
    appraised_leaves,
    leaf_answer,
)
from webapp.appraisal.survey import period_assessments
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus
from webapp.models import Assessment, Evidence, EvidenceLink, Period, User
from webapp.workflow import self_score


@dataclass
class GridRow:
    assessment: Assessment
    self_points: Decimal | None
    appraised_points: Decimal | None
    appraised: bool
    evidence_count: int
    answer_lines: list[str]
    comment: str

    @property
    def difference(self) -> Decimal | None:
        if not self.appraised:
            return None
        return (self.appraised_points or Decimal(0)) - (self.self_points or Decimal(0))


def _scoped_assessments(period: Period, user: User) -> list[Assessment]:
    ids = set(
        db.session.scalars(
            visible_assessments(user)
            .where(
                Assessment.period_id == period.id,
                Assessment.status != AssessmentStatus.DRAFT,
            )
            .with_only_columns(Assessment.id)
        )
    )
    return [a for a in period_assessments(period) if a.id in ids]


def _evidence_counts(assessment_ids: list[int], code: str) -> dict[int, int]:
    if not assessment_ids:
        return {}
    rows = db.session.execute(
        sa.select(Evidence.assessment_id, sa.func.count(sa.distinct(Evidence.id)))
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .where(
            Evidence.assessment_id.in_(assessment_ids),
            Evidence.is_current,
            EvidenceLink.criterion_code == code,
        )
        .group_by(Evidence.assessment_id)
    )
    return {aid: count for aid, count in rows}


def criterion_grid(period: Period, leaf: Node, user: User) -> list[GridRow]:
    """One leaf across the units this user may see: largest differences first.

    The leaf is one of the period's first set; units of the other family (a period
    holding both) are scored on another set and are left out.
    """
    assessments = [
        a
        for a in _scoped_assessments(period, user)
        if criteria_for(a).id == period.criteria_set_id
    ]
    counts = _evidence_counts([a.id for a in assessments], leaf.code)
    out = []
    for assessment in assessments:
        row = next(
            (r for r in assessment.scores if r.criterion_code == leaf.code), None
        )
        own = self_score(assessment).leaves[leaf.code]
        out.append(
            GridRow(
                assessment=assessment,
                self_points=own.points,
                appraised_points=row.appraised_points if row else None,
                appraised=bool(row and row.appraised_at),
                evidence_count=counts.get(assessment.id, 0),
                answer_lines=answer_in_words(leaf, leaf_answer(row)),
                comment=row.appraiser_comment if row else "",
            )
        )
    out.sort(key=lambda g: (-abs(g.difference or Decimal(0)), g.assessment.unit.name))
    return out


@dataclass
class Difference:
    assessment: Assessment
    leaf: Node
    self_points: Decimal | None
    appraised_points: Decimal | None
    comment: str

    @property
    def difference(self) -> Decimal:
        return (self.appraised_points or Decimal(0)) - (self.self_points or Decimal(0))


def largest_differences(
    period: Period, user: User, limit: int = 50
) -> list[Difference]:
    """The appraised leaves whose score moved most from the self-score, across units."""
    out = []
    for assessment in _scoped_assessments(period, user):
        own = self_score(assessment)
        rows = {r.criterion_code: r for r in assessment.scores}
        # The unit's own set: a period may hold both families.
        for leaf in appraised_leaves(criteria_for(assessment)):
            row = rows.get(leaf.code)
            if row is None or row.appraised_at is None:
                continue
            self_points = own.leaves[leaf.code].points
            if row.appraised_points == self_points:
                continue
            out.append(
                Difference(
                    assessment,
                    leaf,
                    self_points,
                    row.appraised_points,
                    row.appraiser_comment,
                )
            )
    out.sort(key=lambda d: (-abs(d.difference), d.assessment.unit.name, d.leaf.code))
    return out[:limit]
