"""Dossier settings: the report's unit-written text (per-area narratives and the five
sections), the unit's signer and Nơi nhận, and what the report still misses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from webapp import audit
from webapp.dossier.builders.types import SECTION_KEYS, Dossier, Row
from webapp.extensions import db
from webapp.fields import clean_text
from webapp.lifecycle import NotEditable, ensure_editable
from webapp.models import Assessment, Unit, User

logger = logging.getLogger(__name__)

SECTION_MAX = 20000


class SettingsError(ValueError):
    """Input refused with a Vietnamese ``message``; nothing was saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


RECIPIENTS_MAX = 2000


def can_edit_settings(assessment: Assessment, user: User) -> bool:
    """Unit roles of the unit, while the assessment is editable."""
    if not user.is_unit_user or user.unit_id != assessment.unit_id:
        return False
    try:
        ensure_editable(assessment)
    except NotEditable:
        return False
    return True


def _clean(text: str) -> str:
    # Control characters (a NUL pasted from a PDF) are refused with a message.
    text = clean_text(text, label="Nội dung báo cáo").replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def save_sections(
    assessment: Assessment,
    sections: Mapping[str, str],
    narratives: Mapping[str, str],
    *,
    user: User,
) -> bool:
    """Save the unit's report text; returns whether it changed.

    ``narratives`` maps area codes to the unit's text ("" keeps the generated one).
    Raises NotEditable (frozen assessment, or a user outside the unit) or
    SettingsError (a text over its length).
    """
    if not user.is_unit_user or user.unit_id != assessment.unit_id:
        raise NotEditable("Chỉ cán bộ của đơn vị được sửa nội dung báo cáo.")
    ensure_editable(assessment)
    texts = {k: _clean(sections.get(k, "")) for k in SECTION_KEYS}
    kept = {k: _clean(v) for k, v in narratives.items() if _clean(v)}
    if any(len(t) > SECTION_MAX for t in [*texts.values(), *kept.values()]):
        raise SettingsError(f"Mỗi mục không được dài quá {SECTION_MAX} ký tự.")
    after = {**{k: v for k, v in texts.items() if v}, "narratives": kept}
    before = dict(assessment.report_sections or {})
    before.setdefault("narratives", {})
    if after == before:
        return False
    assessment.report_sections = after
    audit.record(
        "dossier.sections",
        "assessment",
        assessment.id,
        before=before,
        after=after,
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        actor=user,
    )
    db.session.commit()
    logger.info("report text of assessment %s saved by %s", assessment.id, user.id)
    return True


def save_signer(
    unit: Unit,
    *,
    authority: str,
    title: str,
    name: str,
    recipients: str,
    user: User,
) -> bool:
    """Save who signs the unit's reports and its Nơi nhận; returns whether it changed.

    Blank authority or recipients fall back on the usual ones when printed.
    """
    if user.role != "admin" and (not user.is_unit_user or user.unit_id != unit.id):
        raise NotEditable("Chỉ cán bộ của đơn vị được sửa người ký, nơi nhận.")
    values = {
        "signer_authority": _clean(authority)[:120],
        "leader_title": _clean(title)[:120] or "CHỦ TỊCH",
        "leader_name": _clean(name)[:120],
        "report_recipients": _clean(recipients),
    }
    if len(values["report_recipients"]) > RECIPIENTS_MAX:
        raise SettingsError(f"Nơi nhận không được dài quá {RECIPIENTS_MAX} ký tự.")
    before = {k: getattr(unit, k) for k in values}
    if before == values:
        return False
    for key, value in values.items():
        setattr(unit, key, value)
    audit.record(
        "dossier.signer",
        "unit",
        unit.id,
        before=before,
        after=values,
        unit_id=unit.id,
        actor=user,
    )
    db.session.commit()
    return True


def missing_summary(dossier: Dossier) -> list[Row]:
    """Leaves listed in the report's section II (no evidence, incomplete citation)."""
    return [r for r in dossier.leaves() if r.needs_explanation]
