"""SVG charts: valid SVG, no inline styles (CSP), escaped labels, true scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from webapp.results.charts import (
    Bar,
    Series,
    bar_chart,
    format_number,
    grouped_bar_chart,
    radar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def all_attributes(root: ET.Element) -> set[str]:
    return {name for el in root.iter() for name in el.attrib}


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def test_bar_lengths_are_proportional_to_the_values() -> None:
    svg = parse(
        bar_chart(
            [
                Bar("Phường Trúc Lâm", Decimal("100")),
                Bar("Phường Nghi Sơn", Decimal("50")),
            ],
            title="Chỉ số",
        )
    )
    widths = [float(r.get("width", "0")) for r in svg.iter(f"{SVG}rect")]
    assert len(widths) == 2
    assert widths[0] == pytest.approx(2 * widths[1])
    assert "100,00" in texts(svg) and "50,00" in texts(svg)


def test_values_are_written_with_a_decimal_comma_and_missing_values_as_a_dash() -> None:
    svg = parse(
        bar_chart([Bar("A", Decimal("85.5")), Bar("B", None)], title="t", suffix="%")
    )
    shown = texts(svg)
    assert "85,50%" in shown
    assert "—" in shown
    assert format_number(Decimal("91.655")) == "91,66"


def test_labels_from_data_are_escaped_and_there_is_no_inline_style() -> None:
    evil = '<script>alert("x")</script> & "Phường"'
    for markup in (
        bar_chart([Bar(evil, 10)], title=evil),
        grouped_bar_chart([evil], [Series(evil, (Decimal(1),))], title=evil),
        radar_chart(["1", "2", evil], [Series(evil, (1, 2, 3))], title=evil),
    ):
        assert "<script" not in str(markup)
        root = parse(markup)  # well-formed XML despite the angle brackets and quotes
        assert "style" not in all_attributes(root)
        assert (
            root.find(f"{SVG}title").text == evil
        )  # the full text survives as a tooltip


def test_long_labels_are_cut_but_kept_whole_in_the_tooltip() -> None:
    name = "Ủy ban nhân dân phường có một cái tên rất dài để thử cắt nhãn biểu đồ"
    svg = parse(bar_chart([Bar(name, 70)], title="t"))
    assert any(t.endswith("…") and len(t) < len(name) for t in texts(svg))
    assert any(name in (el.text or "") for el in svg.iter(f"{SVG}title"))


def test_values_beyond_the_scale_are_clamped() -> None:
    svg = parse(bar_chart([Bar("A", 150), Bar("B", 100), Bar("C", -5)], title="t"))
    widths = [float(r.get("width", "0")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] == widths[1]
    assert widths[2] == 0


def test_grouped_bars_draw_one_bar_per_series_and_category_with_a_legend() -> None:
    svg = parse(
        grouped_bar_chart(
            ["Lĩnh vực 1", "Lĩnh vực 2", "Lĩnh vực 3"],
            [Series("Đơn vị", (90, 80, 70)), Series("Bình quân", (85, 75, None))],
            title="So sánh",
        )
    )
    fills = [r.get("fill") for r in svg.iter(f"{SVG}rect")]
    # 2 legend swatches + 3 categories × 2 series
    assert len(fills) == 2 + 6
    assert {"Đơn vị", "Bình quân"} <= set(texts(svg))


def test_radar_draws_a_polygon_per_series_and_falls_back_with_few_axes() -> None:
    svg = parse(
        radar_chart(["A", "B", "C", "D"], [Series("x", (100, 50, 25, 0))], title="t")
    )
    polygons = list(svg.iter(f"{SVG}polygon"))
    assert len(polygons) == 4 + 1  # four grid rings and the series
    assert polygons[-1].get("fill-opacity") == "0.15"
    fallback = parse(radar_chart(["A", "B"], [Series("x", (1, 2))], title="t"))
    assert not list(fallback.iter(f"{SVG}polygon"))


def test_no_data_gives_a_message_instead_of_an_empty_chart() -> None:
    svg = parse(bar_chart([], title="t"))
    assert texts(svg) == ["Chưa có dữ liệu để vẽ biểu đồ."]
