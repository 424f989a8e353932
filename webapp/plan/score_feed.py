"""The plan leaf: its fact (tasks completed on time ÷ tasks due in the year × 100)
comes from the tracked plan, is written into editable assessments whenever the plan
changes, and freezes with the submission like any other answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from criteria import Node
from scoring import normalize_answer, score_leaf
from webapp import audit
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.lifecycle import PlanTaskStatus, editable_codes
from webapp.models import Assessment, Period
from webapp.workflow import score_row

PLAN_COMPLETION = "plan_completion"


@dataclass
class Completion:
    """The plan's completion in a year: the counts behind the rate."""

    year: int
    due: list[object] = field(default_factory=list)  # PlanTask, typed loosely: no cycle
    on_time: list[object] = field(default_factory=list)
    late: list[object] = field(default_factory=list)
    not_done: list[object] = field(default_factory=list)

    @property
    def rate(self) -> Decimal | None:
        if not self.due:
            return None
        value = Decimal(100 * len(self.on_time)) / Decimal(len(self.due))
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def completion(
    unit_id: int, year: int, tasks: list[object] | None = None
) -> Completion:
    from webapp.plan.models import PlanTask
    from webapp.plan.tracking import unit_tasks

    result = Completion(year)
    for task in tasks if tasks is not None else unit_tasks(unit_id, year):
        assert isinstance(task, PlanTask)
        if task.due_date is None or task.due_date.year != year:
            continue  # no date of its own, or due another year
        result.due.append(task)
        if task.status == PlanTaskStatus.DONE:
            result.on_time.append(task)
        elif task.status == PlanTaskStatus.DONE_LATE:
            result.late.append(task)
        elif task.status == PlanTaskStatus.NOT_DONE:
            result.not_done.append(task)
    return result


def plan_leaves(assessment: Assessment) -> list[Node]:
    return [
        leaf
        for leaf in criteria_for(assessment).leaves()
        if leaf.fact_source == PLAN_COMPLETION
    ]


def refresh_plan_leaves(unit_id: int, year: int) -> int:
    """Write the plan's rate into every editable plan leaf of the unit's assessments
    of that year; a submitted assessment keeps the value it was frozen with."""
    query = (
        sa.select(Assessment)
        .join(Period, Assessment.period_id == Period.id)
        .where(Assessment.unit_id == unit_id, Period.year == year)
    )
    changed = 0
    rate = completion(unit_id, year).rate
    for assessment in db.session.scalars(query):
        allowed = editable_codes(assessment)
        for leaf in plan_leaves(assessment):
            if allowed is not None and leaf.code not in allowed:
                continue
            changed += _write(assessment, leaf, rate)
    if changed:
        db.session.commit()
    return changed


def _write(assessment: Assessment, leaf: Node, rate: Decimal | None) -> int:
    answer = None if rate is None else normalize_answer(leaf, {"value": str(rate)})
    existing = next(
        (r for r in assessment.scores if r.criterion_code == leaf.code), None
    )
    if (existing.answer if existing else None) == answer:
        return 0
    row = existing or score_row(assessment, leaf.code)
    result = score_leaf(leaf, answer)
    before = audit.changes(row, ["answer", "self_points"]) if existing else None
    row.answer = answer
    row.self_points = result.points
    row.score_explanation = result.explanation
    db.session.flush()
    audit.record(
        "answer.plan",
        "criterion_score",
        f"{assessment.id}/{leaf.code}",
        before=before,
        after=audit.changes(row, ["answer", "self_points"]),
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Cập nhật tiêu chí {leaf.code} từ kế hoạch CCHC: {result.explanation}",
    )
    return 1


# Document kinds a product names first ("Báo cáo kết quả…", "Kế hoạch kiểm tra").
_KINDS = ("ke hoach", "bao cao", "quyet dinh", "thong bao", "nghi quyet", "de an")


def _kind(text: str) -> str | None:
    from evidence_store.text import strip_diacritics

    folded = strip_diacritics(text).lower()
    folded = folded.split(":", 1)[1] if ":" in folded[:6] else folded  # "KH: …"
    folded = folded.strip(" -")
    return next((k for k in _KINDS if folded.startswith(k)), None)


def product_matches(product: str, expected: str) -> bool:
    """A plan product fits a leaf's expected document when both name the same kind
    and share the words "CCHC"/"cải cách hành chính" or the leaf's key words."""
    kind = _kind(product)
    return kind is not None and kind == _kind(expected)


def candidate_evidence(
    unit_id: int, year: int, leaf: Node, tasks: list[Any] | None = None
) -> list[tuple[object, object]]:
    """(Evidence, PlanTask) pairs: plan products whose kind matches the leaf's list."""
    from webapp.plan.tracking import unit_tasks

    pairs: list[tuple[object, object]] = []
    for task in tasks if tasks is not None else unit_tasks(unit_id, year):
        if not task.evidence_links:
            continue
        if any(product_matches(p, e) for p in task.products for e in leaf.evidence):
            pairs.extend((link.evidence, task) for link in task.evidence_links)
    return pairs


@dataclass
class LeafPlan:
    """What the plan leaf shows: the rate, the tasks behind it, candidate proofs."""

    year: int
    unit_id: int
    completion: Completion
    candidates: list[tuple[object, object]]


def leaf_plan(assessment: Assessment, leaf: Node) -> LeafPlan:
    from webapp.plan.tracking import unit_tasks

    year = assessment.period.year
    # One query for both: the rate and the candidate products read the same tasks.
    tasks: list[Any] = unit_tasks(assessment.unit_id, year)
    return LeafPlan(
        year=year,
        unit_id=assessment.unit_id,
        completion=completion(assessment.unit_id, year, tasks),
        candidates=candidate_evidence(assessment.unit_id, year, leaf, tasks),
    )
