"""The self-scoring report (Báo cáo tự đánh giá, chấm điểm), NĐ 30/2020/NĐ-CP format.

par-index-methodology.md §8: A4 portrait, margins 20/20/30/15 mm (top, bottom, left,
right), Times New Roman, a borderless two-column header (issuing body and number on the
left, national motto and place/date on the right), the title and its trích yếu, body
sections I–III, the signature block with "Nơi nhận", page numbers centred in the top
margin but not on the first page, and the score table as a landscape Phụ lục (its own
section, numbered from 1 again).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.parts.document import DocumentPart
from docx.section import Section
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from webapp.dossier.builders.text import (
    body_name,
    citation,
    header_lines,
    lower_first,
    nd30_date,
    number_line,
    place_date_line,
    points,
    signature_lines,
)
from webapp.dossier.builders.types import (
    DEFAULT_RECIPIENTS,
    REPORT_SECTIONS,
    SCORE_TABLE_HEADERS,
    Dossier,
    Row,
    Totals,
    UnitInfo,
)

FONT_NAME = "Times New Roman"
BODY_PT = 14
PAGE_W, PAGE_H = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH_MM = 210 - 30 - 15
HEADER_LEFT_MM, HEADER_RIGHT_MM = 65, TEXT_WIDTH_MM - 65
ANNEX_WIDTHS_MM = (14, 66, 16, 17, 56, 45, 17, 21)  # sums to 297 - 30 - 15 = 252


def build_report(dossier: Dossier) -> bytes:
    """Return the .docx bytes of the self-scoring report with its annex."""
    doc = Document()
    _set_default_font(doc)
    section = doc.sections[0]
    _portrait(section)
    _page_number_header(section)

    _header_table(doc, dossier)
    _title(doc, dossier)
    _body(doc, dossier)
    _signature(doc, dossier)
    _annex(doc, dossier)
    if dossier.plan_rows:
        _plan_annex(doc, dossier)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# -- page setup ------------------------------------------------------------------------


def _set_default_font(doc: DocumentObject) -> None:
    """Times New Roman everywhere: the Normal style and the document defaults.

    The default template names theme fonts (Calibri/Cambria) in docDefaults; those
    theme attributes win over plain names, so they are removed.
    """
    normal = doc.styles["Normal"]
    normal.font.name = FONT_NAME
    normal.font.size = Pt(BODY_PT)
    for rpr in (normal.element.get_or_add_rPr(), _doc_defaults_rpr(doc)):
        if rpr is None:
            continue
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT_NAME)


def _doc_defaults_rpr(doc: DocumentObject) -> BaseOxmlElement | None:
    styles = doc.styles.element
    found: BaseOxmlElement | None = styles.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}"
    )
    return found


def _portrait(section: Section) -> None:
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_W, PAGE_H
    _margins(section)


def _margins(section: Section) -> None:
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _page_number_header(section: Section, restart: bool = False) -> None:
    """PAGE field centred in the header, hidden on the section's first page (NĐ 30)."""
    section.different_first_page_header_footer = True
    header = section.header
    header.is_linked_to_previous = False
    p = header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p, "PAGE", size=BODY_PT)
    first = section.first_page_header
    first.is_linked_to_previous = False
    first.paragraphs[0].text = ""
    if restart:
        sect_pr = section._sectPr
        num = OxmlElement("w:pgNumType")
        num.set(qn("w:start"), "1")
        sect_pr.insert_element_before(
            num,
            "w:cols",
            "w:formProt",
            "w:vAlign",
            "w:noEndnote",
            "w:titlePg",
            "w:textDirection",
            "w:bidi",
            "w:rtlGutter",
            "w:docGrid",
            "w:printerSettings",
            "w:sectPrChange",
        )


def _field(p: Paragraph, instr: str, size: int) -> None:
    def run_with(child: BaseOxmlElement) -> None:
        run = p.add_run()
        run.font.size = Pt(size)
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instr} "
    run_with(text)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    shown = p.add_run("1")
    shown.font.size = Pt(size)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


