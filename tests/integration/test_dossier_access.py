"""Who may export which dossier; the coordinator's period ranking export."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from scoring import rank
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.workflow import final_score, self_score

EXPORTS = ("scores.xlsx", "report.docx", "dossier.zip", "settings")


@pytest.mark.parametrize("export", EXPORTS)
def test_a_unit_user_cannot_export_another_units_dossier(
    dossier_case: dict[str, Any], login_as: Any, export: str
) -> None:
    truclam = dossier_case["assessment"]
    client = login_as("nghison.chuyenvien")
    response = client.get(f"/dossier/assessments/{truclam.id}/{export}")
    assert response.status_code == 404
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.export")
    ).all()


def test_own_unit_appraiser_and_admin_may_export(
    dossier_case: dict[str, Any], submit_directly: Any, login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    url = f"/dossier/assessments/{assessment.id}/scores.xlsx"
    assert login_as("truclam.chuyenvien").get(url).status_code == 200
    # An appraiser sees a unit's dossier once it has been submitted, not the draft.
    assert login_as("thamdinh").get(url).status_code == 404
    submit_directly(assessment, dossier_case["users"]["truclam.lanhdao"])
    assert login_as("thamdinh").get(url).status_code == 200
    assert login_as("admin").get(url).status_code == 200


def test_an_appraiser_not_assigned_to_the_unit_gets_404(
    dossier_case: dict[str, Any], submit_directly: Any, login_as: Any
) -> None:
    from webapp.auth.services import hash_password
    from webapp.models import User

    db.session.add(
        User(
            username="thamdinh2",
            full_name="Trần Văn Khác",
            role="appraiser",
            password_hash=hash_password(dossier_case["password"]),
        )
    )
    tinhgia = dossier_case["assessments"]["TINHGIA"]
    submit_directly(tinhgia, dossier_case["users"]["admin"])
    client = login_as("thamdinh2")
    assert (
        client.get(f"/dossier/assessments/{tinhgia.id}/dossier.zip").status_code == 404
    )


def test_only_the_coordinator_exports_a_period_ranking(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    period = dossier_case["period"]
    for username in ("truclam.lanhdao", "thamdinh"):
        assert (
            login_as(username)
            .get(f"/dossier/periods/{period.id}/ranking.xlsx")
            .status_code
            == 403
        )


def test_period_ranking_lists_units_ranked_with_a_sheet_each(
    dossier_case: dict[str, Any],
    submit_directly: Any,
    fill_assessment: Any,
    appraise_directly: Any,
    enter_survey: Any,
    login_as: Any,
) -> None:
    assessments = dossier_case["assessments"]
    admin = dossier_case["users"]["admin"]
    for code in ("TRUCLAM", "NGHISON"):
        submit_directly(assessments[code], admin)
    submit_directly(assessments["TINHGIA"], admin)
    fill_assessment(assessments["NGHISON"])
    appraise_directly(assessments["NGHISON"])
    enter_survey(assessments["NGHISON"], "80")

    response = login_as("admin").get(
        f"/dossier/periods/{dossier_case['period'].id}/ranking.xlsx"
    )
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[0] == "Xếp hạng"
    assert {"TRUCLAM", "NGHISON", "TINHGIA"} <= set(wb.sheetnames)
    assert "CACSON" not in wb.sheetnames  # never submitted: listed, not ranked

    ws = wb["Xếp hạng"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "STT")
    rows = {
        ws.cell(r, 2).value: [ws.cell(r, c).value for c in range(1, 11)]
        for r in range(header + 1, ws.max_row + 1)
        if ws.cell(r, 2).value
    }
    taking = {code: assessments[code] for code in ("TRUCLAM", "NGHISON", "TINHGIA")}
    scores = {
        code: (final_score(a) if a.status == "appraised" else self_score(a))
        for code, a in taking.items()
    }
    expected_rank = rank({code: final_score(a).index for code, a in taking.items()})
    for code, score in scores.items():
        assert rows[code][9] == expected_rank[code]
        assert f"{rows[code][7]:.2f}" == f"{score.index:.2f}"
    assert rows["NGHISON"][4] == "Điểm thẩm định"
    assert rows["CACSON"][9] == "Không xếp hạng"  # as the ranking page says
    assert rows["CACSON"][3] == "Chưa gửi hồ sơ"
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.export")
    )
    assert event is not None and event.after["format"] == "ranking"


def test_dossier_index_lists_what_the_user_may_export(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    page = login_as("truclam.chuyenvien").get("/dossier/").get_data(as_text=True)
    assert "Phường Trúc Lâm" in page and "Phường Nghi Sơn" not in page
    assert "Xếp hạng (Excel)" not in page
    page = login_as("admin").get("/dossier/").get_data(as_text=True)
    assert "Phường Nghi Sơn" in page and "Xếp hạng (Excel)" in page
