"""Results (kết quả): final scores, index per area, band, rank, publication, analyses.

An assessment takes part in a period's results once it has been submitted (any status
but draft); a unit that never submitted is listed apart and not ranked. Its final score
is the appraised points plus the survey points (``workflow.final_score``); ranks follow
the overall index (``scoring.rank``: ties share a rank, the next rank skips).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from criteria import CriteriaSet, Node
from scoring import AssessmentScore, rank
from webapp import audit
from webapp.access import visible_assessments
from webapp.appraisal.services import (
    AppraisalError,
    appraised_leaves,
    criteria_for_period,
    describe_answer,
    leaf_answer,
)
from webapp.appraisal.survey import period_assessments, survey_leaves
from webapp.clock import now
from webapp.extensions import db
from webapp.models import Assessment, Evidence, EvidenceLink, Period, Unit, User
from webapp.workflow import final_score, self_score

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")


class PublicationRefused(AppraisalError):
    """Publication refused; ``problems`` lists what is still missing, unit by unit."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Chưa thể công bố kết quả: " + "; ".join(problems))
        self.problems = problems


@dataclass
class UnitResult:
    assessment: Assessment
    self_total: AssessmentScore
    final: AssessmentScore
    to_appraise: int
    appraised: int
    missing_survey: list[str]
    rank: int | None = None

    @property
    def unit(self) -> Unit:
        return self.assessment.unit

    @property
    def taking_part(self) -> bool:
        return self.assessment.status != "draft"

    @property
    def problems(self) -> list[str]:
        """What still stands in the way of publishing this unit's result."""
        out = []
        if self.assessment.status == "returned":
            out.append("đang chờ đơn vị giải trình, bổ sung")
        if self.appraised < self.to_appraise:
            out.append(
                f"còn {self.to_appraise - self.appraised} tiêu chí chưa thẩm định"
            )
        if self.missing_survey:
            out.append(
                "thiếu kết quả điều tra XHH tiêu chí " + ", ".join(self.missing_survey)
            )
        return out

    @property
    def complete(self) -> bool:
        return self.taking_part and not self.problems


@dataclass
class PeriodResults:
    period: Period
    cs: CriteriaSet
    rows: list[UnitResult]  # taking part, best rank first
    absent: list[UnitResult]  # never submitted: not ranked
    area_average: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def areas(self) -> tuple[Node, ...]:
        return self.cs.areas

    @property
    def problems(self) -> list[str]:
        if not self.rows:
            return ["chưa có đơn vị nào gửi hồ sơ tự đánh giá"]
        return [
            f"{r.unit.name}: {'; '.join(r.problems)}" for r in self.rows if r.problems
        ]

    @property
    def published(self) -> bool:
        return self.period.status == "published"

    def row_for(self, assessment_id: int) -> UnitResult | None:
        return next((r for r in self.rows if r.assessment.id == assessment_id), None)


def unit_result(assessment: Assessment) -> UnitResult:
    cs = criteria_for_period(assessment.period)
    appraised_codes = {leaf.code for leaf in appraised_leaves(cs)}
    rows = {r.criterion_code: r for r in assessment.scores}
    done = sum(
        1
        for code in appraised_codes
        if code in rows and rows[code].appraised_at is not None
    )
    missing = [
        leaf.code
        for leaf in survey_leaves(cs)
        if leaf.code not in rows or rows[leaf.code].survey_value is None
    ]
    return UnitResult(
        assessment=assessment,
        self_total=self_score(assessment),
        final=final_score(assessment),
        to_appraise=len(appraised_codes),
        appraised=done,
        missing_survey=missing,
    )


