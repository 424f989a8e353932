"""Appraisal (thẩm định): assignments, appraised scores per leaf, returns to the unit.

Every public function here that changes state is one transaction: it checks the rules,
records an audit event (before → after) and commits; a refusal raises
:class:`AppraisalError` with a Vietnamese message and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from criteria import CriteriaSet, Node
from scoring import (
    AnswerError,
    AssessmentScore,
    LeafScore,
    format_date,
    format_decimal,
    format_points,
    normalize_answer,
    score_leaf,
)
from webapp import audit
from webapp.access import visible_assessments
from webapp.clock import now, to_vn, vn_end_of_day
from webapp.criteria_sets import get_criteria_set
from webapp.evidence.services import evidence_by_leaf
from webapp.extensions import db
from webapp.models import (
    AppraiserAssignment,
    Assessment,
    CriterionScore,
    Evidence,
    Period,
    ReturnRequest,
    Unit,
    User,
)
from webapp.workflow import criteria_for, final_score, open_returns, self_score

logger = logging.getLogger(__name__)

APPRAISED_SOURCES = ("self", "system")  # survey leaves are entered by the coordinator
APPRAISABLE_STATUSES = ("submitted", "returned", "appraised")
CENT = Decimal("0.01")
NA_CHOICE = "na"  # the appraiser agrees that an exclude_from_max leaf did not arise
MAX_CHECKLIST_ITEMS = 12  # 2^12 subsets at most; beyond that any value in 0..max


class AppraisalError(Exception):
    """A refused appraisal action; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- small parsers -------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal:
    """Read a number typed the Vietnamese way ("0,5", "85,25%") or with a dot."""
    cleaned = text.strip().removesuffix("%").strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def parse_vn_date(text: str) -> date:
    """Read dd/mm/yyyy (also d/m/yyyy); ValueError if it is not a real day."""
    parts = text.strip().split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        raise ValueError(text)
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)


def pts(value: Decimal | None) -> str:
    """Points as the app shows them: "0,50"; None → "—"."""
    return "—" if value is None else format_decimal(value)


# -- the criteria set, seen by an appraiser ------------------------------------------


def appraised_leaves(cs: CriteriaSet) -> list[Node]:
    """The leaves an appraiser scores: self-assessed and system ones, not survey."""
    return [leaf for leaf in cs.leaves() if leaf.assessed_by in APPRAISED_SOURCES]


def area_of(code: str) -> str:
    return code.split(".", 1)[0]


def allowed_points(leaf: Node) -> tuple[Decimal, ...] | None:
    """The scores the leaf's rule can produce, highest first; None: any value in 0..max.

    Binary, manual, checklist and deduction rules (and tiers whose bands all give
    fixed points) reach only a few values; an appraised score outside them is a score
    the rule cannot give, so it is refused.
    """
    rule = leaf.rule
    values: set[Decimal] = set()
    if rule is None:
        return None
    if rule.type == "binary":
        values = {rule.points_true, rule.points_false}
    elif rule.type == "manual":
        values = {level.points for level in rule.levels}
    elif rule.type == "checklist":
        if len(rule.items) > MAX_CHECKLIST_ITEMS:
            return None
        items = [item.points for item in rule.items]
        values = {
            sum(combo, Decimal(0))
            for size in range(len(items) + 1)
            for combo in combinations(items, size)
        }
    elif rule.type == "deduction":
        values = _deduction_values(
            rule.start, [e.minus for e in rule.events], rule.floor
        )
    elif rule.type == "tiers":
        if any(band.points == "ratio" for band in rule.bands):
            return None
        values = {Decimal(band.points) for band in rule.bands} | {Decimal(0)}
    else:
        return None
    if leaf.not_applicable == "full_points":
        values.add(leaf.max_points)
    rounded = {v.quantize(CENT, ROUND_HALF_UP) for v in values}
    return tuple(sorted(rounded, reverse=True))


def _deduction_values(
    start: Decimal, minuses: list[Decimal], floor: Decimal
) -> set[Decimal]:
    reachable = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for minus in minuses:
            if minus <= 0:
                continue
            nxt = max(floor, current - minus)
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    return reachable


