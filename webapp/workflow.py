"""Scores every feature shares: the criteria set, answers, self and final scores.

Statuses, moves, deadlines and editability live in `webapp.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from scoring import AssessmentScore, score_assessment
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import Assessment, CriterionScore


def answers_of(assessment: Assessment, *, survey: bool = True) -> dict[str, Any]:
    """Answers by leaf code in the engine's JSON form (survey values unless not)."""
    return answers_from(assessment.scores, survey=survey)


def answers_from(rows: Iterable[Any], *, survey: bool = True) -> dict[str, Any]:
    """``answers_of`` for score rows: ORM objects or rows with the same columns."""
    out: dict[str, Any] = {}
    for row in rows:
        if row.survey_value is not None:
            if not survey:
                continue
            out[row.criterion_code] = {"value": str(row.survey_value)}
        elif row.is_not_applicable:
            out[row.criterion_code] = {"not_applicable": True}
        elif row.answer is not None:
            out[row.criterion_code] = row.answer
    return out


def self_score(assessment: Assessment) -> AssessmentScore:
    """The unit's self-score, recomputed by the engine from the stored answers.

    Survey points are the Sở's, never the unit's: survey leaves stay pending here
    (out of both points and maximum) even once their values are entered.
    """
    return score_assessment(
        criteria_for(assessment), answers_of(assessment, survey=False)
    )


def appraised_overrides(assessment: Assessment) -> Mapping[str, Decimal]:
    return overrides_from(assessment.scores)


def overrides_from(rows: Iterable[Any]) -> dict[str, Decimal]:
    """Appraised points by leaf code, from score rows (ORM objects or plain rows)."""
    return {
        r.criterion_code: r.appraised_points
        for r in rows
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
