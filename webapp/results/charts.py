"""Server-side SVG charts: pure functions from numbers to inline SVG markup.

The content security policy forbids scripts from elsewhere and inline styles, so the
charts are plain SVG drawn here, styled only with presentation attributes (``fill=``,
``stroke=``, ``font-size=``), never ``style=``. Every text that comes from data (unit
names, criterion titles) is escaped; the result is a :class:`markupsafe.Markup` so a
template can print it as it is. Numbers are written the Vietnamese way ("85,50").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from markupsafe import Markup

# Colour-blind-safe enough for two to four series, and close to the app's palette.
PALETTE = ("#b3261e", "#0969da", "#1a7f37", "#9a6700", "#8250df", "#57606a")
HIGHLIGHT = "#b3261e"
BAR = "#0969da"
INK = "#1f2328"
MUTED = "#5f6b76"
GRID = "#d8dee4"
FONT = 12
LABEL_CHARS = (
    34  # SVG cannot measure text: long labels are cut, the full text is in <title>
)

Number = Decimal | int | float


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: a label, a value (None: no data, drawn "—"), highlighted or not."""

    label: str
    value: Number | None
    highlight: bool = False
    note: str = ""  # extra text after the value, e.g. the rank or band


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a grouped bar or radar chart: a name, one value per category."""

    name: str
    values: tuple[Number | None, ...] = field(default_factory=tuple)


def format_number(value: Number, places: int = 2) -> str:
    """85.5 → "85,50" (decimal comma, half-up like the scores)."""
    quantum = Decimal(1).scaleb(-places)
    text = f"{Decimal(str(value)).quantize(quantum, ROUND_HALF_UP):f}"
    return text.replace(".", ",")


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    """Coordinates with at most two decimals, no exponent."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_attr(title)}" '
        f'font-family="sans-serif" font-size="{FONT}">'
    )
    return Markup(head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _empty(title: str, width: int) -> Markup:
    return _svg(
        width,
        40,
        title,
        [f'<text x="8" y="24" fill="{MUTED}">Chưa có dữ liệu để vẽ biểu đồ.</text>'],
    )


def _ratio(value: Number | None, max_value: Number) -> float:
    if value is None or float(max_value) <= 0:
        return 0.0
    return max(0.0, min(1.0, float(value) / float(max_value)))


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    max_value: Number = 100,
    suffix: str = "",
    width: int = 760,
) -> Markup:
    """Draw horizontal bars, one row per item, scaled to ``max_value``."""
    if not bars:
        return _empty(title, width)
    label_w, value_w, row_h, top = 250, 120, 24, 24
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + 8
    body = [_gridlines(label_w, plot_w, top, height - 8, max_value, suffix)]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        w = plot_w * _ratio(bar.value, max_value)
        fill = HIGHLIGHT if bar.highlight else BAR
        shown = "—" if bar.value is None else format_number(bar.value) + suffix
        if bar.note:
            shown += f" · {bar.note}"
        weight = ' font-weight="bold"' if bar.highlight else ""
        body.append(
            f"<g><title>{escape(bar.label)}: {escape(shown)}</title>"
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" '
            f'fill="{INK}"{weight}>'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{_num(w)}" height="{row_h - 8}" '
            f'fill="{fill}" rx="2"/>'
            f'<text x="{_num(label_w + w + 4)}" y="{y + 16}" fill="{INK}">'
            f"{escape(shown)}</text>"
            "</g>"
        )
    return _svg(width, height, title, body)


def _gridlines(
    x0: int, plot_w: int, y0: int, y1: int, max_value: Number, suffix: str
) -> str:
    parts = []
    for step in range(5):
        x = x0 + plot_w * step / 4
        value = Decimal(str(max_value)) * step / 4
        parts.append(
            f'<line x1="{_num(x)}" y1="{y0}" x2="{_num(x)}" y2="{y1}" stroke="{GRID}"/>'
            f'<text x="{_num(x)}" y="{y0 - 8}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="{FONT - 2}">{escape(format_number(value, 0) + suffix)}</text>'
        )
    return "".join(parts)


