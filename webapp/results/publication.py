"""Publication (công bố kết quả): refused, with the list, while anything is missing."""

from __future__ import annotations

import logging

from webapp import audit, lifecycle
from webapp.appraisal.leaves import (
    AppraisalError,
)
from webapp.clock import now
from webapp.extensions import db
from webapp.models import Period, User
from webapp.results.ranking import PeriodResults, period_results

logger = logging.getLogger(__name__)


class PublicationRefused(AppraisalError):
    """Publication refused; ``problems`` lists what is still missing, unit by unit."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Chưa thể công bố kết quả: " + "; ".join(problems))
        self.problems = problems


def publish_period(period: Period, *, actor: User) -> PeriodResults:
    """Publish the period's results; refused while any result is incomplete.

    Refusing (rather than publishing with a warning) keeps a published ranking final:
    once units see it, no pending appraisal or survey value can still move it.
    """
    lifecycle.check_publish(period, error=AppraisalError)
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
    db.session.commit()
    logger.info("period %s published by %s", period.id, actor.id)
    return results
