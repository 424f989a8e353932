"""Numbers as Vietnamese users write them, in every numeric field of every form and
import (issue 17): "1.215" is one thousand two hundred fifteen, "92,5" is ninety-two
and a half, and a form that could be misread is refused with how to write it."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.models import CriterionScore

pytestmark = pytest.mark.db


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any, login_as: Any) -> Any:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")
    return demo["assessments"]["TRUCLAM"]


def answer_of(assessment: Any, code: str) -> Any:
    db.session.expire_all()
    row = db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )
    return row.answer if row else None


def leaf_html(page: str, code: str) -> str:
    start = page.index(f'id="leaf-{code}"')
    end = page.find('<section class="leaf', start + 1)
    return page[start : end if end != -1 else len(page)]


UNIT_FIELDS = [
    # (leaf, fields posted, answer stored)
    (
        "1.1.3",
        {"numerator": "1.215", "denominator": "1.820"},
        {"numerator": "1215", "denominator": "1820"},
    ),
    ("1.1.3", {"value": "92,5"}, {"value": "92.5"}),
    ("1.2", {"count_0": "1.215"}, {"counts": [1215]}),
]


@pytest.mark.parametrize(("code", "fields", "stored"), UNIT_FIELDS)
def test_a_unit_answer_reads_dots_as_thousands_and_echoes_it_back(
    truclam: Any,
    client: Any,
    save_leaf: Any,
    code: str,
    fields: dict[str, str],
    stored: dict[str, Any],
) -> None:
    response = save_leaf(truclam.id, code, **fields)
    assert response.status_code == 303
    assert answer_of(truclam, code) == stored
    html = leaf_html(
        client.get(f"/assessments/{truclam.id}").get_data(as_text=True), code
    )
    for typed in fields.values():
        assert f'value="{typed}"' in html  # the input shows it as typed
        assert f"Đã lưu: {typed}" in html  # and the saved value next to it


@pytest.mark.parametrize(
    ("code", "field", "typed", "message"),
    [
        ("1.2", "count_0", "1.5", "dấu chấm chỉ dùng để tách hàng nghìn (ví dụ 1.500)"),
        ("1.2", "count_0", "1e2", "không viết số dạng lũy thừa"),
        ("1.1.3", "value", "92.5", "phần thập phân viết sau dấu phẩy: 92,5"),
        ("1.1.3", "numerator", "1e2", "không viết số dạng lũy thừa"),
        ("1.1.3", "denominator", "1,820,5", "dấu phẩy trước phần thập phân"),
    ],
)
def test_an_ambiguous_figure_is_refused_with_how_to_write_it(
    truclam: Any,
    client: Any,
    save_leaf: Any,
    form_errors: Any,
    code: str,
    field: str,
    typed: str,
    message: str,
) -> None:
    other = {"numerator": "1", "denominator": "2"} if field != "value" else {}
    other.pop(field, None)
    response = save_leaf(truclam.id, code, **{field: typed, **other})
    # Refused and kept across a redirect (PRG): the leaf shows it again, with why.
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    errors = form_errors(page)[f"{code}-{field}"]
    assert any(message in e for e in errors), errors
    assert answer_of(truclam, code) is None


def survey_value(assessment: Any, code: str) -> Any:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore.survey_value).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def xlsx_with(cell: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["TRUCLAM", "1.8", cell])  # a text cell, typed as here
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def post_survey(client: Any, demo: dict[str, Any], typed: str, *, how: str) -> Any:
    period_id = demo["period"].id
    if how == "grid":
        a = demo["assessments"]["TRUCLAM"]
        return client.post(
            f"/appraisal/periods/{period_id}/survey", data={f"v-{a.id}-1.8": typed}
        )
    name, body = (
        ("ket-qua.csv", f"TRUCLAM;1.8;{typed}\n".encode())
        if how == "csv"
        else ("ket-qua.xlsx", xlsx_with(typed))
    )
    return client.post(
        f"/appraisal/periods/{period_id}/survey/import",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("how", ["grid", "csv", "xlsx"])
def test_the_survey_grid_and_imports_read_figures_the_same_way(
    demo: dict[str, Any], login_as: Any, how: str
) -> None:
    client = login_as("admin")
    truclam = demo["assessments"]["TRUCLAM"]
    # 1.215 is one thousand two hundred fifteen: out of range, not 1,215 %.
    refused = post_survey(client, demo, "1.215", how=how)
    assert refused.status_code == 422
    assert "Kết quả 1.215,00% phải từ 0 đến 100%." in refused.text
    ambiguous = post_survey(client, demo, "85.5", how=how)
    assert ambiguous.status_code == 422
    assert "phần thập phân viết sau dấu phẩy: 85,5" in ambiguous.text
    assert survey_value(truclam, "1.8") is None
    assert post_survey(client, demo, "85,5", how=how).status_code == 302
    assert survey_value(truclam, "1.8") == Decimal("85.50")


@pytest.fixture
def submitted(
    demo: dict[str, Any], fill_assessment: Any, submit_directly: Any, login_as: Any
) -> Any:
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    login_as("thamdinh")
    return assessment


def appraise(client: Any, assessment: Any, code: str, **data: str) -> Any:
    row = db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )
    return client.post(
        f"/appraisal/assessments/{assessment.id}/leaves/{code}",
        data={"version": str(row.version if row else 0), "comment": "x", **data},
    )


def appraised_answer(assessment: Any, code: str) -> Any:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore.appraised_answer).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


@pytest.mark.parametrize(
    ("code", "fields", "stored"),
    [
        (
            "1.1.3",
            {"numerator": "1.215", "denominator": "1.350"},
            {"numerator": "1215", "denominator": "1350"},
        ),
        ("1.1.3", {"value": "92,5"}, {"value": "92.5"}),
        ("1.2", {"counts-0": "1.215"}, {"counts": [1215]}),
    ],
)
def test_the_appraisers_correction_reads_figures_like_the_units_form(
    client: Any,
    submitted: Any,
    code: str,
    fields: dict[str, str],
    stored: dict[str, Any],
) -> None:
    response = appraise(client, submitted, code, correct="y", points="", **fields)
    assert response.status_code == 302, response.text
    assert appraised_answer(submitted, code) == stored
    # The correction is prefilled again the way it was typed.
    page = client.get(f"/appraisal/assessments/{submitted.id}").text
    for typed in fields.values():
        assert f'value="{typed}"' in page


@pytest.mark.parametrize(
    ("code", "fields", "message"),
    [
        ("1.1.3", {"value": "1e2"}, "không viết số dạng lũy thừa"),
        ("1.1.3", {"numerator": "1.5", "denominator": "2"}, "viết sau dấu phẩy: 1,5"),
        (
            "1.2",
            {"counts-0": "1.5"},
            "dấu chấm chỉ dùng để tách hàng nghìn (ví dụ 1.500)",
        ),
    ],
)
def test_the_appraisers_correction_refuses_ambiguous_figures_with_a_message(
    client: Any, submitted: Any, code: str, fields: dict[str, str], message: str
) -> None:
    response = appraise(client, submitted, code, correct="y", points="", **fields)
    assert response.status_code == 422
    assert message in response.text
    assert appraised_answer(submitted, code) is None


def test_the_appraisers_score_reads_1_215_as_a_thousand_and_more(
    client: Any, submitted: Any
) -> None:
    # 3.3 takes any score from 0 to 4: "1.215" is 1215, far above, never 1,215.
    response = appraise(client, submitted, "3.3", points="1.215")
    assert response.status_code == 422
    assert "Điểm thẩm định 1.215,00 phải từ 0 đến 4,00" in response.text
    response = appraise(client, submitted, "3.3", points="1.5")
    assert response.status_code == 422
    assert "phần thập phân viết sau dấu phẩy: 1,5" in response.text
