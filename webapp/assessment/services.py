"""Self-assessment services: the unit's figures, saving answers, submitting, reopening.

Every change is one transaction that also writes its audit event (answer.save,
assessment.submit, assessment.reopen). Points always come from the scoring engine
(`normalize_answer` + `score_leaf`), never from the browser.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from criteria import (
    BinaryRule,
    ChecklistRule,
    CriteriaSet,
    DeductionRule,
    ManualRule,
    Node,
    TiersRule,
)
from scoring import (
    AnswerError,
    AssessmentScore,
    LeafScore,
    describe_rule,
    format_decimal,
    format_points,
    normalize_answer,
    score_leaf,
)
from webapp import audit
from webapp.clock import now, to_vn
from webapp.evidence.services import current_evidence, evidence_by_leaf
from webapp.extensions import db
from webapp.models import (
    Assessment,
    CriterionScore,
    Evidence,
    Period,
    ReturnRequest,
    User,
)
from webapp.workflow import (
    NotEditable,
    answers_of,
    criteria_for,
    editable_codes,
    effective_deadline,
    ensure_editable,
    score_row,
    self_score,
)

logger = logging.getLogger(__name__)

SELF_ASSESSED = ("self", "system")
SURVEY_MESSAGE = (
    "Tiêu chí này do Sở Nội vụ chấm qua điều tra xã hội học; đơn vị không tự chấm."
)
AUDIT_FIELDS = [
    "answer",
    "is_not_applicable",
    "self_points",
    "score_explanation",
    "note",
]


# -- errors ----------------------------------------------------------------------------


class AnswerInvalid(Exception):
    """The engine refused an answer; `field` is its field (value, numerator…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleAnswer(Exception):
    """Someone else saved the leaf after this form was opened; nothing was written."""

    def __init__(self, row: CriterionScore | None, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


@dataclass(frozen=True)
class Problem:
    """A leaf that blocks submission (or puts points at risk), with the reason."""

    code: str
    title: str
    reason: str
    stake: Decimal = Decimal(0)


class SubmitRefused(Exception):
    """Submission refused because of the listed leaves."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} tiêu chí chưa đủ điều kiện gửi")
        self.problems = problems


# -- reading ------------------------------------------------------------------------


def current_assessment(user: User) -> Assessment | None:
    """The unit's assessment to work on: the open period's, else the latest period's."""
    rows = db.session.scalars(
        sa.select(Assessment)
        .join(Period, Period.id == Assessment.period_id)
        .where(Assessment.unit_id == user.unit_id, Period.status != "draft")
        .order_by(Period.self_deadline.desc(), Assessment.id.desc())
    ).all()
    opened = [a for a in rows if a.period.status == "open"]
    return (opened or rows or [None])[0]


def unit_assessments(user: User) -> list[Assessment]:
    """Every assessment of the user's unit, newest period first."""
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .join(Period, Period.id == Assessment.period_id)
            .where(Assessment.unit_id == user.unit_id, Period.status != "draft")
            .order_by(Period.self_deadline.desc())
        )
    )


@dataclass
class LeafView:
    """Everything the pages show about one leaf."""

    leaf: Node
    row: CriterionScore | None
    result: LeafScore
    evidence: list[Evidence]
    editable: bool

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
    def evidence_missing(self) -> bool:
        """Expects documents, has none, and the unit has not explained why."""
        return self.expects_evidence and not self.evidence and not self.has_note

    @property
    def answer_text(self) -> str:
        return describe_answer(self.leaf, self.row.answer if self.row else None)


@dataclass
class AssessmentView:
    """An assessment with its score and every leaf, for the dashboard and the page."""

    assessment: Assessment
    criteria: CriteriaSet
    score: AssessmentScore
    leaves: dict[str, LeafView]
    editable: set[str] | None  # None: every leaf editable (draft before the deadline)
    open_returns: list[ReturnRequest] = field(default_factory=list)

    def self_leaves(self) -> list[LeafView]:
        return [v for v in self.leaves.values() if v.leaf.assessed_by in SELF_ASSESSED]


