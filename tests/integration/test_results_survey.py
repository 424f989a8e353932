"""Survey results (điều tra XHH): typed in or imported (CSV/XLSX), all rows or none."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook

from webapp.extensions import db
from webapp.models import Assessment, AuditEvent, CriterionScore, Unit


def survey_values() -> dict[tuple[str, str], Decimal]:
    rows = db.session.execute(
        sa.select(
            CriterionScore.assessment_id,
            CriterionScore.criterion_code,
            CriterionScore.survey_value,
        ).where(CriterionScore.survey_value.is_not(None))
    )
    codes = {a.id: a.unit.code for a in db.session.scalars(sa.select(Assessment))}
    return {(codes[aid], code): value for aid, code, value in rows}


def upload(client: Any, period_id: int, name: str, data: bytes) -> Any:
    return client.post(
        f"/appraisal/periods/{period_id}/survey/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_import_with_bad_rows_imports_nothing_and_lists_every_bad_row(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    csv_text = (
        "Mã đơn vị;Mã tiêu chí;Kết quả (%)\n"
        "TRUCLAM;1.8;85,5\n"  # 2: good
        "KHONGCO;1.8;80\n"  # 3: unknown unit
        "NGHISON;9.9;80\n"  # 4: unknown leaf
        "NGHISON;2.4;120\n"  # 5: over 100 %
        "TRUCLAM;1.1.1;90\n"  # 6: a self-assessed leaf, not a survey one
        "TRUCLAM;1.8;70\n"  # 7: duplicate of row 2
        "TINHGIA;3.4;tám mươi\n"  # 8: not a number
    )
    login_as("admin")
    response = upload(
        client, demo["period"].id, "ket-qua.csv", csv_text.encode("utf-8")
    )
    assert response.status_code == 422
    page = response.text
    assert "Không nhập dòng nào" in page
    assert "Dòng 3: Không có đơn vị mã “KHONGCO”." in page
    assert "Dòng 4: Không có tiêu chí mã “9.9” trong bộ tiêu chí." in page
    assert "Dòng 5: Kết quả 120,00% phải từ 0 đến 100%." in page
    assert "Dòng 6: Tiêu chí 1.1.1 không đánh giá qua điều tra xã hội học." in page
    assert "Dòng 7: Trùng đơn vị và tiêu chí với dòng 2." in page
    assert "Dòng 8: Kết quả “tám mươi” không phải là số viết đúng cách" in page
    assert "Dòng 2:" not in page
    assert survey_values() == {}
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "survey.import")
    ).all()


def test_a_bad_first_row_is_reported_not_taken_for_a_header(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    login_as("admin")
    response = upload(client, demo["period"].id, "kq.csv", b"TRUCLAM;1.8;abc\n")
    assert response.status_code == 422
    assert "Dòng 1: Kết quả “abc” không phải là số viết đúng cách" in response.text


def test_a_unit_outside_the_period_is_refused(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    db.session.add(Unit(code="HAITHANH", name="Phường Hải Thanh", kind="xa_phuong"))
    db.session.commit()
    login_as("admin")
    response = upload(client, demo["period"].id, "kq.csv", b"HAITHANH,1.8,80\n")
    assert response.status_code == 422
    assert "Dòng 1: Đơn vị HAITHANH không tham gia kỳ đánh giá này." in response.text


def test_a_good_csv_imports_every_row(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    # Excel in a Vietnamese locale: semicolons, decimal commas, a BOM and a header row.
    text = (
        "\ufeffđơn vị;tiêu chí;kết quả\n"
        "TRUCLAM;1.8;85,5\nNGHISON;1.8;90\nTRUCLAM;3.4;72,25%\n"
    )
    login_as("admin")
    response = upload(client, demo["period"].id, "ket-qua.csv", text.encode("utf-8"))
    assert response.status_code == 302
    assert survey_values() == {
        ("TRUCLAM", "1.8"): Decimal("85.50"),
        ("NGHISON", "1.8"): Decimal("90.00"),
        ("TRUCLAM", "3.4"): Decimal("72.25"),
    }
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "survey.import")
    ).all()
    assert len(events) == 2  # one per unit
    truclam = next(e for e in events if e.after and "3.4" in e.after)
    assert truclam.after == {"1.8": "85.50", "3.4": "72.25"} and truclam.before == {
        "1.8": None,
        "3.4": None,
    }
    # A plain comma-separated file, the decimal comma quoted as CSV requires.
    again = upload(client, demo["period"].id, "kq.csv", b'NGHISON,2.4,"66,5"\n')
    assert again.status_code == 302
    assert survey_values()[("NGHISON", "2.4")] == Decimal("66.50")


def test_a_good_xlsx_imports_every_row(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã đơn vị", "Mã tiêu chí", "Kết quả (%)"])
    sheet.append(["TRUCLAM", "1.8", 85.5])
    sheet.append(["NGHISON", "8.2", "77,5"])
    sheet.append(["TINHGIA", "5.6", 0.9])
    sheet["C4"].number_format = "0.0%"  # shown as 90,0 %: the cell holds 0.9
    buffer = io.BytesIO()
    book.save(buffer)
    login_as("admin")
    response = upload(client, demo["period"].id, "ket-qua.xlsx", buffer.getvalue())
    assert response.status_code == 302, response.text
    assert survey_values() == {
        ("TRUCLAM", "1.8"): Decimal("85.50"),
        ("NGHISON", "8.2"): Decimal("77.50"),
        ("TINHGIA", "5.6"): Decimal("90.00"),
    }


def test_a_broken_xlsx_is_reported_not_a_crash(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    login_as("admin")
    response = upload(
        client, demo["period"].id, "hong.xlsx", b"PK\x03\x04 not really a zip"
    )
    assert response.status_code == 422
    assert "Không đọc được tệp Excel" in response.text


def test_the_typed_grid_saves_all_cells_or_none(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    truclam, nghison = demo["assessments"]["TRUCLAM"], demo["assessments"]["NGHISON"]
    url = f"/appraisal/periods/{demo['period'].id}/survey"
    login_as("admin")
    bad = client.post(
        url, data={f"v-{truclam.id}-1.8": "80", f"v-{nghison.id}-1.8": "120"}
    )
    assert bad.status_code == 422
    assert "Kết quả 120,00% phải từ 0 đến 100%." in bad.text
    assert 'value="120"' in bad.text  # what was typed stays in the cell
    assert survey_values() == {}

    good = client.post(
        url, data={f"v-{truclam.id}-1.8": "80", f"v-{nghison.id}-1.8": "72,5"}
    )
    assert good.status_code == 302
    assert survey_values() == {
        ("TRUCLAM", "1.8"): Decimal("80.00"),
        ("NGHISON", "1.8"): Decimal("72.50"),
    }
    assert "72,50" in client.get(url).text
    # Clearing a cell removes the value.
    assert client.post(url, data={f"v-{truclam.id}-1.8": ""}).status_code == 302
    assert survey_values() == {("NGHISON", "1.8"): Decimal("72.50")}
    assert {e.action for e in db.session.scalars(sa.select(AuditEvent))} >= {
        "survey.save"
    }


def test_only_the_coordinator_enters_survey_results(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    for user in ("thamdinh", "truclam.lanhdao"):
        login_as(user)
        assert (
            client.get(f"/appraisal/periods/{demo['period'].id}/survey").status_code
            == 403
        )


def test_after_publication_every_survey_cell_is_read_only(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    period = demo["period"]
    period.status = "published"
    db.session.commit()
    login_as("admin")

    page = client.get(f"/appraisal/periods/{period.id}/survey").text

    cells = [tag for tag in page.split("<input") if 'name="v-' in tag.split(">")[0]]
    assert cells, "no survey cell on the page"
    assert all("readonly" in tag.split(">")[0] for tag in cells)
