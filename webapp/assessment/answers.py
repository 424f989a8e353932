"""Saving one leaf's answer: checked by the scoring engine, guarded by an optimistic
lock, recorded with its audit event (answer.save) in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from criteria import (
    Node,
)
from scoring import (
    AnswerError,
    LeafScore,
    format_decimal,
    normalize_answer,
    score_leaf,
)
from webapp import audit
from webapp.assessment.overview import SELF_ASSESSED, SURVEY_MESSAGE, answer_text
from webapp.clock import now, to_vn
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.lifecycle import NotEditable, ensure_editable
from webapp.models import (
    Assessment,
    CriterionScore,
    User,
)
from webapp.workflow import score_row

logger = logging.getLogger(__name__)

AUDIT_FIELDS = [
    "answer",
    "is_not_applicable",
    "self_points",
    "score_explanation",
    "note",
]


class AnswerInvalid(ParIndexError):
    """The engine refused an answer; `field` is its field (value, numerator…)."""

    status = 422
    field: str

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class StaleAnswer(ParIndexError):
    """Someone else saved the leaf after this form was opened; nothing was written."""

    status = 409

    def __init__(self, row: CriterionScore | None, message: str) -> None:
        super().__init__(message)
        self.row = row


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
        f"{answer_text(leaf, row.answer)}{points}{note}. "
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
