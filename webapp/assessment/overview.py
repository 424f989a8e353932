"""What a unit sees of its self-assessment: each leaf's answer and points, progress,
what still blocks submission, the deadline and the area bars.

Points always come from the scoring engine (`normalize_answer` + `score_leaf`), never
from the browser.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from criteria import CriteriaSet, Node
from scoring import (
    AssessmentScore,
    LeafScore,
    describe_answer,
    describe_rule,
    format_decimal,
)
from webapp.clock import now
from webapp.criteria_sets import criteria_for
from webapp.discussion.threads import message_counts_select
from webapp.evidence.candidates import Candidate, candidates_by_leaf
from webapp.evidence.services import evidence_by_leaf, evidence_counts_select
from webapp.extensions import db
from webapp.lifecycle import (
    PeriodStatus,
    editable_codes,
    effective_deadline,
    pending_returns,
)
from webapp.models import (
    Assessment,
    CriterionScore,
    Evidence,
    Period,
    ReturnRequest,
    User,
)
from webapp.workflow import self_score

SELF_ASSESSED = ("self", "system")
SURVEY_MESSAGE = (
    "Tiêu chí này do Sở Nội vụ chấm qua điều tra xã hội học; đơn vị không tự chấm."
)


@dataclass(frozen=True)
class Problem:
    """A leaf that blocks submission (or puts points at risk), with the reason."""

    code: str
    title: str
    reason: str
    stake: Decimal = Decimal(0)


def current_assessment(user: User) -> Assessment | None:
    """The unit's assessment to work on: the open period's, else the latest period's."""
    rows = db.session.scalars(
        sa.select(Assessment)
        .join(Period, Period.id == Assessment.period_id)
        .where(Assessment.unit_id == user.unit_id, Period.status != PeriodStatus.DRAFT)
        .order_by(Period.self_deadline.desc(), Assessment.id.desc())
    ).all()
    opened = [a for a in rows if a.period.status == PeriodStatus.OPEN]
    return (opened or rows)[0] if rows else None


def unit_assessments(user: User) -> list[Assessment]:
    """Every assessment of the user's unit, newest period first."""
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .join(Period, Period.id == Assessment.period_id)
            .where(
                Assessment.unit_id == user.unit_id, Period.status != PeriodStatus.DRAFT
            )
            .order_by(Period.self_deadline.desc())
        )
    )


# A leaf's state in the criteria tree and the filters ("chưa xong" = not done).
LEAF_STATES = {
    "unanswered": "Chưa trả lời",
    "missing_evidence": "Thiếu tài liệu",
    "returned": "Bị trả lại",
    "done": "Đã xong",
    "survey": "Sở Nội vụ chấm",
}
LEAF_FILTERS = {
    "todo": "Chưa xong",
    "missing_evidence": "Thiếu tài liệu",
    "returned": "Bị trả lại",
}


@dataclass
class LeafView:
    """Everything the pages show about one leaf."""

    leaf: Node
    row: CriterionScore | None
    result: LeafScore
    evidence: list[Evidence]
    editable: bool
    # Last year's documents offered for this leaf (issue 18); never attached by itself.
    candidates: list[Candidate] = field(default_factory=list)
    returned: bool = False  # under a return request still open
    # How many documents it has; `evidence` lists them on the shown leaves only.
    evidence_count: int = 0

    @cached_property
    def state(self) -> str:
        """unanswered, missing_evidence, returned, done or survey (see LEAF_STATES).

        Read several times per leaf and render (tree, filters, leaf); a view lives for
        one request, over rows that do not change during it."""
        if self.is_survey:
            return "survey"
        if self.returned:
            return "returned"
        if not self.answered:
            return "unanswered"
        if self.evidence_missing:
            return "missing_evidence"
        return "done"

    @property
    def state_label(self) -> str:
        return LEAF_STATES[self.state]

    @property
    def code(self) -> str:
        return self.leaf.code

    @property
    def is_survey(self) -> bool:
        return self.leaf.assessed_by == "survey"

    @property
    def rule_text(self) -> str:
        return describe_rule(self.leaf)

    @property
    def answered(self) -> bool:
        return self.result.status != "unanswered"

    @property
    def expects_evidence(self) -> bool:
        return bool(self.leaf.evidence)

    @property
    def has_note(self) -> bool:
        return bool(self.row and self.row.note.strip())

    @property
    def claims_points(self) -> bool:
        # Full-points N/A is included: the engine scores it at the maximum.
        return self.result.points is not None and self.result.points > 0

    @property
    def did_not_arise(self) -> bool:
        """Marked "không phát sinh" and left out of the maximum: nothing to prove, no
        points claimed (submission accepts it as it is)."""
        return self.result.status == "not_applicable" and self.result.points is None

    @property
    def evidence_missing(self) -> bool:
        """Expects documents, has none, and the unit has not explained why."""
        if self.did_not_arise:
            return False
        return self.expects_evidence and not self.evidence_count and not self.has_note

    @property
    def answer_text(self) -> str:
        return answer_text(self.leaf, self.row.answer if self.row else None)


