"""A unit's year in a real browser: answer a leaf, upload a proof, the head submits.

Runs the app (demo data, SQLite in a temporary directory) with Werkzeug's server on a
free local port and drives Debian's Chromium through Playwright. Skipped only when
/usr/bin/chromium is missing (`scripts/install-browser.sh` installs it in CI).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.clock import VN_TZ

FILENAME = "Kế hoạch CCHC 2026.pdf"

pytestmark = pytest.mark.browser


def _real_pdf(path: Path) -> Path:
    """A small but real one-page PDF (the upload checks content, not the name)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Kế hoạch cải cách hành chính năm 2026"})
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def test_unit_answers_uploads_and_submits(
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    from webapp.extensions import db
    from webapp.models import Assessment, Evidence

    page, base = browser_page, live_server
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    # Everything but the plan-completion leaf is answered and explained beforehand.
    fill_assessment(truclam, user=demo["users"]["truclam.chuyenvien"], skip=("1.1.3",))

    # -- the unit staff member: dashboard, answer a percentage, upload the proof --
    log_in(page, base, "truclam.chuyenvien")
    page.wait_for_url(f"{base}/assessments/")
    assert page.locator(".countdown").first.inner_text() == "còn 5 ngày 14 giờ"
    assert page.locator('tr.risk-row[data-code="1.1.3"]').count() == 1
    page.click("text=Tiếp tục tự chấm điểm")
    page.wait_for_url(f"{base}/assessments/{truclam.id}")

    leaf = page.locator('[id="leaf-1.1.3"]')
    leaf.locator('input[name="1.1.3-value"]').fill("101")
    leaf.locator('button:has-text("Lưu tiêu chí 1.1.3")').click()
    # The leaf saves itself (XHR): the refusal shows at the field, no page load.
    error = leaf.locator(".field.has-error .error")
    error.wait_for()
    assert "vượt quá 100%" in error.inner_text()
    expect(leaf.locator(".save-state")).to_have_text("Chưa lưu: xem lỗi")
    leaf.scroll_into_view_if_needed()
    screenshot(page, "assessment-error-1366x768.png")
    leaf.locator('input[name="1.1.3-value"]').fill("92,5")
    leaf.locator('textarea[name="1.1.3-note"]').fill(
        "Hoàn thành 37/40 nhiệm vụ đúng hạn."
    )
    leaf.locator('button:has-text("Lưu tiêu chí 1.1.3")').click()
    saved = leaf.locator(".save-state.saved")
    saved.wait_for()
    assert saved.inner_text().startswith("Đã lưu lúc ")
    assert leaf.locator(".field.has-error").count() == 0
    assert leaf.locator(".leaf-score").inner_text() == "0,93/1,00 điểm"
    assert "Tỷ lệ 92,50% thuộc khoảng từ 80% đến dưới 100%" in leaf.inner_text()
    assert leaf.locator('input[name="1.1.3-value"]').input_value() == "92,5"

    pdf = _real_pdf(tmp_path / FILENAME)
    leaf.locator('.evidence-upload input[type="file"]').set_input_files(str(pdf))
    done = leaf.locator(".upload-queue .upload-item.done")
    done.wait_for()
    assert done.locator(".upload-name").inner_text() == FILENAME
    assert done.locator("progress").evaluate("bar => bar.value") == 100
    assert "Đã tải lên" in done.locator(".upload-status").inner_text()
    listed = leaf.locator(".evidence-list .evidence-name")
    assert listed.filter(has_text=FILENAME).count() == 1

    page.goto(f"{base}/assessments/{truclam.id}")
    screenshot(page, "assessment-top-1366x768.png")
    page.locator('[id="leaf-1.1.3"]').scroll_into_view_if_needed()
    shot = screenshot(page, "assessment-1366x768.png")
    assert shot.stat().st_size > 10_000
    leaf = page.locator('[id="leaf-1.1.3"]')
    assert "1 tài liệu" in leaf.locator(".evidence-count").inner_text()
    assert leaf.locator(".evidence-list .evidence-name").inner_text() == FILENAME
    page.goto(f"{base}/assessments/")
    screenshot(page, "dashboard-1366x768.png")
    assert page.locator("tr.risk-row").count() == 0
    page.click(".usermenu > summary")  # logout sits in the user menu
    page.click('button:has-text("Đăng xuất")')

    # -- the unit head: review and submit ---------------------------------------
    log_in(page, base, "truclam.lanhdao")
    page.wait_for_url(f"{base}/assessments/")
    page.click("text=Gửi hồ sơ…")
    page.wait_for_url(f"{base}/assessments/{truclam.id}/submit")
    assert page.locator("li.problem").count() == 0
    page.click('button:has-text("Xác nhận gửi hồ sơ")')
    page.wait_for_url(f"{base}/assessments/")
    assert "Đã gửi hồ sơ tự đánh giá" in page.locator(".flash-success").inner_text()
    assert page.locator(".status-badge").inner_text() == "Đã gửi"
    page.click("text=Xem hồ sơ tự đánh giá")
    assert page.locator("form.leaf-form").count() == 0
    assert page.locator('[id="leaf-1.1.3"] .evidence-name').inner_text() == FILENAME

    assert page.problems == []  # type: ignore[attr-defined]  # no JS error, no CSP refusal
    db.session.expire_all()
    submitted = db.session.get(Assessment, truclam.id)
    assert submitted.status == "submitted"
    uploaded = db.session.scalar(
        sa.select(Evidence).where(Evidence.original_filename == FILENAME)
    )
    assert {
        "id": uploaded.id,
        "sha256": uploaded.sha256,
        "size": pdf.stat().st_size,
        "original_filename": FILENAME,
        "codes": ["1.1.3"],
    } in submitted.snapshot["evidence"]
    assert submitted.snapshot["answers"]["1.1.3"] == {"value": "92.5"}


def test_the_citation_read_from_an_uploaded_file_fills_its_form_once_ready(
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    evidence_files: Any,
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    page, base = browser_page, live_server
    truclam = demo["assessments"]["TRUCLAM"]
    docx = tmp_path / "KH CCHC 2026.docx"
    docx.write_bytes(
        evidence_files.docx(
            [
                ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
                ("PHƯỜNG TRÚC LÂM", "Độc lập - Tự do - Hạnh phúc"),
                ("Số: 125/KH-UBND", "Trúc Lâm, ngày 05 tháng 01 năm 2026"),
            ],
            ["KẾ HOẠCH", "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026"],
        )
    )
    log_in(page, base, "truclam.chuyenvien")
    page.wait_for_url(f"{base}/assessments/")
    page.goto(f"{base}/assessments/{truclam.id}")
    leaf = page.locator('[id="leaf-1.1.1"]')
    leaf.scroll_into_view_if_needed()
    leaf.locator('.evidence-upload input[type="file"]').set_input_files(str(docx))
    leaf.locator(".upload-queue .upload-item.done").wait_for()
    # The upload answers first; the proposal read from the file follows and opens the
    # document's citation form with the fields it could fill.
    item = leaf.locator(".evidence-list .evidence-item").filter(has_text=docx.name)
    expect(item.locator("details.citation-edit summary")).to_have_text(
        "Xác nhận trích dẫn (đề xuất từ nội dung tệp)"
    )
    assert item.locator('input[name="doc_number"]').input_value() == "125/KH-UBND"
    assert item.locator('input[name="issued_on"]').input_value() == "05/01/2026"
    screenshot(page, "evidence-proposal-1366x768.png")