def point_choices(leaf: Node, self_na_excluded: bool) -> list[tuple[str, str]] | None:
    """Options of the score select (value, label), or None for a free number."""
    allowed = allowed_points(leaf)
    if allowed is None:
        return None
    labels: dict[Decimal, list[str]] = {}
    rule = leaf.rule
    if rule is not None and rule.type == "manual":
        for level in rule.levels:
            labels.setdefault(level.points.quantize(CENT), []).append(level.text)
    elif rule is not None and rule.type == "binary":
        labels.setdefault(rule.points_true.quantize(CENT), []).append("Đạt")
        labels.setdefault(rule.points_false.quantize(CENT), []).append("Không đạt")
    choices = []
    if self_na_excluded:
        choices.append((NA_CHOICE, "Đồng ý không phát sinh (không tính điểm)"))
    for value in allowed:
        text = pts(value)
        if value in labels:
            text += " — " + " / ".join(labels[value])
        choices.append((f"{value}", text))
    return choices


def describe_answer(leaf: Node, answer: dict[str, Any] | None) -> list[str]:
    """The unit's answer as a person reads it (one line per fact)."""
    if not answer:
        return ["Chưa trả lời"]
    if answer.get("not_applicable"):
        return ["Không phát sinh (không áp dụng)"]
    rule = leaf.rule
    try:
        if rule is None:
            return []
        if rule.type == "binary":
            verdict = "Đạt" if answer.get("value") else "Không đạt"
            return [f"{verdict}: “{rule.condition}”"]
        if rule.type in ("tiers", "ratio", "survey"):
            measure = getattr(rule, "measure", None)
            name = measure.name if measure else "Kết quả"
            if measure is not None and measure.unit == "date":
                day = date.fromisoformat(str(answer["value"]))
                return [f"{name[:1].upper()}{name[1:]}: {format_date(day)}"]
            if "value" in answer:
                value = Decimal(str(answer["value"]))
                return [f"{name[:1].upper()}{name[1:]}: {format_points(value)}%"]
            num = Decimal(str(answer["numerator"]))
            den = Decimal(str(answer["denominator"]))
            if den == 0:
                return [f"{format_points(num)}/0: không phát sinh"]
            ratio = (num * 100 / den).quantize(CENT, ROUND_HALF_UP)
            return [
                f"{name[:1].upper()}{name[1:]}: {format_points(num)}/"
                f"{format_points(den)} = {format_points(ratio)}%"
            ]
        if rule.type == "checklist":
            checked = set(answer.get("checked", []))
            return [
                f"{'☑' if i in checked else '☐'} {item.text} ({pts(item.points)})"
                for i, item in enumerate(rule.items)
            ]
        if rule.type == "deduction":
            counts = list(answer.get("counts", []))
            return [
                f"{event.event}: {counts[i] if i < len(counts) else 0} lần"
                for i, event in enumerate(rule.events)
            ]
        if rule.type == "manual":
            level = rule.levels[int(answer["level"])]
            return [f"Mức: {level.text}"]
    except (KeyError, IndexError, TypeError, ValueError, InvalidOperation):
        pass
    return ["Câu trả lời không đọc được: " + str(answer)]


def leaf_answer(row: CriterionScore | None) -> dict[str, Any] | None:
    """The unit's answer of a leaf as the engine takes it (as workflow.answers_of)."""
    if row is None:
        return None
    if row.is_not_applicable:
        return {"not_applicable": True}
    return row.answer


# -- assignments ---------------------------------------------------------------------


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
    cs = criteria_for_period(period)
    known = {area.code for area in cs.areas}
    codes = sorted(set(area_codes), key=_code_key)
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


def assigned_period_ids(user: User) -> sa.Select[tuple[int]]:
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


def criteria_for_period(period: Period) -> CriteriaSet:
    return get_criteria_set(period.criteria_set_id)


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in code.split("."))


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
        .where(Assessment.status.in_(APPRAISABLE_STATUSES))
        .options(selectinload(Assessment.scores), selectinload(Assessment.unit))
        .join(Unit, Unit.id == Assessment.unit_id)
        .order_by(Assessment.period_id.desc(), Unit.name)
    )
    out = []
    for assessment in db.session.scalars(q):
        cs = criteria_for(assessment)
        codes = {leaf.code for leaf in appraised_leaves(cs)}
        rows = {
            r.criterion_code: r for r in assessment.scores if r.criterion_code in codes
        }
        done = [r for r in rows.values() if r.appraised_at is not None]
        own = self_score(assessment)
        differing = sum(
            1 for r in done if r.appraised_points != own.leaves[r.criterion_code].points
        )
        returns = open_returns(assessment) if assessment.status == "returned" else []
        out.append(
            QueueRow(
                assessment,
                len(codes),
                len(done),
                differing,
                returns[0] if returns else None,
            )
        )
    return out


