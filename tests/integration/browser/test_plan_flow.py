"""The seed plan imported from its DOCX through the browser, then tracked (issue 13)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.browser.conftest import CHROMIUM
from webapp.clock import VN_TZ

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing"),
]


def test_unit_imports_the_seed_docx_and_tracks_a_task(
    live_server: str,
    browser_page: Any,
    log_in: Any,
    screenshot: Any,
    demo: dict[str, Any],
    clock: Any,
    tmp_path: Path,
) -> None:
    from webapp.plan.seed import build_docx

    page, base = browser_page, live_server
    clock.value = datetime(2026, 4, 10, 9, 0, tzinfo=VN_TZ)
    docx = tmp_path / "ke-hoach-cchc-2026.docx"
    docx.write_bytes(build_docx())
    log_in(page, base, "truclam.chuyenvien")
    page.click("nav >> text=Kế hoạch CCHC")
    page.click("text=Nhập kế hoạch")
    page.set_input_files('input[name="file"]', str(docx))
    page.click('button:has-text("Đọc tệp và xem trước")')
    summary = page.locator(".plan-preview-summary").inner_text()
    assert "Đọc được 65 nhiệm vụ trong 7 phụ lục" in summary
    assert "Chưa có gì được lưu" in summary
    screenshot(page, "plan-preview-1366x768.png")
    page.click('button:has-text("Xác nhận và lưu kế hoạch")')
    assert "Đã nhập 65 nhiệm vụ" in page.locator(".flash-success").inner_text()
    # On 10/04/2026 the tasks due in quarter I and not done are overdue.
    assert page.locator("tr.overdue").count() > 0
    page.locator("#pl3 tr.overdue a").first.click()
    page.select_option('select[name="status"]', "done")
    page.fill('input[name="completed_on"]', "31/03/2026")
    page.click('button:has-text("Cập nhật trạng thái")')
    assert "Hoàn thành" in page.locator(".flash-success").inner_text()
    page.click("text=← Kế hoạch CCHC năm 2026")
    rate = page.locator(".plan-rate").inner_text()
    assert "1/" in rate
    screenshot(page, "plan-dashboard-1366x768.png")
    assert page.problems == []  # type: ignore[attr-defined]
