"""Reading the seed plan's appendix tables from DOCX, XLSX and CSV (issue 13)."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from webapp.plan.parsing import PlanFileError, parse_plan_file
from webapp.plan.seed import HEADER, SeedTable, build_docx, seed_tables

PER_APPENDIX = {1: 6, 2: 12, 3: 10, 4: 6, 5: 10, 6: 15, 7: 6}


@pytest.fixture(scope="module")
def tables() -> list[SeedTable]:
    return seed_tables()


@pytest.fixture(scope="module")
def docx_tasks(tables: list[SeedTable]) -> dict[tuple[int, str], object]:
    tasks = parse_plan_file("ke-hoach.docx", build_docx(tables))
    return {t.key(): t for t in tasks}


def _grid(tables: list[SeedTable]) -> list[list[str]]:
    """The same plan as spreadsheet rows: heading rows, header rows, "\n" in cells."""
    rows: list[list[str]] = []
    last = ""
    for table in tables:
        if table.heading != last:
            rows.append([table.heading])
            rows.append(list(HEADER))
            last = table.heading
        rows.extend(["\n".join(p) for p in row] for row in table.rows)
    return rows


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def test_the_docx_really_has_page_split_tables_and_merged_cells(
    tables: list[SeedTable],
) -> None:
    from docx import Document

    document = Document(io.BytesIO(build_docx(tables)))
    xml = "".join(t._tbl.xml for t in document.tables)
    assert 'w:vMerge w:val="restart"' in xml  # equal lead cells merged down
    assert "w:gridSpan" in xml  # empty cells of a page-split row merged across
    # More tables than appendices: the page breaks split them, without headers.
    assert len(document.tables) > 7


def test_every_task_of_the_seed_docx(docx_tasks: dict) -> None:
    assert len(docx_tasks) == 65
    assert Counter(a for a, _ in docx_tasks) == PER_APPENDIX
    first = docx_tasks[(1, "1")]
    assert first.appendix_title == "Cải cách thể chế"
    assert first.products == [
        "Nghị quyết của HĐND",
        "Quyết định của UBND, Chủ tịch UBND các cấp",
    ]
    assert first.lead == ["Các phòng, ban chuyên môn, trung tâm thuộc UBND phường"]
    assert first.partners == ["Sở Tư pháp"]
    assert first.deadline_text == "- Thường xuyên."
    titles = {a: t.appendix_title for (a, _), t in docx_tasks.items()}
    assert titles[6] == "Xây dựng và phát triển chính quyền điện tử, chính quyền số"


def test_inline_bullets_become_list_items(docx_tasks: dict) -> None:
    task = docx_tasks[(5, "10")]
    assert task.products == [
        "Kế hoạch kiểm tra",
        "Thông báo kiểm tra",
        "Báo cáo kết quả thực hiện",
    ]
    # A hyphen inside a name is not a bullet.
    assert docx_tasks[(3, "1")].lead == ["Phòng Văn hóa - Xã hội"]


def test_a_row_split_by_a_page_break_joins_its_task(docx_tasks: dict) -> None:
    # "… Phòng Văn hóa -" | page break | "Xã hội."
    assert docx_tasks[(2, "3")].lead[-1].endswith("Phòng Văn hóa - Xã hội")
    # The content of 6.11 continues on the next page.
    content = docx_tasks[(6, "11")].content
    assert content.startswith("Nâng cấp, hoàn thiện Hệ thống thông tin")
    assert "cấp tỉnh; kết nối, chia sẻ, đồng bộ dữ liệu" in content
    assert content.endswith("rộng rãi đến người dân.")


def test_merged_lead_cells_belong_to_each_task(docx_tasks: dict) -> None:
    for number in ("8", "9", "10"):
        assert docx_tasks[(3, number)].lead == ["Phòng Văn hóa - Xã hội"]


def test_deadline_text_is_kept_as_written(docx_tasks: dict) -> None:
    assert docx_tasks[(3, "9")].deadline_text == (
        "- Thường xuyên.\n- Báo cáo kết quả khảo sát: tháng 12 hằng năm."
    )
    assert docx_tasks[(7, "6")].deadline_text == (
        "- Kế hoạch kiểm tra: quý II/2026.\n- Báo cáo kết quả thực hiện: tháng 12/2026."
    )


@pytest.mark.parametrize(("name", "build"), [("plan.xlsx", _xlsx), ("plan.csv", _csv)])
def test_xlsx_and_csv_of_the_same_plan_give_the_same_tasks(
    tables: list[SeedTable], docx_tasks: dict, name: str, build: object
) -> None:
    tasks = parse_plan_file(name, build(_grid(tables)))  # type: ignore[operator]
    assert {t.key(): _fields(t) for t in tasks} == {
        k: _fields(t) for k, t in docx_tasks.items()
    }


def _fields(task: object) -> tuple[object, ...]:
    return tuple(
        getattr(task, f)
        for f in (
            "appendix_title",
            "content",
            "products",
            "lead",
            "partners",
            "deadline_text",
        )
    )


def _rows_with(*data: list[str]) -> bytes:
    return _csv([["Phụ lục số 01: Cải cách thể chế"], list(HEADER), *data])


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plan.pdf", b"%PDF", "chỉ nhận kế hoạch dạng DOCX, XLSX hoặc CSV"),
        ("plan.docx", b"not a zip", "Không đọc được tệp DOCX"),
        ("plan.xlsx", b"not a zip", "Không đọc được tệp XLSX"),
        ("plan.csv", "STT;Nội dung".encode("cp1258", "ignore") + b"\xff", "UTF-8"),
        ("plan.csv", b"a,b\n1,2\n", "Không tìm thấy nhiệm vụ nào"),
        (
            "plan.csv",
            _rows_with(["1.", "Việc A", "", "", "", "Quý I/2026"], ["a)", "Việc B"]),
            "Phụ lục số 01 (bảng 1), dòng 4: STT “a)” không phải là số thứ tự",
        ),
        (
            "plan.csv",
            _rows_with(["1.", "", "- Báo cáo", "", "", ""]),
            "Phụ lục số 01 (bảng 1), dòng 3: nhiệm vụ 1 thiếu nội dung",
        ),
        (
            "plan.csv",
            _rows_with(["1.", "Việc A"], ["1.", "Việc B"]),
            "Phụ lục số 01 (bảng 1), dòng 4: STT 1 bị trùng",
        ),
        (
            "plan.csv",
            _csv([["Phụ lục số 02: TTHC"], ["1.", "Việc A", "", "", "", ""]]),
            "Phụ lục số 02 (bảng 1), dòng 2: bảng không có dòng tiêu đề cột",
        ),
        (
            "plan.csv",
            _csv([["Phụ lục số 02: TTHC"], ["TT", "Nội dung thực hiện", "Sản phẩm"]]),
            "Phụ lục số 02 (bảng 1), dòng 2: thiếu cột “Cơ quan chủ trì”",
        ),
    ],
)
def test_bad_files_get_a_vietnamese_message_naming_table_and_row(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan_file(name, data)
    assert message in caught.value.message