# -- the appraisal screen ------------------------------------------------------------


@dataclass
class EvidenceView:
    evidence: Evidence
    snapshot_sha256: str | None
    verified: bool | None = None  # None: not checked now; False: changed or missing
    missing: bool = False

    @property
    def integrity(self) -> tuple[str, str]:
        """(badge class, text) for the SHA-256 check against the submitted snapshot."""
        if self.missing:
            return "err", "Không tìm thấy tệp trong kho lưu trữ"
        if self.verified is False:
            return "err", "Tệp trong kho đã bị thay đổi (SHA-256 không khớp)"
        if self.snapshot_sha256 is None:
            return "info", "Bổ sung sau khi gửi hồ sơ"
        if self.snapshot_sha256 != self.evidence.sha256:
            return "err", "SHA-256 khác với bản đã gửi"
        if self.verified:
            return "ok", "Đã kiểm tra lại: tệp nguyên vẹn, khớp bản đã gửi"
        return "ok", "SHA-256 khớp bản đã gửi"


@dataclass
class LeafDiff:
    """What the unit changed on a returned leaf since the return was made."""

    request: ReturnRequest
    answer_before: list[str]
    answer_now: list[str]
    note_before: str
    note_now: str
    points_before: Decimal | None
    points_now: Decimal | None
    evidence_added: list[Evidence]
    evidence_removed: list[int]
    previous_appraisal: str

    @property
    def changed(self) -> bool:
        return bool(
            self.answer_before != self.answer_now
            or self.note_before != self.note_now
            or self.evidence_added
            or self.evidence_removed
        )


@dataclass
class LeafView:
    node: Node
    area: Node
    row: CriterionScore | None
    answer_lines: list[str]
    self_leaf: LeafScore
    evidence: list[EvidenceView]
    can_appraise: bool
    locked_reason: str
    choices: list[tuple[str, str]] | None
    open_return: ReturnRequest | None = None
    diff: LeafDiff | None = None

    @property
    def code(self) -> str:
        return self.node.code

    @property
    def anchor(self) -> str:
        return "leaf-" + self.node.code.replace(".", "-")

    @property
    def appraised(self) -> bool:
        return self.row is not None and self.row.appraised_at is not None

    @property
    def appraised_points(self) -> Decimal | None:
        return self.row.appraised_points if self.row is not None else None

    @property
    def differs(self) -> bool:
        return self.appraised and self.appraised_points != self.self_leaf.points

    @property
    def lacks_evidence(self) -> bool:
        return bool(self.node.evidence) and not self.evidence

    @property
    def note(self) -> str:
        return self.row.note if self.row is not None else ""

    @property
    def version(self) -> str:
        return str(self.row.version) if self.row is not None and self.row.id else ""

    @property
    def self_na_excluded(self) -> bool:
        return (
            self.self_leaf.status == "not_applicable" and self.self_leaf.points is None
        )

    @property
    def value_driven(self) -> bool:
        rule = self.node.rule
        return rule is not None and rule.type in (
            "binary",
            "tiers",
            "ratio",
            "checklist",
            "deduction",
        )

    @property
    def points_prefill(self) -> str:
        """The score input's starting value: the appraised score, else the self-score
        (so agreeing with the unit takes one key press)."""
        points = self.appraised_points if self.appraised else self.self_leaf.points
        if points is None:
            return NA_CHOICE if self.self_na_excluded else ""
        if self.choices is not None:
            return f"{points.quantize(CENT)}"
        return format_decimal(points)

    @property
    def correction(self) -> dict[str, Any]:
        """Prefill of the "correct the value" inputs: the appraiser's last correction,
        else the unit's answer, in the shapes the inputs use."""
        answer = (self.row.appraised_answer if self.row else None) or leaf_answer(
            self.row
        )
        answer = answer or {}
        out: dict[str, Any] = {"value": "", "numerator": "", "denominator": ""}
        measure = getattr(self.node.rule, "measure", None)
        if "value" in answer:
            raw = answer["value"]
            if isinstance(raw, bool):
                out["value"] = "true" if raw else "false"
            elif measure is not None and measure.unit == "date":
                try:
                    out["value"] = format_date(date.fromisoformat(str(raw)))
                except ValueError:
                    out["value"] = str(raw)
            else:
                out["value"] = str(raw).replace(".", ",")
        for key in ("numerator", "denominator"):
            if key in answer:
                out[key] = str(answer[key]).replace(".", ",")
        out["checked"] = [str(i) for i in answer.get("checked", [])]
        counts = list(answer.get("counts", []))
        rule = self.node.rule
        events = rule.events if rule is not None and rule.type == "deduction" else ()
        out["counts"] = [
            str(counts[i]) if i < len(counts) else "0" for i in range(len(events))
        ]
        return out

    @property
    def appraised_answer_lines(self) -> list[str]:
        if self.row is None or not self.row.appraised_answer:
            return []
        return describe_answer(self.node, self.row.appraised_answer)


