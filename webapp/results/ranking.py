"""Results (kết quả): final scores, index per area, band and rank, and who may see them.

An assessment takes part in a period's results once it has been submitted (any status
but draft); a unit that never submitted is listed apart and not ranked. Its final score
is the appraised points plus the survey points (``workflow.final_score``); ranks follow
the overall index (``scoring.rank``: ties share a rank, the next rank skips).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import NamedTuple

from criteria import CriteriaSet, Node
from scoring import AssessmentScore, rank
from webapp.access import assigned_unit_ids, visible_assessments
from webapp.appraisal.standings import ScoreSummary, standings
from webapp.appraisal.survey import period_assessments
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus, PeriodStatus
from webapp.models import Assessment, Period, Unit, User
from webapp.period_rules import set_id_for
from webapp.workflow import final_score, self_score

CENT = Decimal("0.01")


@dataclass
class UnitResult:
    """One unit's place in the period: totals and areas (leaves: ``unit_scores``)."""

    assessment: Assessment
    self_total: ScoreSummary
    final: ScoreSummary
    to_appraise: int
    appraised: int
    missing_survey: tuple[str, ...]
    rank: int | None = None
    family: str = ""  # the set the unit is scored on: ranks are within a family

    @property
    def unit(self) -> Unit:
        return self.assessment.unit

    @property
    def taking_part(self) -> bool:
        return self.assessment.status.handed_in

    @cached_property
    def problems(self) -> list[str]:
        """What still stands in the way of publishing this unit's result."""
        out = []
        if self.assessment.status == AssessmentStatus.RETURNED:
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
    # Per unit family (set id): its set and area averages (issue 18: both families).
    family_cs: dict[str, CriteriaSet] = field(default_factory=dict)
    family_average: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)

    def cs_of(self, row: UnitResult) -> CriteriaSet:
        """The set the row's unit is scored on."""
        return self.family_cs.get(row.family, self.cs)

    def areas_of(self, row: UnitResult) -> tuple[Node, ...]:
        return self.cs_of(row).areas

    def average_of(self, row: UnitResult, code: str) -> Decimal | None:
        """The area's average over the units of the row's family."""
        return self.family_average.get(row.family, self.area_average).get(code)

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
        return self.period.status == PeriodStatus.PUBLISHED

    @property
    def multi_family(self) -> bool:
        """Tell whether the period holds units of both families (two rankings)."""
        return bool(self.period.family_sets)

    def family_size(self, row: UnitResult) -> int:
        return sum(1 for r in self.rows if r.family == row.family)

    def row_for(self, assessment_id: int) -> UnitResult | None:
        return next((r for r in self.rows if r.assessment.id == assessment_id), None)


class UnitScores(NamedTuple):
    own: AssessmentScore
    final: AssessmentScore


def unit_scores(assessment: Assessment) -> UnitScores:
    """The unit's full self and final scores, leaf by leaf (one unit's page)."""
    return UnitScores(self_score(assessment), final_score(assessment))


def period_results(period: Period) -> PeriodResults:
    """Every unit's final score, index, band and rank in the period."""
    cs = criteria_for(period)
    assessments = period_assessments(period, scores=False)
    by_id = standings(assessments)
    results = [
        UnitResult(
            a,
            by_id[a.id].self_total,
            by_id[a.id].final,
            by_id[a.id].to_appraise,
            by_id[a.id].appraised,
            by_id[a.id].missing_survey,
            family=set_id_for(period, a.unit.kind),
        )
        for a in assessments
    ]
    taking = [r for r in results if r.taking_part]
    # Each unit family is scored on its own set and ranked within the family.
    for family in {r.family for r in taking}:
        ranks = rank(
            {
                r.assessment.id: r.final.index
                for r in taking
                if r.family == family and r.final.index is not None
            }
        )
        for r in taking:
            if r.family == family:
                r.rank = ranks.get(r.assessment.id)
    first = period.criteria_set_id
    taking.sort(
        key=lambda r: (
            (r.family != first, r.family, r.rank is None, r.rank or 0) + (r.unit.name,)
        )
    )
    family_cs = {r.family: criteria_for(r.assessment) for r in results}
    family_average = {
        family: _area_averages(fcs, [r for r in taking if r.family == family])
        for family, fcs in family_cs.items()
    }
    return PeriodResults(
        period,
        cs,
        taking,
        [r for r in results if not r.taking_part],
        family_average.get(first) or _area_averages(cs, []),
        family_cs,
        family_average,
    )


def _area_averages(
    cs: CriteriaSet, rows: list[UnitResult]
) -> dict[str, Decimal | None]:
    averages: dict[str, Decimal | None] = {}
    for area in cs.areas:
        indexes = [
            index for r in rows if (index := r.final.nodes[area.code].index) is not None
        ]
        averages[area.code] = (
            (sum(indexes, Decimal(0)) / len(indexes)).quantize(CENT, ROUND_HALF_UP)
            if indexes
            else None
        )
    return averages


def published_result(assessment: Assessment) -> UnitResult | None:
    """The unit's published result (score, index, band, rank); None before publishing.

    A unit that never submitted gets its row too, with no rank ("Không xếp hạng").
    """
    if assessment.period.status != "published":
        return None
    results = period_results(assessment.period)
    return results.row_for(assessment.id) or next(
        (r for r in results.absent if r.assessment.id == assessment.id), None
    )


def can_see_ranking(period: Period, user: User) -> bool:
    """Coordinator and appraisers always; a unit's users once published (if in it)."""
    if user.role in ("admin", "appraiser"):
        return True
    if user.is_unit_user and period.status == PeriodStatus.PUBLISHED:
        return any(unit.id == user.unit_id for unit in period.units)
    return False


def visible_lines(
    results: PeriodResults, user: User
) -> tuple[list[UnitResult], list[UnitResult]]:
    """The ranked rows and the units left out (never submitted) that ``user`` may see.

    Before publication an appraiser sees only the units assigned to them; which units
    have not submitted is the coordinator's to know, and an appraiser's only for their
    own units (unassigned ones stay out of the list even after publication).
    """
    if user.role == "admin":
        return results.rows, results.absent
    if results.published:
        rows = results.rows
    else:
        ids = set(
            db.session.scalars(
                visible_assessments(user)
                .where(Assessment.period_id == results.period.id)
                .with_only_columns(Assessment.id)
            )
        )
        rows = [r for r in results.rows if r.assessment.id in ids]
    assigned: set[int] = set()
    if user.role == "appraiser":
        assigned = set(db.session.scalars(assigned_unit_ids(user, results.period.id)))
    return rows, [r for r in results.absent if r.unit.id in assigned]


def can_see_unit_result(assessment: Assessment, user: User) -> bool:
    """Unit users see their own result only once the period is published."""
    if user.is_unit_user:
        return (
            assessment.period.status == PeriodStatus.PUBLISHED
            and assessment.status.handed_in
        )
    return True
