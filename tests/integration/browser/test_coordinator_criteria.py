"""A coordinator enters a province's set from the XLSX template in a real browser.

Downloads the empty template, fills it (with bonus and penalty points) as a coordinator
would, sees a mistake reported by cell, imports the fixed file, opens a period with the
set, and a unit scores a bonus leaf. Skipped only when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from webapp.clock import VN_TZ

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing: run scripts/install-browser.sh",
    ),
]

META = {
    "id": "tinh-xa-2027",
    "title": "Bộ tiêu chí cấp xã năm 2027 (thử)",
    "evaluation_year": 2027,
    "unit_type": "ubnd_xa_phuong",
    "total_max_points": 10,
}
BANDS = [("Tốt", 80, None), ("Khá", 50, 80), ("Yếu", None, 50)]
ROWS: list[tuple[Any, ...]] = [
    ("1", "Công tác chỉ đạo, điều hành", 10),
    ("1.1", "Ban hành Kế hoạch CCHC", 4, None, "KH: Kế hoạch CCHC", None, None, None,
     "Đạt / không đạt", "Có ban hành Kế hoạch", None, "Đạt: 4\nKhông đạt: 0"),
    ("1.2", "Tỷ lệ hoàn thành Kế hoạch", 6, None, None, None, None, None,
     "Theo khoảng", "tỷ lệ nhiệm vụ hoàn thành", "Tỷ lệ (%)",
     "từ 100% trở lên: 6\ntừ 80% đến dưới 100%: 3\ndưới 80%: 0"),
    ("2", "Điểm thưởng, điểm trừ", 3),
    ("2.1", "Điểm thưởng", 2, None, None, "Điểm thưởng"),
    ("2.1.1", "Được khen thưởng về CCHC", 2, None, "QĐ khen thưởng", None, None,
     "Loại khỏi điểm tối đa", "Đạt / không đạt", "Có quyết định khen thưởng", None,
     "Đạt: 2\nKhông đạt: 0"),
    ("2.2", "Điểm trừ", 1, None, None, "Điểm trừ"),
    ("2.2.1", "Bị phê bình về CCHC", 1, None, None, None, None, None,
     "Trừ điểm theo số lần", None, None,
     "Điểm khởi đầu: 1\nmỗi lần bị phê bình: trừ 0,5\nMức sàn: 0"),
]  # fmt: skip


def _fill(template: bytes, rows: list[tuple[Any, ...]], path: Path) -> Path:
    book = load_workbook(io.BytesIO(template))
    meta = book["Thông tin"]
    for row in range(2, meta.max_row + 1):
        if meta.cell(row, 3).value in META:
            meta.cell(row, 2, META[meta.cell(row, 3).value])
    for row, band in enumerate(BANDS, start=2):
        for column, value in enumerate(band, start=1):
            book["Xếp loại"].cell(row, column, value)
    for row, cells in enumerate(rows, start=2):
        for column, value in enumerate(cells, start=1):
            book["Bộ tiêu chí"].cell(row, column, value)
    book.save(path)
    return path


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('button:has-text("Đăng nhập")')
    page.wait_for_load_state()


def test_coordinator_imports_a_set_from_the_template_and_a_unit_scores_it(
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    tmp_path: Path,
) -> None:
    from webapp.extensions import db
    from webapp.models import Assessment, CriteriaSetRecord, Period

    page, base = browser_page, live_server
    clock.value = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
    _log_in(page, base, "admin", demo["password"])
    page.goto(f"{base}/admin/criteria-sets")
    with page.expect_download() as download:
        page.click("text=Tải mẫu trống (.xlsx)")
    template = Path(download.value.path()).read_bytes()

    # A maximum typed as words: reported at its cell, nothing stored.
    wrong = [*ROWS]
    wrong[2] = (*ROWS[2][:2], "sáu", *ROWS[2][3:])
    page.set_input_files(
        'input[name="file"]', str(_fill(template, wrong, tmp_path / "sai.xlsx"))
    )
    page.select_option('select[name="action"]', "import")
    page.click('button:has-text("Gửi tệp")')
    problems = page.locator("table.import-problems tbody tr")
    assert problems.count() == 1
    assert problems.first.inner_text().split("\t")[:3] == [
        "Bộ tiêu chí",
        "4",
        "C (Điểm tối đa)",
    ]
    page.screenshot(path=str(tmp_path / "criteria-upload-error.png"))
    assert db.session.get(CriteriaSetRecord, "tinh-xa-2027") is None

    good = _fill(template, ROWS, tmp_path / "bo-tieu-chi-2027.xlsx")
    page.set_input_files('input[name="file"]', str(good))
    page.select_option('select[name="action"]', "import")
    page.click('button:has-text("Gửi tệp")')
    assert "Đã nhập bộ tiêu chí" in page.locator(".flash-success").inner_text()

    # A period with the new set, for Trúc Lâm, due later than the demo period.
    page.goto(f"{base}/admin/periods/new")
    page.fill('input[name="name"]', "Đánh giá thử năm 2027")
    page.select_option('select[name="criteria_set_id"]', "tinh-xa-2027")
    page.fill('input[name="opens_on"]', "20/11/2026")
    page.fill('input[name="self_deadline"]', "20/12/2026")
    truclam = demo["units"]["TRUCLAM"]
    page.check(f'input[name="unit_ids"][value="{truclam.id}"]')
    page.click('button:has-text("Lưu")')
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('button:has-text("Mở kỳ đánh giá")')
    page.wait_for_load_state()
    db.session.expire_all()
    period = db.session.scalars(
        sa.select(Period).where(Period.criteria_set_id == "tinh-xa-2027")
    ).one()
    assessment = db.session.scalars(
        sa.select(Assessment).where(Assessment.period_id == period.id)
    ).one()
    page.click(".usermenu > summary")  # logout sits in the user menu
    page.click('button:has-text("Đăng xuất")')

    # The unit answers the bonus leaf: it adds to the total, outside the maximum.
    _log_in(page, base, "truclam.chuyenvien", demo["password"])
    page.goto(f"{base}/assessments/{assessment.id}")
    # One area at a time: the criteria tree jumps to the bonus leaf's area.
    page.locator('.tree-leaf[data-code="2.1.1"] a').click()
    leaf = page.locator('[id="leaf-2.1.1"]')
    leaf.locator('input[value="yes"]').check()
    leaf.locator('button:has-text("Lưu tiêu chí 2.1.1")').click()
    # Saved in place (autosave); the page read again shows the bonus in the totals.
    leaf.locator(".save-state", has_text="Đã lưu").wait_for()
    page.reload()
    assert "+2,00 / −0,00" in page.locator(".total-extras").inner_text()
    assert page.locator(".total-points").inner_text().startswith("2,00")
    page.screenshot(path=str(tmp_path / "assessment-bonus.png"), full_page=False)
    assert not page.problems  # type: ignore[attr-defined]
