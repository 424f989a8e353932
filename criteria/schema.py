"""Immutable types of a criteria set (bộ tiêu chí): the tree, its rules and bands.

Everything here is built by :mod:`criteria.loader` from a YAML file in the format of
DESIGN.md §4. Points are ``Decimal`` (built with ``Decimal(str(x))`` so that a YAML
``0.15`` stays exactly ``0.15``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar, Literal, TypeAlias

RULE_TYPES: tuple[str, ...] = (
    "binary",
    "tiers",
    "ratio",
    "checklist",
    "deduction",
    "manual",
    "survey",
)
NA_POLICIES: tuple[str, ...] = ("not_allowed", "exclude_from_max", "full_points")
ASSESSED_BY: tuple[str, ...] = ("self", "system", "survey")
MEASURE_UNITS: tuple[str, ...] = ("percent", "date")
# Bonus and penalty points (điểm thưởng, điểm trừ) sit outside the 100-point scale;
# "mixed" is an unmarked node holding both (Hà Nội 5666/QĐ-UBND's area 9).
NODE_KINDS: tuple[str, ...] = ("standard", "bonus", "penalty", "mixed")
EXTRA_KINDS: tuple[str, ...] = ("bonus", "penalty")


@dataclass(frozen=True, slots=True)
class Band:
    """A classification band on the index in percent: ``min <= index < max_lt``."""

    label: str
    min: Decimal | None
    max_lt: Decimal | None

    def contains(self, index: Decimal) -> bool:
        """Tell whether the index falls in this band."""
        if self.min is not None and index < self.min:
            return False
        return self.max_lt is None or index < self.max_lt


@dataclass(frozen=True, slots=True)
class Measure:
    """What a tiers or ratio rule measures; ``unit`` is ``percent`` or ``date``.

    ``max_value`` is the highest percentage the measure can take (revenue against
    its estimate may reach 150 %); ``None`` on a percentage means no upper limit.
    Without the key a percentage stops at 100 %, as before.
    """

    name: str
    unit: str
    max_value: Decimal | None = Decimal(100)


@dataclass(frozen=True, slots=True)
class TierBand:
    """A band of a tiers rule: all its bounds must hold; ``otherwise`` always does."""

    min: Decimal | None = None
    max_lt: Decimal | None = None
    from_date: date | None = None
    until_date: date | None = None
    otherwise: bool = False
    points: Decimal | Literal["ratio"] = Decimal(0)
    ratio_base: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BinaryRule:
    """``points_true`` if the condition holds, else ``points_false``."""

    type: ClassVar[str] = "binary"
    condition: str
    points_true: Decimal
    points_false: Decimal


@dataclass(frozen=True, slots=True)
class TiersRule:
    """The first band whose bounds all hold gives the points; none: 0."""

    type: ClassVar[str] = "tiers"
    measure: Measure
    bands: tuple[TierBand, ...]


@dataclass(frozen=True, slots=True)
class RatioRule:
    """``max_points × min(1, value ÷ target)``; 0 below ``floor``."""

    type: ClassVar[str] = "ratio"
    measure: Measure
    target: Decimal
    floor: Decimal


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of a checklist and the points it is worth."""

    text: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class ChecklistRule:
    """Sum of the points of the checked items."""

    type: ClassVar[str] = "checklist"
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class DeductionEvent:
    """A kind of event and the points each occurrence takes away."""

    event: str
    minus: Decimal


@dataclass(frozen=True, slots=True)
class DeductionRule:
    """``max(floor, start − Σ count × minus)``."""

    type: ClassVar[str] = "deduction"
    start: Decimal
    events: tuple[DeductionEvent, ...]
    floor: Decimal


@dataclass(frozen=True, slots=True)
class ManualLevel:
    """One level an appraiser may choose, with its points."""

    text: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class ManualRule:
    """The points of the chosen level."""

    type: ClassVar[str] = "manual"
    levels: tuple[ManualLevel, ...]


@dataclass(frozen=True, slots=True)
class SurveyRule:
    """``max_points × value ÷ 100``, the value entered by the coordinator only."""

    type: ClassVar[str] = "survey"
    instrument: str
    formula: str


Rule: TypeAlias = (
    BinaryRule
    | TiersRule
    | RatioRule
    | ChecklistRule
    | DeductionRule
    | ManualRule
    | SurveyRule
)


