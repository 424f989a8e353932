"""The survey import template: the three columns ``survey.import_survey`` reads
(unit code, leaf code, percent), one row per unit of the period and survey leaf,
with the values entered so far; a second sheet names the units and leaves."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from webapp.appraisal.survey import survey_grid
from webapp.models import Period

HEADER = ("Mã đơn vị", "Mã tiêu chí", "Kết quả (%)")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class TemplateRow:
    unit_code: str
    unit_name: str
    leaf_code: str
    leaf_title: str
    value: Decimal | None


def template_rows(period: Period) -> list[TemplateRow]:
    """Every (unit, survey leaf) cell of the period's grid, by unit then leaf."""
    grid = survey_grid(period)
    titles = {leaf.code: leaf.title for leaf in grid.leaves}
    rows = []
    for assessment in grid.assessments:
        for leaf in grid.leaves:
            key = (assessment.id, leaf.code)
            if key in grid.values:  # the unit's own set has this survey leaf
                rows.append(
                    TemplateRow(
                        assessment.unit.code,
                        assessment.unit.name,
                        leaf.code,
                        titles[leaf.code],
                        grid.values[key],
                    )
                )
    return rows


def template_filename(period: Period, extension: str) -> str:
    return f"mau-ket-qua-dieu-tra-XHH-{period.year}.{extension}"


def template_xlsx(period: Period) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows = template_rows(period)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Kết quả"
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                row.unit_code,
                row.leaf_code,
                float(row.value) if row.value is not None else None,
            ]
        )
        sheet.cell(sheet.max_row, 3).number_format = "0.00"
        # Codes are text: "1.8" typed into a number cell would become 1,8.
        sheet.cell(sheet.max_row, 2).number_format = "@"
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 14
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet("Hướng dẫn")
    guide.append(["Cách dùng tệp mẫu"])
    guide["A1"].font = Font(bold=True)
    for line in (
        "Điền cột “Kết quả (%)” của trang “Kết quả” (từ 0 đến 100, ví dụ 85,5).",
        "Không sửa hai cột mã; xóa các dòng chưa có kết quả trước khi nhập.",
        "Nhập tệp tại trang “Kết quả điều tra XHH”: mọi dòng được kiểm tra, "
        "một dòng sai thì không dòng nào được lưu.",
    ):
        guide.append([line])
    guide.append([])
    guide.append(["Mã đơn vị", "Tên đơn vị", "Mã tiêu chí", "Tiêu chí"])
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        guide.append([row.unit_code, row.unit_name, row.leaf_code, row.leaf_title])
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 36
    guide.column_dimensions["D"].width = 60
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(period: Period) -> bytes:
    """The same three columns as CSV: ";" and UTF-8 with BOM, as Excel in Vietnam
    writes and reads it (the decimal comma needs the semicolon)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in template_rows(period):
        value = "" if row.value is None else format(row.value.normalize(), "f")
        writer.writerow([row.unit_code, row.leaf_code, value.replace(".", ",")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
