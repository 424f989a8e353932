"""Score leaves and whole assessments (DESIGN.md §4): pure functions, Decimal points.

Each leaf's points are rounded half-up to two decimals; a node's points and maximum
are the sums of its leaves'; the index is 100 × points ÷ maximum, two decimals; the
band is the first classification band the index meets. Bonus and penalty points
(điểm thưởng, điểm trừ) are capped per node, added to or taken from the points and
never to the maximum: docs/bonus-penalty.md.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from criteria import RULE_TYPES, CriteriaSet, Node
from scoring.rules import HANDLERS, handler_for, is_zero_denominator
from scoring.text import CENT, format_decimal, format_points
from scoring.types import (
    AnswerError,
    AssessmentScore,
    LeafScore,
    LeafStatus,
    NodeScore,
    PointOption,
)

K = TypeVar("K", bound=Hashable)

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_PENDING_TEXT = "Chờ kết quả điều tra xã hội học"
_NA_EXCLUDED = "Không phát sinh (không tính vào điểm tối đa)"
_NA_EXCLUDED_ZERO = "Không phát sinh (mẫu số bằng 0, không tính vào điểm tối đa)"
_NA_FULL = "Không phát sinh (tính tối đa)"
_NA_FULL_ZERO = "Không phát sinh (mẫu số bằng 0, tính tối đa)"
_NA_SUFFIX = {
    "full_points": " (không phát sinh: tính điểm tối đa)",
    "exclude_from_max": " (không phát sinh: không tính vào điểm tối đa)",
    "not_allowed": "",
}


def check_rule_coverage() -> None:
    """Raise ``RuntimeError`` unless every rule type in ``RULE_TYPES`` has a scorer."""
    missing = [name for name in RULE_TYPES if name not in HANDLERS]
    unknown = [name for name in HANDLERS if name not in RULE_TYPES]
    if missing or unknown:
        raise RuntimeError(
            f"rule types without a scorer: {missing}; "
            f"scorers without a rule type: {unknown}"
        )


def normalize_answer(
    leaf: Node, answer: Mapping[str, object] | None, *, allow_survey: bool = False
) -> dict[str, Any] | None:
    """Check a leaf's answer and return its canonical JSON form (``None``: unanswered).

    Survey results are entered by the coordinator, never by the unit, so a survey leaf's
    answer is refused unless ``allow_survey`` is true.
    """
    rule = leaf.rule
    if rule is None:
        raise AnswerError(
            leaf.code, "code", "không phải tiêu chí lá, không nhận câu trả lời"
        )
    if answer is None:
        return None
    # type() first: an ABC isinstance check is slow and this runs for every leaf.
    if type(answer) is not dict and not isinstance(answer, Mapping):
        raise AnswerError(leaf.code, "answer", "câu trả lời phải là một đối tượng JSON")
    if not answer:
        return None
    if rule.type == "survey" and not allow_survey:
        raise AnswerError(
            leaf.code,
            "value",
            "tiêu chí đánh giá qua điều tra xã hội học do Sở Nội vụ nhập, "
            "đơn vị không tự chấm",
        )
    if "not_applicable" in answer:
        flag = answer["not_applicable"]
        if not isinstance(flag, bool):
            raise AnswerError(leaf.code, "not_applicable", "chỉ nhận true hoặc false")
        if flag:
            if len(answer) > 1:
                raise AnswerError(
                    leaf.code,
                    "not_applicable",
                    "đã khai không phát sinh thì không nhập thêm số liệu",
                )
            if leaf.not_applicable == "not_allowed":
                raise AnswerError(
                    leaf.code,
                    "not_applicable",
                    "tiêu chí này không được khai không phát sinh",
                )
            return {"not_applicable": True}
        answer = {
            key: value for key, value in answer.items() if key != "not_applicable"
        }
        if not answer:
            return None
    return HANDLERS[rule.type].normalize(leaf, rule, answer)


def score_leaf(leaf: Node, answer: Mapping[str, object] | None) -> LeafScore:
    """Score one leaf from its answer (survey values accepted: caller is trusted)."""
    canonical = normalize_answer(leaf, answer, allow_survey=True)
    return _compiled(leaf).result(canonical)[0]


def _round(points: Decimal) -> Decimal:
    return points.quantize(CENT, ROUND_HALF_UP)


def _index(points: Decimal, max_points: Decimal) -> Decimal | None:
    if not max_points:
        return None
    return (points * _HUNDRED / max_points).quantize(CENT, ROUND_HALF_UP)


_Outcome = tuple[LeafScore, NodeScore]


# The dataclasses' generated ``__init__`` sets each field through ``object.__setattr__``
# (they are frozen); setting the slots directly takes half the time, and scoring a
# national round builds half a million of these.
_new = object.__new__
# A field added to either class must be added to its builder below too.
assert [f.name for f in fields(LeafScore)] == [
    "code",
    "points",
    "max_points",
    "counted_max",
    "status",
    "explanation",
]
assert [f.name for f in fields(NodeScore)] == [
    "code",
    "points",
    "max_points",
    "index",
    "explanation",
    "status",
]
_LEAF_SLOTS = [getattr(LeafScore, f.name).__set__ for f in fields(LeafScore)]
_NODE_SLOTS = [getattr(NodeScore, f.name).__set__ for f in fields(NodeScore)]


def _leaf_score(
    code: str,
    points: Decimal | None,
    max_points: Decimal,
    counted_max: Decimal,
    status: LeafStatus,
    explanation: str,
) -> LeafScore:
    """``LeafScore(...)``, faster."""
    score: LeafScore = _new(LeafScore)
    s_code, s_points, s_max, s_counted, s_status, s_text = _LEAF_SLOTS
    s_code(score, code)
    s_points(score, points)
    s_max(score, max_points)
    s_counted(score, counted_max)
    s_status(score, status)
    s_text(score, explanation)
    return score


def _node_score(
    code: str,
    points: Decimal,
    max_points: Decimal,
    index: Decimal | None,
    explanation: str | None = None,
    status: LeafStatus | None = None,
) -> NodeScore:
    """``NodeScore(...)``, faster."""
    score: NodeScore = _new(NodeScore)
    s_code, s_points, s_max, s_index, s_text, s_status = _NODE_SLOTS
    s_code(score, code)
    s_points(score, points)
    s_max(score, max_points)
    s_index(score, index)
    s_text(score, explanation)
    s_status(score, status)
    return score


def _outcome(score: LeafScore) -> _Outcome:
    """Pair a leaf's score with its node view (the two always travel together)."""
    points = _ZERO if score.points is None else score.points
    node = NodeScore(
        score.code,
        points,
        score.counted_max,
        _index(points, score.counted_max),
        score.explanation,
        score.status,
    )
    return score, node


