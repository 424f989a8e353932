"""Scoring engine: pure functions from a criteria set and answers to Decimal scores.

Imports only the standard library and ``criteria``; never Flask, SQLAlchemy or
``webapp``. Nothing here reads a database, the clock or configuration.
"""

from scoring.engine import (
    answer_correctable,
    check_rule_coverage,
    describe_answer,
    describe_rule,
    normalize_answer,
    rank,
    reachable_points,
    score_assessment,
    score_leaf,
    score_report,
)
from scoring.text import format_date, format_decimal, format_points
from scoring.types import (
    AnswerError,
    AssessmentScore,
    LeafScore,
    LeafStatus,
    NodeScore,
    PointOption,
)

__all__ = [
    "AnswerError",
    "AssessmentScore",
    "LeafScore",
    "LeafStatus",
    "NodeScore",
    "PointOption",
    "answer_correctable",
    "check_rule_coverage",
    "describe_answer",
    "describe_rule",
    "format_date",
    "format_decimal",
    "format_points",
    "normalize_answer",
    "rank",
    "reachable_points",
    "score_assessment",
    "score_leaf",
    "score_report",
]