def assessment_view(assessment: Assessment, user: User | None = None) -> AssessmentView:
    """Score the assessment and gather each leaf's row, result and documents."""
    cs = criteria_for(assessment)
    score = self_score(assessment)
    rows = {r.criterion_code: r for r in assessment.scores}
    documents = evidence_by_leaf(assessment)
    allowed = editable_codes(assessment, now())
    may_write = user is not None and user.is_unit_user
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
        )
    # Every request still open is shown, past its due date too: the unit must see why
    # the returned leaves no longer accept changes.
    returns = list(
        db.session.scalars(
            sa.select(ReturnRequest)
            .where(
                ReturnRequest.assessment_id == assessment.id,
                ReturnRequest.status == "open",
            )
            .order_by(ReturnRequest.due_at)
        )
    )
    return AssessmentView(assessment, cs, score, leaves, allowed, returns)


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
        with_evidence=sum(1 for v in expecting if v.evidence),
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


def describe_answer(leaf: Node, answer: dict[str, Any] | None) -> str:
    """A stored answer in words: "Tỷ lệ 92,5%", "Ngày 15/01/2026", "Đạt nội dung 1"."""
    if not answer:
        return "Chưa trả lời"
    if answer.get("not_applicable"):
        return "Không phát sinh / không áp dụng"
    rule = leaf.rule
    if isinstance(rule, BinaryRule):
        return "Đạt" if answer.get("value") else "Không đạt"
    if isinstance(rule, TiersRule) and rule.measure.unit == "date":
        try:
            return "Ngày " + date.fromisoformat(answer["value"]).strftime("%d/%m/%Y")
        except (KeyError, ValueError):
            return str(answer)
    if "value" in answer:
        return f"Tỷ lệ {format_points(Decimal(str(answer['value'])))}%"
    if "numerator" in answer:
        num = format_points(Decimal(str(answer["numerator"])))
        den = format_points(Decimal(str(answer["denominator"])))
        return f"Tử số {num}, mẫu số {den}"
    if isinstance(rule, ChecklistRule):
        checked = answer.get("checked", [])
        if not checked:
            return "Không đạt nội dung nào"
        return "Đạt nội dung " + ", ".join(str(i + 1) for i in checked)
    if isinstance(rule, DeductionRule):
        parts = [
            f"{event.event}: {count} lần"
            for event, count in zip(rule.events, answer.get("counts", []), strict=False)
        ]
        return "; ".join(parts)
    if isinstance(rule, ManualRule):
        level = answer.get("level")
        if isinstance(level, int) and 0 <= level < len(rule.levels):
            return f"Mức “{rule.levels[level].text}”"
    return str(answer)


# -- writing ------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveOutcome:
    row: CriterionScore
    changed: bool
    result: LeafScore

    def notice(self, code: str) -> tuple[str, str]:
        """The flash after a save: what the leaf now scores, or that nothing changed."""
        if self.changed:
            return f"Đã lưu tiêu chí {code}: {self.result.explanation}", "success"
        return f"Tiêu chí {code}: không có thay đổi.", "info"


def _current_row(assessment: Assessment, code: str) -> CriterionScore | None:
    return db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def stale_message(leaf: Node, row: CriterionScore | None) -> str:
    """ "Tiêu chí này vừa được <người> cập nhật lúc <giờ>; giá trị hiện tại: …"."""
    if row is None:
        return "Tiêu chí này vừa được thay đổi; vui lòng tải lại trang."
    who = row.updated_by.full_name if row.updated_by else "người khác"
    when = to_vn(row.updated_at).strftime("%H:%M:%S %d/%m/%Y")
    points = (
        "" if row.self_points is None else f" ({format_decimal(row.self_points)} điểm)"
    )
    note = f"; thuyết minh: “{row.note}”" if row.note else ""
    return (
        f"Tiêu chí này vừa được {who} cập nhật lúc {when}; giá trị hiện tại: "
        f"{describe_answer(leaf, row.answer)}{points}{note}. "
        "Chưa lưu thay đổi của bạn: kiểm tra lại rồi bấm Lưu nếu vẫn muốn thay đổi."
    )


def check_leaf_editable(assessment: Assessment, leaf: Node) -> None:
    """Raise NotEditable unless the unit may change the leaf (frozen, late, survey)."""
    if leaf.assessed_by not in SELF_ASSESSED:
        raise NotEditable(SURVEY_MESSAGE)
    ensure_editable(assessment, leaf.code)