def _memo_key(answer: dict[str, Any]) -> Hashable:
    if len(answer) == 1:
        for key, value in answer.items():
            return key, tuple(value) if type(value) is list else value
    return tuple(answer.items())


def _raw_key(raw: Mapping[str, object]) -> Hashable | None:
    """A key telling raw answers apart exactly as the checks would; None: do not memo.

    Types are part of the key: ``True == 1`` and ``1 == 1.0``, but the checks refuse
    ``True`` as a count and read ``1.0`` as a number. repr() of a list of JSON scalars
    keeps those apart too.
    """
    if type(raw) is not dict:
        return None
    if len(raw) == 1:  # most answers: one value, list or flag
        for name, value in raw.items():
            kind = type(value)
            if kind is list:
                return name, repr(value)
            return (name, kind, value) if kind in _SCALARS else None
    key: list[object] = []
    for name, value in raw.items():
        kind = type(value)
        if kind is list:
            key.append((name, repr(value)))
        elif kind in _SCALARS:
            key.append((name, kind, value))
        else:
            return None
    return tuple(key)


_SCALARS = frozenset({bool, int, float, str, Decimal, type(None)})


class _CompiledLeaf:
    """A leaf ready to score many answers quickly.

    Its fixed texts are worked out once, and outcomes are memoised by canonical answer:
    a leaf's score depends on nothing else, results are immutable, and across thousands
    of units most answers repeat (true/false, the same checked items, no deductions).
    """

    __slots__ = (
        "leaf",
        "code",
        "scorer",
        "max_text",
        "unit_text",
        "taken",
        "empty",
        "na",
        "na_zero",
        "memo",
        "raw_memo",
        "shown",
        "raw_scorer",
    )

    def __init__(self, leaf: Node) -> None:
        rule = leaf.rule
        assert rule is not None  # normalize_answer refused non-leaves
        code, top = leaf.code, leaf.max_points
        self.leaf = leaf
        self.code = code
        handler = HANDLERS[rule.type]
        self.scorer = handler.compile(leaf, rule)
        self.raw_scorer = handler.compile_raw and handler.compile_raw(leaf, rule)
        self.max_text = format_points(top)
        self.unit_text = _UNIT_TEXT[leaf.kind]
        # On a penalty leaf a deduction rule lists what is taken away: the penalty is
        # the start minus what remains, so "no event" costs nothing.
        self.taken = leaf.kind == "penalty" and rule.type == "deduction"
        if rule.type == "survey":
            empty = LeafScore(code, None, top, _ZERO, "pending", _PENDING_TEXT)
        else:
            text = f"Chưa trả lời: 0,00/{self.max_text} điểm"
            empty = LeafScore(code, _ZERO, top, top, "unanswered", text)
        self.empty = _outcome(empty)
        if leaf.not_applicable == "exclude_from_max":
            self.na = _outcome(
                LeafScore(code, None, top, _ZERO, "not_applicable", _NA_EXCLUDED)
            )
            self.na_zero = _outcome(
                LeafScore(code, None, top, _ZERO, "not_applicable", _NA_EXCLUDED_ZERO)
            )
        else:
            # full_points; a not_allowed leaf never gets here (normalize refuses it).
            full = _round(top)
            shown = f"{format_decimal(full)}/{self.max_text} điểm"
            self.na = _outcome(
                LeafScore(
                    code, full, top, top, "not_applicable", f"{_NA_FULL}: {shown}"
                )
            )
            self.na_zero = _outcome(
                LeafScore(
                    code, full, top, top, "not_applicable", f"{_NA_FULL_ZERO}: {shown}"
                )
            )
        self.memo: dict[Hashable, _Outcome] = {}
        # Raw answer → outcome, so a repeated answer skips checking as well as scoring.
        self.raw_memo: dict[Hashable, _Outcome] = {}
        # Rounded points as str() writes them → (": 0,93/1 điểm", index): few values,
        # each formatted once.
        self.shown: dict[str, tuple[str, Decimal | None]] = {}

    def score_new(self, raw: Mapping[str, object], key: Hashable | None) -> _Outcome:
        """Check and score a raw answer not in ``raw_memo`` yet (survey values
        accepted: the caller is trusted); ``key`` is its ``_raw_key``."""
        scored = None
        if self.raw_scorer is not None and type(raw) is dict:
            scored = self.raw_scorer(raw)
        if scored is not None:
            outcome = self._finish(*scored)
        else:
            canonical = normalize_answer(self.leaf, raw, allow_survey=True)
            # Straight to scoring: a new raw answer rarely repeats a canonical one.
            outcome = self.empty if canonical is None else self._compute(canonical)
        if key is not None and len(self.raw_memo) < _MEMO_LIMIT:
            self.raw_memo[key] = outcome
        return outcome

    def score_plain(self, raw: Mapping[str, object]) -> _Outcome:
        """Score a raw answer the short way if it is plain, else as ``score_new``."""
        if type(raw) is dict:
            assert self.raw_scorer is not None
            scored = self.raw_scorer(raw)
            if scored is not None:
                return self._finish(*scored)
        key = _raw_key(raw)
        return self.raw_memo.get(key) or self.score_new(raw, key)

    def result(self, answer: dict[str, Any] | None) -> _Outcome:
        """Score a canonical answer (from ``normalize_answer``)."""
        if answer is None:
            return self.empty
        key = _memo_key(answer)
        known = self.memo.get(key)
        if known is not None:
            return known
        outcome = self._compute(answer)
        if len(self.memo) < _MEMO_LIMIT:
            self.memo[key] = outcome
        return outcome

    def _compute(self, answer: dict[str, Any]) -> _Outcome:
        if "not_applicable" in answer:
            return self.na
        if is_zero_denominator(answer):
            return self.na_zero
        return self._finish(*self.scorer(answer))

    def _finish(self, raw: Decimal, text: str) -> _Outcome:
        """Round a scorer's points and complete its explanation."""
        top = self.leaf.max_points
        if self.taken:
            raw = top - raw
        points = raw.quantize(CENT, ROUND_HALF_UP)
        # Keyed by its text: hashing a new Decimal costs more than writing it out.
        written = str(points)
        shown = self.shown.get(written)
        if shown is None:
            suffix = f": {format_decimal(points)}/{self.max_text} {self.unit_text}"
            shown = (suffix, _index(points, top))
            if len(self.shown) < _MEMO_LIMIT:
                self.shown[written] = shown
        code, explanation = self.code, text + shown[0]
        # _leaf_score and _node_score, inline: this runs for most leaves of a round.
        leaf: LeafScore = _new(LeafScore)
        s_code, s_points, s_max, s_counted, s_status, s_text = _LEAF_SLOTS
        s_code(leaf, code)
        s_points(leaf, points)
        s_max(leaf, top)
        s_counted(leaf, top)
        s_status(leaf, "scored")
        s_text(leaf, explanation)
        node: NodeScore = _new(NodeScore)
        s_code, s_points, s_max, s_index, s_text, s_status = _NODE_SLOTS
        s_code(node, code)
        s_points(node, points)
        s_max(node, top)
        s_index(node, shown[1])
        s_text(node, explanation)
        s_status(node, "scored")
        return leaf, node