def _legend(series: Sequence[Series], x: int, y: int) -> str:
    parts = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}" fill="{INK}">'
            f"{escape(_short(s.name, 40))}</text>"
        )
        x += 24 + 7 * min(len(s.name), 40)
    return "".join(parts)


def grouped_bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    max_value: Number = 100,
    suffix: str = "",
    width: int = 760,
) -> Markup:
    """Draw one group of bars per category, one bar per series, with a legend."""
    if not categories or not series:
        return _empty(title, width)
    label_w, value_w, bar_h, gap, top = 250, 80, 14, 10, 44
    plot_w = width - label_w - value_w
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(categories) + 4
    body = [
        _legend(series, label_w, 14),
        _gridlines(label_w, plot_w, top, height - 4, max_value, suffix),
    ]
    for ci, category in enumerate(categories):
        y = top + ci * group_h
        body.append(
            f"<g><title>{escape(category)}</title>"
            f'<text x="{label_w - 6}" y="{y + group_h / 2 + 2:.0f}" text-anchor="end" '
            f'fill="{INK}">{escape(_short(category))}</text></g>'
        )
        for si, s in enumerate(series):
            value = s.values[ci] if ci < len(s.values) else None
            w = plot_w * _ratio(value, max_value)
            by = y + si * bar_h
            shown = "—" if value is None else format_number(value) + suffix
            body.append(
                f"<g><title>{escape(s.name)} · {escape(category)}: "
                f"{escape(shown)}</title>"
                f'<rect x="{label_w}" y="{by + 1}" width="{_num(w)}" '
                f'height="{bar_h - 2}" '
                f'fill="{PALETTE[si % len(PALETTE)]}"/>'
                f'<text x="{_num(label_w + w + 4)}" y="{by + bar_h - 3}" fill="{INK}" '
                f'font-size="{FONT - 2}">{escape(shown)}</text></g>'
            )
    return _svg(width, height, title, body)


def radar_chart(
    axes: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    max_value: Number = 100,
    size: int = 420,
) -> Markup:
    """Draw a radar chart: one axis per category, one closed polygon per series.

    Fewer than three axes make no polygon, so the chart falls back to grouped bars.
    """
    if len(axes) < 3 or not series:
        return grouped_bar_chart(axes, series, title=title, max_value=max_value)
    margin_x, margin_top = 150, 40
    radius = size / 2 - 20
    cx, cy = margin_x + size / 2, margin_top + size / 2
    width, height = int(size + 2 * margin_x), int(size + margin_top + 20)
    n = len(axes)

    def point(i: int, fraction: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return cx + radius * fraction * math.cos(
            angle
        ), cy + radius * fraction * math.sin(angle)

    body = [_legend(series, 8, 16)]
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(
            f"{_num(x)},{_num(y)}" for x, y in (point(i, ring) for i in range(n))
        )
        body.append(f'<polygon points="{pts}" fill="none" stroke="{GRID}"/>')
    for i, label in enumerate(axes):
        x, y = point(i, 1.0)
        lx, ly = point(i, 1.08)
        anchor = "middle" if abs(lx - cx) < 1 else ("start" if lx > cx else "end")
        body.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
            f'stroke="{GRID}"/>'
            f"<g><title>{escape(label)}</title>"
            f'<text x="{_num(lx)}" y="{_num(ly + 4)}" text-anchor="{anchor}" '
            f'fill="{INK}">'
            f"{escape(_short(label, 22))}</text></g>"
        )
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        corners = [
            point(i, _ratio(s.values[i] if i < len(s.values) else None, max_value))
            for i in range(n)
        ]
        joined = " ".join(f"{_num(x)},{_num(y)}" for x, y in corners)
        body.append(
            f"<g><title>{escape(s.name)}</title>"
            f'<polygon points="{joined}" fill="{colour}" fill-opacity="0.15" '
            f'stroke="{colour}" '
            f'stroke-width="2"/></g>'
        )
        for i, (x, y) in enumerate(corners):
            value = s.values[i] if i < len(s.values) else None
            shown = "—" if value is None else format_number(value)
            body.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{colour}">'
                f"<title>{escape(s.name)} · {escape(axes[i])}: {escape(shown)}"
                "</title></circle>"
            )
    return _svg(width, height, title, body)
