"""Result types of the scoring engine and its one error type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeAlias

LeafStatus: TypeAlias = Literal["scored", "unanswered", "not_applicable", "pending"]


class AnswerError(Exception):
    """A leaf's answer is refused; ``message`` is Vietnamese, prefixed by the code."""

    def __init__(self, code: str, field: str, text: str) -> None:
        self.code = code
        self.field = field
        self.message = f"{code}: {text}"
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class LeafScore:
    """How one leaf scored.

    ``points`` is ``None`` when the leaf is left out of the total (a pending survey, or
    not applicable under ``exclude_from_max``); ``counted_max`` is then 0.
    """

    code: str
    points: Decimal | None
    max_points: Decimal
    counted_max: Decimal
    status: LeafStatus
    explanation: str


@dataclass(frozen=True, slots=True)
class PointOption:
    """A score a leaf's rule can give, with what it means ("Đạt", a level's text)."""

    points: Decimal
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeScore:
    """Sums of a node's leaves; ``index`` is ``None`` when its counted max is 0."""

    code: str
    points: Decimal
    max_points: Decimal
    index: Decimal | None
    explanation: str | None = None
    status: LeafStatus | None = None


@dataclass(frozen=True, slots=True)
class AssessmentScore:
    """The scores of one assessment: totals, index, band and every node and leaf.

    ``points`` already includes the bonus and penalty points (``bonus``, ``penalty``:
    both positive, capped); ``max_points`` is the scale's maximum only
    (docs/bonus-penalty.md).
    """

    set_id: str
    points: Decimal
    max_points: Decimal
    index: Decimal | None
    band: str | None
    pending: tuple[str, ...]
    nodes: dict[str, NodeScore]
    leaves: dict[str, LeafScore]
    bonus: Decimal = Decimal(0)
    penalty: Decimal = Decimal(0)