def period_results(period: Period) -> PeriodResults:
    """Every unit's final score, index, band and rank in the period."""
    cs = criteria_for_period(period)
    results = [unit_result(a) for a in period_assessments(period)]
    taking = [r for r in results if r.taking_part]
    ranks = rank(
        {r.assessment.id: r.final.index for r in taking if r.final.index is not None}
    )
    for r in taking:
        r.rank = ranks.get(r.assessment.id)
    taking.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit.name))
    averages: dict[str, Decimal | None] = {}
    for area in cs.areas:
        indexes = [
            r.final.nodes[area.code].index
            for r in taking
            if r.final.nodes[area.code].index is not None
        ]
        averages[area.code] = (
            (sum(indexes, Decimal(0)) / len(indexes)).quantize(CENT, ROUND_HALF_UP)
            if indexes
            else None
        )
    return PeriodResults(
        period, cs, taking, [r for r in results if not r.taking_part], averages
    )


def publish_period(period: Period, *, actor: User) -> PeriodResults:
    """Publish the period's results; refused while any result is incomplete.

    Refusing (rather than publishing with a warning) keeps a published ranking final:
    once units see it, no pending appraisal or survey value can still move it.
    """
    if period.status == "published":
        raise AppraisalError("Kết quả kỳ đánh giá này đã được công bố.")
    if period.status == "draft":
        raise AppraisalError("Kỳ đánh giá chưa mở: không có kết quả để công bố.")
    results = period_results(period)
    if results.problems:
        raise PublicationRefused(results.problems)
    for row in results.rows:
        row.assessment.status = "appraised"
    before = {"status": period.status, "published_at": period.published_at}
    period.status = "published"
    period.published_at = now()
    audit.record(
        "period.publish",
        "period",
        period.id,
        before=before,
        after={
            "status": "published",
            "published_at": period.published_at,
            "results": {
                r.unit.code: {
                    "points": r.final.points,
                    "max_points": r.final.max_points,
                    "index": r.final.index,
                    "band": r.final.band,
                    "rank": r.rank,
                }
                for r in results.rows
            },
        },
        period_id=period.id,
        summary=f"Công bố kết quả {period.name} ({len(results.rows)} đơn vị)",
        actor=actor,
    )
    db.session.commit()
    logger.info("period %s published by %s", period.id, actor.id)
    return results


# -- who sees what -------------------------------------------------------------------


def can_see_ranking(period: Period, user: User) -> bool:
    """Coordinator and appraisers always; a unit's users once published (if in it)."""
    if user.role in ("admin", "appraiser"):
        return True
    if user.is_unit_user and period.status == "published":
        return any(unit.id == user.unit_id for unit in period.units)
    return False


def visible_rows(results: PeriodResults, user: User) -> list[UnitResult]:
    """Before publication an appraiser sees only the units assigned to them."""
    if user.role == "admin" or results.published:
        return results.rows
    ids = set(
        db.session.scalars(
            visible_assessments(user)
            .where(Assessment.period_id == results.period.id)
            .with_only_columns(Assessment.id)
        )
    )
    return [r for r in results.rows if r.assessment.id in ids]


def can_see_unit_result(assessment: Assessment, user: User) -> bool:
    """Unit users see their own result only once the period is published."""
    if user.is_unit_user:
        return assessment.period.status == "published" and assessment.status != "draft"
    return True


# -- analyses for the coordinator and appraisers -------------------------------------


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
            .where(Assessment.period_id == period.id, Assessment.status != "draft")
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
            Evidence.replaced_by_id.is_(None),
            EvidenceLink.criterion_code == code,
        )
        .group_by(Evidence.assessment_id)
    )
    return {aid: count for aid, count in rows}


def criterion_grid(period: Period, leaf: Node, user: User) -> list[GridRow]:
    """One leaf across the units this user may see: largest differences first."""
    assessments = _scoped_assessments(period, user)
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
                answer_lines=describe_answer(leaf, leaf_answer(row)),
                comment=row.appraiser_comment if row else "",
            )
        )
    out.sort(key=lambda g: (-abs(g.difference or 0), g.assessment.unit.name))
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
    cs = criteria_for_period(period)
    leaves = appraised_leaves(cs)
    out = []
    for assessment in _scoped_assessments(period, user):
        own = self_score(assessment)
        rows = {r.criterion_code: r for r in assessment.scores}
        for leaf in leaves:
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
