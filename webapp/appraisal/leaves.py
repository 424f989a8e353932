"""The criteria set as an appraiser sees it (leaves, reachable points, answers in
words), the small parsers the appraisal forms share, and the appraisal refusal.

Every public function of the appraisal services that changes state is one transaction:
it checks the rules, records an audit event (before → after) and commits; a refusal
raises :class:`AppraisalError` with a Vietnamese message and changes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import combinations
from typing import Any

from criteria import CriteriaSet, Node
from scoring import (
    format_date,
    format_decimal,
    format_points,
)
from webapp.errors import ParIndexError
from webapp.models import (
    CriterionScore,
)

APPRAISED_SOURCES = ("self", "system")  # survey leaves are entered by the coordinator
CENT = Decimal("0.01")
NA_CHOICE = "na"  # the appraiser agrees that an exclude_from_max leaf did not arise
MAX_CHECKLIST_ITEMS = 12  # 2^12 subsets at most; beyond that any value in 0..max


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
    """The scores the leaf's rule can produce, highest first; None: any value in 0..max.

    Binary, manual, checklist and deduction rules (and tiers whose bands all give
    fixed points) reach only a few values; an appraised score outside them is a score
    the rule cannot give, so it is refused.
    """
    rule = leaf.rule
    values: set[Decimal] = set()
    if rule is None:
        return None
    if rule.type == "binary":
        values = {rule.points_true, rule.points_false}
    elif rule.type == "manual":
        values = {level.points for level in rule.levels}
    elif rule.type == "checklist":
        if len(rule.items) > MAX_CHECKLIST_ITEMS:
            return None
        items = [item.points for item in rule.items]
        values = {
            sum(combo, Decimal(0))
            for size in range(len(items) + 1)
            for combo in combinations(items, size)
        }
    elif rule.type == "deduction":
        values = _deduction_values(
            rule.start, [e.minus for e in rule.events], rule.floor
        )
    elif rule.type == "tiers":
        if any(band.points == "ratio" for band in rule.bands):
            return None
        values = {Decimal(band.points) for band in rule.bands} | {Decimal(0)}
    else:
        return None
    if leaf.not_applicable == "full_points":
        values.add(leaf.max_points)
    rounded = {v.quantize(CENT, ROUND_HALF_UP) for v in values}
    return tuple(sorted(rounded, reverse=True))


def _deduction_values(
    start: Decimal, minuses: list[Decimal], floor: Decimal
) -> set[Decimal]:
    reachable = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for minus in minuses:
            if minus <= 0:
                continue
            nxt = max(floor, current - minus)
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    return reachable


def point_choices(leaf: Node, self_na_excluded: bool) -> list[tuple[str, str]] | None:
    """Options of the score select (value, label), or None for a free number."""
    allowed = allowed_points(leaf)
    if allowed is None:
        return None
    labels: dict[Decimal, list[str]] = {}
    rule = leaf.rule
    if rule is not None and rule.type == "manual":
        for level in rule.levels:
            labels.setdefault(level.points.quantize(CENT), []).append(level.text)
    elif rule is not None and rule.type == "binary":
        labels.setdefault(rule.points_true.quantize(CENT), []).append("Đạt")
        labels.setdefault(rule.points_false.quantize(CENT), []).append("Không đạt")
    choices = []
    if self_na_excluded:
        choices.append((NA_CHOICE, "Đồng ý không phát sinh (không tính điểm)"))
    for value in allowed:
        text = pts(value)
        if value in labels:
            text += " — " + " / ".join(labels[value])
        # The option's value is written as a user would type it: one parser reads it.
        choices.append((pts(value), text))
    return choices


def describe_answer(leaf: Node, answer: dict[str, Any] | None) -> list[str]:
    """The unit's answer as a person reads it (one line per fact)."""
    if not answer:
        return ["Chưa trả lời"]
    if answer.get("not_applicable"):
        return ["Không phát sinh (không áp dụng)"]
    rule = leaf.rule
    try:
        if rule is None:
            return []
        if rule.type == "binary":
            verdict = "Đạt" if answer.get("value") else "Không đạt"
            return [f"{verdict}: “{rule.condition}”"]
        if rule.type in ("tiers", "ratio", "survey"):
            measure = getattr(rule, "measure", None)
            name = measure.name if measure else "Kết quả"
            if measure is not None and measure.unit == "date":
                day = date.fromisoformat(str(answer["value"]))
                return [f"{name[:1].upper()}{name[1:]}: {format_date(day)}"]
            if "value" in answer:
                value = Decimal(str(answer["value"]))
                return [f"{name[:1].upper()}{name[1:]}: {format_points(value)}%"]
            num = Decimal(str(answer["numerator"]))
            den = Decimal(str(answer["denominator"]))
            if den == 0:
                return [f"{format_points(num)}/0: không phát sinh"]
            ratio = (num * 100 / den).quantize(CENT, ROUND_HALF_UP)
            return [
                f"{name[:1].upper()}{name[1:]}: {format_points(num)}/"
                f"{format_points(den)} = {format_points(ratio)}%"
            ]
        if rule.type == "checklist":
            checked = set(answer.get("checked", []))
            return [
                f"{'☑' if i in checked else '☐'} {item.text} ({pts(item.points)})"
                for i, item in enumerate(rule.items)
            ]
        if rule.type == "deduction":
            counts = list(answer.get("counts", []))
            return [
                f"{event.event}: {counts[i] if i < len(counts) else 0} lần"
                for i, event in enumerate(rule.events)
            ]
        if rule.type == "manual":
            level = rule.levels[int(answer["level"])]
            return [f"Mức: {level.text}"]
    except (KeyError, IndexError, TypeError, ValueError, InvalidOperation):
        pass
    return ["Câu trả lời không đọc được: " + str(answer)]


def leaf_answer(row: CriterionScore | None) -> dict[str, Any] | None:
    """The unit's answer of a leaf as the engine takes it (as workflow.answers_of)."""
    if row is None:
        return None
    if row.is_not_applicable:
        return {"not_applicable": True}
    return row.answer