# -- paragraphs ------------------------------------------------------------------------


def _para(
    container: DocumentObject | _Cell,
    text: str = "",
    *,
    size: int = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent_first: bool = False,
    space_after: int = 0,
    space_before: int = 0,
    line_spacing: float = 1.0,
) -> Paragraph:
    p = container.add_paragraph()
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_after = Pt(space_after)
    fmt.space_before = Pt(space_before)
    fmt.line_spacing = line_spacing
    if indent_first:
        fmt.first_line_indent = Mm(12.7)
    return p


def _cell_para(cell: _Cell, text: str = "", **kwargs: object) -> Paragraph:
    """First paragraph of a new cell is reused, later ones added."""
    if (
        len(cell.paragraphs) == 1
        and not cell.paragraphs[0].text
        and not cell.paragraphs[0].runs
    ):
        existing = cell.paragraphs[0]
        existing._p.getparent().remove(existing._p)
    return _para(cell, text, **kwargs)  # type: ignore[arg-type]


def _body_para(doc: DocumentObject, text: str, *, bold: bool = False) -> Paragraph:
    """Body text: 14 pt, justified, first line in 1.27 cm, 6 pt after, 1.15 lines."""
    return _para(
        doc,
        text,
        bold=bold,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        indent_first=True,
        space_after=6,
        line_spacing=1.15,
    )


def _rule(
    container: DocumentObject | _Cell, width_mm: float, container_mm: float
) -> Paragraph:
    """A centred rule: the top border of an empty, indented paragraph."""
    p = container.add_paragraph()
    side = max((container_mm - width_mm) / 2, 0)
    fmt = p.paragraph_format
    fmt.left_indent = Mm(side)
    fmt.right_indent = Mm(side)
    # A little air above, so the rule sits under the text line instead of through it.
    fmt.space_before = Pt(3)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(6)
    p_pr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "6"),
        ("w:space", "1"),
        ("w:color", "000000"),
    ):
        top.set(qn(key), value)
    border.append(top)
    p_pr.insert_element_before(
        border,
        "w:shd",
        "w:tabs",
        "w:suppressAutoHyphens",
        "w:kinsoku",
        "w:wordWrap",
        "w:overflowPunct",
        "w:topLinePunct",
        "w:autoSpaceDE",
        "w:autoSpaceDN",
        "w:bidi",
        "w:adjustRightInd",
        "w:snapToGrid",
        "w:spacing",
        "w:ind",
        "w:contextualSpacing",
        "w:mirrorIndents",
        "w:suppressOverlap",
        "w:jc",
        "w:textDirection",
        "w:textAlignment",
        "w:textboxTightWrap",
        "w:outlineLvl",
        "w:divId",
        "w:cnfStyle",
        "w:rPr",
        "w:sectPr",
        "w:pPrChange",
    )
    return p


def _text_width_mm(text: str, size_pt: int, bold: bool = False) -> float:
    """A rough printed width: enough to size the rules under header lines."""
    em = sum(0.72 if c.isupper() else 0.28 if c in " .,-:;" else 0.5 for c in text)
    return em * size_pt * (1.06 if bold else 1.0) * 25.4 / 72


# -- header, title, body ---------------------------------------------------------------


def _no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    # Word rejects children of tblPr out of schema order (LibreOffice does not mind).
    tbl_pr.insert_element_before(
        borders,
        "w:shd",
        "w:tblLayout",
        "w:tblCellMar",
        "w:tblLook",
        "w:tblCaption",
        "w:tblDescription",
        "w:tblPrChange",
    )


def _fixed_widths(table: Table, widths_mm: Iterable[float]) -> None:
    """Fixed layout: the grid and the first row carry the widths (later rows follow)."""
    table.autofit = False
    widths = list(widths_mm)
    for cell, width in zip(table.rows[0].cells, widths, strict=True):
        cell.width = Mm(width)
    for col, width in zip(table.columns, widths, strict=True):
        col.width = Mm(width)