_UNIT_TEXT = {
    "standard": "điểm",
    "bonus": "điểm thưởng",
    "penalty": "điểm trừ",
    "mixed": "điểm",
}
_MEMO_LIMIT = 512
# id(leaf) → compiled leaf; the entry keeps its leaf alive, so the id stays unique.
_COMPILED: dict[int, _CompiledLeaf] = {}


def _compiled(leaf: Node) -> _CompiledLeaf:
    compiled = _COMPILED.get(id(leaf))
    if compiled is None or compiled.leaf is not leaf:
        if len(_COMPILED) >= 4096:
            _COMPILED.clear()
        compiled = _COMPILED[id(leaf)] = _CompiledLeaf(leaf)
    return compiled


def _override(leaf: Node, value: object) -> _Outcome:
    """Score a leaf with the appraised points instead of its answer."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise AnswerError(
            leaf.code, "points", f"điểm thẩm định {value!r} không phải là số"
        )
    try:
        points = Decimal(str(value))
    except ArithmeticError:
        raise AnswerError(
            leaf.code, "points", f"điểm thẩm định '{value}' không phải là số"
        ) from None
    top = leaf.max_points
    if not points.is_finite() or points < 0 or points > top:
        raise AnswerError(
            leaf.code,
            "points",
            f"điểm thẩm định {value} phải nằm trong khoảng "
            f"từ 0 đến {format_points(top)}",
        )
    points = _round(points)
    explanation = f"Điểm thẩm định: {format_decimal(points)}/{format_points(top)} điểm"
    return _outcome(LeafScore(leaf.code, points, top, top, "scored", explanation))


@dataclass(frozen=True, slots=True)
class _Plan:
    """A set's tree flattened once, so scoring thousands of units never walks it.

    Nodes are numbered in document order; sums run over lists indexed by that number.
    """

    order: tuple[str, ...]
    leaves: tuple[tuple[_CompiledLeaf, int], ...]
    leaf_codes: frozenset[str]
    # Parents in post-order (children before parents), each with a function picking
    # its children's values out of a list indexed by node number.
    parents: tuple[tuple[int, str, Callable[[list[Decimal]], Iterable[Decimal]]], ...]
    areas: Callable[[list[Decimal]], Iterable[Decimal]]
    # Bonus/penalty parents, post-order: a cap (bonus, penalty) or None (mixed: net of
    # children, each signed +1 or −1); they never share a subtree with ``parents``.
    extra_parents: tuple[
        tuple[int, str, tuple[int, ...], Decimal | None, tuple[int, ...]], ...
    ] = ()
    # The outermost bonus and penalty nodes, whose capped points make the totals.
    bonus_tops: tuple[int, ...] = ()
    penalty_tops: tuple[int, ...] = ()
    # Every code in document order, to be copied and filled per assessment.
    blank: dict[str, NodeScore | None] = field(default_factory=dict)


def _picker(numbers: tuple[int, ...]) -> Callable[[list[Decimal]], Iterable[Decimal]]:
    """``lambda values: [values[n] for n in numbers]``, done in C by itemgetter."""
    if len(numbers) == 1:  # itemgetter of one item returns the item, not a tuple
        (only,) = numbers
        return lambda values: (values[only],)
    picker: Callable[[list[Decimal]], Iterable[Decimal]] = itemgetter(*numbers)
    return picker


_PLANS: WeakKeyDictionary[CriteriaSet, _Plan] = WeakKeyDictionary()


def _plan(criteria_set: CriteriaSet) -> _Plan:
    plan = _PLANS.get(criteria_set)
    if plan is not None:
        return plan
    order = tuple(criteria_set.nodes())
    slot = {code: number for number, code in enumerate(order)}
    parents: list[tuple[int, str, Callable[[list[Decimal]], Iterable[Decimal]]]] = []
    extra: list[tuple[int, str, tuple[int, ...], Decimal | None, tuple[int, ...]]]
    extra = []
    tops: dict[str, list[int]] = {"bonus": [], "penalty": []}

    # Depth first with an explicit stack, children before their parent: a nested
    # recursive function would be a reference cycle (function ↔ its closure cell).
    stack: list[tuple[Node, bool, bool]] = [
        (area, True, False) for area in reversed(criteria_set.areas)
    ]
    while stack:
        node, outer, children_done = stack.pop()
        if not children_done:
            if outer and node.kind in tops:
                tops[node.kind].append(slot[node.code])
            stack.append((node, outer, True))
            inner = node.kind in ("standard", "mixed")
            stack.extend((child, inner, False) for child in reversed(node.children))
            continue
        if not node.children:
            continue
        kids = tuple(slot[child.code] for child in node.children)
        if node.kind == "standard":
            parents.append((slot[node.code], node.code, _picker(kids)))
        else:
            cap = None if node.kind == "mixed" else node.max_points
            signs = tuple(-1 if c.kind == "penalty" else 1 for c in node.children)
            extra.append((slot[node.code], node.code, kids, cap, signs))
    leaves = criteria_set.leaves()
    plan = _Plan(
        order=order,
        leaves=tuple((_CompiledLeaf(leaf), slot[leaf.code]) for leaf in leaves),
        leaf_codes=frozenset(leaf.code for leaf in leaves),
        parents=tuple(parents),
        areas=_picker(tuple(slot[area.code] for area in criteria_set.scale_areas())),
        extra_parents=tuple(extra),
        bonus_tops=tuple(tops["bonus"]),
        penalty_tops=tuple(tops["penalty"]),
        blank=dict.fromkeys(order, None),
    )
    _PLANS[criteria_set] = plan
    return plan


def _check_codes(
    criteria_set: CriteriaSet, plan: _Plan, codes: Mapping[str, object]
) -> None:
    if plan.leaf_codes.issuperset(codes):
        return
    for code in codes:
        if code not in plan.leaf_codes:
            if code in criteria_set.nodes():
                text = "không phải tiêu chí lá, không nhận câu trả lời"
            else:
                text = f"mã không có trong bộ tiêu chí {criteria_set.id}"
            raise AnswerError(str(code), "code", text)


def score_assessment(
    cs: CriteriaSet,
    answers: Mapping[str, Mapping[str, object] | None],
    *,
    points_override: Mapping[str, Decimal] | None = None,
) -> AssessmentScore:
    """Score every leaf of a set from the answers and sum nodes, index and band.

    ``points_override`` gives appraised points for some leaves; each must lie between 0
    and the leaf's maximum. Unknown or non-leaf codes raise ``AnswerError``.
    """
    plan = _plan(cs)
    _check_codes(cs, plan, answers)
    overrides = points_override or {}
    _check_codes(cs, plan, overrides)

    size = len(plan.order)
    points = [_ZERO] * size
    maxima = [_ZERO] * size
    # Every node's key in document order, each value set below: copying the blank
    # beats building the dict from pairs at the end.
    nodes: dict[str, NodeScore | None] = plan.blank.copy()
    leaves: dict[str, LeafScore] = {}
    pending: list[str] = []
    get = answers.get
    for compiled, number in plan.leaves:
        code = compiled.code
        if code in overrides:
            leaf_score, node = _override(compiled.leaf, overrides[code])
        else:
            # Most answers repeat (true/false, the same checked items): memo first.
            raw = get(code)
            if raw is None:
                outcome = compiled.empty
            elif compiled.raw_scorer is not None:
                # Measured percentages seldom repeat: straight to the short way.
                outcome = compiled.score_plain(raw)
            else:
                key = _raw_key(raw)
                outcome = compiled.raw_memo.get(key) or compiled.score_new(raw, key)
            leaf_score, node = outcome
        leaves[code] = leaf_score
        nodes[code] = node
        points[number] = node.points
        maxima[number] = node.max_points
        if leaf_score.status == "pending":
            pending.append(code)
    s_code, s_points, s_max, s_index, s_text, s_status = _NODE_SLOTS
    for number, code, children in plan.parents:
        total = points[number] = sum(children(points), _ZERO)
        top = maxima[number] = sum(children(maxima), _ZERO)
        # _node_score(code, total, top, index), inline.
        node = nodes[code] = _new(NodeScore)
        s_code(node, code)
        s_points(node, total)
        s_max(node, top)
        s_index(
            node,
            (total * _HUNDRED / top).quantize(CENT, ROUND_HALF_UP) if top else None,
        )
        s_text(node, None)
        s_status(node, None)
    for number, code, kids, cap, signs in plan.extra_parents:
        top = sum([maxima[child] for child in kids], _ZERO)
        if cap is None:
            total = sum(
                [points[c] * sign for c, sign in zip(kids, signs, strict=True)],
                _ZERO,
            )
        else:
            total = min(cap, sum([points[child] for child in kids], _ZERO))
            top = min(cap, top)
        points[number], maxima[number] = total, top
        nodes[code] = _node_score(code, total, top, None, None, None)

    total = sum(plan.areas(points), _ZERO)
    total_max = sum(plan.areas(maxima), _ZERO)
    bonus = sum([points[number] for number in plan.bonus_tops], _ZERO)
    penalty = sum([points[number] for number in plan.penalty_tops], _ZERO)
    if bonus or penalty:
        # Never below zero; above the maximum only where the set allows it.
        total = max(_ZERO, total + bonus - penalty)
        if not cs.index_may_exceed_100:
            total = min(total, total_max)
    index = _index(total, total_max)
    band = None
    if index is not None:
        band = next((b.label for b in cs.bands if b.contains(index)), None)
    return AssessmentScore(
        set_id=cs.id,
        points=total,
        max_points=total_max,
        index=index,
        band=band,
        pending=tuple(pending),
        # Every key has its node by now: leaves above, parents after them.
        nodes=cast(dict[str, NodeScore], nodes),
        leaves=leaves,
        bonus=bonus,
        penalty=penalty,
    )


def _json_number(value: Decimal) -> str:
    return format(_round(value), "f")


def score_report(
    cs: CriteriaSet, answers: Mapping[str, Mapping[str, object] | None]
) -> dict[str, Any]:
    """Return the JSON of ``flask criteria score`` (DESIGN.md §4): numbers as "8.50"."""
    result = score_assessment(cs, answers)
    kinds = {code: n.kind for code, n in cs.nodes().items() if n.is_extra}
    nodes: dict[str, dict[str, str]] = {}
    for code, node in result.nodes.items():
        entry = {
            "points": _json_number(node.points),
            "max": _json_number(node.max_points),
        }
        if code in kinds:
            entry["kind"] = kinds[code]
        if node.explanation is not None:
            entry["explanation"] = node.explanation
        nodes[code] = entry
    return {
        "set": result.set_id,
        "total": {
            "points": _json_number(result.points),
            "max": _json_number(result.max_points),
            "index": None if result.index is None else _json_number(result.index),
        },
        "bonus": _json_number(result.bonus),
        "penalty": _json_number(result.penalty),
        "band": result.band,
        "pending": list(result.pending),
        "nodes": nodes,
    }


def describe_rule(leaf: Node) -> str:
    """Describe a leaf's rule (and its not-applicable policy) in plain Vietnamese."""
    rule = leaf.rule
    if rule is None:
        raise ValueError(
            f"{leaf.code}: không phải tiêu chí lá, không có cách tính điểm"
        )
    text = HANDLERS[rule.type].describe(leaf, rule)
    return text + _NA_SUFFIX.get(leaf.not_applicable or "not_allowed", "")


