"""A leaf saves itself: the page's script posts the form and reads JSON back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.assessment.answers import save_answer
from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.models import CriterionScore
from webapp.workflow import criteria_for

pytestmark = pytest.mark.db

XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any, login_as: Any) -> Any:
    clock.value = datetime(2026, 12, 1, 9, 5, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")
    return demo["assessments"]["TRUCLAM"]


def _post(client: Any, assessment: Any, code: str, version: int, **fields: str) -> Any:
    data = {f"{code}-{k}": v for k, v in fields.items()}
    data[f"{code}-version"] = str(version)
    return client.post(
        f"/assessments/{assessment.id}/criteria/{code}", data=data, headers=XHR
    )


def _row(assessment: Any, code: str) -> CriterionScore | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def test_an_autosave_answers_the_new_points_time_and_totals(
    truclam: Any, client: Any
) -> None:
    response = _post(client, truclam, "1.1.3", 0, value="92,5", note="37/40")

    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] and body["changed"]
    assert body["saved_at"] == "09:05"
    assert body["points"] == "0,93" and body["max"] == "1,00"
    assert body["explanation"].startswith("Tỷ lệ 92,50% thuộc khoảng")
    assert body["version"] == 1
    assert body["nodes"]["1"]["points"] == "0,93"
    assert body["total"]["points"] == "0,93"
    assert _row(truclam, "1.1.3").answer == {"value": "92.5"}


def test_a_refused_autosave_names_the_field_and_changes_nothing(
    truclam: Any, client: Any
) -> None:
    response = _post(client, truclam, "1.1.3", 0, value="abc")

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "không phải là số" in errors["1.1.3-value"][0]
    assert _row(truclam, "1.1.3") is None


def test_a_stale_autosave_shows_both_values_and_overwrites_nothing(
    truclam: Any, client: Any, demo: dict[str, Any]
) -> None:
    leaf = criteria_for(truclam).node("1.1.3")
    save_answer(
        truclam,
        leaf,
        answer={"value": "80"},
        note="Số liệu của lãnh đạo",
        version=0,
        user=demo["users"]["truclam.lanhdao"],
    )

    response = _post(client, truclam, "1.1.3", 0, value="95", note="Của tôi")

    assert response.status_code == 409
    body = response.get_json()
    assert body["conflict"] and body["version"] == 1
    assert body["current"]["answer"] == "Tỷ lệ 80%"
    assert body["current"]["by"] == "Lê Văn Minh"
    assert body["current"]["fields"]["1.1.3-value"] == "80"
    assert body["current"]["fields"]["1.1.3-note"] == "Số liệu của lãnh đạo"
    row = _row(truclam, "1.1.3")
    assert row.answer == {"value": "80"} and row.note == "Số liệu của lãnh đạo"
    # Keeping one's own value is a deliberate save on the version just shown.
    assert _post(client, truclam, "1.1.3", 1, value="95").status_code == 200
    assert _row(truclam, "1.1.3").answer == {"value": "95"}


def test_a_refused_plain_save_is_kept_across_the_redirect_and_shown_once(
    truclam: Any, client: Any, save_leaf: Any
) -> None:
    response = save_leaf(truclam.id, "1.1.3", value="abc", note="Đang gõ")

    # POST → redirect → GET: reloading the page never asks to resend the form.
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Đang gõ</textarea>" in page and "không phải là số" in page
    again = client.get(response.location).get_data(as_text=True)
    assert "Đang gõ</textarea>" not in again
