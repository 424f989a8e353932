"""The appraisal screen: each leaf with its self-score, evidence and appraised score."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from criteria import CriteriaSet, Node
from scoring import (
    AssessmentScore,
    LeafScore,
    answer_correctable,
    format_date,
    format_decimal,
)
from webapp.appraisal.assignments import appraiser_areas
from webapp.appraisal.leaves import (
    NA_CHOICE,
    answer_in_words,
    appraised_leaves,
    area_of,
    leaf_answer,
    point_choices,
)
from webapp.appraisal.returns import LeafDiff, return_diffs
from webapp.assessment.forms import FormKind, rule_kind
from webapp.clock import now, to_vn
from webapp.criteria_sets import criteria_for
from webapp.evidence.services import evidence_by_leaf
from webapp.extensions import db
from webapp.formatting import number
from webapp.lifecycle import NOT_HANDED_IN, PeriodStatus, ReturnStatus, open_returns
from webapp.models import (
    Assessment,
    CriterionScore,
    Evidence,
    ReturnRequest,
    User,
)
from webapp.workflow import final_score, self_score

logger = logging.getLogger(__name__)


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
    def state(self) -> str:
        """returned (sent back, still open), pending, differing or done."""
        if self.open_return is not None:
            return "returned"
        if not self.appraised:
            return "pending"
        return "differing" if self.differs else "done"

    @property
    def state_label(self) -> str:
        return LEAF_STATES[self.state]

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
        """The appraiser may correct the unit's figures and let the rule rescore."""
        return answer_correctable(self.node)

    @property
    def form_kind(self) -> FormKind | None:
        """The shape of the correction inputs, as on the unit's form."""
        return rule_kind(self.node)

    @property
    def points_prefill(self) -> str:
        """The score input's starting value: the appraised score, else the self-score
        (so agreeing with the unit takes one key press)."""
        points = self.appraised_points if self.appraised else self.self_leaf.points
        if points is None:
            return NA_CHOICE if self.self_na_excluded else ""
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
        if "value" in answer:
            raw = answer["value"]
            if isinstance(raw, bool):
                out["value"] = "true" if raw else "false"
            elif self.form_kind == "date":
                try:
                    out["value"] = format_date(date.fromisoformat(str(raw)))
                except ValueError:
                    out["value"] = str(raw)
            else:
                out["value"] = number(raw)
        for key in ("numerator", "denominator"):
            if key in answer:
                out[key] = number(answer[key])
        out["checked"] = [str(i) for i in answer.get("checked", [])]
        counts = list(answer.get("counts", []))
        events = getattr(self.node.rule, "events", ())  # one input per deduction event
        out["counts"] = [
            number(counts[i]) if i < len(counts) else "0" for i in range(len(events))
        ]
        return out

    @property
    def appraised_answer_lines(self) -> list[str]:
        if self.row is None or not self.row.appraised_answer:
            return []
        return answer_in_words(self.node, self.row.appraised_answer)


FILTERS = {
    "pending": "Chưa thẩm định",
    "differing": "Điểm thẩm định khác điểm tự chấm",
    "no_evidence": "Thiếu tài liệu kiểm chứng",
    "returned": "Đã trả lại",
}
# A leaf's state in the appraisal tree.
LEAF_STATES = {
    "returned": "Đã trả lại",
    "pending": "Chưa thẩm định",
    "differing": "Khác điểm tự chấm",
    "done": "Đã thẩm định",
}


def known_filter(name: str | None) -> str | None:
    """The screen filter asked for in the query string, if it is one of FILTERS."""
    return name if name in FILTERS else None


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
    area: str | None = None  # one area shown (None: every area)
    filtered: list[LeafView] = field(default_factory=list)  # every area, filtered

    def area_codes(self) -> list[str]:
        """The areas with a leaf to appraise, in order."""
        return list(dict.fromkeys(lv.area.code for lv in self.all_leaves))

    def tree(self) -> list[tuple[Node, list[LeafView]]]:
        """Each area with its leaves (matching the filter), for the navigation tree."""
        shown = {id(lv) for lv in self.filtered}
        out: dict[str, tuple[Node, list[LeafView]]] = {}
        for lv in self.all_leaves:
            entry = out.setdefault(lv.area.code, (lv.area, []))
            if id(lv) in shown:
                entry[1].append(lv)
        return list(out.values())

    def neighbour_area(self, step: int) -> str | None:
        """The area before (-1) or after (+1) the one shown."""
        codes = self.area_codes()
        if self.area not in codes:
            return None
        at = codes.index(self.area) + step
        return codes[at] if 0 <= at < len(codes) else None

    @property
    def appraised_count(self) -> int:
        return sum(1 for lv in self.all_leaves if lv.appraised)

    @property
    def can_return(self) -> bool:
        return any(lv.can_appraise for lv in self.all_leaves) and not any(
            r.status == ReturnStatus.OPEN and r.due_at >= now() for r in self.returns
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
    area: str | None = None,
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
        reason = locked_reason(assessment, leaf, areas, reopened)
        lv = LeafView(
            node=leaf,
            area=cs.node(area_of(leaf.code)),
            row=row,
            answer_lines=answer_in_words(leaf, leaf_answer(row)),
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
        "returned": sum(1 for lv in all_views if lv.open_return is not None),
    }
    filtered = [lv for lv in all_views if _matches(lv, filter_name)]
    if area not in {lv.area.code for lv in all_views}:
        area = None
    shown = [lv for lv in filtered if area is None or lv.area.code == area]
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
        area=area,
        filtered=filtered,
    )


def _matches(lv: LeafView, filter_name: str | None) -> bool:
    if filter_name == "pending":
        return not lv.appraised
    if filter_name == "differing":
        return lv.differs
    if filter_name == "no_evidence":
        return lv.lacks_evidence
    if filter_name == "returned":
        return lv.open_return is not None
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


def locked_reason(
    assessment: Assessment,
    leaf: Node,
    areas: set[str] | None,
    reopened: dict[str, ReturnRequest],
) -> str:
    """Why this leaf cannot be appraised now ("" when it can)."""
    if assessment.period.status == PeriodStatus.PUBLISHED:
        return "Kết quả đã công bố: không thể thay đổi điểm thẩm định."
    if not assessment.status.handed_in:
        return NOT_HANDED_IN
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


def focus_after_save(
    assessment: Assessment,
    user: User,
    code: str,
    filter_name: str | None,
    *,
    jump: bool,
) -> tuple[str, bool]:
    """The leaf to show after saving ``code``: itself, or ("save and next") the next
    leaf still to appraise; True as well when none is left in the filtered list."""
    if not jump:
        return code, False
    screen = appraisal_screen(assessment, user, filter_name=filter_name)
    focus = next_leaf_to_appraise(screen, code) or code
    return focus, focus == code
