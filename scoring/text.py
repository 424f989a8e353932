"""Vietnamese number and date formatting for explanations and the UI."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(0, 7)}
# Python formats "1,234.50"; Vietnamese writes "1.234,50".
_SWAP = str.maketrans(",.", ".,")
CENT = _QUANTUM[2]
_THOUSAND = Decimal(1000)


def format_decimal(d: Decimal, places: int = 2) -> str:
    """Format a number with a decimal comma and thousands dots: 1234.5 → "1.234,50"."""
    quantum = _QUANTUM.get(places) or Decimal(1).scaleb(-places)
    rounded = d.quantize(quantum, ROUND_HALF_UP)
    if places <= 6 and -_THOUSAND < rounded < _THOUSAND:
        # Scores are almost always below 1000: skip the grouping (this runs per leaf).
        # str() writes plain digits here; beyond 6 places it may switch to 1E-7.
        return str(rounded).replace(".", ",")
    return f"{rounded:,.{places}f}".translate(_SWAP)


def format_points(d: Decimal) -> str:
    """Format a number without trailing zeros, as in criteria sets: 0.50 → "0,5"."""
    text = _POINTS_TEXT.get(d)
    if text is not None:
        return text
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        text = "0"
    text = text.translate(_SWAP)
    if len(_POINTS_TEXT) >= 4096:
        _POINTS_TEXT.clear()
    _POINTS_TEXT[d] = text
    return text


# Equal numbers (0.50, 0.5) read the same, so one entry serves both; explanations
# format the same few points and counts over and over.
_POINTS_TEXT: dict[Decimal, str] = {}


def round_measured(value: Decimal) -> Decimal:
    """Round a measured percentage half-up to two places, as the engine does.

    Where rounding would carry the value across a whole percent the exact value does
    not reach (79.999 → 80.00 beside "dưới 80%"), up to six places are kept instead
    (79.999), so the figure never contradicts the band it is placed in.
    """
    for places in range(2, 7):
        rounded = value.quantize(_QUANTUM[places], ROUND_HALF_UP)
        if rounded.to_integral_value(ROUND_FLOOR) == value.to_integral_value(
            ROUND_FLOOR
        ):
            return rounded
    return value.quantize(_QUANTUM[6], ROUND_HALF_UP)


def format_measured(value: Decimal) -> str:
    """Format a measured percentage as :func:`round_measured` rounds it: "66,67"."""
    # The usual case in one go (this runs for every measured leaf): two places do,
    # and the figure needs no thousands dot.
    rounded = value.quantize(CENT, ROUND_HALF_UP)
    if -_THOUSAND < rounded < _THOUSAND and rounded.to_integral_value(
        ROUND_FLOOR
    ) == value.to_integral_value(ROUND_FLOOR):
        return str(rounded).replace(".", ",")
    rounded = round_measured(value)
    return format_decimal(rounded, max(2, -int(rounded.as_tuple().exponent)))


def format_date(d: date) -> str:
    """Format a date as dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
