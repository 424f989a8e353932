"""The score table (Bảng tổng hợp kết quả tự đánh giá, chấm điểm) as an Excel workbook.

Layout of par-index-methodology.md §4.2: STT | Lĩnh vực / Tiêu chí / Tiêu chí
thành phần | Điểm tối đa | Điểm tự đánh giá | Tài liệu kiểm chứng | Giải trình /
Ghi chú | Điểm thẩm định | Ý kiến thẩm định. Numbers are stored as numbers (format
"0.00": Excel shows the decimal comma of a Vietnamese locale), the header row is
frozen and printed on every A4 landscape page.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from webapp.dossier.builders.cells import write_cell
from webapp.dossier.builders.text import citation, vn_datetime
from webapp.dossier.builders.types import SCORE_TABLE_HEADERS, Dossier, Row, Totals

FONT_NAME = "Times New Roman"
NUMBER_FORMAT = "0.00"
WIDTHS = (7, 44, 8, 9, 40, 32, 9, 24)
LINE_HEIGHT = 15.0  # points per wrapped line of 12 pt Times New Roman
TITLE_ROWS = 3  # title, unit and period, status and export time
HEADER_ROW = TITLE_ROWS + 2  # one blank row between

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_AREA_FILL = PatternFill("solid", fgColor="D9D9D9")
_CRITERION_FILL = PatternFill("solid", fgColor="F2F2F2")
_HEADER_FILL = PatternFill("solid", fgColor="BFBFBF")
_NA_NOTES = {
    "not_applicable": "Không phát sinh",
    "pending": "Điều tra xã hội học: chờ kết quả (không tự chấm)",
}


@dataclass(frozen=True, slots=True)
class RankingRow:
    """One unit's line in the period's ranking."""

    unit_code: str
    unit_name: str
    status_label: str
    basis: str  # "Điểm thẩm định" or "Điểm tự đánh giá"
    totals: Totals
    rank: int | None


def _font(bold: bool = False, italic: bool = False, size: int = 12) -> Font:
    return Font(name=FONT_NAME, bold=bold, italic=italic, size=size)


def build_score_table(dossier: Dossier) -> bytes:
    """Return the .xlsx bytes of one assessment's score table."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Bảng điểm"
    write_score_table(ws, dossier)
    return _save(wb)