FILTERS = {
    "pending": "Chưa thẩm định",
    "differing": "Điểm thẩm định khác điểm tự chấm",
    "no_evidence": "Thiếu tài liệu kiểm chứng",
}


@dataclass
class AppraisalScreen:
    assessment: Assessment
    cs: CriteriaSet
    leaves: list[LeafView]
    all_leaves: list[LeafView]
    self_total: AssessmentScore
    final_total: AssessmentScore
    returns: list[ReturnRequest]
    areas: set[str] | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def appraised_count(self) -> int:
        return sum(1 for lv in self.all_leaves if lv.appraised)

    @property
    def can_return(self) -> bool:
        return any(lv.can_appraise for lv in self.all_leaves) and not any(
            r.status == "open" and r.due_at >= now() for r in self.returns
        )


def snapshot_hashes(assessment: Assessment) -> dict[int, str]:
    """Evidence id → SHA-256 as recorded in the submitted snapshot."""
    snapshot = assessment.snapshot or {}
    out: dict[int, str] = {}
    for item in snapshot.get("evidence") or []:
        try:
            out[int(item["id"])] = str(item["sha256"])
        except (KeyError, TypeError, ValueError):
            continue
    return out


def appraisal_screen(
    assessment: Assessment,
    user: User,
    *,
    filter_name: str | None = None,
    verify: bool = False,
    store: Any = None,
) -> AppraisalScreen:
    """What the appraisal page shows: each leaf's answer, evidence and appraisal."""
    cs = criteria_for(assessment)
    rows = {r.criterion_code: r for r in assessment.scores}
    own = self_score(assessment)
    evidence_by_code = evidence_by_leaf(assessment)
    hashes = snapshot_hashes(assessment)
    areas = appraiser_areas(user, assessment)
    returns = list(
        db.session.scalars(
            sa.select(ReturnRequest)
            .where(ReturnRequest.assessment_id == assessment.id)
            .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc())
        )
    )
    reopened = {c: r for r in open_returns(assessment) for c in r.criterion_codes}
    diffs = return_diffs(assessment, returns, rows, evidence_by_code)
    verified: dict[int, tuple[bool | None, bool]] = {}
    all_views: list[LeafView] = []
    for leaf in appraised_leaves(cs):
        row = rows.get(leaf.code)
        views = []
        for ev in evidence_by_code.get(leaf.code, []):
            if verify and store is not None and ev.id not in verified:
                verified[ev.id] = _verify(store, ev)
            ok, missing = verified.get(ev.id, (None, False))
            views.append(EvidenceView(ev, hashes.get(ev.id), ok, missing))
        reason = _locked_reason(assessment, leaf, areas, reopened)
        lv = LeafView(
            node=leaf,
            area=cs.node(area_of(leaf.code)),
            row=row,
            answer_lines=describe_answer(leaf, leaf_answer(row)),
            self_leaf=own.leaves[leaf.code],
            evidence=views,
            can_appraise=not reason,
            locked_reason=reason,
            choices=None,
            open_return=reopened.get(leaf.code),
            diff=diffs.get(leaf.code),
        )
        lv.choices = point_choices(leaf, lv.self_na_excluded)
        all_views.append(lv)
    counts = {
        "pending": sum(1 for lv in all_views if not lv.appraised),
        "differing": sum(1 for lv in all_views if lv.differs),
        "no_evidence": sum(1 for lv in all_views if lv.lacks_evidence),
    }
    shown = [lv for lv in all_views if _matches(lv, filter_name)]
    return AppraisalScreen(
        assessment=assessment,
        cs=cs,
        leaves=shown,
        all_leaves=all_views,
        self_total=own,
        final_total=final_score(assessment),
        returns=returns,
        areas=areas,
        counts=counts,
    )


