"""Workflow rules every feature shares: deadlines, what is editable, scores.

Self-assessment is editable while the assessment is a draft and the (possibly extended)
deadline has not passed. After submission only leaves under an open return request
(yêu cầu giải trình, bổ sung) reopen, until that request's due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from criteria import CriteriaSet
from scoring import AssessmentScore, score_assessment
from webapp.clock import now, to_vn
from webapp.criteria_sets import get_criteria_set
from webapp.extensions import db
from webapp.models import Assessment, CriterionScore, Extension, ReturnRequest


class NotEditable(Exception):
    """A refusal to change a frozen assessment or leaf; the message is for the user."""


def criteria_for(assessment: Assessment) -> CriteriaSet:
    return get_criteria_set(assessment.period.criteria_set_id)


def effective_deadline(assessment: Assessment) -> datetime:
    """This unit's self-assessment deadline: the period's, or its latest extension."""
    extensions = db.session.scalars(
        sa.select(Extension.new_deadline).where(
            Extension.period_id == assessment.period_id,
            Extension.unit_id == assessment.unit_id,
        )
    )
    return max([assessment.period.self_deadline, *extensions])


def open_returns(
    assessment: Assessment, at: datetime | None = None
) -> list[ReturnRequest]:
    """Return requests still open for the unit (due date not passed)."""
    at = at or now()
    rows = db.session.scalars(
        sa.select(ReturnRequest).where(
            ReturnRequest.assessment_id == assessment.id, ReturnRequest.status == "open"
        )
    )
    return [r for r in rows if r.due_at >= at]


def editable_codes(
    assessment: Assessment, at: datetime | None = None
) -> set[str] | None:
    """None: every leaf is editable; else the set of the only editable leaves."""
    at = at or now()
    if assessment.period.status != "open" and assessment.status == "draft":
        return set()
    if assessment.status == "draft":
        return None if at <= effective_deadline(assessment) else set()
    if assessment.status == "returned":
        codes: set[str] = set()
        for request in open_returns(assessment, at):
            codes.update(request.criterion_codes)
        return codes
    return set()


def ensure_editable(assessment: Assessment, code: str | None = None) -> None:
    """Raise NotEditable (Vietnamese message) unless the unit may change it now."""
    at = now()
    allowed = editable_codes(assessment, at)
    if allowed is None:
        return
    if assessment.status == "draft" and not allowed:
        if assessment.period.status != "open":
            raise NotEditable(
                "Kỳ đánh giá chưa mở hoặc đã đóng: không thể thay đổi hồ sơ."
            )
        raise NotEditable(
            "Đã quá hạn tự đánh giá ("
            + to_vn(effective_deadline(assessment)).strftime("%H:%M:%S %d/%m/%Y")
            + "): không thể thay đổi hồ sơ."
        )
    if code is not None and code in allowed:
        return
    if assessment.status == "returned" and code is None and allowed:
        return
    if assessment.status == "returned":
        raise NotEditable(
            "Tiêu chí này không nằm trong yêu cầu giải trình, bổ sung "
            "(hoặc đã quá hạn): không thể thay đổi."
        )
    raise NotEditable("Hồ sơ đã gửi và được khóa: không thể thay đổi.")


def answers_of(assessment: Assessment) -> dict[str, Any]:
    """Answers by leaf code, in the engine's JSON form (survey values included)."""
    out: dict[str, Any] = {}
    for row in assessment.scores:
        if row.survey_value is not None:
            out[row.criterion_code] = {"value": str(row.survey_value)}
        elif row.is_not_applicable:
            out[row.criterion_code] = {"not_applicable": True}
        elif row.answer is not None:
            out[row.criterion_code] = row.answer
    return out


def self_score(assessment: Assessment) -> AssessmentScore:
    """The unit's self-score, recomputed by the engine from the stored answers."""
    return score_assessment(criteria_for(assessment), answers_of(assessment))


def appraised_overrides(assessment: Assessment) -> Mapping[str, Decimal]:
    return {
        r.criterion_code: r.appraised_points
        for r in assessment.scores
        if r.appraised_points is not None
    }


def final_score(assessment: Assessment) -> AssessmentScore:
    """Appraised points where set (self points elsewhere) plus survey points."""
    return score_assessment(
        criteria_for(assessment),
        answers_of(assessment),
        points_override=appraised_overrides(assessment),
    )


def score_row(assessment: Assessment, code: str) -> CriterionScore:
    """Get or create the CriterionScore row of a leaf (not committed)."""
    for row in assessment.scores:
        if row.criterion_code == code:
            return row
    row = CriterionScore(assessment=assessment, criterion_code=code)
    db.session.add(row)
    return row