def save_answer(
    assessment: Assessment,
    leaf: Node,
    *,
    answer: dict[str, Any] | None,
    note: str,
    version: int | None,
    user: User,
) -> SaveOutcome:
    """Check, score and store one leaf's answer and explanation (audited).

    Raises NotEditable (frozen or late), AnswerInvalid (the engine refused it)
    or StaleAnswer (`version` is not the row's current one: someone saved meanwhile).
    """
    check_leaf_editable(assessment, leaf)
    try:
        normalized = normalize_answer(leaf, answer)
    except AnswerError as exc:
        raise AnswerInvalid(exc.field, _sentence(exc.message, leaf.code)) from None
    result = score_leaf(leaf, normalized)

    row = _current_row(assessment, leaf.code)
    if version is None or version != (row.version if row else 0):
        raise StaleAnswer(row, stale_message(leaf, row))

    note = note.strip()
    is_na = bool(normalized and normalized.get("not_applicable"))
    if row is not None and (
        row.answer == normalized and row.note == note and row.is_not_applicable == is_na
    ):
        return SaveOutcome(row, False, result)

    before = audit.changes(row, AUDIT_FIELDS) if row is not None else None
    user_id, at = user.id, now()
    try:
        # No autoflush: a half-filled new row must not be inserted by a lazy load.
        with db.session.no_autoflush:
            row = row or score_row(assessment, leaf.code)
            row.answer = normalized
            row.is_not_applicable = is_na
            row.self_points = result.points
            row.score_explanation = result.explanation
            row.note = note
            row.updated_by_id = user_id
            row.updated_at = at
        db.session.flush()
    except (StaleDataError, IntegrityError):
        # Another save committed between our version check and this write.
        db.session.rollback()
        current = _current_row(assessment, leaf.code)
        raise StaleAnswer(current, stale_message(leaf, current)) from None
    audit.record(
        "answer.save",
        "criterion_score",
        f"{assessment.id}/{leaf.code}",
        before=before,
        after=audit.changes(row, AUDIT_FIELDS),
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Lưu câu trả lời tiêu chí {leaf.code}: {result.explanation}",
        actor=user,
    )
    db.session.commit()
    logger.info("answer %s/%s saved by %s", assessment.id, leaf.code, user.username)
    return SaveOutcome(row, True, result)


def _sentence(message: str, code: str) -> str:
    """Engine messages start with the code ("1.1.3: …"); at the field it is noise."""
    text = message.removeprefix(f"{code}: ").strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def build_snapshot(
    assessment: Assessment, view: AssessmentView, at: datetime, user: User
) -> dict[str, Any]:
    """The frozen record of a submission: answers, scores, totals, evidence hashes."""
    score = view.score
    leaves = {}
    for code, v in view.leaves.items():
        leaves[code] = {
            "self_points": None if v.result.points is None else str(v.result.points),
            "max_points": str(v.leaf.max_points),
            "status": v.result.status,
            "explanation": v.result.explanation,
            "note": v.row.note if v.row else "",
            "not_applicable": bool(v.row and v.row.is_not_applicable),
        }
    return {
        "criteria_set": view.criteria.id,
        "taken_at": at.isoformat(),
        "taken_by": user.full_name,
        "answers": answers_of(assessment),
        "leaves": leaves,
        "totals": {
            "points": str(score.points),
            "max": str(score.max_points),
            "index": None if score.index is None else str(score.index),
            "band": score.band,
            "pending": list(score.pending),
            "areas": {
                area.code: {
                    "points": str(score.nodes[area.code].points),
                    "max": str(score.nodes[area.code].max_points),
                    "index": (
                        None
                        if score.nodes[area.code].index is None
                        else str(score.nodes[area.code].index)
                    ),
                }
                for area in view.criteria.areas
            },
        },
        "evidence": [
            {
                "id": e.id,
                "sha256": e.sha256,
                "size": e.size,
                "original_filename": e.original_filename,
                "codes": e.criterion_codes,
            }
            for e in sorted(current_evidence(assessment), key=lambda e: e.id)
        ],
    }