def _matches(lv: LeafView, filter_name: str | None) -> bool:
    if filter_name == "pending":
        return not lv.appraised
    if filter_name == "differing":
        return lv.differs
    if filter_name == "no_evidence":
        return lv.lacks_evidence
    return True


def _verify(store: Any, evidence: Evidence) -> tuple[bool | None, bool]:
    from evidence_store import ObjectNotFound, StorageError

    try:
        return bool(store.verify(evidence.storage_key, evidence.sha256)), False
    except ObjectNotFound:
        return False, True
    except StorageError:
        logger.exception("verify failed for evidence %s", evidence.id)
        return None, False


def _locked_reason(
    assessment: Assessment,
    leaf: Node,
    areas: set[str] | None,
    reopened: dict[str, ReturnRequest],
) -> str:
    """Why this leaf cannot be appraised now ("" when it can)."""
    if assessment.period.status == "published":
        return "Kết quả đã công bố: không thể thay đổi điểm thẩm định."
    if assessment.status not in APPRAISABLE_STATUSES:
        return "Hồ sơ chưa được gửi."
    if areas is not None and area_of(leaf.code) not in areas:
        return "Bạn không được phân công thẩm định lĩnh vực này."
    request = reopened.get(leaf.code)
    if request is not None:
        due = to_vn(request.due_at).strftime("%d/%m/%Y")
        return f"Đang chờ đơn vị giải trình, bổ sung (hạn {due})."
    return ""


def next_leaf_to_appraise(
    screen: AppraisalScreen, after_code: str | None
) -> str | None:
    """The next leaf (document order, wrapping round) still waiting for a score."""
    leaves = screen.leaves
    codes = [lv.code for lv in leaves]
    start = codes.index(after_code) + 1 if after_code in codes else 0
    for lv in leaves[start:] + leaves[:start]:
        if lv.can_appraise and not lv.appraised and lv.code != after_code:
            return lv.code
    return None


# -- saving one appraised score ------------------------------------------------------


@dataclass
class AppraisalInput:
    """One leaf's appraisal form, as typed (the service reads and checks it)."""

    points: str = ""
    correct: bool = False
    value: str = ""
    numerator: str = ""
    denominator: str = ""
    checked: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    comment: str = ""
    version: str = ""


