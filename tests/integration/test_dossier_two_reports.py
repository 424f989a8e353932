"""Two reports, two authors: the unit's report stays as submitted; after appraisal the
Sở's own result document (self vs appraised per leaf, comments, index, band, rank)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from openpyxl import load_workbook

from webapp.extensions import db
from webapp.workflow import final_score


def _doc(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return Document(io.BytesIO(response.data))


def _all_text(doc: Any) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def test_unit_report_is_its_own_and_the_so_issues_the_appraisal_result(
    dossier_case: dict[str, Any],
    submit_directly: Any,
    appraise_directly: Any,
    login_as: Any,
) -> None:
    assessment = dossier_case["assessment"]
    assessment.report_sections = {"ton_tai": "Còn chậm báo cáo quý I."}
    db.session.commit()
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    appraise_directly(assessment, {"1.1.3": "0.50"})
    # A later edit of the live row does not reach the unit's report.
    assessment.report_sections = {"ton_tai": "Sửa sau khi gửi."}
    db.session.commit()
    client = login_as("thamdinh")
    base = f"/dossier/assessments/{assessment.id}"

    unit_report = _all_text(_doc(client, f"{base}/report.docx"))
    assert "Còn chậm báo cáo quý I." in unit_report
    assert "Sửa sau khi gửi." not in unit_report
    assert "Kết quả thẩm định" not in unit_report and "Điều chỉnh" not in unit_report

    result = _doc(client, f"{base}/appraisal.docx")
    text = _all_text(result)
    header = [p.text for p in result.tables[0].rows[0].cells[0].paragraphs]
    assert "SỞ NỘI VỤ" in header
    final = final_score(assessment)
    assert "THÔNG BÁO" in text and "Kính gửi: Ủy ban nhân dân phường Trúc Lâm." in text
    assert (
        f"Chỉ số cải cách hành chính đạt {str(final.index).replace('.', ',')}%" in text
    )
    assert "xếp thứ 1/" in text
    annex = result.tables[-1]
    by_code = {r.cells[0].text: [c.text for c in r.cells] for r in annex.rows}
    assert by_code["1.1.3"][4] == "0,50" and by_code["1.1.3"][5] == "Điều chỉnh"
    assert by_code["1.1.3"][3] != "0,50"  # the self-score beside it


def test_appraisal_result_waits_for_the_appraisal(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    response = login_as("admin").get(
        f"/dossier/assessments/{assessment.id}/appraisal.docx"
    )
    assert response.status_code == 303


def test_survey_rows_with_results_never_say_the_result_is_pending(
    dossier_case: dict[str, Any],
    submit_directly: Any,
    appraise_directly: Any,
    enter_survey: Any,
    login_as: Any,
) -> None:
    assessment = dossier_case["assessment"]
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    enter_survey(assessment, "80")
    appraise_directly(assessment)
    final = final_score(assessment)
    assert final.leaves["8.2"].points is not None and not final.pending
    client = login_as("thamdinh")
    base = f"/dossier/assessments/{assessment.id}"
    response = client.get(f"{base}/scores.xlsx")
    ws = load_workbook(io.BytesIO(response.data), data_only=True).active
    rows = {str(r[0]): r for r in ws.iter_rows(values_only=True) if r[0]}
    survey = rows["8.2"]
    assert survey[6] == float(final.leaves["8.2"].points)  # the survey points…
    notes = str(survey[5])
    assert "chờ kết quả" not in notes.lower()  # …are not said to be pending
    assert "Chờ kết quả" not in notes
    assert "Kết quả điều tra xã hội học 80,00%" in notes
    # The unit's report stays as submitted: no survey points, so "chờ kết quả" there
    # stands beside empty cells only.
    annex = _doc(client, f"{base}/report.docx").tables[-1]
    by_code = {r.cells[0].text: [c.text for c in r.cells] for r in annex.rows}
    assert by_code["8.2"][5] == "Điều tra XHH: chờ kết quả"
    assert by_code["8.2"][3] == "" and by_code["8.2"][6] == ""
