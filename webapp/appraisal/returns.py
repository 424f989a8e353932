"""Returns to the unit (yêu cầu giải trình, bổ sung) and what changed since."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from scoring import (
    format_date,
    score_leaf,
)
from webapp import audit, lifecycle
from webapp.appraisal.assignments import appraiser_areas, code_key
from webapp.appraisal.leaves import (
    AppraisalError,
    answer_in_words,
    appraised_leaves,
    area_of,
    leaf_answer,
    pts,
)
from webapp.clock import now, vn_end_of_day
from webapp.criteria_sets import criteria_for
from webapp.evidence.services import evidence_by_leaf
from webapp.extensions import db
from webapp.fields import parse_date
from webapp.lifecycle import open_returns
from webapp.models import (
    Assessment,
    CriterionScore,
    Evidence,
    ReturnRequest,
    User,
)
from webapp.notify import events as notify_events

logger = logging.getLogger(__name__)


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
    chosen = sorted(set(codes), key=code_key)
    if not chosen:
        raise AppraisalError(
            "Chọn ít nhất một tiêu chí cần giải trình, bổ sung.", "codes"
        )
    lifecycle.check_return(assessment, error=AppraisalError)
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
    due = parse_date(due_text, label="Hạn", field="due_date")
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
    request = ReturnRequest(
        assessment=assessment,
        criterion_codes=chosen,
        message=message,
        due_at=due_at,
        before=before,
        created_by_id=actor.id,
    )
    db.session.add(request)
    old_status = assessment.status
    lifecycle.return_to_unit(assessment, request, error=AppraisalError)
    db.session.flush()
    audit.record(
        "appraisal.return",
        "assessment",
        assessment.id,
        before={"status": old_status, "leaves": before},
        after={
            "status": assessment.status,
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
    notify_events.return_requested(request)
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
                answer_before=answer_in_words(leaf, then.get("answer")),
                answer_now=answer_in_words(leaf, leaf_answer(row)),
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
