"""The survey import template: the columns the import reads, the period's units
prefilled; filled in and imported back, its values are saved."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from webapp.appraisal.survey import survey_leaves
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import CriterionScore

pytestmark = pytest.mark.db


def _survey_cells(demo: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (unit.code, leaf.code)
        for unit in demo["period"].units
        for leaf in survey_leaves(criteria_for(demo["assessments"][unit.code]))
    }


def _values(demo: dict[str, Any]) -> dict[tuple[str, str], Decimal | None]:
    db.session.expire_all()
    out = {}
    for code, assessment in demo["assessments"].items():
        for row in db.session.query(CriterionScore).filter_by(
            assessment_id=assessment.id
        ):
            if row.survey_value is not None:
                out[(code, row.criterion_code)] = row.survey_value
    return out


def test_the_xlsx_template_round_trips_through_the_import(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("admin")
    period = demo["period"]
    page = client.get(f"/appraisal/periods/{period.id}/survey").get_data(as_text=True)
    url = f"/appraisal/periods/{period.id}/survey/template.xlsx"
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Mã đơn vị", "Mã tiêu chí", "Kết quả (%)")
    cells = {(r[0], r[1]) for r in rows[1:]}
    assert cells == _survey_cells(demo)
    assert all(r[2] is None for r in rows[1:])  # nothing entered yet
    # The second sheet names the units for whoever fills the file in.
    names = {r[1] for r in workbook.worksheets[1].iter_rows(values_only=True)}
    assert {u.name for u in period.units} <= names

    # Filled in as a coordinator would: a number per row, one as "85,5" text.
    expected = {}
    for i, row in enumerate(sheet.iter_rows(min_row=2), start=1):
        value = 40 + i % 60
        row[2].value = "85,5" if i == 1 else value
        expected[(row[0].value, row[1].value)] = (
            Decimal("85.5") if i == 1 else Decimal(value)
        )
    filled = io.BytesIO()
    workbook.save(filled)
    imported = client.post(
        f"/appraisal/periods/{period.id}/survey/import",
        data={"file": (io.BytesIO(filled.getvalue()), "ket-qua.xlsx")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, imported.get_data(as_text=True)
    assert _values(demo) == expected

    # Downloaded again, the template carries the values entered.
    again = load_workbook(io.BytesIO(client.get(url).data)).worksheets[0]
    saved = {(r[0], r[1]): r[2] for r in again.iter_rows(min_row=2, values_only=True)}
    assert saved == {k: float(v) for k, v in expected.items()}


def test_the_csv_template_round_trips_through_the_import(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("admin")
    period = demo["period"]
    response = client.get(f"/appraisal/periods/{period.id}/survey/template.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Mã đơn vị", "Mã tiêu chí", "Kết quả (%)"]
    assert {(r[0], r[1]) for r in rows[1:]} == _survey_cells(demo)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(rows[0])
    for r in rows[1:]:
        writer.writerow([r[0], r[1], "72,25"])
    imported = client.post(
        f"/appraisal/periods/{period.id}/survey/import",
        data={"file": (io.BytesIO(out.getvalue().encode("utf-8")), "ket-qua.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    values = _values(demo)
    assert set(values) == _survey_cells(demo)
    assert set(values.values()) == {Decimal("72.25")}


def test_only_the_coordinator_downloads_the_template(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    period = demo["period"]
    for username in ("thamdinh", "truclam.chuyenvien"):
        login_as(username)
        url = f"/appraisal/periods/{period.id}/survey/template.xlsx"
        assert client.get(url).status_code == 403