def build_ranking(
    title: str,
    period_name: str,
    exported: str,
    rows: Sequence[RankingRow],
    dossiers: Sequence[Dossier],
) -> bytes:
    """Return the period's workbook: the ranking, then each unit's score table."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Xếp hạng"
    headers = (
        "STT",
        "Mã đơn vị",
        "Đơn vị",
        "Trạng thái",
        "Căn cứ",
        "Điểm đạt",
        "Điểm tối đa (áp dụng)",
        "Chỉ số CCHC (%)",
        "Xếp loại",
        "Xếp hạng",
    )
    widths = (6, 12, 34, 24, 18, 11, 12, 12, 16, 9)
    _title_block(ws, len(headers), title, period_name, f"Thời điểm xuất: {exported}")
    for col, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        _header_cell(ws, HEADER_ROW, col, text)
        ws.column_dimensions[get_column_letter(col)].width = width
    ordered = sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.unit_name))
    for i, row in enumerate(ordered, start=1):
        r = HEADER_ROW + i
        values: list[object] = [
            i,
            row.unit_code,
            row.unit_name,
            row.status_label,
            row.basis,
            row.totals.points,
            row.totals.max_points,
            row.totals.index,
            row.totals.band or "",
            # As on the ranking page: a unit that never submitted is not ranked.
            row.rank if row.rank is not None else "Không xếp hạng",
        ]
        for col, value in enumerate(values, start=1):
            cell = write_cell(ws, r, col, value)
            cell.font = _font()
            cell.border = _BORDER
            if isinstance(value, Decimal):
                cell.number_format = NUMBER_FORMAT
    _page_setup(ws, len(headers))
    used: set[str] = {"Xếp hạng"}
    for dossier in dossiers:
        sheet = wb.create_sheet(
            _sheet_title(dossier.unit.code or dossier.unit.name, used)
        )
        write_score_table(sheet, dossier)
    return _save(wb)


def _sheet_title(name: str, used: set[str]) -> str:
    base = "".join("-" if c in "[]:*?/\\" else c for c in name)[:28] or "Đơn vị"
    title, n = base, 1
    while title in used:
        n += 1
        title = f"{base[:26]}-{n}"
    used.add(title)
    return title


def write_score_table(ws: Worksheet, dossier: Dossier) -> None:
    """Write the whole score table (title rows, header, rows, totals) into ``ws``."""
    unit = dossier.unit
    _title_block(
        ws,
        len(SCORE_TABLE_HEADERS),
        "BẢNG TỔNG HỢP KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH "
        f"NĂM {dossier.year}",
        f"Đơn vị: {unit.name} · Kỳ đánh giá: {dossier.period_name}",
        f"Trạng thái: {dossier.status_label}"
        + (
            f" (số liệu theo hồ sơ đã gửi ngày {vn_datetime(dossier.submitted_at)})"
            if dossier.from_snapshot
            else ""
        )
        + f" · Thời điểm xuất: {vn_datetime(dossier.exported_at)}",
    )
    for col, (text, width) in enumerate(
        zip(SCORE_TABLE_HEADERS, WIDTHS, strict=True), start=1
    ):
        _header_cell(ws, HEADER_ROW, col, text)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[HEADER_ROW].height = 48
    r = HEADER_ROW
    appraised = dossier.appraised_totals is not None
    at: dict[str, int] = {}
    for row in dossier.rows:
        r += 1
        at[row.code] = r
        _write_row(ws, r, row, appraised)
    _group_formulas(ws, dossier, at, appraised)
    areas = [at[a.code] for a in dossier.areas()]
    r += 1
    r = _write_totals(
        ws, r, "Tổng điểm tự đánh giá / tự chấm", dossier.self_totals, 4, areas
    )
    if dossier.appraised_totals is not None:
        _write_totals(ws, r, "Kết quả thẩm định", dossier.appraised_totals, 7, areas)
    _page_setup(ws, len(SCORE_TABLE_HEADERS))


def _formula(ws: Worksheet, r: int, col: int, formula: str, cached: object) -> None:
    """A formula a reviewer can check, with its value kept for readers that do not
    recalculate (openpyxl writes none: ``_save`` adds it)."""
    ws.cell(r, col).value = f"={formula}"
    if isinstance(cached, Decimal):
        cache: dict[tuple[str, str], str] = ws.parent.__dict__.setdefault(
            "_pi_cached", {}
        )
        cache[(ws.title, ws.cell(r, col).coordinate)] = format(cached, "f")


def _group_formulas(
    ws: Worksheet, dossier: Dossier, at: dict[str, int], appraised: bool
) -> None:
    """Area and criterion points as SUM of their direct children's cells."""
    for row in dossier.rows:
        if row.is_leaf:
            continue
        children = [
            at[c.code]
            for c in dossier.rows
            if c.depth == row.depth + 1 and c.code.startswith(f"{row.code}.")
        ]
        if not children:
            continue
        cols = [(4, row.self_points)]
        if appraised:
            cols.append((7, row.appraised_points))
        for col, cached in cols:
            letter = get_column_letter(col)
            cells = ",".join(f"{letter}{n}" for n in children)
            _formula(ws, at[row.code], col, f"SUM({cells})", cached)


def _title_block(ws: Worksheet, ncols: int, title: str, line2: str, line3: str) -> None:
    last = get_column_letter(ncols)
    for r, (text, bold, size) in enumerate(
        ((title, True, 14), (line2, False, 12), (line3, False, 11)), start=1
    ):
        ws.merge_cells(f"A{r}:{last}{r}")
        cell = write_cell(ws, r, 1, text)
        cell.font = _font(bold=bold, italic=r == 3, size=size)
        cell.alignment = Alignment(
            horizontal="center", vertical="center", wrap_text=True
        )
    ws.row_dimensions[1].height = 36


def _header_cell(ws: Worksheet, r: int, col: int, text: str) -> None:
    cell = write_cell(ws, r, col, text)
    cell.font = _font(bold=True)
    cell.fill = _HEADER_FILL
    cell.border = _BORDER
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _write_row(ws: Worksheet, r: int, row: Row, appraised: bool) -> None:
    group = not row.is_leaf
    bold = group
    evidence = "\n".join(f"- {citation(e)}" for e in row.evidence)
    if row.missing_evidence:  # not survey, system-extract or "không phát sinh" leaves
        evidence = "Chưa có tài liệu kiểm chứng. Yêu cầu: " + "; ".join(
            row.expected_evidence
        )
    status_note = _NA_NOTES.get(row.status, "")
    if row.survey_in:  # its points sit beside it: not "chờ kết quả"
        status_note = "Điều tra xã hội học: kết quả do Sở Nội vụ nhập (không tự chấm)"
    notes = [n for n in (row.note.strip(), status_note) if n]
    if row.is_leaf and row.explanation:
        notes.append(f"Cách tính: {row.explanation}")
    # Group rows carry sums; a leaf's appraised column is filled as soon as it is set.
    appraised_value = row.appraised_points if (row.is_leaf or appraised) else None
    values: list[object] = [
        row.code,
        row.title,
        row.max_points,
        row.self_points,
        evidence if row.is_leaf else None,
        "\n".join(notes) if row.is_leaf else None,
        appraised_value,
        row.appraiser_comment if row.is_leaf else None,
    ]
    # Leaves are indented under their criterion; a criterion scored directly, one step.
    indent = {1: 0, 2: 1}.get(row.depth, 2)
    for col, value in enumerate(values, start=1):
        cell = write_cell(ws, r, col, value)
        cell.font = _font(bold=bold)
        cell.border = _BORDER
        if isinstance(value, Decimal) or col in (3, 4, 7):
            cell.number_format = NUMBER_FORMAT
            cell.alignment = Alignment(horizontal="right", vertical="top")
        elif col == 2:
            cell.alignment = Alignment(vertical="top", wrap_text=True, indent=indent)
        else:
            cell.alignment = Alignment(
                vertical="top",
                wrap_text=True,
                horizontal="center" if col == 1 else None,
            )
        if row.kind == "area":
            cell.fill = _AREA_FILL
        elif group:
            cell.fill = _CRITERION_FILL
    ws.row_dimensions[r].height = _height(values, WIDTHS)


