"""Printed pages carry a header (unit, period, print time); the stylesheet hides the
menu and buttons and starts each area on its own page."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from webapp.clock import VN_TZ

pytestmark = pytest.mark.db

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def _print_header(page: str) -> str:
    match = re.search(r'<div class="print-header"[^>]*>(.*?)</div>', page, re.S)
    assert match, "no print header"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_assessment_prints_with_unit_period_and_time(
    client: Any, demo: dict[str, Any], login_as: Any, clock: Any
) -> None:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")
    truclam = demo["assessments"]["TRUCLAM"]

    page = client.get(f"/assessments/{truclam.id}").text

    assert _print_header(page) == (
        "Phường Trúc Lâm · Đánh giá Chỉ số CCHC năm 2026 (cấp xã) · "
        "Hồ sơ tự đánh giá In lúc 01/12/2026 09:00"
    )
    assert "js/print.js" in page
    # A page without a print header has none.
    assert 'class="print-header"' not in client.get("/assessments/").text


def test_results_and_ranking_print_with_their_header(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("admin")
    page = client.get(f"/results/periods/{demo['period'].id}").text
    assert _print_header(page).startswith(
        "Đánh giá Chỉ số CCHC năm 2026 (cấp xã) · Kết quả và xếp hạng In lúc "
    )


def test_the_print_stylesheet_hides_menus_and_breaks_pages_between_areas() -> None:
    css = CSS.read_text(encoding="utf-8")
    block = css[css.index("@media print") :]
    hidden = block[: block.index("{ display: none !important; }")]
    for selector in (
        ".topbar",
        ".btn",
        ".toolbar",
        ".leaf-actions",
        ".evidence-upload",
    ):
        assert selector in hidden
    assert ".area { break-before: page; }" in block
    assert ".print-header { display: flex;" in block
