"""Criteria sets authored as spreadsheets (criteria/xlsx.py), as a coordinator does it.

The filled rows below are typed the way a coordinator types them in the shipped
template: Vietnamese labels, decimal commas, one parameter per line.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from criteria import DATA_DIR, load_criteria_set, parse_criteria_set
from criteria.xlsx import (
    EXAMPLE_PATH,
    SHEET_BANDS,
    SHEET_META,
    SHEET_TREE,
    TEMPLATE_PATH,
    CellProblem,
    SpreadsheetError,
    read_workbook,
    template_workbook,
    write_workbook,
)

# The bonus-mini set (tests/unit/data/bonus-mini.yaml), row by row:
# STT, title, max, method, evidence, kind, assessed_by, N/A, rule, measure, unit, params
BONUS_ROWS: list[tuple[Any, ...]] = [
    ("1", "Công tác chỉ đạo, điều hành", 10),
    (
        "1.1",
        "Ban hành Kế hoạch CCHC năm",
        4,
        "Có ban hành: 4 điểm",
        "KH: Kế hoạch CCHC năm",
        None,
        "Tự chấm",
        "Không được khai",
        "Đạt / không đạt",
        "Có ban hành Kế hoạch",
        None,
        "Đạt: 4\nKhông đạt: 0",
    ),
    (
        "1.2",
        "Nội dung Kế hoạch",
        "6",
        None,
        None,
        None,
        None,  # blank: Tự chấm
        None,  # blank: Không được khai
        "Cộng điểm theo nội dung",
        None,
        None,
        "Đủ nhiệm vụ: 3\nCó phân công: 2\nCó sản phẩm đầu ra: 1",
    ),
    ("2", "Điểm thưởng, điểm trừ", 5),
    ("2.1", "Điểm thưởng", 3, None, None, "Điểm thưởng"),
    (
        "2.1.1",
        "Được khen thưởng cấp tỉnh về CCHC",
        2,
        None,
        "QĐ: Quyết định khen thưởng",
        None,
        "Tự chấm",
        "Loại khỏi điểm tối đa",
        "Đạt / không đạt",
        "Có quyết định khen thưởng",
        None,
        "Đạt: 2\nKhông đạt: 0",
    ),
    (
        "2.1.2",
        "Sáng kiến CCHC được công nhận",
        2,
        None,
        None,
        None,
        "tự chấm",  # any case
        "không được khai",
        "chọn mức",
        None,
        None,
        "Cấp tỉnh công nhận: 2\nCấp xã công nhận: 1\nKhông có: 0",
    ),
    ("2.2", "Điểm trừ", 2, None, None, "Điểm trừ"),
    (
        "2.2.1",
        "Bị cấp trên phê bình về CCHC",
        2,
        None,
        None,
        None,
        "Tự chấm",
        "Không được khai",
        "Trừ điểm theo số lần",
        None,
        None,
        "Điểm khởi đầu: 2\nmỗi lần bị phê bình: trừ 0,5\nMức sàn: 0",
    ),
    (
        "2.2.2",
        "Để xảy ra sai phạm bị xử lý kỷ luật",
        "1,5",
        None,
        None,
        None,
        "Tự chấm",
        "Không được khai",
        "Đạt / không đạt",
        "Có cán bộ bị kỷ luật",
        None,
        "Đạt: 1,5\nKhông đạt: 0",
    ),
]
BONUS_META = {
    "id": "test-bonus-mini",
    "title": "Bộ tiêu chí thử nghiệm có điểm thưởng, điểm trừ (chỉ dùng cho kiểm thử)",
    "evaluation_year": 2026,
    "unit_type": "ubnd_xa_phuong",
    "total_max_points": 10,
}
BONUS_BANDS = [
    ("Tốt", 80, None),
    ("Khá", 60, 80),
    ("Trung bình", 40, 60),
    ("Yếu", None, 40),
]


def _filled(rows: list[tuple[Any, ...]] | None = None, *, edit: Any = None) -> bytes:
    """The shipped empty template with the bonus-mini set typed in."""
    book = load_workbook(TEMPLATE_PATH)
    meta = book[SHEET_META]
    for row in range(2, meta.max_row + 1):
        key = meta.cell(row, 3).value
        if key in BONUS_META:
            meta.cell(row, 2, BONUS_META[key])
    bands = book[SHEET_BANDS]
    for row, band in enumerate(BONUS_BANDS, start=2):
        for column, value in enumerate(band, start=1):
            bands.cell(row, column, value)
    tree = book[SHEET_TREE]
    for row, cells in enumerate(rows or BONUS_ROWS, start=2):
        for column, value in enumerate(cells, start=1):
            tree.cell(row, column, value)
    if edit is not None:
        edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row_of(code: str) -> int:
    return 2 + [r[0] for r in BONUS_ROWS].index(code)


def test_filled_template_imports_to_the_same_set_as_its_yaml(bonus_path: Path) -> None:
    imported = read_workbook(_filled(), "bo-tieu-chi.xlsx")
    expected = load_criteria_set(bonus_path)
    assert imported.criteria_set == expected
    assert dict(imported.criteria_set.meta) | {"classification_bands": None} == dict(
        expected.meta
    ) | {"classification_bands": None}
    # The YAML text is what the loader validates, and loads again to the same set.
    assert parse_criteria_set(imported.yaml_text, "again.yaml") == expected
    assert 'code: "2.1.1"' in imported.yaml_text


def _replace(code: str, column: int, value: Any) -> list[tuple[Any, ...]]:
    rows = []
    for cells in BONUS_ROWS:
        if cells[0] == code:
            padded = list(cells) + [None] * (12 - len(cells))
            padded[column - 1] = value
            cells = tuple(padded)
        rows.append(cells)
    return rows


def _problems(data: bytes) -> list[CellProblem]:
    with pytest.raises(SpreadsheetError) as caught:
        read_workbook(data, "bo-tieu-chi.xlsx")
    return caught.value.cells


def _merge_code_cells(book: Any) -> None:
    book[SHEET_TREE].merge_cells("A3:A4")


MISTAKES = [
    (
        "missing maximum",
        lambda: _filled(_replace("1.1", 3, None)),
        CellProblem(
            SHEET_TREE,
            _row_of("1.1"),
            "C (Điểm tối đa)",
            "thiếu giá trị (cần một số)",
        ),
    ),
    (
        "children that do not sum",
        lambda: _filled(_replace("1.2", 3, 5)),  # 4 + 5 ≠ 10
        CellProblem(
            SHEET_TREE,
            _row_of("1"),
            "C (Điểm tối đa)",
            "tổng điểm các tiêu chí 9 khác điểm tối đa 10",
        ),
    ),
    (
        "unparseable band",
        lambda: _filled(
            _replace(
                "1.1",
                12,
                None,
            )[:1]
            + [
                (
                    "1.1",
                    "Ban hành Kế hoạch CCHC năm",
                    4,
                    None,
                    None,
                    None,
                    "Tự chấm",
                    None,
                    "Theo khoảng",
                    "tỷ lệ",
                    "Tỷ lệ (%)",
                    "từ 100% trở lên: 4\nkhoảng 80 tới 100: 2\ndưới 80%: 0",
                )
            ]
            + BONUS_ROWS[2:]
        ),
        CellProblem(
            SHEET_TREE,
            _row_of("1.1"),
            "L (Tham số cách tính (mỗi dòng một mục))",
            "không đọc được khoảng 'khoảng 80 tới 100: 2'; viết như "
            "'từ 80% đến dưới 100%: 0,5'",
        ),
    ),
    (
        "unknown rule name",
        lambda: _filled(_replace("1.1", 9, "Bốc thăm")),
        CellProblem(
            SHEET_TREE,
            _row_of("1.1"),
            "I (Cách tính)",
            "cách tính 'Bốc thăm' không có; chọn một trong: Đạt / không đạt, "
            "Theo khoảng, Tỷ lệ so với mục tiêu, Cộng điểm theo nội dung, "
            "Trừ điểm theo số lần, Chọn mức, Điều tra xã hội học",
        ),
    ),
    (
        "duplicate code",
        lambda: _filled(_replace("1.2", 1, "1.1")),
        CellProblem(
            SHEET_TREE,
            _row_of("1.2"),
            "A (STT)",
            f"mã '1.1' bị trùng với dòng {_row_of('1.1')}",
        ),
    ),
    (
        "merged cell in the code column",
        lambda: _filled(edit=_merge_code_cells),
        CellProblem(
            SHEET_TREE,
            3,
            "A (STT)",
            "ô gộp A3:A4 ở cột STT: mỗi dòng cần một mã riêng, hãy bỏ gộp ô",
        ),
    ),
    (
        "maximum that is not a number",
        lambda: _filled(_replace("2.2.2", 3, "một rưỡi")),
        CellProblem(
            SHEET_TREE,
            _row_of("2.2.2"),
            "C (Điểm tối đa)",
            "'một rưỡi' không phải là số",
        ),
    ),
    (
        "bonus leaf above its cap",
        lambda: _filled(_replace("2.1", 3, 1)),
        CellProblem(
            SHEET_TREE,
            _row_of("2.1.1"),
            "C (Điểm tối đa)",
            "mức trần 2 vượt mức trần điểm thưởng 1 của 2.1",
        ),
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_each_mistake_is_reported_at_its_cell(
    build: Any, expected: CellProblem
) -> None:
    problems = _problems(build())
    assert expected in problems, problems


def test_messages_name_sheet_row_and_column() -> None:
    problems = _problems(_filled(_replace("1.1", 9, "Bốc thăm")))
    assert str(problems[0]).startswith(
        f"Trang 'Bộ tiêu chí', dòng {_row_of('1.1')}, cột I (Cách tính): "
        "cách tính 'Bốc thăm' không có"
    )


def test_band_problems_point_at_the_bands_sheet() -> None:
    def overlap(book: Any) -> None:
        book[SHEET_BANDS].cell(3, 3, 85)  # Khá: 60–<85 overlaps Tốt from 80

    problems = _problems(_filled(edit=overlap))
    assert any(
        p.sheet == SHEET_BANDS and p.row == 3 and p.column == "C" for p in problems
    )


def test_not_a_spreadsheet_is_refused() -> None:
    problems = _problems(b"%PDF-1.4 not a workbook")
    assert problems == [
        CellProblem(
            "bo-tieu-chi.xlsx", None, None, "không phải tệp Excel .xlsx đọc được"
        )
    ]


def test_empty_template_says_what_is_missing() -> None:
    messages = [str(p) for p in _problems(template_workbook())]
    assert "Trang 'Bộ tiêu chí', dòng 2: chưa có lĩnh vực nào" in messages


@pytest.mark.parametrize(
    "name", ["thanhhoa-ubnd-xa-phuong-2026-draft.yaml", "test-mini.yaml"]
)
def test_round_trip_is_lossless(name: str) -> None:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    before = parse_criteria_set(text, name)
    after = read_workbook(write_workbook(text, name), "export.xlsx")
    assert after.criteria_set == before
    assert dict(after.criteria_set.meta) == dict(before.meta)  # documentation too

    def sources(document: Any) -> dict[str, str]:
        found: dict[str, str] = {}

        def walk(node: dict[str, Any]) -> None:
            if "source" in node:
                found[node["code"]] = node["source"]
            for child in node.get("criteria", []) + node.get("children", []):
                walk(child)

        for area in document["areas"]:
            walk(area)
        return found

    assert sources(yaml.safe_load(after.yaml_text)) == sources(yaml.safe_load(text))


def test_shipped_example_is_the_draft_set_filled_in() -> None:
    imported = read_workbook(EXAMPLE_PATH.read_bytes(), EXAMPLE_PATH.name)
    ward = load_criteria_set(DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml")
    assert imported.criteria_set == ward
    rows = list(load_workbook(EXAMPLE_PATH)[SHEET_TREE].iter_rows(values_only=True))
    assert rows[0][:5] == (
        "STT",
        "Lĩnh vực / Tiêu chí / Tiêu chí thành phần",
        "Điểm tối đa",
        "Phương pháp / cách tính điểm",
        "Tài liệu kiểm chứng",
    )


def test_text_never_becomes_a_formula(mini_path: Path) -> None:
    text = mini_path.read_text(encoding="utf-8").replace(
        'title: "Niêm yết thủ tục"', 'title: "=HYPERLINK(\\"http://x\\")"'
    )
    data = write_workbook(text, "mini.yaml")
    sheet = load_workbook(io.BytesIO(data))[SHEET_TREE]
    cells = [
        c
        for row in sheet.iter_rows()
        for c in row
        if c.value == '=HYPERLINK("http://x")'
    ]
    assert cells and all(c.data_type == "s" for c in cells)
