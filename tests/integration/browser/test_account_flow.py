"""First login with a temporary password, the guide, and a Trao đổi message, in a
real browser (CSRF on, the page's own script posting the message)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from webapp.clock import VN_TZ

pytestmark = pytest.mark.browser

TEMPORARY = "TamThoi@2026x"
OWN = "MatKhauRieng@2026"


def test_first_login_asks_for_a_new_password_then_the_guide_and_a_message(
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    from webapp.admin.users import reset_password
    from webapp.criteria_sets import criteria_for

    page, base = browser_page, live_server
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    user = demo["users"]["nghison.chuyenvien"]
    reset_password(user, TEMPORARY, actor=demo["users"]["admin"])

    page.goto(f"{base}/auth/login")
    page.fill('input[name="username"]', "nghison.chuyenvien")
    page.fill('input[name="password"]', TEMPORARY)
    page.click('button:has-text("Đăng nhập")')
    page.wait_for_url(f"{base}/account/password")
    expect(page.locator("#forced-change")).to_contain_text("mật khẩu tạm thời")
    screenshot(page, "first-login-1366x768.png")
    # Any other page leads back here until the password is changed.
    page.goto(f"{base}/assessments/")
    page.wait_for_url(f"{base}/account/password")

    page.fill('input[name="current"]', TEMPORARY)
    page.fill('input[name="new"]', OWN)
    page.fill('input[name="confirm"]', OWN)
    page.click('button:has-text("Đổi mật khẩu")')
    page.wait_for_url(f"{base}/assessments/")
    expect(page.locator(".flash-success")).to_contain_text("Đã đổi mật khẩu")

    # The user menu leads to the guide of the role, with the deadline.
    page.click(".usermenu > summary")
    page.click('.usermenu-list a:has-text("Hướng dẫn")')
    page.wait_for_url(f"{base}/help/")
    expect(page.locator("#guide-deadline")).to_contain_text("15/12/2026")
    expect(page.locator("#guide-deadline")).to_contain_text("còn 5 ngày")
    expect(page.locator(".guide-steps > li").first).to_contain_text(
        "Trả lời các tiêu chí"
    )
    screenshot(page, "guide-unit-editor-1366x768.png")

    # Trao đổi: the message is sent by the page's script and shows without a reload.
    assessment = demo["assessments"]["NGHISON"]
    code = next(
        leaf.code
        for leaf in criteria_for(assessment).leaves()
        if leaf.assessed_by == "self"
    )
    page.goto(f"{base}/assessments/{assessment.id}")
    page.click(f'[id="leaf-{code}"] .thread-link a')
    page.wait_for_url(f"{base}/discussion/assessments/{assessment.id}/leaves/{code}")
    question = "Đơn vị xin hỏi: báo cáo quý có được tính không?"
    page.fill('textarea[name="body"]', question)
    page.click('button:has-text("Gửi trao đổi")')
    expect(page.locator(".send-state")).to_have_text("Đã gửi.")
    expect(page.locator("#thread .thread > li .body")).to_have_text(question)
    expect(page.locator('textarea[name="body"]')).to_have_value("")
    screenshot(page, "discussion-1366x768.png")
    assert page.problems == []