@dataclass
class AssessmentView:
    """An assessment with its score and every leaf, for the dashboard and the page."""

    assessment: Assessment
    criteria: CriteriaSet
    score: AssessmentScore
    leaves: dict[str, LeafView]
    editable: set[str] | None  # None: every leaf editable (draft before the deadline)
    open_returns: list[ReturnRequest] = field(default_factory=list)
    # Trao đổi messages per leaf, read with the document counts (criteria page only).
    message_counts: dict[str, int] | None = None

    def self_leaves(self) -> list[LeafView]:
        return [v for v in self.leaves.values() if v.leaf.assessed_by in SELF_ASSESSED]

    def area_leaves(self, area: Node) -> list[LeafView]:
        """The area's leaves in document order."""
        prefix = area.code + "."
        return [v for c, v in self.leaves.items() if c.startswith(prefix)]

    def filter_counts(self) -> dict[str, int]:
        """How many self-assessed leaves each filter of LEAF_FILTERS shows."""
        states = [v.state for v in self.self_leaves()]
        return {
            "todo": sum(1 for s in states if s != "done"),
            "missing_evidence": states.count("missing_evidence"),
            "returned": states.count("returned"),
        }


def assessment_view(
    assessment: Assessment,
    user: User | None = None,
    *,
    listed: Collection[str] | None = None,
) -> AssessmentView:
    """Score the assessment and gather each leaf's row, result and documents.

    `listed`: the leaves whose documents are loaded (default all); the others only
    have them counted, which is all the criteria tree's states need."""
    cs = criteria_for(assessment)
    score = self_score(assessment)
    rows = {r.criterion_code: r for r in assessment.scores}
    documents = evidence_by_leaf(assessment, listed)
    messages = None
    if listed is None:
        counts = {code: len(docs) for code, docs in documents.items()}
    else:
        counts, messages = leaf_counts(assessment)
    allowed = editable_codes(assessment, now())
    may_write = user is not None and user.is_unit_user
    offered = candidates_by_leaf(assessment) if may_write else {}
    returns = pending_returns(assessment)
    returned = {code for r in returns for code in r.criterion_codes}
    leaves = {}
    for leaf in cs.leaves():
        editable = (
            may_write
            and leaf.assessed_by in SELF_ASSESSED
            and (allowed is None or leaf.code in allowed)
        )
        leaves[leaf.code] = LeafView(
            leaf=leaf,
            row=rows.get(leaf.code),
            result=score.leaves[leaf.code],
            evidence=documents.get(leaf.code, []),
            editable=editable,
            candidates=offered.get(leaf.code, []) if editable else [],
            returned=leaf.code in returned,
            evidence_count=counts.get(leaf.code, 0),
        )
    return AssessmentView(assessment, cs, score, leaves, allowed, returns, messages)


_LEAF_COUNTS = sa.union_all(  # built once: the first column says which count
    evidence_counts_select(sa.bindparam("assessment_id"), sa.literal(0, sa.Integer)),
    message_counts_select(sa.bindparam("assessment_id"), sa.literal(1, sa.Integer)),
)


def leaf_counts(assessment: Assessment) -> tuple[dict[str, int], dict[str, int]]:
    """Current documents and Trao đổi messages per leaf: two GROUP BYs, one round
    trip (the criteria tree needs the first, each leaf's thread link the second)."""
    rows = db.session.execute(_LEAF_COUNTS, {"assessment_id": assessment.id})
    out: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for kind, code, count in rows:
        out[kind][code] = int(count)
    return out


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    with_evidence: int
    expecting_evidence: int


def progress(view: AssessmentView) -> Progress:
    leaves = view.self_leaves()
    expecting = [v for v in leaves if v.expects_evidence]
    return Progress(
        answered=sum(1 for v in leaves if v.answered),
        total=len(leaves),
        with_evidence=sum(1 for v in expecting if v.evidence_count),
        expecting_evidence=len(expecting),
    )


