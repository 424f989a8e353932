"""A page one can work through: the tree stays in view with each leaf's state, one
area at a time with next/previous, and filters for what is left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from webapp.clock import VN_TZ

pytestmark = pytest.mark.browser


def test_a_unit_works_through_what_is_left_area_by_area(
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
) -> None:
    from webapp.extensions import db
    from webapp.workflow import score_row

    page, base = browser_page, live_server
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    # Everything answered and explained but 1.1.3 and 3.1.1; 2.1.1 lost its note,
    # so it lacks documents.
    fill_assessment(truclam, skip=("1.1.3", "3.1.1"))
    score_row(truclam, "2.1.1").note = ""
    db.session.commit()
    log_in(page, base, "truclam.chuyenvien")
    page.goto(f"{base}/assessments/{truclam.id}")

    areas = page.locator("details.area")
    visible = page.locator("details.area:visible")
    assert visible.count() == 1 and visible.get_attribute("data-area") == "1"
    tree = page.locator(".criteria-nav")
    assert tree.locator('.tree-leaf[data-code="1.1.3"] .state').inner_text() == (
        "Chưa trả lời"
    )
    assert tree.locator('.tree-leaf[data-code="2.1.1"] .state').inner_text() == (
        "Thiếu tài liệu"
    )
    assert (
        tree.locator('.tree-leaf[data-code="1.1.1"] .state').inner_text() == "Đã xong"
    )
    screenshot(page, "criteria-tree-1366x768.png")

    page.click("button.area-next")
    assert visible.count() == 1 and visible.get_attribute("data-area") == "2"
    assert "Lĩnh vực 2/" in page.locator(".area-position").inner_text()
    page.click("button.area-prev")
    assert visible.get_attribute("data-area") == "1"

    # The tree stays in view and jumps to a leaf of another area.
    page.mouse.wheel(0, 3000)
    assert tree.is_visible()
    tree.locator('.tree-leaf[data-code="3.1.1"] a').click()
    assert visible.get_attribute("data-area") == "3"
    # Area 3 was not on the page: it is fetched, then its leaf shown.
    expect(page.locator('[id="leaf-3.1.1"]')).to_be_visible()

    # "Chưa xong": only what is left, across areas (areas 1–3 were loaded for it).
    page.click('.leaf-filters [data-filter="todo"]')
    shown = page.locator(".leaf:visible")
    expect(shown).to_have_count(3)
    assert sorted(shown.evaluate_all("ls => ls.map(l => l.dataset.code)")) == [
        "1.1.3",
        "2.1.1",
        "3.1.1",
    ]
    assert page.locator('[data-filter-count="todo"]').inner_text() == "3"
    page.click('.leaf-filters [data-filter="missing_evidence"]')
    assert shown.evaluate_all("ls => ls.map(l => l.dataset.code)") == ["2.1.1"]
    assert page.locator('[data-filter-count="returned"]').inner_text() == "0"

    # Explaining 2.1.1 finishes it: its state, the tree and the counts follow.
    page.click('.leaf-filters [data-filter="todo"]')
    leaf = page.locator('[id="leaf-2.1.1"]')
    leaf.locator('textarea[name="2.1.1-note"]').fill("Văn bản lưu tại bộ phận một cửa.")
    leaf.locator('textarea[name="2.1.1-note"]').press("Tab")
    leaf.locator(".save-state.saved").wait_for()
    assert (
        tree.locator('.tree-leaf[data-code="2.1.1"] .state').inner_text() == "Đã xong"
    )
    assert page.locator('[data-filter-count="todo"]').inner_text() == "2"
    assert areas.count() >= 3
    screenshot(page, "criteria-filter-1366x768.png")
    assert page.problems == []  # type: ignore[attr-defined]
