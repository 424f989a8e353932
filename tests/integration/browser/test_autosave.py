"""Nothing typed is lost: leaves save themselves, conflicts are shown, leaving warns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.clock import VN_TZ

pytestmark = pytest.mark.browser


def _answer(assessment: Any, code: str) -> Any:
    from webapp.extensions import db
    from webapp.models import CriterionScore

    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore.answer).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def test_typed_answers_save_themselves_conflicts_show_and_leaving_warns(
    live_server: str,
    new_page: Callable[[], Any],
    demo: dict[str, Any],
    clock: Any,
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
) -> None:
    base = live_server
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    url = f"{base}/assessments/{truclam.id}"
    page = new_page()
    log_in(page, base, "truclam.chuyenvien")
    page.goto(url)

    # Type in two leaves, press no save button: leaving a field saves it.
    plan = page.locator('[id="leaf-1.1.3"]')
    plan.locator('input[name="1.1.3-value"]').fill("92,5")
    dated = page.locator('[id="leaf-1.1.1"]')
    dated.locator('input[name="1.1.1-value"]').click()
    dated.locator('input[name="1.1.1-value"]').fill("15/01/2026")
    dated.locator('input[name="1.1.1-value"]').press("Tab")
    for leaf in (plan, dated):
        leaf.locator(".save-state.saved").wait_for()
        expect(leaf.locator(".save-state")).to_have_text("Đã lưu lúc 09:00")
    assert plan.locator(".leaf-score").inner_text() == "0,93/1,00 điểm"
    plan.scroll_into_view_if_needed()
    screenshot(page, "autosave-saved-1366x768.png")

    page.reload()
    plan = page.locator('[id="leaf-1.1.3"]')
    dated = page.locator('[id="leaf-1.1.1"]')
    assert plan.locator('input[name="1.1.3-value"]').input_value() == "92,5"
    assert dated.locator('input[name="1.1.1-value"]').input_value() == "15/01/2026"
    assert plan.locator(".leaf-score").inner_text() == "0,93/1,00 điểm"
    assert dated.locator(".leaf-score").inner_text() != "0,00/1,00 điểm"
    assert "Tỷ lệ 92,50%" in plan.locator(".explanation").inner_text()
    assert _answer(truclam, "1.1.3") == {"value": "92.5"}
    assert _answer(truclam, "1.1.1") == {"value": "2026-01-15"}

    # The unit head has the page open in another browser, on the version just saved.
    other = new_page()
    log_in(other, base, "truclam.lanhdao")
    other.goto(url)
    # Meanwhile the editor changes 1.1.3 again.
    plan.locator('input[name="1.1.3-value"]').fill("85")
    plan.locator('input[name="1.1.3-value"]').press("Tab")
    plan.locator(".save-state.saved").wait_for()
    assert _answer(truclam, "1.1.3") == {"value": "85"}

    theirs = other.locator('[id="leaf-1.1.3"]')
    theirs.locator('input[name="1.1.3-value"]').fill("70")
    theirs.locator('input[name="1.1.3-value"]').press("Tab")
    box = theirs.locator(".conflict-box")
    box.wait_for()
    assert "Tỷ lệ 85%" in box.locator(".conflict-theirs").inner_text()
    assert "70" in box.locator(".conflict-mine").inner_text()
    expect(theirs.locator(".save-state")).to_have_text("Chưa lưu: có xung đột")
    theirs.scroll_into_view_if_needed()
    screenshot(other, "autosave-conflict-1366x768.png")
    assert _answer(truclam, "1.1.3") == {"value": "85"}  # nothing overwritten
    box.locator("button.conflict-take").click()
    assert theirs.locator('input[name="1.1.3-value"]').input_value() == "85"
    assert theirs.locator(".conflict-box").count() == 0

    # Typing without leaving the field, then leaving the page, asks first.
    prompts: list[str] = []

    def stay(dialog: Any) -> None:
        prompts.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    note = plan.locator('textarea[name="1.1.3-note"]')
    note.click()
    note.type("Đang gõ dở")
    expect(plan.locator(".save-state")).to_have_text("Chưa lưu")
    page.locator("a.btn", has_text="Tổng quan").click()
    page.wait_for_timeout(500)
    assert prompts == ["beforeunload"]
    assert page.url == url
    assert note.input_value() == "Đang gõ dở"
    assert page.problems == [] and other.problems == []