def _header_table(doc: DocumentObject, dossier: Dossier) -> None:
    unit = dossier.unit
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _fixed_widths(table, (HEADER_LEFT_MM, HEADER_RIGHT_MM))
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER

    upper, name = header_lines(unit)
    if unit.kind == "xa_phuong":
        _cell_para(left, upper, size=13, bold=True, align=center)
    elif upper:
        _cell_para(left, upper, size=13, align=center)  # chủ quản: capitals, not bold
    _cell_para(left, name, size=13, bold=True, align=center)
    name_width = max(_text_width_mm(name, 13, True), _text_width_mm(upper, 13, True))
    _rule(left, min(name_width, HEADER_LEFT_MM) * 0.4, HEADER_LEFT_MM)
    _cell_para(left, number_line(unit), size=13, align=center, space_before=4)

    motto = "Độc lập - Tự do - Hạnh phúc"
    _cell_para(
        right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, align=center
    )
    _cell_para(right, motto, size=13, bold=True, align=center)
    _rule(right, _text_width_mm(motto, 13, True), HEADER_RIGHT_MM)
    _cell_para(
        right,
        place_date_line(unit, dossier.report_date),
        size=14,
        italic=True,
        align=center,
        space_before=4,
    )


def _title(doc: DocumentObject, dossier: Dossier) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "BÁO CÁO", size=14, bold=True, align=center, space_before=18)
    extract = trich_yeu(dossier)
    _para(doc, extract, size=14, bold=True, align=center)
    _rule(
        doc, min(_text_width_mm(extract, 14, True), TEXT_WIDTH_MM) * 0.4, TEXT_WIDTH_MM
    )
    _para(doc, f"Kính gửi: {dossier.recipient}.", align=center, space_before=6)
    _para(doc, "", space_after=6)


def trich_yeu(dossier: Dossier) -> str:
    """The report's trích yếu (subject line under "BÁO CÁO")."""
    return (
        f"Kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm {dossier.year}"
    )


def _heading(doc: DocumentObject, text: str) -> None:
    _para(
        doc,
        text,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        indent_first=True,
        space_before=6,
        space_after=6,
        line_spacing=1.15,
    )


def _body(doc: DocumentObject, dossier: Dossier) -> None:
    issuer = body_name(dossier.unit)
    for n, basis in enumerate(dossier.bases):
        end = ";" if n < len(dossier.bases) - 1 else ","
        _body_para(doc, f"Căn cứ {lower_first(basis.rstrip(' ;,.'))}{end}")
    opening = (
        f"{issuer} báo cáo kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính "
        f"năm {dossier.year} như sau:"
    )
    if not dossier.bases:
        opening = f"Thực hiện {lower_first(dossier.period_name)}, {opening}"
    _body_para(doc, opening)
    _results(doc, dossier)
    _explanations(doc, dossier)
    for number, title, keys in BODY_SECTIONS:
        _heading(doc, f"{number}. {title}")
        for n, key in enumerate(keys, start=1):
            if len(keys) > 1:
                _body_para(doc, f"{n}. {SECTION_TITLES[key]}", bold=True)
            lines = [ln.strip() for ln in dossier.sections.get(key, "").splitlines()]
            for line in [ln for ln in lines if ln] or ["Không có."]:
                _body_para(doc, line)
    _body_para(
        doc,
        "Trên đây là báo cáo kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành "
        "chính năm "
        f"{dossier.year} của {issuer}./.",
    )


SECTION_TITLES = dict(REPORT_SECTIONS)
# The unit's sections as the report's parts III–VI (roman number, heading, keys).
BODY_SECTIONS = (
    ("III", "TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", ("ton_tai", "nguyen_nhan")),
    ("IV", "KHÓ KHĂN, VƯỚNG MẮC", ("kho_khan",)),
    ("V", "GIẢI PHÁP, NHIỆM VỤ TRỌNG TÂM NĂM TIẾP THEO", ("giai_phap",)),
    ("VI", "KIẾN NGHỊ, ĐỀ XUẤT", ("kien_nghi",)),
)


