"""The coordinator's criteria page: XLSX upload (check, import), downloads, changes."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from criteria import DATA_DIR, load_criteria_set
from criteria.xlsx import EXAMPLE_PATH, SHEET_META, SHEET_TREE, read_workbook
from webapp.extensions import db
from webapp.models import AuditEvent, CriteriaCodeMap, CriteriaSetRecord

pytestmark = pytest.mark.db

WARD_ID = "thanhhoa-ubnd-xa-phuong-2026-draft"


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    return login_as("admin")


def _next_year_book(**cells: Any) -> bytes:
    """The example spreadsheet made into a 2027 set, as a coordinator edits it."""
    book = load_workbook(EXAMPLE_PATH)
    meta = book[SHEET_META]
    for row in range(2, meta.max_row + 1):
        if meta.cell(row, 3).value == "id":
            meta.cell(row, 2, "thanhhoa-ubnd-xa-phuong-2027")
        if meta.cell(row, 3).value == "evaluation_year":
            meta.cell(row, 2, 2027)
    tree = book[SHEET_TREE]
    for ref, value in cells.items():
        tree[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(admin: Any, data: bytes, action: str) -> Any:
    return admin.post(
        "/admin/criteria-sets/upload",
        data={"file": (io.BytesIO(data), "bo-tieu-chi-2027.xlsx"), "action": action},
        content_type="multipart/form-data",
    )


def _records() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(CriteriaSetRecord.id)))


def test_a_bad_spreadsheet_shows_every_problem_by_cell_and_stores_nothing(
    admin: Any,
) -> None:
    before = _records()
    response = _upload(admin, _next_year_book(C4="nửa điểm", I5="Bốc thăm"), "import")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "có 2 lỗi; chưa nhập gì" in page
    assert '<td>Bộ tiêu chí</td><td class="num">4</td><td>C (Điểm tối đa)</td>' in page
    assert "&#39;nửa điểm&#39; không phải là số" in page
    assert "cách tính &#39;Bốc thăm&#39; không có" in page
    assert _records() == before


def test_check_then_import_a_spreadsheet(admin: Any) -> None:
    data = _next_year_book(B4="Thời điểm ban hành Kế hoạch CCHC năm 2027")
    checked = _upload(admin, data, "check")
    assert checked.status_code == 200
    assert "hợp lệ" in checked.get_data(as_text=True)
    assert "thanhhoa-ubnd-xa-phuong-2027" not in _records()  # checking stores nothing
    imported = _upload(admin, data, "import")
    assert imported.status_code == 302
    assert "thanhhoa-ubnd-xa-phuong-2027" in _records()
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "criteria.import",
            AuditEvent.object_id == "thanhhoa-ubnd-xa-phuong-2027",
        )
    ).one()
    assert event.actor_name.startswith("Nguyễn Văn Quản")


def test_template_example_and_any_set_download_as_xlsx(admin: Any) -> None:
    template = admin.get("/admin/criteria-sets/template.xlsx")
    assert template.status_code == 200
    assert template.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(template.data))[SHEET_TREE]
    assert sheet["A1"].value == "STT" and sheet["C1"].value == "Điểm tối đa"
    example = admin.get("/admin/criteria-sets/example.xlsx")
    assert read_workbook(example.data, "x.xlsx").criteria_set == load_criteria_set(
        DATA_DIR / f"{WARD_ID}.yaml"
    )
    export = admin.get(f"/admin/criteria-sets/{WARD_ID}/export.xlsx")
    assert export.status_code == 200
    assert f'filename="{WARD_ID}.xlsx"' in export.headers["Content-Disposition"]
    assert read_workbook(export.data, "x.xlsx").criteria_set.id == WARD_ID
    assert admin.get("/admin/criteria-sets/nope/export.xlsx").status_code == 404


def test_next_years_set_shows_its_changes_and_saves_the_mapping(admin: Any) -> None:
    # 2027: 1.1.1 retitled; the survey leaf 1.8 is dropped from the mapping by hand.
    data = _next_year_book(B4="Thời điểm ban hành Kế hoạch CCHC năm 2027")
    _upload(admin, data, "import")
    url = f"/admin/criteria-sets/thanhhoa-ubnd-xa-phuong-2027/changes?from={WARD_ID}"
    page = admin.get(url).get_data(as_text=True)
    assert "0 tiêu chí mới, 0 tiêu chí bỏ, 1 tiêu chí thay đổi" in page
    assert "là gợi ý" in page
    form = {
        f"map_{leaf.code.replace('.', '_')}": "" if leaf.code == "1.8" else leaf.code
        for leaf in load_criteria_set(DATA_DIR / f"{WARD_ID}.yaml").leaves()
    }
    saved = admin.post(url, data=form)
    assert saved.status_code == 302
    maps = db.session.scalars(sa.select(CriteriaCodeMap)).all()
    assert len(maps) == 73 and "1.8" not in {m.old_code for m in maps}
    page = admin.get(url).get_data(as_text=True)
    assert "1 tiêu chí bỏ" in page and "Cách ghép mã đã được lưu" in page
    assert db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "criteria.mapping")
    ).one()
    bad = admin.post(url, data={**form, "map_1_8": "9.9"})
    assert bad.status_code == 200 and "Mã mới không có trong bộ tiêu chí" in bad.text
