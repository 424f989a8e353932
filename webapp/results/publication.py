"""Publication (công bố kết quả): refused, with the list, while anything is missing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa

from scoring import format_decimal
from webapp import audit, lifecycle
from webapp.appraisal.leaves import (
    AppraisalError,
)
from webapp.clock import now, to_vn
from webapp.extensions import db
from webapp.lifecycle import (
    AssessmentStatus,
    PeriodStatus,
    can_still_self_assess,
    effective_deadline,
    open_returns,
)
from webapp.models import Assessment, Period, User
from webapp.notify import events as notify_events
from webapp.results.ranking import PeriodResults, UnitResult, period_results

logger = logging.getLogger(__name__)


class PublicationRefused(AppraisalError):
    """Publication refused; ``problems`` lists what is still missing, unit by unit."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Chưa thể công bố kết quả: " + "; ".join(problems))
        self.problems = problems


class UnitsStillOpen(PublicationRefused):
    """Publication refused: these units can still self-assess (deadline, return)."""

    def __init__(self, assessments: list[Assessment]) -> None:
        super().__init__([still_open_reason(a) for a in assessments])
        self.assessments = assessments


def units_still_open(
    period: Period, assessments: Iterable[Assessment] | None = None
) -> list[Assessment]:
    """The period's assessments whose unit may still change something, by unit name.

    ``assessments``: the period's, when the caller has them loaded already (the
    ranking page: 3,321 of them nationally, not to be selected twice)."""
    at = now()
    rows = (
        db.session.scalars(
            sa.select(Assessment).where(Assessment.period_id == period.id)
        )
        if assessments is None
        else assessments
    )
    return sorted(
        (a for a in rows if can_still_self_assess(a, at)), key=lambda a: a.unit.name
    )


def still_open_reason(assessment: Assessment) -> str:
    """ "Phường X còn thời gian tự đánh giá đến 22/12/2026 23:59 (đã gia hạn)"."""
    name = assessment.unit.name
    returns = open_returns(assessment)
    if assessment.status == AssessmentStatus.RETURNED and returns:
        due = max(r.due_at for r in returns)
        return (
            f"{name} đang giải trình, bổ sung theo yêu cầu trả lại "
            f"(hạn {to_vn(due).strftime('%d/%m/%Y %H:%M')})"
        )
    deadline = effective_deadline(assessment)
    extended = " (đã gia hạn)" if deadline != assessment.period.self_deadline else ""
    return (
        f"{name} còn thời gian tự đánh giá đến "
        f"{to_vn(deadline).strftime('%d/%m/%Y %H:%M')}{extended}"
    )


def close_early(period: Period, *, actor: User) -> list[Assessment]:
    """End self-assessment now for every unit that still has time (audited).

    The coordinator's explicit choice, so that publishing never silently freezes a unit
    that was told it had until a later date; each unit's dashboard says so.
    """
    if period.status == PeriodStatus.PUBLISHED:
        raise AppraisalError("Kết quả kỳ đánh giá này đã được công bố.")
    assessments = units_still_open(period)
    if not assessments:
        raise AppraisalError("Không còn đơn vị nào đang trong thời gian tự đánh giá.")
    at = now()
    reasons = {a.unit.code: still_open_reason(a) for a in assessments}
    for assessment in assessments:
        assessment.closed_early_at = at
        for request in open_returns(assessment, at):
            lifecycle.expire(request)
    audit.record(
        "period.close_early",
        "period",
        period.id,
        before={"units": reasons},
        after={"closed_early_at": at, "units": sorted(reasons)},
        period_id=period.id,
        summary="Kết thúc sớm việc tự đánh giá cho "
        + ", ".join(a.unit.name for a in assessments),
        actor=actor,
    )
    db.session.commit()
    logger.info(
        "period %s: self-assessment closed early by %s for %s",
        period.id,
        actor.id,
        sorted(reasons),
    )
    return assessments


def publish_period(period: Period, *, actor: User) -> PeriodResults:
    """Publish the period's results; refused while any result is incomplete.

    Refusing (rather than publishing with a warning) keeps a published ranking final:
    once units see it, no pending appraisal or survey value can still move it.
    """
    lifecycle.check_publish(period, error=AppraisalError)
    still_open = units_still_open(period)
    if still_open:
        raise UnitsStillOpen(still_open)
    results = period_results(period)
    if results.problems:
        raise PublicationRefused(results.problems)
    before = {"status": period.status, "published_at": period.published_at}
    lifecycle.publish(
        period, [r.assessment for r in results.rows], at=now(), error=AppraisalError
    )
    audit.record(
        "period.publish",
        "period",
        period.id,
        before=before,
        after={
            "status": period.status,
            "published_at": period.published_at,
            "results": {
                r.unit.code: {
                    "points": r.final.points,
                    "max_points": r.final.max_points,
                    "index": r.final.index,
                    "band": r.final.band,
                    "rank": r.rank,
                }
                for r in results.rows
            },
        },
        period_id=period.id,
        summary=f"Công bố kết quả {period.name} ({len(results.rows)} đơn vị)",
        actor=actor,
    )
    notify_events.period_published(
        period, [(r.unit.id, result_line(r)) for r in results.rows]
    )
    db.session.commit()
    logger.info("period %s published by %s", period.id, actor.id)
    return results


def result_line(row: UnitResult) -> str:
    """One unit's published result in words, for its notification."""
    final = row.final
    parts = [f"{format_decimal(final.points)}/{format_decimal(final.max_points)} điểm"]
    if final.index is not None:
        parts.append(f"chỉ số {format_decimal(final.index)}%")
    if final.band:
        parts.append(f"xếp loại {final.band}")
    if row.rank is not None:
        parts.append(f"xếp hạng {row.rank}")
    return ", ".join(parts)