def band_text(totals: Totals) -> str:
    """ "xếp loại Tốt", or "dự kiến xếp loại Tốt" while survey points are pending."""
    if not totals.band:
        return ""
    return f"{'dự kiến ' if totals.pending else ''}xếp loại {totals.band}"


def pending_max(dossier: Dossier, codes: Iterable[str]) -> Decimal:
    wanted = set(codes)
    return sum((r.max_points for r in dossier.leaves() if r.code in wanted), Decimal(0))


def _results(doc: DocumentObject, dossier: Dossier) -> None:
    _heading(doc, "I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM")
    totals = dossier.self_totals
    index = f"{points(totals.index)}%" if totals.index is not None else "chưa xác định"
    text = (
        f"1. Tổng số điểm tự đánh giá, chấm điểm: {points(totals.points)}/"
        f"{points(totals.max_points)} điểm tối đa được tính; "
        "Chỉ số cải cách hành chính "
        f"tự đánh giá đạt {index}"
    )
    band = band_text(totals)
    text += f", {band}." if band else "."
    _body_para(doc, text)
    if totals.pending:
        _body_para(
            doc,
            f"Kết quả trên chưa bao gồm {len(totals.pending)} tiêu chí đánh giá qua "
            f"điều tra xã hội học (tổng {points(pending_max(dossier, totals.pending))} "
            "điểm, chưa có kết quả), do cơ quan có thẩm quyền thực hiện; "
            "đơn vị không tự chấm các tiêu chí này.",
        )
    if dossier.appraised_totals is not None:
        final = dossier.appraised_totals
        fband = band_text(final)
        _body_para(
            doc,
            f"Kết quả thẩm định: {points(final.points)}/"
            f"{points(final.max_points)} điểm, "
            f"Chỉ số đạt {points(final.index)}%" + (f", {fband}." if fband else "."),
        )
    _body_para(doc, "Chi tiết tại Phụ lục kèm theo.")
    _body_para(doc, "2. Kết quả theo từng lĩnh vực:")
    appraised = dossier.appraised_totals is not None
    headers = [
        "STT",
        "Lĩnh vực",
        "Điểm tối đa được tính",
        "Điểm tự đánh giá",
        "Chỉ số thành phần (%)",
    ]
    widths = [14, 81, 22, 24, 24]
    if appraised:
        headers.append("Điểm thẩm định")
        widths = [14, 67, 20, 22, 22, 20]
    table = _headed_table(doc, headers, size=13)
    for area in dossier.areas():
        values = [
            area.code,
            area.title,
            points(area.counted_max),
            points(area.self_points),
            points(area.index),
        ]
        if appraised:
            values.append(points(area.appraised_points))
        _table_row(table, values, size=13)
    total_values = [
        "",
        "Tổng cộng",
        points(totals.max_points),
        points(totals.points),
        points(totals.index),
    ]
    if appraised and dossier.appraised_totals is not None:
        total_values.append(points(dossier.appraised_totals.points))
    _table_row(table, total_values, size=13, bold=True)
    _fixed_widths(table, widths)
    if totals.pending:
        _para(
            doc,
            f"Ghi chú: chưa tính {points(pending_max(dossier, totals.pending))} điểm "
            "các tiêu chí điều tra xã hội học (chờ kết quả).",
            size=12,
            italic=True,
        )
    _para(doc, "", space_after=6)
    for n, area in enumerate(dossier.areas(), start=1):
        _body_para(doc, f"2.{n}. {area.title}", bold=True)
        _body_para(doc, dossier.narratives.get(area.code, ""))


