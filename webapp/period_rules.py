"""The set each assessment is scored on, with the rules its period sets (issue 18).

A period names one set per unit family (``criteria_set_id``, plus ``family_sets`` when
it holds both sở/ban/ngành and xã/phường); it may replace the set's classification
bands and leave the survey leaves out. ``webapp.criteria_sets.criteria_for`` applies
them for every feature, so all see the same leaves, maximum and bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from criteria import Band, CriteriaSet, without_survey
from webapp.models import Period

# A set's ``unit_type`` → the ``Unit.kind`` of the family it is issued for.
FAMILY_OF_SET = {"ubnd_xa_phuong": "xa_phuong", "so_ban_nganh": "so_ban_nganh"}
# Published results classify units below 55 %, so period bands must reach below it.
LOWEST_BAND_REACH = Decimal(55)


def set_id_for(period: Period, unit_kind: str | None = None) -> str:
    """The set a unit family is scored on in this period (the first set otherwise)."""
    for family in period.family_sets:
        if family.unit_kind == unit_kind:
            return family.criteria_set_id
    return period.criteria_set_id


def apply_rules(cs: CriteriaSet, period: Period) -> CriteriaSet:
    """The set with the period's bands and survey choice applied (same object back
    for the same rules)."""
    bands = tuple(_band(b) for b in period.classification_bands or ())
    include_survey = period.include_survey is not False
    if include_survey and not bands:
        return cs
    # Kept by the set's identity (sets compare by value; an equal set parsed again is
    # another object): the scoring engine compiles a set once per object, so every
    # unit of the period must get the same object back.
    key = (id(cs), include_survey, bands)
    known = _APPLIED.get(key)
    if known is not None and known[0] is cs:
        return known[1]
    out = cs if include_survey else without_survey(cs)
    if bands:
        out = replace(out, bands=bands)
    if len(_APPLIED) >= 64:
        _APPLIED.clear()
    _APPLIED[key] = (cs, out)
    return out


_APPLIED: dict[tuple[int, bool, tuple[Band, ...]], tuple[CriteriaSet, CriteriaSet]] = {}


def _band(raw: dict[str, Any]) -> Band:
    low, high = raw.get("min"), raw.get("max_lt")
    return Band(
        str(raw["label"]),
        None if low is None else Decimal(str(low)),
        None if high is None else Decimal(str(high)),
    )


def parse_bands(text: str) -> list[dict[str, Any]]:
    """Read bands typed one per line, highest first: "Tốt: 80", last "Yếu: dưới 55".

    Raises ``ValueError`` with a Vietnamese message. Each band runs from its bound up to
    the bound of the band above; the last may be "dưới N" (below N) or "0".
    """
    bands: list[dict[str, Any]] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        label, sep, bound = line.rpartition(":")
        label, bound = label.strip(), bound.strip().lower()
        if not sep or not label:
            raise ValueError(
                f"Dòng {number}: viết '<xếp loại>: <từ %>', ví dụ 'Tốt: 80'."
            )
        below = bound.startswith("dưới")
        value = _number(bound.removeprefix("dưới").strip().rstrip("%").strip())
        if value is None or not 0 <= value <= 100:
            raise ValueError(f"Dòng {number}: '{bound}' không phải tỷ lệ từ 0 đến 100.")
        if below and number != len(lines):
            raise ValueError(f"Dòng {number}: chỉ mức cuối cùng được ghi 'dưới …'.")
        above = bands[-1] if bands else None
        band: dict[str, Any] = {"label": label}
        if below:
            band["max_lt"] = float(value)
        else:
            band["min"] = float(value)
        if above is not None:
            band["max_lt"] = above["min"]
            if not below and value >= Decimal(str(above["min"])):
                raise ValueError(f"Dòng {number}: các mức phải xếp từ cao xuống thấp.")
            if below and value != Decimal(str(above["min"])):
                raise ValueError(
                    f"Dòng {number}: 'dưới {value}' phải bằng cận dưới của mức trên."
                )
        if any(b["label"] == label for b in bands):
            raise ValueError(f"Dòng {number}: xếp loại '{label}' bị trùng.")
        bands.append(band)
    if not bands:
        return []
    last = bands[-1]
    if "min" in last and Decimal(str(last["min"])) >= LOWEST_BAND_REACH:
        raise ValueError(
            "Mức thấp nhất phải bao gồm cả chỉ số dưới 55% (như kết quả các tỉnh đã "
            "công bố): ghi ví dụ 'Yếu: dưới 50' hoặc 'Yếu: 0'."
        )
    return bands


def format_bands(bands: Sequence[dict[str, Any]] | None) -> str:
    """Write bands back the way :func:`parse_bands` reads them."""
    lines = []
    for band in bands or ():
        if "min" in band:
            lines.append(f"{band['label']}: {_vn(band['min'])}")
        else:
            lines.append(f"{band['label']}: dưới {_vn(band['max_lt'])}")
    return "\n".join(lines)


def _vn(value: object) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