def reachable_points(leaf: Node) -> tuple[PointOption, ...] | None:
    """The scores a leaf's rule can give, rounded, highest first (what an appraiser may
    set); ``None`` when any value from 0 to the maximum can be reached.

    A ``full_points`` leaf also reaches its maximum (declared not applicable).
    """
    rule = leaf.rule
    if rule is None:
        raise ValueError(f"{leaf.code}: không phải tiêu chí lá, không có điểm")
    reached = handler_for(rule).reachable(leaf, rule)
    if reached is None:
        return None
    if leaf.not_applicable == "full_points":
        reached.append((leaf.max_points, None))
    labels: dict[Decimal, list[str]] = {}
    for points, label in reached:
        texts = labels.setdefault(_round(points), [])
        if label is not None and label not in texts:
            texts.append(label)
    return tuple(
        PointOption(points, tuple(labels[points]))
        for points in sorted(labels, reverse=True)
    )


def answer_correctable(leaf: Node) -> bool:
    """Tell whether an appraiser corrects this leaf's figures (the rule then rescores
    them) rather than choosing a score: not for manual levels nor survey results."""
    return leaf.rule is not None and handler_for(leaf.rule).correctable


_UNANSWERED = ("Chưa trả lời",)
_NOT_APPLICABLE = ("Không phát sinh / không áp dụng",)


