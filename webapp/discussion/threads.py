"""Trao đổi: a per-leaf thread between a unit and the appraisers assigned to it.

Outside formal return requests: a message changes no score, no status and no
deadline. Who may read and write a thread: the unit's own users, the appraisers
assigned to the unit for the period (for the leaf's area, when the assignment names
areas) and the coordinator; anyone else gets 404, as for any other unit's object.
The thread is frozen (read only) once the period is closed or published.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort

from criteria import Node
from webapp import audit
from webapp.criteria_sets import criteria_for
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.fields import clean_text
from webapp.lifecycle import ensure_thread_open, thread_open
from webapp.models import AppraiserAssignment, Assessment, LeafMessage, User

logger = logging.getLogger(__name__)

BODY_MAX = 4000


@dataclass(frozen=True)
class Thread:
    assessment: Assessment
    leaf: Node
    messages: list[LeafMessage]

    @property
    def is_open(self) -> bool:
        return thread_open(self.assessment.period)


def may_take_part(user: User, assessment: Assessment, code: str) -> bool:
    """The unit's users, its assigned appraisers (for the leaf's area), the admin."""
    if user.role == "admin":
        return True
    if user.is_unit_user:
        return user.unit_id == assessment.unit_id
    if user.role != "appraiser":
        return False
    # Imported here: the appraisal package's routes import this module.
    from webapp.appraisal.leaves import area_of

    areas = db.session.scalars(
        sa.select(AppraiserAssignment.area_codes).where(
            AppraiserAssignment.user_id == user.id,
            AppraiserAssignment.unit_id == assessment.unit_id,
            AppraiserAssignment.period_id == assessment.period_id,
        )
    ).all()
    return any(a is None or area_of(code) in a for a in areas)


def thread_leaf_or_404(
    assessment_id: int, code: str, user: User
) -> tuple[Assessment, Node]:
    """The assessment and leaf of a thread the user may join, else 404."""
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or not may_take_part(user, assessment, code):
        abort(404)
    leaf = criteria_for(assessment).nodes().get(code)
    if leaf is None or not leaf.is_leaf:
        abort(404)
    return assessment, leaf


def load_thread(assessment: Assessment, leaf: Node) -> Thread:
    messages = list(
        db.session.scalars(
            sa.select(LeafMessage)
            .where(
                LeafMessage.assessment_id == assessment.id,
                LeafMessage.criterion_code == leaf.code,
            )
            .order_by(LeafMessage.created_at, LeafMessage.id)
        )
    )
    return Thread(assessment, leaf, messages)


def message_counts_select(assessment_id: Any, *lead: Any) -> sa.Select[Any]:
    """(*lead, leaf code, messages) per leaf (see `message_counts`)."""
    return (
        sa.select(*lead, LeafMessage.criterion_code, sa.func.count(LeafMessage.id))
        .where(LeafMessage.assessment_id == assessment_id)
        .group_by(LeafMessage.criterion_code)
    )


def message_counts(assessment: Assessment) -> dict[str, int]:
    """Messages per leaf code: one grouped query for the whole criteria page."""
    rows = db.session.execute(message_counts_select(assessment.id)).all()
    return {code: int(count) for code, count in rows}


def post_message(
    assessment: Assessment, leaf: Node, body: str, *, author: User
) -> LeafMessage:
    """Add a message to the leaf's thread (audited); refused once the period closed."""
    ensure_thread_open(assessment.period)
    text = clean_text(body, label="Nội dung trao đổi", field="body")
    if not text:
        raise ParIndexError("Vui lòng nhập nội dung trao đổi.", field="body")
    if len(text) > BODY_MAX:
        raise ParIndexError(
            f"Nội dung trao đổi dài quá {BODY_MAX} ký tự "
            f"({len(text)} ký tự): hãy rút gọn hoặc gửi thành nhiều tin.",
            field="body",
        )
    message = LeafMessage(
        assessment_id=assessment.id,
        criterion_code=leaf.code,
        author_id=author.id,
        body=text,
    )
    db.session.add(message)
    db.session.flush()
    audit.record(
        "leaf_message.post",
        "leaf_message",
        message.id,
        after={"criterion_code": leaf.code, "body": text},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Trao đổi về tiêu chí {leaf.code} của {assessment.unit.name}",
        actor=author,
    )
    db.session.commit()
    logger.info(
        "leaf message %s on %s/%s by %s",
        message.id,
        assessment.id,
        leaf.code,
        author.id,
    )
    return message
