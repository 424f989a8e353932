"""What each rule type means, in one handler per rule class (DESIGN.md §4 table).

Normalisers check a raw answer and return its canonical JSON form. ``compile`` turns a
leaf into a scorer: a closure with the leaf's fixed texts worked out once, which takes
the canonical answer and returns the unrounded points and the first part of the
explanation (the engine appends ": 0,93/1 điểm"). Missing and not-applicable answers
are handled by the engine before any scorer runs. ``compile_raw`` (percentages only:
their answers seldom repeat, so memos rarely help) gives a scorer that reads a plain
raw answer directly, with the same checks and the same result; anything else takes the
long way through the normaliser. ``reachable`` says which points the rule can give
(what an appraiser may set), ``read`` how a canonical answer reads in Vietnamese, and
``correctable`` whether an appraiser may correct the unit's figures (rather than
choose a score).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import combinations
from typing import Any, Generic, NoReturn, TypeVar

from criteria import (
    BinaryRule,
    ChecklistRule,
    DeductionRule,
    ManualRule,
    Node,
    RatioRule,
    Rule,
    SurveyRule,
    TierBand,
    TiersRule,
)
from scoring.text import (
    format_date,
    format_decimal,
    format_measured,
    format_points,
    round_measured,
)
from scoring.types import AnswerError

Canonical = dict[str, Any]
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
# Numbers beyond 10^15 (or with more than 15 decimals) are no count, amount or rate.
_MAX_DIGITS = 15


# A checklist of n items reaches up to 2^n sums; beyond this many items listing them is
# no help to an appraiser, so any value in 0..max is allowed instead.
MAX_LISTED_CHECKLIST_ITEMS = 12

Scorer = Callable[[Canonical], tuple[Decimal, str]]
# A measured percentage's scorer: (value, its figure "66,67", how the measure reads
# "2/3 = 66,67%") → what a ``Scorer`` returns.
ValueScorer = Callable[[Decimal, str, str], tuple[Decimal, str]]
# Scores a raw answer straight away when it has the plain shape of an accepted answer,
# exactly as checking it and scoring the canonical answer would; ``None`` otherwise
# (anything unusual, refused or not applicable), and the engine takes the long way.
RawScorer = Callable[[Mapping[str, object]], "tuple[Decimal, str] | None"]
# Points a rule can give, each with what it means ("Đạt", a level's text) or None.
Reachable = list[tuple[Decimal, str | None]]
R = TypeVar("R", bound=Rule)


@dataclass(frozen=True, slots=True)
class RuleHandler(Generic[R]):
    """Everything a rule type means, for the rule class ``rule_class``."""

    rule_class: type[R]
    normalize: Callable[[Node, R, Mapping[str, object]], Canonical]
    compile: Callable[[Node, R], Scorer]
    describe: Callable[[Node, R], str]
    # None: any value from 0 to the leaf's maximum can be reached.
    reachable: Callable[[Node, R], Reachable | None]
    read: Callable[[Node, R, Canonical], list[str]]
    correctable: bool
    # The short way for plain answers (percentages, where memos rarely help).
    compile_raw: Callable[[Node, R], RawScorer | None] | None = None


# -- answer checking helpers ---------------------------------------------------------


def _fail(leaf: Node, field: str, text: str) -> NoReturn:
    raise AnswerError(leaf.code, field, text)


def _only(
    leaf: Node, answer: Mapping[str, object], allowed: tuple[str, ...], hint: str
) -> None:
    for key in answer:
        if key not in allowed:
            _fail(leaf, str(key), f"khóa '{key}' không hợp lệ; {hint}")


# (type, raw) → its checked Decimal. The same figures recur across leaves and units
# (counts, percentages with two decimals); only accepted ones are kept. The type is in
# the key since 1 == 1.0 == True and the three are read differently.
_KNOWN_NUMBERS: dict[tuple[type, object], Decimal] = {}
_KNOWN_LIMIT = 16384


def _number(leaf: Node, field: str, raw: object) -> Decimal:
    """Return a finite, non-negative Decimal from a JSON number or numeric string."""
    kind = type(raw)
    if kind is not int and kind is not float and kind is not str:
        return _read_number(leaf, field, raw)
    key = (kind, raw)
    value = _KNOWN_NUMBERS.get(key)
    if value is None:
        value = _read_number(leaf, field, raw)
        if len(_KNOWN_NUMBERS) >= _KNOWN_LIMIT:
            _KNOWN_NUMBERS.clear()
        _KNOWN_NUMBERS[key] = value
    return value


def _read_number(leaf: Node, field: str, raw: object) -> Decimal:
    value: Decimal
    kind = type(raw)
    if kind is float:
        value = Decimal(repr(raw))
    elif kind is int:
        value = Decimal(raw)  # type: ignore[arg-type]
    elif isinstance(raw, bool):
        _fail(leaf, field, f"giá trị {raw!r} không phải là số")
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float | str):
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            _fail(leaf, field, f"giá trị '{raw}' không phải là số")
    else:
        _fail(leaf, field, f"giá trị {raw!r} không phải là số")
    if not value.is_finite():
        _fail(leaf, field, f"giá trị '{raw}' không phải là số hữu hạn")
    if value < 0:
        _fail(leaf, field, f"giá trị {format_points(value)} không được là số âm")
    if not value:
        return _ZERO  # -0.0 passed the check above; keep it from showing as "-0,00%"
    # "1e999999" is nine characters but a million digits once written out in full.
    exponent = value.as_tuple().exponent  # an int: the value is finite
    if value.adjusted() > _MAX_DIGITS or int(exponent) < -_MAX_DIGITS:
        _fail(leaf, field, f"giá trị '{raw}' nằm ngoài phạm vi cho phép")
    return value


def _canon(value: Decimal) -> str:
    """Write a Decimal without exponent or trailing zeros: 92.50 → "92.5"."""
    text = _CANONICAL.get(value)
    if text is None:
        text = format(value.normalize(), "f")
        if len(_CANONICAL) >= _KNOWN_LIMIT:
            _CANONICAL.clear()
            _PARSED.clear()
        _CANONICAL[value] = text
        _PARSED[text] = value  # the scorers read it back: spare them the parsing
    return text


# Equal Decimals (92.50, 92.5) share one canonical text, so one entry serves both.
_CANONICAL: dict[Decimal, str] = {}


def _percent(
    leaf: Node, field: str, raw: object, ceiling: Decimal | None = _HUNDRED
) -> Decimal:
    value = _number(leaf, field, raw)
    if ceiling is not None and value > ceiling:
        _fail(
            leaf,
            field,
            f"tỷ lệ {format_points(value)}% vượt quá {format_points(ceiling)}%",
        )
    return value


def _ceiling(rule: Any) -> Decimal | None:
    """The highest percentage a rule's measure can take (``None``: no limit)."""
    measure = getattr(rule, "measure", None)
    return _HUNDRED if measure is None else measure.max_value