def check_can_submit(assessment: Assessment) -> None:
    """Raise NotEditable (a message about submitting) if the unit may not submit now."""
    if assessment.status in ("submitted", "appraised"):
        when = ""
        if assessment.submitted_at:
            when = " lúc " + to_vn(assessment.submitted_at).strftime("%H:%M %d/%m/%Y")
        raise NotEditable(f"Hồ sơ đã được gửi{when}: không thể gửi lại.")
    try:
        ensure_editable(assessment)
    except NotEditable as exc:
        if assessment.status == "returned":
            raise NotEditable(
                "Yêu cầu giải trình, bổ sung đã quá hạn: không thể gửi lại hồ sơ."
            ) from None
        if assessment.period.status == "open":
            deadline = to_vn(effective_deadline(assessment)).strftime(
                "%H:%M:%S %d/%m/%Y"
            )
            raise NotEditable(
                f"Đã quá hạn gửi hồ sơ tự đánh giá ({deadline}). "
                "Liên hệ Sở Nội vụ nếu đơn vị cần gia hạn."
            ) from None
        raise exc


def submit_assessment(assessment: Assessment, user: User) -> Assessment:
    """Freeze the assessment (or resubmit a returned one) once deadline and gaps allow.

    Raises NotEditable (late, already submitted) or SubmitRefused (the leaves at fault).
    """
    check_can_submit(assessment)
    view = assessment_view(assessment, user)
    problems = submit_problems(view)
    if problems:
        raise SubmitRefused(problems)
    at = now()
    resubmission = assessment.status == "returned"
    before = {
        "status": assessment.status,
        "submitted_at": assessment.submitted_at,
        "submitted_by_id": assessment.submitted_by_id,
    }
    snapshot = build_snapshot(assessment, view, at, user)
    assessment.status = "submitted"
    if not resubmission or assessment.submitted_at is None:
        assessment.submitted_at = at
        assessment.submitted_by_id = user.id
    else:
        # The first submission time stays (it proves the deadline was met).
        snapshot["resubmitted_at"] = at.isoformat()
    assessment.snapshot = snapshot
    resolved = []
    for request in db.session.scalars(
        sa.select(ReturnRequest).where(
            ReturnRequest.assessment_id == assessment.id, ReturnRequest.status == "open"
        )
    ):
        request.status = "resubmitted"
        request.resubmitted_at = at
        resolved.append(request.id)
    digest = hashlib.sha256(
        json.dumps(snapshot, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    audit.record(
        "assessment.submit",
        "assessment",
        assessment.id,
        before=before,
        after={
            "status": "submitted",
            "submitted_at": assessment.submitted_at,
            "submitted_by_id": assessment.submitted_by_id,
            "resubmitted": resubmission,
            "return_requests": resolved,
            "totals": snapshot["totals"],
            "evidence_count": len(snapshot["evidence"]),
            "snapshot_sha256": digest,
        },
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=(
            "Gửi lại hồ sơ sau giải trình, bổ sung"
            if resubmission
            else "Gửi hồ sơ tự đánh giá"
        )
        + f": {format_decimal(view.score.points)}/"
        + f"{format_decimal(view.score.max_points)} điểm",
        actor=user,
    )
    db.session.commit()
    logger.info("assessment %s submitted by %s", assessment.id, user.username)
    return assessment


def reopen_assessment(assessment: Assessment, user: User, reason: str) -> Assessment:
    """Send a submitted assessment back to draft (the old snapshot stays in the log)."""
    if assessment.status != "submitted":
        raise NotEditable(
            "Chỉ mở lại được hồ sơ đã gửi; hồ sơ đang ở trạng thái "
            f"“{assessment.status_label}”."
        )
    reason = reason.strip()
    before = {
        "status": assessment.status,
        "submitted_at": assessment.submitted_at,
        "submitted_by_id": assessment.submitted_by_id,
        "snapshot": assessment.snapshot,
    }
    assessment.status = "draft"
    assessment.submitted_at = None
    assessment.submitted_by_id = None
    assessment.snapshot = None
    audit.record(
        "assessment.reopen",
        "assessment",
        assessment.id,
        before=before,
        after={"status": "draft", "reason": reason},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Mở lại hồ sơ: {reason}",
        actor=user,
    )
    db.session.commit()
    logger.info("assessment %s reopened by %s", assessment.id, user.username)
    return assessment