def points_at_risk(view: AssessmentView) -> list[Problem]:
    """Unanswered leaves, and leaves lacking documents and explanation; by points."""
    out: list[tuple[Decimal, int, Problem]] = []
    for position, v in enumerate(view.self_leaves()):
        if not v.answered:
            stake = v.leaf.max_points
            out.append(
                (stake, position, Problem(v.code, v.leaf.title, "Chưa trả lời", stake))
            )
        elif v.evidence_missing and v.result.points is not None:
            stake = v.result.points
            reason = "Chưa có tài liệu kiểm chứng và chưa có giải trình"
            out.append((stake, position, Problem(v.code, v.leaf.title, reason, stake)))
    out.sort(key=lambda item: (-item[0], item[1]))
    return [p for _, _, p in out]


def submit_problems(view: AssessmentView) -> list[Problem]:
    """Leaves that block submission, in document order."""
    problems = []
    for v in view.self_leaves():
        if not v.answered:
            problems.append(
                Problem(v.code, v.leaf.title, "Chưa trả lời", v.leaf.max_points)
            )
        elif v.claims_points and v.evidence_missing:
            problems.append(
                Problem(
                    v.code,
                    v.leaf.title,
                    "Tự chấm "
                    + format_decimal(v.result.points or Decimal(0))
                    + " điểm nhưng chưa có tài liệu kiểm chứng và chưa có giải trình",
                    v.result.points or Decimal(0),
                )
            )
    return problems


@dataclass(frozen=True)
class Deadline:
    at: datetime
    # The server's "now": the live countdown must not trust a wrong PC clock.
    current: datetime
    extended: bool
    passed: bool
    remaining_text: str


def deadline_info(assessment: Assessment) -> Deadline:
    at = effective_deadline(assessment)
    current = now()
    return Deadline(
        at=at,
        current=current,
        extended=at != assessment.period.self_deadline,
        passed=current > at,
        remaining_text=countdown_text(at, current),
    )


def countdown_text(deadline: datetime, current: datetime) -> str:
    """Time left: "còn 16 ngày 07 giờ", "còn 07 giờ 05 phút", or "đã hết hạn"."""
    seconds = int((deadline - current).total_seconds())
    if seconds < 0:
        return "đã hết hạn"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"còn {days} ngày {hours:02d} giờ"
    return f"còn {hours:02d} giờ {minutes:02d} phút"


@dataclass(frozen=True)
class AreaBar:
    code: str
    title: str
    points: Decimal
    max_points: Decimal
    index: Decimal | None


def area_bars(view: AssessmentView) -> list[AreaBar]:
    return [
        AreaBar(
            code=area.code,
            title=area.title,
            points=view.score.nodes[area.code].points,
            max_points=view.score.nodes[area.code].max_points,
            index=view.score.nodes[area.code].index,
        )
        for area in view.criteria.areas
    ]


def answer_text(leaf: Node, answer: dict[str, Any] | None) -> str:
    """A stored answer in words, on one line: "Tỷ lệ 92,5%", "Mức “Có triển khai”"."""
    return "; ".join(describe_answer(leaf, answer))


def area_of(code: str) -> str:
    """The area (lĩnh vực) a leaf or criterion belongs to: "3.2.1" → "3"."""
    return code.split(".", 1)[0]


ALL_AREAS = "all"


@dataclass(frozen=True)
class CriteriaPage:
    """Which areas the criteria page renders in full; the others load on demand.

    One area at a time keeps the page small and cheap whatever the size of the set;
    ``?area=all`` renders every area (printing, or reading it all without JavaScript).
    """

    current: str  # the area shown first; ALL_AREAS when every area is rendered
    shown: frozenset[str]
    leaf_codes: frozenset[str]

    def rendered(self, area: Node) -> bool:
        return area.code in self.shown


def criteria_page(criteria: CriteriaSet, wanted: str | None) -> CriteriaPage:
    """The areas to render for ?area=`wanted` (an unknown code: the first area)."""
    codes = [a.code for a in criteria.areas]
    if wanted == ALL_AREAS:
        shown = frozenset(codes)
        current = ALL_AREAS
    else:
        current = wanted if wanted in codes else (codes[0] if codes else "")
        shown = frozenset({current})
    leaf_codes = frozenset(
        leaf.code for leaf in criteria.leaves() if area_of(leaf.code) in shown
    )
    return CriteriaPage(current, shown, leaf_codes)