def save_appraisal(
    assessment: Assessment, code: str, data: AppraisalInput, *, actor: User
) -> CriterionScore:
    """Set a leaf's appraised score (or corrected value) and comment."""
    cs = criteria_for(assessment)
    try:
        leaf = cs.node(code)
    except KeyError:
        raise AppraisalError(f"Không có tiêu chí {code}.") from None
    if not leaf.is_leaf or leaf.assessed_by not in APPRAISED_SOURCES:
        raise AppraisalError(f"Tiêu chí {code} không thuộc phần thẩm định.")
    reopened = {c: r for r in open_returns(assessment) for c in r.criterion_codes}
    reason = _locked_reason(
        assessment, leaf, appraiser_areas(actor, assessment), reopened
    )
    if reason:
        raise AppraisalError(reason)
    row = next((r for r in assessment.scores if r.criterion_code == code), None)
    current_version = str(row.version) if row is not None and row.id else ""
    if data.version.strip() != current_version:
        raise AppraisalError(
            "Tiêu chí này vừa được người khác thay đổi. "
            "Vui lòng tải lại trang rồi lưu lại."
        )
    own = score_leaf(leaf, leaf_answer(row))
    self_na_excluded = own.status == "not_applicable" and own.points is None

    appraised_answer: dict[str, Any] | None = None
    if data.correct and leaf.rule is not None and leaf.rule.type != "manual":
        appraised_answer = _corrected_answer(leaf, data)
        if (
            appraised_answer.get("not_applicable")
            and leaf.not_applicable == "exclude_from_max"
        ):
            if not self_na_excluded:
                raise AppraisalError(
                    "Không thể chuyển tiêu chí sang “không phát sinh” khi thẩm định; "
                    "hãy yêu cầu đơn vị giải trình, bổ sung.",
                    "value",
                )
            points = None
        else:
            points = score_leaf(leaf, appraised_answer).points
    else:
        points = _typed_points(leaf, data.points, self_na_excluded)

    comment = data.comment.strip()
    if points != own.points and not comment:
        raise AppraisalError(
            f"Điểm thẩm định ({pts(points)}) khác điểm tự chấm ({pts(own.points)}): "
            "bắt buộc ghi nhận xét.",
            "comment",
        )
    if row is None:
        row = CriterionScore(assessment=assessment, criterion_code=code)
        db.session.add(row)
    fields = [
        "appraised_points",
        "appraised_answer",
        "appraiser_comment",
        "appraised_at",
    ]
    before = audit.changes(row, fields) if row.id else None
    row.appraised_points = points
    row.appraised_answer = appraised_answer
    row.appraiser_comment = comment
    row.appraised_by_id = actor.id
    row.appraised_at = now()
    old_status = assessment.status
    db.session.flush()
    _refresh_status(assessment)
    after = audit.changes(row, fields)
    if assessment.status != old_status:
        after["assessment_status"] = assessment.status
    audit.record(
        "appraisal.save",
        "criterion_score",
        f"{assessment.id}/{code}",
        before=before,
        after=after,
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Thẩm định tiêu chí {code}: {pts(points)} điểm "
        f"(tự chấm {pts(own.points)})",
        actor=actor,
    )
    db.session.commit()
    logger.info("appraisal %s/%s = %s by %s", assessment.id, code, points, actor.id)
    return row


def _typed_points(leaf: Node, text: str, self_na_excluded: bool) -> Decimal | None:
    text = text.strip()
    if not text:
        raise AppraisalError("Vui lòng nhập điểm thẩm định.", "points")
    if text == NA_CHOICE:
        if not self_na_excluded:
            raise AppraisalError(
                "Chỉ chọn “không phát sinh” khi đơn vị đã khai không phát sinh.",
                "points",
            )
        return None
    try:
        value = parse_decimal(text)
    except ValueError:
        raise AppraisalError(
            f"Điểm thẩm định “{text}” không phải là số.", "points"
        ) from None
    if value < 0 or value > leaf.max_points:
        raise AppraisalError(
            f"Điểm thẩm định {pts(value)} phải từ 0 đến {pts(leaf.max_points)} "
            "(điểm tối đa của tiêu chí).",
            "points",
        )
    if value != value.quantize(CENT):
        raise AppraisalError(
            "Điểm thẩm định chỉ lấy tối đa hai chữ số thập phân.", "points"
        )
    allowed = allowed_points(leaf)
    if allowed is not None and value.quantize(CENT) not in allowed:
        raise AppraisalError(
            f"Điểm {pts(value)} không đạt được theo cách tính của tiêu chí này; "
            f"chỉ nhận một trong các mức: {'; '.join(pts(v) for v in allowed)}.",
            "points",
        )
    return value.quantize(CENT)


