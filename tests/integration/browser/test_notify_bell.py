"""The unit editor sees the deadline reminder under the bell and follows it to the
points at risk on the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from scoring import format_decimal
from webapp.clock import VN_TZ
from webapp.criteria_sets import criteria_for

pytestmark = pytest.mark.browser

SKIPPED = ("1.1.3", "1.2")


def test_the_editor_follows_the_reminder_to_the_points_at_risk(
    app: Any,
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
) -> None:
    page, base = browser_page, live_server
    clock.value = datetime(2026, 12, 8, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    fill_assessment(truclam, skip=SKIPPED)
    leaves = {leaf.code: leaf for leaf in criteria_for(truclam).leaves()}
    stake = format_decimal(sum((leaves[c].max_points for c in SKIPPED), Decimal(0)))
    sent = app.test_cli_runner().invoke(
        args=["notify", "send-due", "--at", "2026-12-08T09:00+07:00"]
    )
    assert "Nhắc việc mới: 4 thông báo." in sent.output, sent.output

    log_in(page, base, "truclam.chuyenvien")
    page.wait_for_url(f"{base}/assessments/")
    bell = page.locator("a.bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    bell.click()
    page.wait_for_url(f"{base}/notifications/")
    reminder = page.locator(".notification.unread")
    expect(reminder).to_have_count(1)
    expect(reminder).to_contain_text(
        f"Điểm có nguy cơ bị mất: {stake} điểm ở 2 tiêu chí"
    )
    screenshot(page, "notify-bell-list.png")

    reminder.get_by_role(
        "button", name="Còn 7 ngày đến hạn gửi hồ sơ tự đánh giá (15/12/2026)"
    ).click()

    page.wait_for_url(f"{base}/assessments/#at-risk")
    at_risk = page.locator("#at-risk")
    expect(at_risk).to_be_in_viewport()
    expect(at_risk.locator("h2")).to_have_text(f"Điểm có nguy cơ bị mất: {stake} điểm")
    expect(at_risk.locator("tr.risk-row")).to_have_count(2)
    expect(page.locator("a.bell .bell-count")).to_have_count(0)
    screenshot(page, "notify-at-risk.png")
    assert page.problems == []