@dataclass(frozen=True, slots=True)
class Node:
    """An area (depth 1), criterion (2) or sub-criterion (3); leaves carry the rule."""

    code: str
    title: str
    max_points: Decimal
    children: tuple[Node, ...] = ()
    depth: int = 1
    assessed_by: str | None = None
    rule: Rule | None = None
    not_applicable: str | None = None
    evidence: tuple[str, ...] = ()
    # Where the leaf's fact comes from when not typed in ("plan_completion": the
    # unit's tracked PAR plan); None for facts the unit enters.
    fact_source: str | None = None
    # Effective kind (inherited from the nearest marked ancestor); for a bonus or
    # penalty node ``max_points`` is its cap, not a share of ``total_max_points``.
    kind: str = "standard"

    @property
    def is_extra(self) -> bool:
        """Tell whether the node holds bonus or penalty points, outside the scale."""
        return self.kind != "standard"

    @property
    def is_leaf(self) -> bool:
        """Tell whether the node is scored directly (it has no children)."""
        return not self.children

    def walk(self) -> Iterator[Node]:
        """Yield this node and its descendants in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True, weakref_slot=True)
class CriteriaSet:
    """One year's official set for one unit type; immutable once loaded."""

    id: str
    title: str
    evaluation_year: int
    unit_type: str
    total_max_points: Decimal
    bands: tuple[Band, ...]
    areas: tuple[Node, ...]
    meta: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)
    # Bonus points may lift the index above 100 only where the set says so.
    index_may_exceed_100: bool = False
    # Lookup tables built once: scoring walks the tree for thousands of units.
    _index: dict[str, Node] = field(init=False, repr=False, compare=False, hash=False)
    _parents: dict[str, str | None] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _leaves: tuple[Node, ...] = field(init=False, repr=False, compare=False, hash=False)
    _hash: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Documentation keys stay readable but cannot be changed through the set.
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        index: dict[str, Node] = {}
        parents: dict[str, str | None] = {}
        leaves: list[Node] = []

        def visit(node: Node, parent: str | None) -> None:
            index[node.code] = node
            parents[node.code] = parent
            if node.is_leaf:
                leaves.append(node)
            for child in node.children:
                visit(child, node.code)

        for area in self.areas:
            visit(area, None)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_parents", parents)
        object.__setattr__(self, "_leaves", tuple(leaves))
        # Hashing the whole tree on every dict lookup would be slow; hash it once.
        object.__setattr__(
            self, "_hash", hash((self.id, self.total_max_points, self.areas))
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[CriteriaSet], tuple[object, ...]]:
        # The read-only meta view cannot be pickled; rebuild from plain values instead.
        return (
            CriteriaSet,
            (
                self.id,
                self.title,
                self.evaluation_year,
                self.unit_type,
                self.total_max_points,
                self.bands,
                self.areas,
                dict(self.meta),
                self.index_may_exceed_100,
            ),
        )

    def scale_areas(self) -> list[Node]:
        """Return the areas on the 100-point scale (not bonus or penalty areas)."""
        return [area for area in self.areas if not area.is_extra]

    def leaves(self) -> list[Node]:
        """Return the scored leaves in document order."""
        return list(self._leaves)

    def node(self, code: str) -> Node:
        """Return the node with this code; raise ``KeyError`` if there is none."""
        return self._index[code]

    def nodes(self) -> dict[str, Node]:
        """Return every node by code, in document order (pre-order)."""
        return dict(self._index)

    def parent_code(self, code: str) -> str | None:
        """Return the parent's code (``None`` for an area); ``KeyError`` if unknown."""
        return self._parents[code]


def without_survey(cs: CriteriaSet) -> CriteriaSet:
    """Return the set with its survey leaves left out (a period that runs no survey).

    Parents left with no leaf go too; every maximum becomes the sum of what remains, so
    the index is over the self-assessed leaves only.
    """

    def prune(node: Node) -> Node | None:
        if node.is_leaf:
            return None if node.assessed_by == "survey" else node
        kept = tuple(c for c in (prune(child) for child in node.children) if c)
        if not kept:
            return None
        if kept == node.children:
            return node
        top = node.max_points
        if node.kind not in ("bonus", "penalty"):  # a cap stays a cap
            top = sum((c.max_points for c in kept), Decimal(0))
        return replace(node, children=kept, max_points=top)

    areas = tuple(a for a in (prune(area) for area in cs.areas) if a)
    total = sum((a.max_points for a in areas if not a.is_extra), Decimal(0))
    return CriteriaSet(
        id=cs.id,
        title=cs.title,
        evaluation_year=cs.evaluation_year,
        unit_type=cs.unit_type,
        total_max_points=total,
        bands=cs.bands,
        areas=areas,
        meta=dict(cs.meta),
        index_may_exceed_100=cs.index_may_exceed_100,
    )
