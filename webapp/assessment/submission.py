"""Submitting an assessment (with its snapshot) and reopening it; each is one
transaction with its audit event (assessment.submit, assessment.reopen).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from scoring import (
    format_decimal,
)
from webapp import audit, lifecycle
from webapp.assessment.overview import (
    AssessmentView,
    Problem,
    assessment_view,
    submit_problems,
)
from webapp.clock import now
from webapp.errors import ParIndexError
from webapp.evidence.services import current_evidence
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus
from webapp.models import (
    Assessment,
    User,
)
from webapp.notify import events as notify_events
from webapp.workflow import answers_of

logger = logging.getLogger(__name__)


class SubmitRefused(ParIndexError):
    """Submission refused because of the listed leaves."""

    status = 409

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            f"Chưa gửi được hồ sơ: {len(problems)} tiêu chí chưa đủ điều kiện "
            "(xem danh sách)."
        )
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
        # The report's text as the unit wrote it: the exported report prints this.
        "report_sections": dict(assessment.report_sections or {}),
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


def submit_assessment(assessment: Assessment, user: User) -> Assessment:
    """Freeze the assessment (or resubmit a returned one) once deadline and gaps allow.

    Raises NotEditable (late, already submitted) or SubmitRefused (the leaves at fault).
    """
    lifecycle.check_submit(assessment)
    view = assessment_view(assessment, user)
    problems = submit_problems(view)
    if problems:
        raise SubmitRefused(problems)
    at = now()
    resubmission = assessment.status == AssessmentStatus.RETURNED
    before = {
        "status": assessment.status,
        "submitted_at": assessment.submitted_at,
        "submitted_by_id": assessment.submitted_by_id,
    }
    snapshot = build_snapshot(assessment, view, at, user)
    resolved = lifecycle.submit(assessment, by=user, at=at)
    if resubmission:
        snapshot["resubmitted_at"] = at.isoformat()
    assessment.snapshot = snapshot
    digest = hashlib.sha256(
        json.dumps(snapshot, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    audit.record(
        "assessment.submit",
        "assessment",
        assessment.id,
        before=before,
        after={
            "status": assessment.status,
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
    notify_events.assessment_submitted(
        assessment,
        at=at,
        resubmission=resubmission,
        points=f"{format_decimal(view.score.points)}/"
        f"{format_decimal(view.score.max_points)}",
        resolved=[r for r in assessment.return_requests if r.id in resolved],
    )
    db.session.commit()
    logger.info("assessment %s submitted by %s", assessment.id, user.username)
    return assessment


def reopen_assessment(assessment: Assessment, user: User, reason: str) -> Assessment:
    """Send a submitted assessment back to draft (the old snapshot stays in the log)."""
    reason = reason.strip()
    before = {
        "status": assessment.status,
        "submitted_at": assessment.submitted_at,
        "submitted_by_id": assessment.submitted_by_id,
        "snapshot": assessment.snapshot,
    }
    lifecycle.reopen(assessment)
    audit.record(
        "assessment.reopen",
        "assessment",
        assessment.id,
        before=before,
        after={"status": assessment.status, "reason": reason},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Mở lại hồ sơ: {reason}",
        actor=user,
    )
    db.session.commit()
    logger.info("assessment %s reopened by %s", assessment.id, user.username)
    return assessment
