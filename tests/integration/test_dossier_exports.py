"""Score table (XLSX) and NĐ 30 report (DOCX) downloads, checked by opening them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Pt
from openpyxl import load_workbook

from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.workflow import self_score

XLSX_HEADERS = [
    "STT",
    "Lĩnh vực / Tiêu chí / Tiêu chí thành phần",
    "Điểm tối đa",
    "Điểm tự đánh giá",
    "Tài liệu kiểm chứng (số/ký hiệu, ngày, cơ quan ban hành, trích yếu)",
    "Giải trình / Ghi chú",
    "Điểm thẩm định",
    "Ý kiến thẩm định",
]


def _sheet(response: Any) -> Any:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    # The values stored beside the total formulas: what a reader shows unrecalculated.
    return load_workbook(io.BytesIO(response.data), data_only=True).active


def _rows_by_code(ws: Any) -> tuple[int, dict[str, tuple[Any, ...]]]:
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "STT")
    rows = {}
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0]:
            rows[str(row[0])] = row
    return header_row, rows


def _label_value(ws: Any, label_start: str, col: int) -> Any:
    for r in range(1, ws.max_row + 1):
        text = ws.cell(r, 2).value
        if isinstance(text, str) and text.startswith(label_start):
            return ws.cell(r, col).value
    raise AssertionError(f"no row starting with {label_start!r}")


def _docx(response: Any) -> Any:
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    return Document(io.BytesIO(response.data))


def _all_text(doc: Any) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


# -- XLSX ------------------------------------------------------------------------


def test_score_table_lists_every_leaf_with_the_engines_totals(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.chuyenvien")
    ws = _sheet(client.get(f"/dossier/assessments/{assessment.id}/scores.xlsx"))

    header_row, rows = _rows_by_code(ws)
    assert [ws.cell(header_row, c).value for c in range(1, 9)] == XLSX_HEADERS
    cs = criteria_for(assessment)
    assert {leaf.code for leaf in cs.leaves()} <= set(rows)
    assert set(rows) == set(cs.nodes())

    own = self_score(assessment)
    for leaf in cs.leaves():
        expected = own.leaves[leaf.code].points
        got = rows[leaf.code][3]
        assert (
            None if got is None else Decimal(str(got)).quantize(Decimal("0.01"))
        ) == expected
        assert Decimal(str(rows[leaf.code][2])) == leaf.max_points
    # Areas carry the sums of their leaves.
    assert Decimal(str(rows["1"][3])) == own.nodes["1"].points
    assert Decimal(str(_label_value(ws, "Tổng điểm tự đánh giá", 4))) == own.points
    assert (
        Decimal(str(_label_value(ws, "Tổng điểm tối đa được tính", 4)))
        == own.max_points
    )
    assert Decimal(str(_label_value(ws, "Chỉ số cải cách hành chính", 4))) == own.index
    assert _label_value(ws, "Xếp loại", 4) == own.band

    # Evidence citations and the unit's explanation land in their columns.
    assert "125/KH-UBND ngày 15/01/2026 của UBND phường Trúc Lâm" in rows["1.1.1"][4]
    assert "Kế hoạch ban hành trong tháng 01." in rows["1.1.1"][5]
    assert rows["1.2"][4].startswith("Chưa có tài liệu kiểm chứng")
    assert "Không phát sinh" in rows["1.3.2"][5]


def test_score_table_is_formatted_for_print(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    ws = _sheet(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/scores.xlsx"
        )
    )
    header_row, _ = _rows_by_code(ws)

    assert "Phường Trúc Lâm" in ws.cell(2, 1).value
    assert "Đánh giá Chỉ số CCHC năm 2026" in ws.cell(2, 1).value
    assert "Thời điểm xuất" in ws.cell(3, 1).value
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    area = next(
        r for r in range(header_row + 1, ws.max_row) if ws.cell(r, 1).value == "1"
    )
    leaf = next(
        r for r in range(header_row + 1, ws.max_row) if ws.cell(r, 1).value == "1.1.1"
    )
    assert ws.cell(area, 2).font.b and not ws.cell(leaf, 2).font.b
    assert ws.cell(leaf, 2).alignment.indent > ws.cell(area, 2).alignment.indent
    assert isinstance(ws.cell(leaf, 4).value, int | float)
    assert ws.cell(leaf, 4).number_format == "0.00"
    fonts = {
        ws.cell(r, c).font.name
        for r in range(1, ws.max_row + 1)
        for c in range(1, 9)
        if ws.cell(r, c).value is not None
    }
    assert fonts == {"Times New Roman"}


def test_appraised_scores_fill_the_last_two_columns(
    dossier_case: dict[str, Any],
    submit_directly: Any,
    appraise_directly: Any,
    login_as: Any,
) -> None:
    assessment = dossier_case["assessment"]
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    appraise_directly(assessment, {"1.1.3": "0.50"})
    ws = _sheet(
        login_as("thamdinh").get(f"/dossier/assessments/{assessment.id}/scores.xlsx")
    )
    _, rows = _rows_by_code(ws)

    assert Decimal(str(rows["1.1.3"][6])) == Decimal("0.50")
    assert rows["1.1.3"][7] == "Điều chỉnh"
    assert Decimal(str(rows["1.1.1"][6])) == Decimal("0.50")
    from webapp.workflow import final_score

    final = final_score(assessment)
    assert Decimal(str(_label_value(ws, "Kết quả thẩm định", 7))) == final.points


def test_each_export_is_audited(dossier_case: dict[str, Any], login_as: Any) -> None:
    assessment = dossier_case["assessment"]
    client = login_as("truclam.lanhdao")
    client.get(f"/dossier/assessments/{assessment.id}/scores.xlsx")
    client.get(f"/dossier/assessments/{assessment.id}/report.docx")
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.export")
    ).all()
    assert [e.after["format"] for e in events] == ["xlsx", "docx"]
    assert {e.actor_name for e in events} == {"Lê Văn Minh"}
    assert {e.unit_id for e in events} == {assessment.unit_id}


# -- DOCX ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (
            datetime(2026, 1, 4, 20, 0, tzinfo=UTC),
            "ngày 05 tháng 01 năm 2026",
        ),  # 03:00 VN
        (datetime(2026, 12, 15, 2, 0, tzinfo=UTC), "ngày 15 tháng 12 năm 2026"),
        (datetime(2026, 3, 9, 2, 0, tzinfo=UTC), "ngày 09 tháng 3 năm 2026"),
    ],
)
def test_report_date_follows_decree_30(
    dossier_case: dict[str, Any],
    login_as: Any,
    clock: Any,
    moment: datetime,
    words: str,
) -> None:
    clock.value = moment
    assessment = dossier_case["assessment"]
    doc = _docx(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/report.docx"
        )
    )
    header = doc.tables[0]
    right = header.rows[0].cells[1]
    date_para = next(p for p in right.paragraphs if "ngày" in p.text)
    assert date_para.text == f"Trúc Lâm, {words}"
    assert all(run.italic for run in date_para.runs)


def test_report_header_title_and_signature(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    unit = assessment.unit
    unit.report_number = "31"
    db.session.commit()
    doc = _docx(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/report.docx"
        )
    )

    left, right = doc.tables[0].rows[0].cells
    left_lines = [p.text for p in left.paragraphs if p.text]
    assert left_lines == ["ỦY BAN NHÂN DÂN", "PHƯỜNG TRÚC LÂM", "Số: 31/BC-UBND"]
    assert all(r.bold for p in left.paragraphs[:2] for r in p.runs)
    right_lines = [p.text for p in right.paragraphs if p.text]
    assert right_lines[:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    # A borderless header table (NĐ 30 layout, not a grid).
    assert "Table Grid" not in (doc.tables[0].style.name if doc.tables[0].style else "")

    texts = [p.text for p in doc.paragraphs]
    title = texts.index("BÁO CÁO")
    assert texts[title + 1] == (
        "Kết quả tự đánh giá, chấm điểm Chỉ số cải cách hành chính năm 2026"
    )
    assert doc.paragraphs[title].runs[0].bold
    for heading in (
        "I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM",
        "III. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
        "VI. KIẾN NGHỊ, ĐỀ XUẤT",
    ):
        assert heading in texts
    assert any(t.startswith("II. GIẢI TRÌNH") for t in texts)

    signature = doc.tables[-2]  # the annex table is last
    sign_left, sign_right = signature.rows[0].cells
    signer = [p.text for p in sign_right.paragraphs if p.text]
    assert signer == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Văn Minh"]
    received = sign_left.paragraphs
    assert received[0].text == "Nơi nhận:"
    assert received[0].runs[0].bold and received[0].runs[0].italic
    assert received[0].runs[0].font.size == Pt(12)
    assert received[-1].text == "- Lưu: VT, VHXH."
    assert all(r.font.size == Pt(11) for p in received[1:] for r in p.runs)


def test_report_page_setup_fonts_and_landscape_annex(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    doc = _docx(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/report.docx"
        )
    )

    body, annex = doc.sections
    assert (round(body.page_width.mm), round(body.page_height.mm)) == (210, 297)
    assert body.orientation == WD_ORIENT.PORTRAIT
    # Word stores twips, so 15 mm comes back as 14.99 mm: compare whole millimetres.
    assert (
        20 <= round(body.top_margin.mm) <= 25
        and 20 <= round(body.bottom_margin.mm) <= 25
    )
    assert (
        30 <= round(body.left_margin.mm) <= 35
        and 15 <= round(body.right_margin.mm) <= 20
    )
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and Pt(13) <= normal.size <= Pt(14)
    # Page number: a PAGE field centred in the header, none on the first page.
    assert body.different_first_page_header_footer
    assert "PAGE" in body.header._element.xml
    assert "PAGE" not in body.first_page_header._element.xml

    assert annex.orientation == WD_ORIENT.LANDSCAPE
    assert (round(annex.page_width.mm), round(annex.page_height.mm)) == (297, 210)
    assert annex.different_first_page_header_footer
    assert 'w:start="1"' in annex._sectPr.xml  # the annex is numbered on its own
    annex_texts = [p.text for p in doc.paragraphs]
    assert "Phụ lục" in annex_texts
    table = doc.tables[-1]
    assert [c.text for c in table.rows[0].cells] == [
        "STT",
        "Lĩnh vực / Tiêu chí / Tiêu chí thành phần",
        "Điểm tối đa",
        "Điểm tự đánh giá",
        "Tài liệu kiểm chứng (số/ký hiệu, ngày, cơ quan ban hành, trích yếu)",
        "Giải trình / Ghi chú",
        "Điểm thẩm định",
        "Ý kiến thẩm định",
    ]
    assert "w:tblHeader" in table.rows[0]._tr.xml
    codes = {row.cells[0].text for row in table.rows[1:]}
    assert {leaf.code for leaf in criteria_for(assessment).leaves()} <= codes
    own = self_score(assessment)
    total_row = next(
        r for r in table.rows if r.cells[1].text == "Tổng điểm tự đánh giá"
    )
    assert total_row.cells[3].text == f"{own.points:.2f}".replace(".", ",")


def test_report_explains_leaves_without_or_with_incomplete_evidence(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    doc = _docx(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/report.docx"
        )
    )
    text = "\n".join(p.text for p in doc.paragraphs)
    section = text.split("II. GIẢI TRÌNH")[1].split("III. KHÓ KHĂN")[0]

    assert "Tiêu chí 1.2." in section
    assert "Chậm 01 báo cáo quý I do sự cố đường truyền." in section
    assert "Tiêu chí 1.1.3." in section and "Báo cáo kết quả.pdf" in section
    assert "Tiêu chí 1.1.1." not in section  # fully cited evidence needs no explanation
    assert "Tiêu chí 1.3.2." not in section  # không phát sinh


def test_report_of_a_department_uses_its_parent_body_and_title(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    unit = assessment.unit
    unit.kind, unit.name, unit.code = "so_ban_nganh", "Sở Nội vụ", "SNV"
    unit.parent_body, unit.leader_title, unit.place_name = (
        "UBND tỉnh Thanh Hóa",
        "GIÁM ĐỐC",
        "Thanh Hóa",
    )
    db.session.commit()
    doc = _docx(
        login_as("truclam.chuyenvien").get(
            f"/dossier/assessments/{assessment.id}/report.docx"
        )
    )

    left = doc.tables[0].rows[0].cells[0]
    lines = [p for p in left.paragraphs if p.text]
    assert [p.text for p in lines[:2]] == ["UBND TỈNH THANH HÓA", "SỞ NỘI VỤ"]
    assert not lines[0].runs[0].bold and lines[1].runs[0].bold
    assert lines[2].text.startswith("Số:") and lines[2].text.endswith("/BC-SNV")
    signer = [p.text for p in doc.tables[-2].rows[0].cells[1].paragraphs if p.text]
    assert signer[0] == "GIÁM ĐỐC"
    assert "Sở Nội vụ" in _all_text(doc)


def _points(value: Any) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


@pytest.mark.parametrize("with_survey", [True, False])
def test_area_table_agrees_with_the_engine_with_an_excluded_leaf(
    dossier_case: dict[str, Any], login_as: Any, with_survey: bool
) -> None:
    """1.3.2 did not arise (the set excludes it from the maximum); the survey leaves
    are pending, or not part of the period: the Word table and the Excel totals
    follow the engine."""
    assessment = dossier_case["assessment"]
    assessment.period.include_survey = with_survey
    db.session.commit()
    own = self_score(assessment)
    assert own.leaves["1.3.2"].status == "not_applicable"
    assert own.leaves["1.3.2"].counted_max == 0
    assert bool(own.pending) == with_survey
    client = login_as("truclam.chuyenvien")
    doc = _docx(client.get(f"/dossier/assessments/{assessment.id}/report.docx"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT")
    cs = criteria_for(assessment)
    body = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:-1]}
    assert list(body) == [area.code for area in cs.areas]
    for area in cs.areas:
        node = own.nodes[area.code]
        assert body[area.code][2:5] == [
            _points(node.max_points),
            _points(node.points),
            _points(node.index),
        ], area.code
    total = [c.text for c in table.rows[-1].cells]
    assert total[2:5] == [
        _points(own.max_points),
        _points(own.points),
        _points(own.index),
    ]
    # Area 1 counts 9 − 0,5 (1.3.2 did not arise) − 1 (survey leaf 1.8, pending or
    # not part of the period); the whole set 68 − 0,5 of what the unit scores.
    assert body["1"][2] == "7,50" and total[2] == "67,50"
    text = _all_text(doc)
    assert ("dự kiến" in text) == with_survey
    ws = _sheet(client.get(f"/dossier/assessments/{assessment.id}/scores.xlsx"))
    assert (
        Decimal(str(_label_value(ws, "Tổng điểm tối đa được tính", 4)))
        == own.max_points
    )
    assert Decimal(str(_label_value(ws, "Chỉ số cải cách hành chính", 4))) == own.index
