"""Dossier settings (report section III): who may edit them, the difficulties text, and
what the report still misses.
"""

from __future__ import annotations

import logging

from webapp import audit
from webapp.dossier.builders.types import Dossier, Row
from webapp.extensions import db
from webapp.lifecycle import NotEditable, ensure_editable
from webapp.models import Assessment, User

logger = logging.getLogger(__name__)

DIFFICULTIES_MAX = 20000


def can_edit_settings(assessment: Assessment, user: User) -> bool:
    """Unit roles of the unit, while the assessment is editable."""
    if not user.is_unit_user or user.unit_id != assessment.unit_id:
        return False
    try:
        ensure_editable(assessment)
    except NotEditable:
        return False
    return True


def save_difficulties(assessment: Assessment, text: str, *, user: User) -> bool:
    """Save the report's "khó khăn, vướng mắc, kiến nghị"; returns whether it changed.

    Raises NotEditable (frozen assessment, or a user outside the unit).
    """
    if not user.is_unit_user or user.unit_id != assessment.unit_id:
        raise NotEditable("Chỉ cán bộ của đơn vị được sửa nội dung báo cáo.")
    ensure_editable(assessment)
    text = "\n".join(
        line.rstrip() for line in text.replace("\r\n", "\n").split("\n")
    ).strip()
    if text == (assessment.difficulties or ""):
        return False
    before = {"difficulties": assessment.difficulties}
    assessment.difficulties = text
    audit.record(
        "dossier.difficulties",
        "assessment",
        assessment.id,
        before=before,
        after={"difficulties": text},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        actor=user,
    )
    db.session.commit()
    logger.info(
        "difficulties of assessment %s updated by %s", assessment.id, user.username
    )
    return True


def missing_summary(dossier: Dossier) -> list[Row]:
    """Leaves listed in the report's section II (no evidence, incomplete citation)."""
    return [r for r in dossier.leaves() if r.needs_explanation]
