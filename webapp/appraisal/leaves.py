"""The criteria set as an appraiser sees it (leaves, the score choices its rules
allow, answers in words: both from scoring), the small parsers the appraisal forms
share, and the appraisal refusal.

Every public function of the appraisal services that changes state is one transaction:
it checks the rules, records an audit event (before → after) and commits; a refusal
raises :class:`AppraisalError` with a Vietnamese message and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from criteria import CriteriaSet, Node
from scoring import describe_answer, format_decimal, reachable_points
from webapp.errors import ParIndexError
from webapp.models import (
    CriterionScore,
)

APPRAISED_SOURCES = ("self", "system")  # survey leaves are entered by the coordinator
CENT = Decimal("0.01")
NA_CHOICE = "na"  # the appraiser agrees that an exclude_from_max leaf did not arise


class AppraisalError(ParIndexError):
    """A refused appraisal action; ``field`` names the form field it belongs to."""


def pts(value: Decimal | None) -> str:
    """Points as the app shows them: "0,50"; None → "—"."""
    return "—" if value is None else format_decimal(value)


# -- the criteria set, seen by an appraiser ------------------------------------------


def appraised_leaves(cs: CriteriaSet) -> list[Node]:
    """The leaves an appraiser scores: self-assessed and system ones, not survey."""
    return [leaf for leaf in cs.leaves() if leaf.assessed_by in APPRAISED_SOURCES]


def area_of(code: str) -> str:
    return code.split(".", 1)[0]


def allowed_points(leaf: Node) -> tuple[Decimal, ...] | None:
    """The scores the leaf's rule can give, highest first; None: any value in 0..max.

    An appraised score outside them is a score the rule cannot give, so it is refused.
    """
    options = reachable_points(leaf)
    return None if options is None else tuple(option.points for option in options)


def point_choices(leaf: Node, self_na_excluded: bool) -> list[tuple[str, str]] | None:
    """Options of the score select (value, label), or None for a free number."""
    options = reachable_points(leaf)
    if options is None:
        return None
    choices = []
    if self_na_excluded:
        choices.append((NA_CHOICE, "Đồng ý không phát sinh (không tính điểm)"))
    for option in options:
        text = pts(option.points)
        if option.labels:
            text += " — " + " / ".join(option.labels)
        # The option's value is written as a user would type it: one parser reads it.
        choices.append((pts(option.points), text))
    return choices


def answer_in_words(leaf: Node, answer: dict[str, Any] | None) -> list[str]:
    """The unit's answer as a person reads it, one line per fact (scoring's words)."""
    return list(describe_answer(leaf, answer))


def leaf_answer(row: CriterionScore | None) -> dict[str, Any] | None:
    """The unit's answer of a leaf as the engine takes it (as workflow.answers_of)."""
    if row is None:
        return None
    if row.is_not_applicable:
        return {"not_applicable": True}
    return row.answer