def _corrected_answer(leaf: Node, data: AppraisalInput) -> dict[str, Any]:
    """Build and check the answer the appraiser corrected (same JSON as the unit's)."""
    rule = leaf.rule
    assert rule is not None
    raw: dict[str, Any]
    if data.value.strip().lower() in ("na", "không phát sinh"):
        raw = {"not_applicable": True}
    elif rule.type == "binary":
        if data.value not in ("true", "false"):
            raise AppraisalError("Chọn Đạt hoặc Không đạt.", "value")
        raw = {"value": data.value == "true"}
    elif rule.type in ("tiers", "ratio"):
        raw = _corrected_measure(leaf, data)
    elif rule.type == "checklist":
        try:
            raw = {"checked": sorted({int(c) for c in data.checked})}
        except ValueError:
            raise AppraisalError(
                "Nội dung được chọn không hợp lệ.", "checked"
            ) from None
    elif rule.type == "deduction":
        counts = []
        for i, text in enumerate(data.counts):
            text = text.strip() or "0"
            if not text.isdigit():
                raise AppraisalError(
                    f"Số lần của trường hợp thứ {i + 1} phải là số nguyên không âm.",
                    "counts",
                )
            counts.append(int(text))
        raw = {"counts": counts}
    else:
        raise AppraisalError("Tiêu chí này không sửa số liệu; hãy chọn điểm.", "points")
    try:
        normalized = normalize_answer(leaf, raw)
    except AnswerError as exc:
        raise AppraisalError(
            f"Số liệu sửa không hợp lệ: {exc.message}", "value"
        ) from None
    if normalized is None:
        raise AppraisalError("Nhập số liệu đã sửa.", "value")
    return normalized


def _corrected_measure(leaf: Node, data: AppraisalInput) -> dict[str, Any]:
    measure = getattr(leaf.rule, "measure", None)
    if measure is not None and measure.unit == "date":
        try:
            return {"value": parse_vn_date(data.value).isoformat()}
        except ValueError:
            raise AppraisalError(
                "Ngày không hợp lệ, nhập theo dạng dd/mm/yyyy.", "value"
            ) from None
    try:
        if data.value.strip():
            return {"value": str(parse_decimal(data.value))}
        if data.numerator.strip() or data.denominator.strip():
            return {
                "numerator": str(parse_decimal(data.numerator)),
                "denominator": str(parse_decimal(data.denominator)),
            }
    except ValueError:
        raise AppraisalError("Số liệu sửa phải là số (ví dụ 92,5).", "value") from None
    raise AppraisalError("Nhập tỷ lệ (%) hoặc tử số và mẫu số.", "value")


def _refresh_status(assessment: Assessment) -> None:
    """Mark the assessment appraised once every leaf to appraise has a score."""
    if assessment.status == "returned":
        if open_returns(assessment):
            return
        # The unit let the due date pass without resubmitting: the request lapses.
        for request in db.session.scalars(
            sa.select(ReturnRequest).where(
                ReturnRequest.assessment_id == assessment.id,
                ReturnRequest.status == "open",
            )
        ):
            request.status = "expired"
        assessment.status = "submitted"
    if assessment.status not in ("submitted", "appraised"):
        return
    if is_fully_appraised(assessment):
        assessment.status = "appraised"
    else:
        assessment.status = "submitted"


def is_fully_appraised(assessment: Assessment) -> bool:
    codes = {leaf.code for leaf in appraised_leaves(criteria_for(assessment))}
    done = {r.criterion_code for r in assessment.scores if r.appraised_at is not None}
    return codes <= done


# -- returns (yêu cầu giải trình, bổ sung) -------------------------------------------