def _int(leaf: Node, field: str, raw: object, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        _fail(leaf, field, f"{what} {raw!r} phải là số nguyên")
    return raw


def _int_list(leaf: Node, field: str, raw: object, what: str) -> list[int]:
    if not isinstance(raw, list | tuple):
        _fail(leaf, field, f"phải là danh sách {what}")
    return [_int(leaf, field, item, "giá trị") for item in raw]


_PERCENT_HINT = "nhập value (tỷ lệ %) hoặc numerator và denominator"


def _normalize_percent(
    leaf: Node, answer: Mapping[str, object], *, fraction: bool = True
) -> Canonical:
    """Check ``{"value": %}`` or, when allowed, ``{"numerator", "denominator"}``."""
    ceiling = _ceiling(leaf.rule)
    # The usual exact shapes skip the key check (this runs for most leaves).
    if "value" in answer or not fraction:
        if len(answer) != 1 or "value" not in answer:
            _only(
                leaf,
                answer,
                ("value",),
                _PERCENT_HINT if fraction else "nhập value (tỷ lệ %)",
            )
        return {"value": _canon(_percent(leaf, "value", answer["value"], ceiling))}
    if len(answer) != 2 or "numerator" not in answer or "denominator" not in answer:
        _only(leaf, answer, ("numerator", "denominator"), _PERCENT_HINT)
    if "numerator" not in answer:
        _fail(leaf, "numerator", "thiếu tử số (numerator)")
    if "denominator" not in answer:
        _fail(leaf, "denominator", "thiếu mẫu số (denominator)")
    numerator = _number(leaf, "numerator", answer["numerator"])
    denominator = _number(leaf, "denominator", answer["denominator"])
    if ceiling is not None and numerator * _HUNDRED > denominator * ceiling:
        limit = (
            f"lớn hơn mẫu số {format_points(denominator)}"
            if ceiling == _HUNDRED
            else f"vượt {format_points(ceiling)}% của mẫu số "
            f"{format_points(denominator)}"
        )
        _fail(leaf, "numerator", f"tử số {format_points(numerator)} {limit}")
    if denominator == 0 and leaf.not_applicable == "not_allowed":
        _fail(
            leaf,
            "denominator",
            "mẫu số bằng 0 (không phát sinh) nhưng tiêu chí này "
            "không được khai không phát sinh",
        )
    return {"numerator": _canon(numerator), "denominator": _canon(denominator)}


def _decimal(text: str) -> Decimal:
    """Decimal(text) for a canonical number, parsed once: they recur across units."""
    value = _PARSED.get(text)
    if value is None:
        if len(_PARSED) >= _KNOWN_LIMIT:
            _PARSED.clear()
        value = _PARSED[text] = Decimal(text)
    return value


_PARSED: dict[str, Decimal] = {}


def measured(canonical: Canonical) -> tuple[Decimal, str]:
    """Return a canonical percentage answer's value and how to show it."""
    value, _, reading = _measured_parts(canonical)
    return value, reading


def _measured_parts(canonical: Canonical) -> tuple[Decimal, str, str]:
    """A canonical percentage answer's value, figure ("66,67") and reading."""
    # _PARSED.get first: the normaliser has usually just stored the number.
    if "value" in canonical:
        text = canonical["value"]
        value = _PARSED.get(text) or _decimal(text)
        figure = format_measured(value)
        return value, figure, f"{figure}%"
    text = canonical["numerator"]
    numerator = _PARSED.get(text) or _decimal(text)
    text = canonical["denominator"]
    denominator = _PARSED.get(text) or _decimal(text)
    value = numerator * _HUNDRED / denominator
    figure = format_measured(value)
    fraction = f"{format_points(numerator)}/{format_points(denominator)}"
    return value, figure, f"{fraction} = {figure}%"


def _on_canonical(score: ValueScorer) -> Scorer:
    def scorer(answer: Canonical) -> tuple[Decimal, str]:
        return score(*_measured_parts(answer))

    return scorer


# (type, raw) → (Decimal, figure, reading) of an accepted plain percentage: the same
# figures recur across leaves and units. Whether it is below a leaf's ceiling is
# checked on each use.
_KNOWN_PERCENTS: dict[tuple[type, object], tuple[Decimal, str, str]] = {}


def _raw_percent(leaf: Node, score: ValueScorer, *, fraction: bool) -> RawScorer:
    """The short way for ``{"value": x}`` (and ``{"numerator": n, "denominator": d}``
    with whole numbers, d > 0, where ``fraction``): what ``_normalize_percent`` accepts
    and the scorer then reads, without building the canonical answer."""
    ceiling = _ceiling(leaf.rule)

    def score_raw(raw: Mapping[str, object]) -> tuple[Decimal, str] | None:
        size = len(raw)
        if size == 1:
            if "value" not in raw:
                return None
            number = raw["value"]
            kind = type(number)
            if kind is not float and kind is not int and kind is not str:
                return None
            known = _KNOWN_PERCENTS.get((kind, number))
            if known is None:
                try:
                    value = _number(leaf, "value", number)
                except AnswerError:
                    return None  # the long way refuses it with the message
                figure = format_measured(value)
                known = (value, figure, f"{figure}%")
                if len(_KNOWN_PERCENTS) >= _KNOWN_LIMIT:
                    _KNOWN_PERCENTS.clear()
                _KNOWN_PERCENTS[(kind, number)] = known
            if ceiling is not None and known[0] > ceiling:
                return None
            return score(*known)
        if size != 2 or not fraction:
            return None
        top = raw.get("numerator")
        bottom = raw.get("denominator")
        # type() is int: not a bool. Within 10^15 _number accepts any whole number;
        # a zero denominator is the not-applicable case.
        if (
            type(top) is not int
            or type(bottom) is not int
            or not 0 <= top <= _MAX_WHOLE
            or not 0 < bottom <= _MAX_WHOLE
        ):
            return None
        numerator, denominator = Decimal(top), Decimal(bottom)
        if ceiling is not None and numerator * _HUNDRED > denominator * ceiling:
            return None
        value = numerator * _HUNDRED / denominator
        figure = format_measured(value)
        # format_points of a whole number below 1000 is its digits.
        above = str(top) if top < 1000 else format_points(numerator)
        below = str(bottom) if bottom < 1000 else format_points(denominator)
        return score(value, figure, f"{above}/{below} = {figure}%")

    return score_raw


# The largest whole number _read_number accepts (adjusted exponent at most 15).
_MAX_WHOLE = 10 ** (_MAX_DIGITS + 1) - 1


def is_zero_denominator(canonical: Canonical) -> bool:
    """Tell whether a canonical answer says the case did not arise (denominator 0)."""
    return canonical.get("denominator") == "0"


# -- binary --------------------------------------------------------------------------


def _normalize_binary(
    leaf: Node, rule: BinaryRule, answer: Mapping[str, object]
) -> Canonical:
    _only(leaf, answer, ("value",), "nhập value là true hoặc false")
    value = answer["value"]
    if not isinstance(value, bool):
        _fail(leaf, "value", f"giá trị {value!r} phải là true hoặc false")
    return {"value": value}


def _compile_binary(leaf: Node, rule: BinaryRule) -> Scorer:
    met = (rule.points_true, f"Đạt yêu cầu “{rule.condition}”")
    unmet = (rule.points_false, f"Không đạt yêu cầu “{rule.condition}”")

    def score(answer: Canonical) -> tuple[Decimal, str]:
        return met if answer["value"] else unmet

    return score


def _describe_binary(leaf: Node, rule: BinaryRule) -> str:
    return (
        f"Đạt yêu cầu “{rule.condition}”: {format_points(rule.points_true)} điểm; "
        f"không đạt: {format_points(rule.points_false)} điểm"
    )


def _reachable_binary(leaf: Node, rule: BinaryRule) -> Reachable:
    return [(rule.points_true, "Đạt"), (rule.points_false, "Không đạt")]


def _read_binary(leaf: Node, rule: BinaryRule, answer: Canonical) -> list[str]:
    verdict = "Đạt" if answer["value"] else "Không đạt"
    return [f"{verdict}: “{rule.condition}”"]


# -- tiers ---------------------------------------------------------------------------


def _normalize_tiers(
    leaf: Node, rule: TiersRule, answer: Mapping[str, object]
) -> Canonical:
    if rule.measure.unit == "date":
        _only(leaf, answer, ("value",), "nhập value là ngày dạng YYYY-MM-DD")
        return {"value": _iso_date(leaf, answer["value"]).isoformat()}
    return _normalize_percent(leaf, answer)


def _iso_date(leaf: Node, raw: object) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    # date.fromisoformat also takes "20260115" and week dates; only YYYY-MM-DD is meant.
    if isinstance(raw, str) and len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    _fail(
        leaf, "value", f"ngày '{raw}' không hợp lệ (cần ngày có thật, dạng YYYY-MM-DD)"
    )


def band_phrase(band: TierBand, unit: str) -> str:
    """Name a band's bounds: "từ 80% đến dưới 100%", "đến 31/01/2026", "còn lại"."""
    if band.otherwise:
        return "còn lại"
    if unit == "date":
        start = format_date(band.from_date) if band.from_date else None
        end = format_date(band.until_date) if band.until_date else None
        if start and end:
            return f"từ {start} đến {end}"
        return f"đến {end}" if end else f"từ {start} trở đi"
    low = f"{format_points(band.min)}%" if band.min is not None else None
    high = f"{format_points(band.max_lt)}%" if band.max_lt is not None else None
    if low and high:
        return f"từ {low} đến dưới {high}"
    return f"dưới {high}" if high else f"từ {low} trở lên"


def _date_outcome(band: TierBand) -> str:
    """Say where a date fell, after "Ban hành ngày 15/01/2026"."""
    if band.otherwise:
        return ", ngoài các mốc thời hạn"
    phrase = band_phrase(band, "date")
    if band.from_date is None:
        return f", trong hạn {phrase}"
    if band.until_date is None:
        return f", {phrase}"
    return f", trong khoảng {phrase}"


def _compile_tiers(leaf: Node, rule: TiersRule) -> Scorer:
    if rule.measure.unit == "date":
        dated = [
            (
                band.otherwise,
                band.from_date,
                band.until_date,
                band.points,
                _date_outcome(band),
            )
            for band in rule.bands
        ]

        def score_date(answer: Canonical) -> tuple[Decimal, str]:
            day = date.fromisoformat(answer["value"])
            shown = f"Ban hành ngày {format_date(day)}"
            for otherwise, start, end, points, outcome in dated:
                if otherwise or (
                    (start is None or day >= start) and (end is None or day <= end)
                ):
                    assert points != "ratio"  # the loader refuses ratio on dates
                    return points, shown + outcome
            return _ZERO, shown + ", không thuộc mốc thời hạn nào"

        return score_date

    return _on_canonical(_tiers_value_scorer(leaf, rule))


def _tiers_value_scorer(leaf: Node, rule: TiersRule) -> ValueScorer:
    top = leaf.max_points
    banded = [
        (
            band.otherwise,
            band.min,
            band.max_lt,
            None if band.points == "ratio" else band.points,
            band.ratio_base,
            " thuộc trường hợp còn lại"
            if band.otherwise
            else f" thuộc khoảng {band_phrase(band, 'percent')}",
        )
        for band in rule.bands
    ]

    def score_percent(value: Decimal, figure: str, text: str) -> tuple[Decimal, str]:
        shown = f"Tỷ lệ {text}"
        for otherwise, low, high, points, base, outcome in banded:
            if otherwise or (
                (low is None or value >= low) and (high is None or value < high)
            ):
                if points is None:  # "ratio"
                    assert base is not None
                    # Multiply before dividing so 1 × 92.5 ÷ 95 stays exact enough;
                    # a measure above 100 % never earns more than the leaf's maximum.
                    return min(top, top * value / base), shown + outcome
                return points, shown + outcome
        return _ZERO, shown + " không thuộc khoảng nào"

    return score_percent


def _raw_tiers(leaf: Node, rule: TiersRule) -> RawScorer | None:
    if rule.measure.unit == "date":
        return None  # few distinct days: the memo serves them
    return _raw_percent(leaf, _tiers_value_scorer(leaf, rule), fraction=True)


def _describe_tiers(leaf: Node, rule: TiersRule) -> str:
    parts = []
    for band in rule.bands:
        if band.points == "ratio":
            assert band.ratio_base is not None
            top = format_points(leaf.max_points)
            outcome = f"{top} × tỷ lệ ÷ {format_points(band.ratio_base)} điểm"
        else:
            outcome = f"{format_points(band.points)} điểm"
        parts.append(f"{band_phrase(band, rule.measure.unit)}: {outcome}")
    return f"Theo {rule.measure.name}: " + "; ".join(parts)


def _reachable_tiers(leaf: Node, rule: TiersRule) -> Reachable | None:
    fixed: Reachable = [(_ZERO, None)]  # no band matched
    for band in rule.bands:
        if band.points == "ratio":
            return None
        fixed.append((band.points, None))
    return fixed


def _read_tiers(leaf: Node, rule: TiersRule, answer: Canonical) -> list[str]:
    if rule.measure.unit == "date":
        name = rule.measure.name
        day = format_date(date.fromisoformat(answer["value"]))
        return [f"{name[:1].upper()}{name[1:]}: {day}"]
    return _read_percent(answer)


def _read_percent(answer: Canonical) -> list[str]:
    if "value" in answer:
        return [f"Tỷ lệ {format_points(Decimal(answer['value']))}%"]
    numerator = format_points(Decimal(answer["numerator"]))
    denominator = Decimal(answer["denominator"])
    if not denominator:
        return [f"Tỷ lệ {numerator}/0: không phát sinh"]
    value, _ = measured(answer)
    # Rounded half-up as the explanations are, never across a band bound.
    shown = format_points(round_measured(value))
    return [f"Tỷ lệ {numerator}/{format_points(denominator)} = {shown}%"]


# -- ratio ---------------------------------------------------------------------------


def _normalize_ratio(
    leaf: Node, rule: RatioRule, answer: Mapping[str, object]
) -> Canonical:
    return _normalize_percent(leaf, answer)


def _compile_ratio(leaf: Node, rule: RatioRule) -> Scorer:
    return _on_canonical(_ratio_value_scorer(leaf, rule))


def _ratio_value_scorer(leaf: Node, rule: RatioRule) -> ValueScorer:
    top = leaf.max_points
    target, floor = rule.target, rule.floor
    below = f" dưới mức sàn {format_points(floor)}%"
    reached = f" đạt mục tiêu {format_points(target)}%"
    versus = f" so với mục tiêu {format_points(target)}% ({format_points(top)} × "
    divisor = f" ÷ {format_points(target)})"

    def score(value: Decimal, figure: str, text: str) -> tuple[Decimal, str]:
        if value < floor:
            return _ZERO, f"Tỷ lệ {text}{below}"
        if value >= target:
            return top, f"Tỷ lệ {text}{reached}"
        return top * value / target, f"Tỷ lệ {text}{versus}{figure}{divisor}"

    return score


def _raw_ratio(leaf: Node, rule: RatioRule) -> RawScorer:
    return _raw_percent(leaf, _ratio_value_scorer(leaf, rule), fraction=True)


def _describe_ratio(leaf: Node, rule: RatioRule) -> str:
    top = format_points(leaf.max_points)
    text = (
        f"Theo {rule.measure.name}: {top} × tỷ lệ ÷ {format_points(rule.target)}, "
        f"tối đa {top} điểm khi đạt mục tiêu {format_points(rule.target)}%"
    )
    if rule.floor > 0:
        text += f"; dưới {format_points(rule.floor)}%: 0 điểm"
    return text


def _reachable_any(leaf: Node, rule: Any) -> None:
    return None


def _read_ratio(leaf: Node, rule: RatioRule, answer: Canonical) -> list[str]:
    return _read_percent(answer)


# -- checklist -----------------------------------------------------------------------


def _normalize_checklist(
    leaf: Node, rule: ChecklistRule, answer: Mapping[str, object]
) -> Canonical:
    _only(
        leaf, answer, ("checked",), "nhập checked là danh sách số thứ tự nội dung đạt"
    )
    checked = _int_list(leaf, "checked", answer["checked"], "số thứ tự nội dung đạt")
    last = len(rule.items) - 1
    seen: set[int] = set()
    for index in checked:
        if not 0 <= index <= last:
            _fail(
                leaf,
                "checked",
                f"nội dung số {index} không có; số thứ tự hợp lệ từ 0 đến {last}",
            )
        if index in seen:
            _fail(leaf, "checked", f"nội dung số {index} được chọn hai lần")
        seen.add(index)
    return {"checked": sorted(seen)}


def _compile_checklist(leaf: Node, rule: ChecklistRule) -> Scorer:
    points = [item.points for item in rule.items]
    texts = [format_points(item.points) for item in rule.items]

    def score(answer: Canonical) -> tuple[Decimal, str]:
        checked: list[int] = answer["checked"]
        if not checked:
            return _ZERO, "Không đạt nội dung nào"
        numbers = ", ".join([str(i + 1) for i in checked])
        sums = " + ".join([texts[i] for i in checked])
        total = sum([points[i] for i in checked], _ZERO)
        return total, f"Đạt nội dung {numbers} ({sums})"

    return score


def _describe_checklist(leaf: Node, rule: ChecklistRule) -> str:
    items = "; ".join(
        f"({i}) {item.text}: {format_points(item.points)} điểm"
        for i, item in enumerate(rule.items, start=1)
    )
    return f"Cộng điểm các nội dung đạt: {items}"


def _reachable_checklist(leaf: Node, rule: ChecklistRule) -> Reachable | None:
    if len(rule.items) > MAX_LISTED_CHECKLIST_ITEMS:
        return None
    points = [item.points for item in rule.items]
    return [
        (sum(combo, _ZERO), None)
        for size in range(len(points) + 1)
        for combo in combinations(points, size)
    ]


def _read_checklist(leaf: Node, rule: ChecklistRule, answer: Canonical) -> list[str]:
    checked = set(answer["checked"])
    return [
        f"{'☑' if i in checked else '☐'} {item.text} ({format_decimal(item.points)})"
        for i, item in enumerate(rule.items)
    ]


# -- deduction -----------------------------------------------------------------------


def _normalize_deduction(
    leaf: Node, rule: DeductionRule, answer: Mapping[str, object]
) -> Canonical:
    _only(
        leaf, answer, ("counts",), "nhập counts là số lần của từng trường hợp trừ điểm"
    )
    counts = _int_list(leaf, "counts", answer["counts"], "số lần")
    if len(counts) != len(rule.events):
        _fail(
            leaf,
            "counts",
            f"cần {len(rule.events)} số lần (mỗi trường hợp trừ điểm một số), "
            f"nhận được {len(counts)}",
        )
    for count in counts:
        if count < 0:
            _fail(leaf, "counts", f"số lần {count} không được âm")
    return {"counts": counts}


def _compile_deduction(leaf: Node, rule: DeductionRule) -> Scorer:
    minus = [(event.minus, format_points(event.minus)) for event in rule.events]
    start, floor = rule.start, rule.floor
    opening = f"Điểm khởi đầu {format_points(start)}, trừ "
    floored = f", không thấp hơn mức sàn {format_points(floor)}"

    def score(answer: Canonical) -> tuple[Decimal, str]:
        used = [
            (count, each)
            for count, each in zip(answer["counts"], minus, strict=True)
            if count
        ]
        if not used:
            return start, "Không có trường hợp bị trừ điểm"
        total = sum([count * each[0] for count, each in used], _ZERO)
        parts = " + ".join([f"{count} × {each[1]}" for count, each in used])
        text = f"{opening}{parts} = {format_points(total)}"
        remaining = start - total
        if remaining < floor:
            return floor, text + floored
        return remaining, text

    return score


def _describe_deduction(leaf: Node, rule: DeductionRule) -> str:
    events = "; ".join(
        f"{event.event}: trừ {format_points(event.minus)} điểm" for event in rule.events
    )
    return (
        f"Điểm khởi đầu {format_points(rule.start)}; {events}; "
        f"thấp nhất {format_points(rule.floor)} điểm"
    )


def _reachable_deduction(leaf: Node, rule: DeductionRule) -> Reachable:
    minuses = [event.minus for event in rule.events if event.minus > 0]
    reached = {rule.start}
    frontier = [rule.start]
    while frontier:
        current = frontier.pop()
        for minus in minuses:
            after = max(rule.floor, current - minus)
            if after not in reached:
                reached.add(after)
                frontier.append(after)
    return [(points, None) for points in reached]


def _read_deduction(leaf: Node, rule: DeductionRule, answer: Canonical) -> list[str]:
    return [
        f"{event.event}: {count} lần"
        for event, count in zip(rule.events, answer["counts"], strict=True)
    ]


# -- manual --------------------------------------------------------------------------


def _normalize_manual(
    leaf: Node, rule: ManualRule, answer: Mapping[str, object]
) -> Canonical:
    _only(leaf, answer, ("level",), "nhập level là số thứ tự mức đánh giá")
    level = _int(leaf, "level", answer["level"], "mức")
    last = len(rule.levels) - 1
    if not 0 <= level <= last:
        _fail(leaf, "level", f"mức {level} không có; chọn từ 0 đến {last}")
    return {"level": level}


def _compile_manual(leaf: Node, rule: ManualRule) -> Scorer:
    outcomes = [(level.points, f"Mức “{level.text}”") for level in rule.levels]

    def score(answer: Canonical) -> tuple[Decimal, str]:
        return outcomes[answer["level"]]

    return score


def _describe_manual(leaf: Node, rule: ManualRule) -> str:
    levels = "; ".join(
        f"{level.text}: {format_points(level.points)} điểm" for level in rule.levels
    )
    return f"Chọn một mức: {levels}"


def _reachable_manual(leaf: Node, rule: ManualRule) -> Reachable:
    return [(level.points, level.text) for level in rule.levels]


def _read_manual(leaf: Node, rule: ManualRule, answer: Canonical) -> list[str]:
    return [f"Mức “{rule.levels[answer['level']].text}”"]


# -- survey --------------------------------------------------------------------------


def _normalize_survey(
    leaf: Node, rule: SurveyRule, answer: Mapping[str, object]
) -> Canonical:
    return _normalize_percent(leaf, answer, fraction=False)


def _compile_survey(leaf: Node, rule: SurveyRule) -> Scorer:
    score = _survey_value_scorer(leaf, rule)

    def scorer(answer: Canonical) -> tuple[Decimal, str]:
        value = Decimal(answer["value"])
        return score(value, format_measured(value), "")

    return scorer


def _survey_value_scorer(leaf: Node, rule: SurveyRule) -> ValueScorer:
    top = leaf.max_points
    formula = f"% ({format_points(top)} × "

    def score(value: Decimal, figure: str, text: str) -> tuple[Decimal, str]:
        text = f"Kết quả điều tra xã hội học {figure}{formula}{figure} ÷ 100)"
        return top * value / _HUNDRED, text

    return score


def _raw_survey(leaf: Node, rule: SurveyRule) -> RawScorer:
    return _raw_percent(leaf, _survey_value_scorer(leaf, rule), fraction=False)


def _describe_survey(leaf: Node, rule: SurveyRule) -> str:
    return (
        f"Theo kết quả điều tra xã hội học ({rule.instrument}): "
        f"{format_points(leaf.max_points)} × kết quả (%) ÷ 100; đơn vị không tự chấm"
    )


def _read_survey(leaf: Node, rule: SurveyRule, answer: Canonical) -> list[str]:
    return [f"Kết quả điều tra xã hội học {format_points(Decimal(answer['value']))}%"]


_BY_CLASS: tuple[RuleHandler[Any], ...] = (
    RuleHandler(
        BinaryRule,
        _normalize_binary,
        _compile_binary,
        _describe_binary,
        _reachable_binary,
        _read_binary,
        correctable=True,
    ),
    RuleHandler(
        TiersRule,
        _normalize_tiers,
        _compile_tiers,
        _describe_tiers,
        _reachable_tiers,
        _read_tiers,
        correctable=True,
        compile_raw=_raw_tiers,
    ),
    RuleHandler(
        RatioRule,
        _normalize_ratio,
        _compile_ratio,
        _describe_ratio,
        _reachable_any,
        _read_ratio,
        correctable=True,
        compile_raw=_raw_ratio,
    ),
    RuleHandler(
        ChecklistRule,
        _normalize_checklist,
        _compile_checklist,
        _describe_checklist,
        _reachable_checklist,
        _read_checklist,
        correctable=True,
    ),
    RuleHandler(
        DeductionRule,
        _normalize_deduction,
        _compile_deduction,
        _describe_deduction,
        _reachable_deduction,
        _read_deduction,
        correctable=True,
    ),
    # A level is the appraiser's judgement, not a figure: they choose the score.
    RuleHandler(
        ManualRule,
        _normalize_manual,
        _compile_manual,
        _describe_manual,
        _reachable_manual,
        _read_manual,
        correctable=False,
    ),
    # Entered by the coordinator; appraisers never score survey leaves.
    RuleHandler(
        SurveyRule,
        _normalize_survey,
        _compile_survey,
        _describe_survey,
        _reachable_any,
        _read_survey,
        correctable=False,
        compile_raw=_raw_survey,
    ),
)
# Keyed by each class's ``type`` name, the key the criteria files use.
HANDLERS: dict[str, RuleHandler[Any]] = {h.rule_class.type: h for h in _BY_CLASS}


def handler_for(rule: R) -> RuleHandler[R]:
    """Return the handler of a rule's class."""
    handler: RuleHandler[R] = HANDLERS[rule.type]
    return handler
