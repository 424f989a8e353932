"""A ward's dossier in a real browser, end to end: the unit writes its report sections,
the head submits, downloads the Word report, uploads it signed (ký số) with the signed
appraisal request letter the period asks for, exports the ZIP, and the Sở's appraiser
verifies that ZIP against the app.

The PDFs are signed with a CA made in the test (no private key is committed).
Skipped only when /usr/bin/chromium is missing (`scripts/install-browser.sh`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from webapp.clock import VN_TZ

pytestmark = pytest.mark.browser

BASIS = "Kế hoạch số 280/KH-UBND ngày 30/12/2025 của UBND tỉnh"
SECTIONS = {
    "ton_tai": "Một số nhiệm vụ tuyên truyền CCHC hoàn thành chậm so với kế hoạch.",
    "nguyen_nhan": "Biên chế công chức văn phòng thiếu sau sắp xếp đơn vị hành chính.",
    "kho_khan": "Đường truyền tại Trung tâm Phục vụ hành chính công còn gián đoạn.",
    "giai_phap": "Năm 2027 tiếp tục số hóa hồ sơ, kết quả giải quyết TTHC.",
    "kien_nghi": "Đề nghị Sở Nội vụ tổ chức tập huấn chấm điểm Chỉ số CCHC.",
}


def _off_the_loop(sign: Callable[..., bytes], pdf: bytes, signer: str) -> bytes:
    """pyHanko signs through asyncio.run, which refuses to run inside the event loop
    Playwright's sync API keeps on this thread: sign on another one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(sign, pdf, signer_name=signer).result()