def _explanations(doc: DocumentObject, dossier: Dossier) -> None:
    _heading(
        doc,
        "II. GIẢI TRÌNH ĐỐI VỚI CÁC TIÊU CHÍ, TIÊU CHÍ THÀNH PHẦN KHÔNG CÓ HOẶC "
        "CHƯA ĐẦY ĐỦ "
        "TÀI LIỆU KIỂM CHỨNG",
    )
    rows = [r for r in dossier.leaves() if r.needs_explanation]
    if not rows:
        _body_para(
            doc, "Các tiêu chí thành phần đều có tài liệu kiểm chứng đầy đủ thông tin."
        )
        return
    for row in rows:
        if not row.evidence:
            problem = "không có tài liệu kiểm chứng."
        else:
            incomplete = "; ".join(
                citation(ev) for ev in row.evidence if not ev.is_cited
            )
            problem = (
                "tài liệu kiểm chứng chưa đủ thông tin (số/ký hiệu, ngày ban hành, "
                "cơ quan "
                f"ban hành): {incomplete}."
            )
        note = row.note.strip() or (
            "đã được chấp nhận khi gửi hồ sơ."
            if dossier.from_snapshot
            else "đơn vị chưa giải trình."
        )
        p = _body_para(
            doc,
            f"- Tiêu chí {row.code}. {row.title} (tự chấm {points(row.self_points)}/"
            f"{points(row.max_points)} điểm): ",
            bold=True,
        )
        for text in (problem, " Giải trình: ", note):
            run = p.add_run(text)
            run.font.size = Pt(BODY_PT)
            run.italic = text == " Giải trình: "


def _signature(doc: DocumentObject, dossier: Dossier) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _fixed_widths(table, (80, TEXT_WIDTH_MM - 80))
    left, right = table.rows[0].cells
    _cell_para(left, "Nơi nhận:", size=12, bold=True, italic=True, space_before=6)
    for line in recipients(dossier):
        _cell_para(left, line, size=11)
    center = WD_ALIGN_PARAGRAPH.CENTER
    for n, line in enumerate(signature_lines(dossier.unit)):  # quyền hạn, chức vụ
        _cell_para(
            right,
            line,
            size=14,
            bold=True,
            align=center,
            space_before=6 if n == 0 else 0,
        )
    for _ in range(4):  # room for the signature and seal
        _cell_para(right, "", size=14)
    _cell_para(right, dossier.unit.leader_name, size=14, bold=True, align=center)


def recipients(dossier: Dossier) -> list[str]:
    """The "Nơi nhận" list: the unit's own, or the usual defaults for its kind."""
    return list(dossier.unit.recipients or DEFAULT_RECIPIENTS[dossier.unit.kind])


# -- annex -----------------------------------------------------------------------------


def _annex(doc: DocumentObject, dossier: Dossier) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE_H, PAGE_W
    _margins(section)
    _page_number_header(section, restart=True)  # each annex is numbered on its own

    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "Phụ lục", size=14, bold=True, align=center)
    _para(
        doc,
        f"BẢNG TỔNG HỢP KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM "
        f"{dossier.year}",
        size=14,
        bold=True,
        align=center,
    )
    number = number_line(dossier.unit).removeprefix("Số:").strip()
    if number.startswith("/"):
        number = f"{' ' * 6}{number}"
    _para(
        doc,
        f"(Kèm theo Báo cáo số {number} {nd30_date(dossier.report_date)} của "
        f"{body_name(dossier.unit)})",
        size=14,
        italic=True,
        align=center,
        space_after=12,
    )

    table = _headed_table(doc, SCORE_TABLE_HEADERS, size=11)
    appraised = dossier.appraised_totals is not None
    for row in dossier.rows:
        _table_row(
            table,
            annex_values(row, appraised),
            size=11,
            bold=not row.is_leaf,
            numeric_cols=(2, 3, 6),
            shade="E7E6E6" if row.kind == "area" else None,
        )
    for label, value, col in totals_lines(dossier):
        values = [""] * len(SCORE_TABLE_HEADERS)
        values[1], values[col] = label, value
        _table_row(table, values, size=11, bold=True, numeric_cols=(2, 3, 6))
    _fixed_widths(table, ANNEX_WIDTHS_MM)