def create_return(
    assessment: Assessment,
    codes: Iterable[str],
    *,
    message: str,
    due_text: str,
    actor: User,
) -> ReturnRequest:
    """Send chosen leaves back to the unit until a due date; only they reopen."""
    cs = criteria_for(assessment)
    chosen = sorted(set(codes), key=_code_key)
    if not chosen:
        raise AppraisalError(
            "Chọn ít nhất một tiêu chí cần giải trình, bổ sung.", "codes"
        )
    if assessment.period.status == "published":
        raise AppraisalError(
            "Kết quả đã công bố: không thể yêu cầu giải trình, bổ sung."
        )
    if assessment.status not in APPRAISABLE_STATUSES:
        raise AppraisalError("Hồ sơ chưa được gửi.")
    if open_returns(assessment):
        raise AppraisalError(
            "Hồ sơ đang có yêu cầu giải trình, bổ sung chưa đến hạn; "
            "chờ đơn vị gửi lại."
        )
    areas = appraiser_areas(actor, assessment)
    valid = {leaf.code for leaf in appraised_leaves(cs)}
    for code in chosen:
        if code not in valid:
            raise AppraisalError(
                f"Tiêu chí {code} không thuộc phần thẩm định.", "codes"
            )
        if areas is not None and area_of(code) not in areas:
            raise AppraisalError(
                f"Bạn không được phân công thẩm định lĩnh vực của tiêu chí {code}.",
                "codes",
            )
    message = message.strip()
    if not message:
        raise AppraisalError(
            "Vui lòng ghi nội dung yêu cầu giải trình, bổ sung.", "message"
        )
    try:
        due = parse_vn_date(due_text)
    except ValueError:
        raise AppraisalError(
            "Hạn không hợp lệ, nhập theo dạng dd/mm/yyyy.", "due_date"
        ) from None
    due_at = vn_end_of_day(due.year, due.month, due.day)
    if due_at < now():
        raise AppraisalError(
            "Hạn giải trình, bổ sung phải từ hôm nay trở đi.", "due_date"
        )

    rows = {r.criterion_code: r for r in assessment.scores}
    evidence_by_code = evidence_by_leaf(assessment)
    before: dict[str, Any] = {}
    for code in chosen:
        row = rows.get(code)
        before[code] = {
            "answer": leaf_answer(row),
            "note": row.note if row else "",
            "score_explanation": row.score_explanation if row else "",
            "self_points": str(row.self_points)
            if row and row.self_points is not None
            else None,
            "evidence_ids": sorted(e.id for e in evidence_by_code.get(code, [])),
            "appraised_points": (
                str(row.appraised_points)
                if row and row.appraised_points is not None
                else None
            ),
            "appraiser_comment": row.appraiser_comment if row else "",
            "appraised": bool(row and row.appraised_at),
        }
        if row is not None:
            # The unit will change these leaves: their appraisal no longer holds.
            row.appraised_points = None
            row.appraised_answer = None
            row.appraised_at = None
            row.appraised_by_id = None
    for stale in db.session.scalars(
        sa.select(ReturnRequest).where(
            ReturnRequest.assessment_id == assessment.id, ReturnRequest.status == "open"
        )
    ):
        stale.status = "expired"
    request = ReturnRequest(
        assessment_id=assessment.id,
        criterion_codes=chosen,
        message=message,
        due_at=due_at,
        status="open",
        before=before,
        created_by_id=actor.id,
    )
    db.session.add(request)
    old_status = assessment.status
    assessment.status = "returned"
    db.session.flush()
    audit.record(
        "appraisal.return",
        "assessment",
        assessment.id,
        before={"status": old_status, "leaves": before},
        after={
            "status": "returned",
            "return_request": request.id,
            "criterion_codes": chosen,
            "due_at": due_at,
            "message": message,
        },
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Yêu cầu giải trình, bổ sung tiêu chí {', '.join(chosen)} "
        f"(hạn {format_date(due)})",
        actor=actor,
    )
    db.session.commit()
    logger.info("return %s on assessment %s by %s", request.id, assessment.id, actor.id)
    return request


def return_diffs(
    assessment: Assessment,
    returns: Sequence[ReturnRequest],
    rows: dict[str, CriterionScore],
    evidence_by_code: dict[str, list[Evidence]],
) -> dict[str, LeafDiff]:
    """Per returned leaf (latest return first): answer, note and evidence, then/now."""
    cs = criteria_for(assessment)
    out: dict[str, LeafDiff] = {}
    for request in returns:
        for code, then in (request.before or {}).items():
            if code in out:
                continue
            try:
                leaf = cs.node(code)
            except KeyError:
                continue
            row = rows.get(code)
            now_evidence = evidence_by_code.get(code, [])
            before_ids = set(then.get("evidence_ids") or [])
            own_now = score_leaf(leaf, leaf_answer(row))
            previous = ""
            if then.get("appraised"):
                previous = f"{pts(_dec(then.get('appraised_points')))} điểm"
                if then.get("appraiser_comment"):
                    previous += f" — {then['appraiser_comment']}"
            out[code] = LeafDiff(
                request=request,
                answer_before=describe_answer(leaf, then.get("answer")),
                answer_now=describe_answer(leaf, leaf_answer(row)),
                note_before=then.get("note") or "",
                note_now=row.note if row else "",
                points_before=score_leaf(leaf, then.get("answer")).points,
                points_now=own_now.points,
                evidence_added=[e for e in now_evidence if e.id not in before_ids],
                evidence_removed=sorted(before_ids - {e.id for e in now_evidence}),
                previous_appraisal=previous,
            )
    return out


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