def test_a_ward_files_a_signed_dossier_the_so_verifies(
    live_server: str,
    new_page: Callable[[], Any],
    demo: dict[str, Any],
    app: Any,
    clock: Any,
    fill_assessment: Any,
    evidence_files: Any,
    sign_pdf: Callable[..., bytes],
    log_in: Callable[[Any, str, str], None],
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    from webapp.extensions import db

    base = live_server
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    # The coordinator's settings for the period: signatures checked, letter required.
    truclam.period.signed_report_required = True
    truclam.period.request_letter_required = True
    truclam.period.report_bases = BASIS
    db.session.commit()
    fill_assessment(truclam, user=demo["users"]["truclam.chuyenvien"])
    settings = f"{base}/dossier/assessments/{truclam.id}/settings"

    # -- the unit staff member writes the report's sections -----------------------
    page = new_page()
    log_in(page, base, "truclam.chuyenvien")
    page.wait_for_url(f"{base}/assessments/")
    page.click("text=Nội dung báo cáo…")
    page.wait_for_url(settings)
    for key, text in SECTIONS.items():
        page.fill(f'textarea[name="section-{key}"]', text)
    page.fill('textarea[name="narrative-1"]', "Lĩnh vực chỉ đạo, điều hành đạt khá.")
    page.click('button:has-text("Lưu nội dung báo cáo")')
    page.wait_for_url(settings)
    assert "Đã lưu nội dung báo cáo." in page.locator(".flash-success").inner_text()
    assert "chưa xuất được" in page.locator(".flash-error").inner_text()
    screenshot(page, "dossier-settings-1366x768.png")

    # -- the head submits (told the letter is still missing, not blocked) ---------
    page = new_page()
    log_in(page, base, "truclam.lanhdao")
    page.click("text=Gửi hồ sơ…")
    page.wait_for_url(f"{base}/assessments/{truclam.id}/submit")
    assert "Việc gửi hồ sơ không bị chặn" in page.locator(".flash-warning").inner_text()
    page.click('button:has-text("Xác nhận gửi hồ sơ")')
    page.wait_for_url(f"{base}/assessments/")
    assert "Đã gửi hồ sơ tự đánh giá" in page.locator(".flash-success").inner_text()

    # -- downloads the Word report it signs as it is -------------------------------
    page.goto(settings)
    with page.expect_download() as got:
        page.click("text=Báo cáo (Word)")
    docx_path = tmp_path / got.value.suggested_filename
    got.value.save_as(docx_path)
    assert docx_path.name == "Báo cáo tự đánh giá - TRUCLAM - 2026.docx"
    doc = Document(str(docx_path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Kính gửi: Sở Nội vụ" in text
    assert "Căn cứ kế hoạch số 280/KH-UBND ngày 30/12/2025 của UBND tỉnh," in text
    assert "Lĩnh vực chỉ đạo, điều hành đạt khá." in text
    for section in SECTIONS.values():
        assert section in text
    assert "DỰ THẢO" not in text

    # The e-office prints it to PDF and signs it; here a PDF of its opening lines.
    lines = [p.text for p in doc.paragraphs if p.text.strip()][:6]
    signed_report = _off_the_loop(sign_pdf, evidence_files.pdf(lines), "Lê Văn Minh")
    report_file = tmp_path / "Báo cáo đã ký.pdf"
    report_file.write_bytes(signed_report)
    form = page.locator('form[action$="/signed-report"]')
    form.locator('input[type="file"]').set_input_files(str(report_file))
    form.locator('button:has-text("Tải lên")').click()
    page.wait_for_url(settings)
    assert (
        "Đã tải lên báo cáo tự đánh giá đã ký số."
        in page.locator(".flash-success").inner_text()
    )
    card = page.locator("section.card").first.inner_text()
    assert "Lê Văn Minh" in card and "CA thử nghiệm" in card
    assert "Hợp lệ, tài liệu không bị thay đổi sau khi ký" in card
    assert "dự kiến Xuất sắc (A)" in card  # 32 survey points still to come

    # The ZIP waits for the request letter.
    page.click("text=Hồ sơ đầy đủ (ZIP)")
    page.wait_for_url(settings)
    assert "chưa xuất được" in page.locator(".flash-error").first.inner_text()

    letter = _off_the_loop(
        sign_pdf,
        evidence_files.pdf(["UBND PHUONG TRUC LAM", "De nghi tham dinh 2026"]),
        "Lê Văn Minh",
    )
    letter_file = tmp_path / "Công văn đề nghị thẩm định.pdf"
    letter_file.write_bytes(letter)
    form = page.locator('form[action$="/request-letter"]')
    form.locator('input[type="file"]').set_input_files(str(letter_file))
    form.locator('button:has-text("Tải lên công văn")').click()
    page.wait_for_url(settings)
    assert (
        "Đã tải lên công văn đề nghị thẩm định đã ký số."
        in page.locator(".flash-success").inner_text()
    )
    assert page.locator(".flash-error").count() == 0
    screenshot(page, "dossier-signed-1366x768.png")

    with page.expect_download() as got:
        page.click("text=Hồ sơ đầy đủ (ZIP)")
    zip_path = tmp_path / got.value.suggested_filename
    got.value.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert "Báo cáo tự đánh giá - TRUCLAM - 2026 (đã ký số).pdf" in names
        assert "Công văn đề nghị thẩm định - TRUCLAM - 2026 (đã ký số).pdf" in names
        assert zf.read("Báo cáo tự đánh giá - TRUCLAM - 2026 (đã ký số).pdf") == (
            signed_report
        )
        # The Word file in the ZIP is the one the unit downloaded and signed.
        inside = Document(io.BytesIO(zf.read(docx_path.name)))
        assert [p.text for p in inside.paragraphs] == [p.text for p in doc.paragraphs]
    assert page.problems == []  # type: ignore[attr-defined]

    # -- the Sở's appraiser verifies the ZIP the ward sent --------------------------
    staff = new_page()
    log_in(staff, base, "thamdinh")
    staff.goto(f"{base}/dossier/verify")
    staff.locator('input[name="file"]').set_input_files(str(zip_path))
    staff.click('button:has-text("Kiểm tra")')
    result = staff.locator("#ket-qua")
    result.wait_for()
    said = result.inner_text()
    assert "Hợp lệ. Hồ sơ do hệ thống xuất lúc" in said
    assert "Phường Trúc Lâm" in said
    assert "Công văn đề nghị thẩm định" in said and "ký số bởi Lê Văn Minh" in said
    result.scroll_into_view_if_needed()
    screenshot(staff, "dossier-verify-1366x768.png")
    assert staff.problems == []  # type: ignore[attr-defined]

    cli = app.test_cli_runner().invoke(args=["dossier", "verify", str(zip_path)])
    assert cli.exit_code == 0, cli.output
    assert "Hồ sơ do hệ thống xuất lúc" in cli.output