PLAN_TABLE_HEADERS = (
    "STT",
    "Nội dung thực hiện",
    "Sản phẩm",
    "Cơ quan chủ trì",
    "Thời hạn",
    "Kết quả thực hiện",
    "Tài liệu kiểm chứng",
)
PLAN_WIDTHS_MM = (14, 76, 40, 34, 26, 24, 38)  # 252 like the score annex


def _plan_annex(doc: DocumentObject, dossier: Dossier) -> None:
    """Phụ lục 2: the results of the unit's PAR plan tasks (issue 13)."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE_H, PAGE_W
    _margins(section)
    _page_number_header(section, restart=True)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "Phụ lục 2", size=14, bold=True, align=center)
    _para(
        doc,
        f"KẾT QUẢ THỰC HIỆN NHIỆM VỤ KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM {dossier.year}",
        size=14,
        bold=True,
        align=center,
        space_after=12,
    )
    table = _headed_table(doc, PLAN_TABLE_HEADERS, size=11)
    for values in dossier.plan_rows:
        heading = len(values) == 1  # "Phụ lục số 0N: …": a shaded row of its own
        cells = ["", values[0], "", "", "", "", ""] if heading else list(values)
        _table_row(
            table,
            cells,
            size=11,
            bold=heading,
            numeric_cols=(),
            shade="E7E6E6" if heading else None,
        )
    _fixed_widths(table, PLAN_WIDTHS_MM)


def annex_values(row: Row, appraised: bool) -> list[str]:
    """The eight annex cells of one row, as text."""
    evidence = "\n".join(f"- {citation(e)}" for e in row.evidence)
    if row.is_leaf and not row.evidence and row.missing_evidence:
        evidence = "Chưa có"
    note = row.note.strip()
    if row.status == "not_applicable" and not note:
        note = "Không phát sinh"
    if row.survey_in:
        note = "Điều tra XHH: đã có kết quả"
    elif row.status == "pending":
        note = "Điều tra XHH: chờ kết quả"
    elif row.assessed_by == "system" and not row.evidence and not note:
        note = "Số liệu từ hệ thống"
    show_appraised = row.is_leaf or appraised
    return [
        row.code,
        row.title,
        points(row.max_points),
        ""
        if row.self_points is None and row.status == "pending"
        else points(row.self_points),
        evidence if row.is_leaf else "",
        note if row.is_leaf else "",
        points(row.appraised_points)
        if show_appraised and row.appraised_points is not None
        else "",
        row.appraiser_comment if row.is_leaf else "",
    ]


def totals_lines(dossier: Dossier) -> list[tuple[str, str, int]]:
    """(label, value, column) lines at the bottom of the annex table."""
    t = dossier.self_totals
    lines = [
        ("Tổng điểm tự đánh giá", points(t.points), 3),
        ("Tổng điểm tối đa được tính", points(t.max_points), 3),
        ("Chỉ số CCHC tự đánh giá (%)", points(t.index), 3),
        (
            "Xếp loại dự kiến (tự đánh giá)" if t.pending else "Xếp loại (tự đánh giá)",
            t.band or "",
            3,
        ),
    ]
    a = dossier.appraised_totals
    if a is not None:
        lines += [
            ("Tổng điểm thẩm định", points(a.points), 6),
            ("Chỉ số CCHC sau thẩm định (%)", points(a.index), 6),
            ("Xếp loại (sau thẩm định)", a.band or "", 6),
        ]
    return lines


def _headed_table(doc: DocumentObject, headers: Sequence[str], *, size: int) -> Table:
    """A centred grid table whose bold header row repeats on every page."""
    table: Table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _cell_para(cell, text, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _repeat_header(table)
    return table


def _repeat_header(table: Table) -> None:
    """Mark the first row as a header row, repeated at the top of every page."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _cell_style(
    doc: DocumentObject, size: int, align: WD_ALIGN_PARAGRAPH, bold: bool
) -> str:
    """The style id of a table-cell paragraph style, created on first use.

    Cells take their size, weight and alignment from a paragraph style rather than
    per-run formatting: the annex has ~900 cells, and python-docx is ten times
    slower setting formats on each one.
    """
    name = f"PI Cell {size} {align.name.title()}{' Bold' if bold else ''}"
    try:
        return str(doc.styles[name].style_id)
    except KeyError:
        pass
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.size = Pt(size)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    return str(style.style_id)