def describe_answer(leaf: Node, answer: Mapping[str, object] | None) -> tuple[str, ...]:
    """How a stored answer reads, one line per fact: ("Tỷ lệ 9/10 = 90%",),
    ("☑ Nội dung 1 (0,50)", "☐ Nội dung 2 (0,50)"), ("Chưa trả lời",)."""
    if answer and answer.get("not_applicable") is True:
        # Read as declared even where the policy now refuses it: it is what was said.
        return _NOT_APPLICABLE
    try:
        canonical = normalize_answer(leaf, answer, allow_survey=True)
    except AnswerError:
        return (f"Câu trả lời không đọc được: {answer}",)
    if canonical is None:
        return _UNANSWERED
    if "not_applicable" in canonical:
        return _NOT_APPLICABLE
    rule = leaf.rule
    assert rule is not None  # normalize_answer refused non-leaves
    return tuple(handler_for(rule).read(leaf, rule, canonical))


def rank(scores: Mapping[K, Decimal]) -> dict[K, int]:
    """Rank by score, highest first; ties share a rank, the next one skips (1, 1, 3)."""
    ordered = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    ranks: dict[K, int] = {}
    previous: Decimal | None = None
    current = 0
    for position, (key, score) in enumerate(ordered, start=1):
        if score != previous:
            current = position
            previous = score
        ranks[key] = current
    return ranks
