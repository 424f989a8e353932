"""Submitting an assessment (with its snapshot) and reopening it; each is one
transaction with its audit event (assessment.submit, assessment.reopen).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scoring import (
    format_decimal,
)
from webapp import audit
from webapp.assessment.overview import (
    AssessmentView,
    Problem,
    assessment_view,
    submit_problems,
)
from webapp.clock import now, to_vn
from webapp.evidence.services import current_evidence
from webapp.extensions import db
from webapp.models import (
    Assessment,
    ReturnRequest,
    User,
)
from webapp.workflow import (
    NotEditable,
    answers_of,
    effective_deadline,
    ensure_editable,
)

logger = logging.getLogger(__name__)


class SubmitRefused(Exception):
    """Submission refused because of the listed leaves."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} tiêu chí chưa đủ điều kiện gửi")
        self.problems = problems


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