def _table_row(
    table: Table,
    values: list[str],
    *,
    size: int,
    bold: bool = False,
    numeric_cols: tuple[int, ...] = (2, 3, 4, 5),
    shade: str | None = None,
) -> None:
    """Append a row built as raw XML: one styled paragraph per line of each value.

    The row never breaks across pages; ``shade`` fills its cells (area rows).
    """
    part = table.part
    assert isinstance(part, DocumentPart)  # score tables sit in the document body
    cache: dict[tuple[int, int, bool], str] = part.__dict__.setdefault(
        "_pi_cell_styles", {}
    )
    tr = OxmlElement("w:tr")
    tr_pr = OxmlElement("w:trPr")
    tr_pr.append(OxmlElement("w:cantSplit"))
    tr.append(tr_pr)
    for col, value in enumerate(values):
        key = (size, col, bold)
        if key not in cache:
            align = (
                WD_ALIGN_PARAGRAPH.RIGHT
                if col in numeric_cols
                else WD_ALIGN_PARAGRAPH.CENTER
                if col == 0
                else WD_ALIGN_PARAGRAPH.LEFT
            )
            cache[key] = _cell_style(part.document, size, align, bold)
        tc = OxmlElement("w:tc")
        if shade:
            tc_pr = OxmlElement("w:tcPr")
            shd = OxmlElement("w:shd")
            for attr, val in (
                ("w:val", "clear"),
                ("w:color", "auto"),
                ("w:fill", shade),
            ):
                shd.set(qn(attr), val)
            tc_pr.append(shd)
            tc.append(tc_pr)
        for line in value.split("\n") if value else [""]:
            p = OxmlElement("w:p")
            p_pr = OxmlElement("w:pPr")
            p_style = OxmlElement("w:pStyle")
            p_style.set(qn("w:val"), cache[key])
            p_pr.append(p_style)
            p.append(p_pr)
            if line:
                r = OxmlElement("w:r")
                t = OxmlElement("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = line
                r.append(t)
                p.append(r)
            tc.append(p)
        tr.append(tc)
    table._tbl.append(tr)


# -- the Sở's appraisal result (Thông báo kết quả thẩm định) ---------------------------

APPRAISAL_HEADERS = (
    "STT",
    "Lĩnh vực / Tiêu chí / Tiêu chí thành phần",
    "Điểm tối đa",
    "Điểm tự đánh giá",
    "Điểm thẩm định",
    "Ý kiến thẩm định",
)
APPRAISAL_WIDTHS_MM = (16, 96, 20, 22, 22, 76)  # 252 mm of landscape text width


def build_appraisal_report(
    dossier: Dossier, issuer: UnitInfo, rank: int | None, ranked: int
) -> bytes:
    """The Sở's appraisal result for one unit: self vs appraised per leaf, comments,
    final index, band and rank, in the same NĐ 30 layout with the Sở as issuer."""
    final = dossier.appraised_totals
    if final is None:
        raise ValueError("the assessment is not appraised")
    doc = Document()
    _set_default_font(doc)
    section = doc.sections[0]
    _portrait(section)
    _page_number_header(section)
    about = replace(dossier, unit=issuer)
    _header_table(doc, about)
    center = WD_ALIGN_PARAGRAPH.CENTER
    unit_name = body_name(dossier.unit)
    _para(doc, "THÔNG BÁO", size=14, bold=True, align=center, space_before=18)
    extract = (
        "Kết quả thẩm định Chỉ số cải cách hành chính năm "
        f"{dossier.year} của {unit_name}"
    )
    _para(doc, extract, size=14, bold=True, align=center)
    _rule(doc, 40, TEXT_WIDTH_MM)
    _para(doc, f"Kính gửi: {unit_name}.", align=center, space_before=6)
    _para(doc, "", space_after=6)
    for n, basis in enumerate(dossier.bases):
        end = ";" if n < len(dossier.bases) - 1 else ","
        _body_para(doc, f"Căn cứ {lower_first(basis.rstrip(' ;,.'))}{end}")
    _body_para(
        doc,
        f"{issuer.name} thông báo kết quả thẩm định Chỉ số cải cách hành chính năm "
        f"{dossier.year} của {unit_name} như sau:",
    )
    own = dossier.self_totals
    _body_para(
        doc,
        f"1. Điểm tự đánh giá: {points(own.points)}/{points(own.max_points)} điểm.",
    )
    band = band_text(final)
    place = f", xếp thứ {rank}/{ranked} đơn vị" if rank is not None else ""
    _body_para(
        doc,
        f"2. Điểm sau thẩm định: {points(final.points)}/{points(final.max_points)} "
        f"điểm; Chỉ số cải cách hành chính đạt {points(final.index)}%"
        + (f", {band}" if band else "")
        + f"{place}.",
    )
    changed = [
        r
        for r in dossier.leaves()
        if r.appraised_points is not None and r.appraised_points != r.self_points
    ]
    _body_para(
        doc,
        f"3. Có {len(changed)} tiêu chí thành phần được điều chỉnh điểm khi thẩm định. "
        "Chi tiết tại Phụ lục kèm theo.",
    )
    _body_para(
        doc,
        f"Đề nghị {unit_name} rà soát các nội dung còn hạn chế và có giải pháp khắc "
        "phục trong năm tiếp theo./.",
    )
    _signature(
        doc,
        replace(
            about,
            unit=replace(
                issuer,
                recipients=(
                    f"- {unit_name} (để thực hiện);",
                    "- Lãnh đạo Sở;",
                    "- Lưu: VT, CCHC.",
                ),
            ),
        ),
    )
    _appraisal_annex(doc, dossier, issuer)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _appraisal_annex(doc: DocumentObject, dossier: Dossier, issuer: UnitInfo) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE_H, PAGE_W
    _margins(section)
    _page_number_header(section, restart=True)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, "Phụ lục", size=14, bold=True, align=center)
    _para(
        doc,
        f"KẾT QUẢ THẨM ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {dossier.year} CỦA "
        f"{body_name(dossier.unit).upper()}",
        size=14,
        bold=True,
        align=center,
    )
    number = number_line(issuer).removeprefix("Số:").strip()
    if number.startswith("/"):
        number = f"{' ' * 6}{number}"
    _para(
        doc,
        f"(Kèm theo Thông báo số {number} {nd30_date(dossier.report_date)} của "
        f"{issuer.name})",
        size=14,
        italic=True,
        align=center,
        space_after=12,
    )
    table = _headed_table(doc, APPRAISAL_HEADERS, size=11)
    for row in dossier.rows:
        _table_row(
            table,
            [
                row.code,
                row.title,
                points(row.max_points),
                "" if row.status == "pending" else points(row.self_points),
                points(row.appraised_points),
                row.appraiser_comment if row.is_leaf else "",
            ],
            size=11,
            bold=not row.is_leaf,
            numeric_cols=(2, 3, 4),
            shade="E7E6E6" if row.kind == "area" else None,
        )
    final = dossier.appraised_totals
    assert final is not None
    for label, value in (
        ("Tổng điểm sau thẩm định", points(final.points)),
        ("Tổng điểm tối đa được tính", points(final.max_points)),
        ("Chỉ số CCHC sau thẩm định (%)", points(final.index)),
        ("Xếp loại", final.band or ""),
    ):
        _table_row(
            table, ["", label, "", "", value, ""], size=11, bold=True, numeric_cols=(4,)
        )
    _fixed_widths(table, APPRAISAL_WIDTHS_MM)
