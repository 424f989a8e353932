"""Dossier builders without an app: a hand-made Dossier in, files read back."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from webapp.dossier.builders.docx import build_report
from webapp.dossier.builders.text import (
    citation,
    leaf_folder,
    nd30_date,
    number_line,
    points,
    safe_filename,
    signature_lines,
)
from webapp.dossier.builders.types import Dossier, EvidenceFile, Row, Totals, UnitInfo
from webapp.dossier.builders.xlsx import build_score_table
from webapp.dossier.builders.zip import IntegrityError, stream_dossier, verify_zip

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
WARD = UnitInfo(
    code="TRUCLAM",
    name="Phường Trúc Lâm",
    kind="xa_phuong",
    place_name="Trúc Lâm",
    leader_name="Lê Văn Minh",
    report_number="31",
)
PLAN = b"%PDF-1.4 ke hoach " * 50
REPORT = b"%PDF-1.4 bao cao"


def _ev(
    id_: int, data: bytes, name: str, codes: tuple[str, ...], **kw: object
) -> EvidenceFile:
    return EvidenceFile(
        id=id_,
        storage_key=f"k{id_}",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        original_filename=name,
        codes=codes,
        kind="pdf",
        uploaded_by="Hoàng Thị Lan",
        uploaded_at=datetime(2026, 1, 16, 2, 0, tzinfo=UTC),
        **kw,
    )  # type: ignore[arg-type]


PLAN_EV = _ev(
    1,
    PLAN,
    "Kế hoạch CCHC.pdf",
    ("1.1", "1.2"),
    doc_type="Kế hoạch",
    doc_number="125/KH-UBND",
    issued_on=date(2026, 1, 15),
    issuer="UBND phường Trúc Lâm",
    summary="Kế hoạch CCHC năm 2026",
)
REPORT_EV = _ev(2, REPORT, "Báo cáo.pdf", ("2.1",))
CONTENT = {1: PLAN, 2: REPORT}


def _dossier(**changes: object) -> Dossier:
    rows = (
        Row(
            "area",
            "1",
            "Chỉ đạo, điều hành",
            1,
            D("2.00"),
            D("1.75"),
            False,
            index=D("87.50"),
            counted_max=D("2.00"),
        ),
        Row(
            "leaf",
            "1.1",
            "Ban hành kế hoạch",
            2,
            D("1.00"),
            D("1.00"),
            True,
            status="scored",
            assessed_by="self",
            expected_evidence=("KH",),
            evidence=(PLAN_EV,),
            note="Ban hành đúng hạn",
        ),
        Row(
            "leaf",
            "1.2",
            "Nội dung kế hoạch",
            2,
            D("1.00"),
            D("0.75"),
            True,
            status="scored",
            assessed_by="self",
            expected_evidence=("KH",),
            evidence=(PLAN_EV,),
        ),
        Row(
            "area",
            "2",
            "Thủ tục hành chính",
            1,
            D("3.00"),
            D("0.00"),
            False,
            index=D("0.00"),
            counted_max=D("2.00"),  # 3 nominal, 1 of them a pending survey leaf
        ),
        Row(
            "leaf",
            "2.1",
            "Công khai TTHC",
            2,
            D("1.00"),
            D("0.00"),
            True,
            status="scored",
            assessed_by="self",
            expected_evidence=("Ảnh chụp",),
            evidence=(REPORT_EV,),
        ),
        Row(
            "leaf",
            "2.2",
            "Niêm yết",
            2,
            D("1.00"),
            D("0.00"),
            True,
            status="unanswered",
            assessed_by="self",
            expected_evidence=("TB",),
            note="Chưa niêm yết kịp",
        ),
        Row(
            "leaf",
            "2.3",
            "Sự hài lòng",
            2,
            D("1.00"),
            None,
            True,
            status="pending",
            assessed_by="survey",
        ),
    )
    base = dict(
        assessment_id=7,
        unit=WARD,
        period_name="Đánh giá Chỉ số CCHC năm 2026",
        year=2026,
        criteria_set_id="mini",
        criteria_set_title="Bộ tiêu chí thử",
        status="draft",
        status_label="Đang tự đánh giá",
        submitted_at=None,
        from_snapshot=False,
        exported_at=datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        report_date=date(2026, 1, 5),
        rows=rows,
        self_totals=Totals(D("1.75"), D("4.00"), D("43.75"), "Yếu", ("2.3",)),
        evidence=(PLAN_EV, REPORT_EV),
    )
    base.update(changes)
    return Dossier(**base)  # type: ignore[arg-type]


def _read(ev: EvidenceFile) -> list[bytes]:
    data = CONTENT[ev.id]
    return [data[:100], data[100:]]


# -- wording ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 1, 5), "ngày 05 tháng 01 năm 2026"),
        (date(2026, 12, 15), "ngày 15 tháng 12 năm 2026"),
        (date(2026, 2, 28), "ngày 28 tháng 02 năm 2026"),
        (date(2026, 3, 1), "ngày 01 tháng 3 năm 2026"),
        (date(2026, 10, 9), "ngày 09 tháng 10 năm 2026"),
    ],
)
def test_decree_30_date_words(day: date, words: str) -> None:
    assert nd30_date(day) == words


def test_number_line_and_signature_follow_the_unit_settings() -> None:
    assert number_line(WARD) == "Số: 31/BC-UBND"
    assert number_line(UnitInfo("TRUCLAM", "Phường Trúc Lâm", "xa_phuong")).startswith(
        "Số:  "
    )
    assert number_line(UnitInfo("X", "X", "xa_phuong", report_number="12/BC-UBND")) == (
        "Số: 12/BC-UBND"
    )
    assert signature_lines(WARD) == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    deputy = UnitInfo(
        "X", "Xã X", "xa_phuong", leader_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    )
    assert signature_lines(deputy) == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


def test_names_are_safe_and_keep_vietnamese() -> None:
    assert (
        safe_filename("Kế hoạch: CCHC?.PDF", "125/KH-UBND")
        == "125-KH-UBND - Kế hoạch- CCHC-.pdf"
    )
    decomposed = "Ke\u0302\u0301 hoa\u0323ch.pdf"  # NFD, as macOS sends it
    assert safe_filename(decomposed) == "Kế hoạch.pdf"
    folder = leaf_folder(
        "1.2",
        "Thực hiện chế độ báo cáo CCHC định kỳ (quý I, 6 tháng, 9 "
        "tháng, năm) đầy đủ, đúng hạn",
    )
    assert folder.startswith("1.2 - Thực hiện chế độ báo cáo") and len(folder) <= 66
    assert citation(PLAN_EV) == (
        "Kế hoạch số 125/KH-UBND ngày 15/01/2026 của UBND phường Trúc Lâm: "
        "Kế hoạch CCHC năm 2026"
    )
    assert citation(REPORT_EV) == "Báo cáo.pdf"


# -- files -----------------------------------------------------------------------------


def test_score_table_has_numbers_groups_and_totals() -> None:
    """Values as a reader that does not recalculate sees them (the cached ones)."""
    data = build_score_table(_dossier())
    ws = load_workbook(io.BytesIO(data), data_only=True).active
    assert ws is not None
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "STT")
    by_code = {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1)}
    assert ws.cell(by_code["1"], 4).value == 1.75 and ws.cell(by_code["1"], 2).font.b
    assert ws.cell(by_code["1.2"], 4).value == 0.75
    assert ws.cell(by_code["2.3"], 4).value is None  # survey: not self-scored
    assert "Chưa có tài liệu kiểm chứng" in ws.cell(by_code["2.2"], 5).value
    assert "Chưa niêm yết kịp" in ws.cell(by_code["2.2"], 6).value
    labels = {
        ws.cell(r, 2).value: ws.cell(r, 4).value for r in range(1, ws.max_row + 1)
    }
    assert labels["Chỉ số cải cách hành chính (%)"] == 43.75
    assert labels["Xếp loại"] == "Yếu"
    assert labels["Tổng điểm tự đánh giá / tự chấm: tổng điểm đạt được"] == 1.75

    # The same cells hold formulas over the leaf cells, so a reviewer can check them.
    formulas = load_workbook(io.BytesIO(data)).active
    assert formulas is not None
    d = f"D{by_code['1.1']},D{by_code['1.2']}"
    assert formulas.cell(by_code["1"], 4).value == f"=SUM({d})"
    assert formulas.cell(by_code["2"], 4).value.startswith("=SUM(")
    total_row = next(
        r
        for r in range(1, formulas.max_row + 1)
        if formulas.cell(r, 2).value
        == "Tổng điểm tự đánh giá / tự chấm: tổng điểm đạt được"
    )
    assert formulas.cell(total_row, 4).value == (
        f"=SUM(D{by_code['1']},D{by_code['2']})"
    )
    assert formulas.cell(total_row + 2, 4).value == (
        f"=ROUND(D{total_row}*100/D{total_row + 1},2)"
    )


def test_report_builds_without_an_app_and_names_the_unit() -> None:
    doc = Document(
        io.BytesIO(build_report(_dossier(sections={"kho_khan": "Thiếu nhân lực."})))
    )
    texts = [p.text for p in doc.paragraphs]
    assert "Thiếu nhân lực." in texts
    right = doc.tables[0].rows[0].cells[1]
    assert "Trúc Lâm, ngày 05 tháng 01 năm 2026" in [p.text for p in right.paragraphs]
    assert any(
        "(Kèm theo Báo cáo số 31/BC-UBND ngày 05 tháng 01 năm 2026" in t for t in texts
    )
    section = "\n".join(texts).split("II. GIẢI TRÌNH")[1].split("III.")[0]
    assert "Tiêu chí 2.1." in section and "Tiêu chí 2.2." in section
    assert "Tiêu chí 1.1." not in section and "Tiêu chí 2.3." not in section


def test_report_reads_as_a_ward_files_it() -> None:
    """Kính gửi, căn cứ, a narrative per area, the five sections, Phụ lục, signer."""
    unit = UnitInfo(
        **{
            **{f: getattr(WARD, f) for f in WARD.__slots__},  # type: ignore[attr-defined]
            "signer_authority": "KT. CHỦ TỊCH",
            "leader_title": "PHÓ CHỦ TỊCH",
            "leader_name": "Trần Thị Hoa",
            "recipients": ("- Như trên;", "- Văn phòng HĐND và UBND;", "- Lưu: VT."),
        }
    )
    sections = {
        "ton_tai": "Một số thủ tục còn giải quyết trễ hạn.",
        "nguyen_nhan": "Cán bộ một cửa còn kiêm nhiệm.",
        "kho_khan": "Hạ tầng số chưa đồng bộ.",
        "giai_phap": "Tăng cường kiểm tra công vụ.",
        "kien_nghi": "Đề nghị Sở Nội vụ tập huấn nghiệp vụ.",
    }
    dossier = _dossier(
        unit=unit,
        recipient="Sở Nội vụ tỉnh Thanh Hóa",
        bases=(
            "Kế hoạch số 15/KH-UBND ngày 10/01/2026 của UBND tỉnh về CCHC năm 2026",
            "Quyết định số 120/QĐ-SNV ngày 20/02/2026 của Sở Nội vụ về Bộ tiêu chí",
        ),
        sections=sections,
        narratives={"1": "Lĩnh vực chỉ đạo điều hành đạt khá.", "2": "Công khai tốt."},
        criteria_set_title="Bộ tiêu chí (DỰ THẢO phục vụ thiết kế phần mềm)",
    )
    doc = Document(io.BytesIO(build_report(dossier)))
    texts = [p.text for p in doc.paragraphs]
    body = "\n".join(texts)
    assert "Kính gửi: Sở Nội vụ tỉnh Thanh Hóa." in texts
    assert any(
        t.startswith("Căn cứ kế hoạch số 15/KH-UBND ngày 10/01/2026") for t in texts
    )
    assert any("Quyết định số 120/QĐ-SNV".lower() in t.lower() for t in texts)
    assert "DỰ THẢO" not in body
    assert "Lĩnh vực chỉ đạo điều hành đạt khá." in texts and "Công khai tốt." in texts
    for text in sections.values():
        assert text in texts
    assert "Chi tiết tại Phụ lục kèm theo." in texts
    assert any(
        "(Kèm theo Báo cáo số 31/BC-UBND ngày 05 tháng 01 năm 2026" in t for t in texts
    )
    signature = doc.tables[-2].rows[0].cells
    assert [p.text for p in signature[0].paragraphs][1:] == list(unit.recipients)
    right = [p.text for p in signature[1].paragraphs if p.text]
    assert right == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Hoa"]


def test_area_table_uses_the_counted_maxima_and_marks_the_band_expected() -> None:
    """With a pending survey leaf the table shows the counted maximum, band dự kiến."""
    dossier = _dossier()
    doc = Document(io.BytesIO(build_report(dossier)))
    table = doc.tables[1]
    total = [c.text for c in table.rows[-1].cells]
    assert total[2] == points(dossier.self_totals.max_points)
    assert total[3] == points(dossier.self_totals.points)
    assert [r.cells[2].text for r in table.rows[1:-1]] == ["2,00", "2,00"]
    assert total[2] == "4,00"
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "dự kiến xếp loại Yếu" in texts
    assert "chưa tính 1,00 điểm" in texts
    settled = _dossier(self_totals=Totals(D("1.75"), D("4.00"), D("43.75"), "Yếu"))
    texts = "\n".join(
        p.text for p in Document(io.BytesIO(build_report(settled))).paragraphs
    )
    assert "dự kiến" not in texts and "xếp loại Yếu" in texts


def test_zip_streams_verifies_and_lists_missing(tmp_path: Path) -> None:
    chunks = stream_dossier(
        _dossier(), read=_read, xlsx=lambda: b"x", docx=lambda: b"d", chunk_size=64
    )
    path = tmp_path / "d.zip"
    path.write_bytes(b"".join(chunks))
    assert verify_zip(path) == []
    zf = zipfile.ZipFile(path)
    manifest = json.loads(zf.read("manifest.json"))
    assert [f["path"] for f in manifest["files"]] == [
        "1.1 - Ban hành kế hoạch/125-KH-UBND - Kế hoạch CCHC.pdf",
        "2.1 - Công khai TTHC/Báo cáo.pdf",
    ]
    assert [m["code"] for m in manifest["missing"]] == ["2.2"]
    assert zf.read(manifest["files"][0]["path"]) == PLAN
    assert (
        "1.2 - Nội dung kế hoạch/Tài liệu dùng chung (xem thư mục khác).txt"
        in zf.namelist()
    )


def test_a_changed_file_stops_the_stream_before_the_manifest() -> None:
    def altered(ev: EvidenceFile) -> list[bytes]:
        return [b"khac"] if ev.id == 2 else _read(ev)

    out = io.BytesIO()
    with pytest.raises(IntegrityError) as caught:
        for chunk in stream_dossier(
            _dossier(), read=altered, xlsx=lambda: b"x", docx=lambda: b"d"
        ):
            out.write(chunk)
    assert caught.value.evidence.id == 2
    assert b"manifest.json" not in out.getvalue()


def test_verify_reports_added_missing_and_changed_entries(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    good.write_bytes(
        b"".join(
            stream_dossier(_dossier(), read=_read, xlsx=lambda: b"x", docx=lambda: b"d")
        )
    )
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            if info.filename.startswith("2.1 - "):
                continue  # dropped
            data = src.read(info)
            dst.writestr(info, b"y" if info.filename.endswith(".xlsx") else data)
        dst.writestr("them.txt", b"extra")
    problems = verify_zip(bad)
    assert len(problems) == 3
    assert any(p.startswith("them.txt") for p in problems)
    assert any(p.startswith("2.1 - Công khai TTHC/Báo cáo.pdf") for p in problems)
    assert any(".xlsx: SHA-256" in p for p in problems)
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    assert verify_zip(tmp_path / "not.zip")[0].startswith("Không đọc được")


def test_builders_import_no_flask() -> None:
    banned = {
        "flask",
        "flask_sqlalchemy",
        "flask_login",
        "flask_wtf",
        "sqlalchemy",
        "werkzeug",
    }
    for path in sorted((ROOT / "webapp" / "dossier" / "builders").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
                if node.module.startswith("webapp"):
                    assert node.module.startswith("webapp.dossier.builders"), path.name
        assert not roots & banned, path.name
