"""Scoring engine: pure functions from a criteria set and answers to Decimal scores.

Imports only the standard library and ``criteria``; never Flask, SQLAlchemy or
``webapp``. Nothing here reads a database, the clock or configuration.
"""

from scoring.engine import (
    check_rule_coverage,
    describe_rule,
    normalize_answer,
    rank,
    score_assessment,
    score_leaf,
    score_report,
)
from scoring.text import format_date, format_decimal, format_points
from scoring.types import AnswerError, AssessmentScore, LeafScore, LeafStatus, NodeScore

__all__ = [
    "AnswerError",
    "AssessmentScore",
    "LeafScore",
    "LeafStatus",
    "NodeScore",
    "check_rule_coverage",
    "describe_rule",
    "format_date",
    "format_decimal",
    "format_points",
    "normalize_answer",
    "rank",
    "score_assessment",
    "score_leaf",
    "score_report",
]