def _height(values: list[object], widths: tuple[int, ...]) -> float:
    """Row height for wrapped text: Excel does not grow a generated file's rows."""
    lines = 1
    for value, width in zip(values, widths, strict=True):
        if isinstance(value, str) and value:
            per_line = max(int(width * 1.2), 1)
            lines = max(
                lines, sum(-(-len(part) // per_line) or 1 for part in value.split("\n"))
            )
    return lines * LINE_HEIGHT + 3


def _write_totals(
    ws: Worksheet, r: int, label: str, totals: Totals, col: int, areas: list[int]
) -> int:
    lines: list[tuple[str, object, bool]] = [
        (f"{label}: tổng điểm đạt được", totals.points, True),
        (
            "Tổng điểm tối đa được tính (trừ tiêu chí không phát sinh, "
            "chưa có kết quả điều tra)",
            totals.max_points,
            True,
        ),
        ("Chỉ số cải cách hành chính (%)", totals.index, True),
        ("Xếp loại", totals.band or "", False),
    ]
    for text, value, numeric in lines:
        label_cell = write_cell(ws, r, 2, text)
        label_cell.font = _font(bold=True)
        label_cell.alignment = Alignment(wrap_text=True, vertical="top")
        for c in range(1, len(SCORE_TABLE_HEADERS) + 1):
            ws.cell(r, c).border = _BORDER
        cell = write_cell(ws, r, col, value)
        cell.font = _font(bold=True)
        if numeric:
            cell.number_format = NUMBER_FORMAT
        cell.alignment = Alignment(horizontal="right", vertical="top")
        ws.row_dimensions[r].height = _height([text], (WIDTHS[1],))
        r += 1
    letter = get_column_letter(col)
    first = r - len(lines)
    if areas:  # the points over the area cells, the index over points and maximum
        cells = ",".join(f"{letter}{n}" for n in areas)
        _formula(ws, first, col, f"SUM({cells})", totals.points)
    if totals.index is not None:
        ref, top = f"{letter}{first}", f"{letter}{first + 1}"
        _formula(ws, first + 2, col, f"ROUND({ref}*100/{top},2)", totals.index)
    return r


def _page_setup(ws: Worksheet, ncols: int) -> None:
    ws.freeze_panes = ws.cell(
        HEADER_ROW + 1, 1
    ).coordinate  # keeps the header row in view
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"  # header repeated on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    # Inches: 20 mm top/bottom, 30 mm left, 15 mm right (NĐ 30/2020 margins).
    ws.page_margins.top = ws.page_margins.bottom = 20 / 25.4
    ws.page_margins.left = 30 / 25.4
    ws.page_margins.right = 15 / 25.4
    ws.page_margins.header = ws.page_margins.footer = 8 / 25.4
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = FONT_NAME
    ws.print_area = f"A1:{get_column_letter(ncols)}{ws.max_row}"


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    cached: dict[tuple[str, str], str] = wb.__dict__.get("_pi_cached", {})
    if not cached:
        return buf.getvalue()
    return _with_cached_values(buf.getvalue(), wb.sheetnames, cached)


_FORMULA_CELL = re.compile(rb'(<c r="([A-Z]+[0-9]+)"[^>]*>)<f>([^<]*)</f><v\s*>\s*</v>')


def _with_cached_values(
    data: bytes, titles: list[str], cached: dict[tuple[str, str], str]
) -> bytes:
    """Write each formula's value next to it (sheet n is xl/worksheets/sheet<n>.xml)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info)
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if match:
                title = titles[int(match.group(1)) - 1]

                def fill(m: re.Match[bytes], title: str = title) -> bytes:
                    value = cached.get((title, m.group(2).decode()))
                    if value is None:
                        return m.group(0)
                    return (
                        m.group(1)
                        + b"<f>"
                        + m.group(3)
                        + b"</f><v>"
                        + value.encode()
                        + b"</v>"
                    )

                body = _FORMULA_CELL.sub(fill, body)
            dst.writestr(info, body)
    return out.getvalue()
