"""The coordinator assigns appraisers to units (optionally to some areas) per period."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AppraiserAssignment, AuditEvent


@pytest.fixture
def tinhgia(demo: dict[str, Any], fill_assessment: Any, submit_directly: Any) -> Any:
    """Tĩnh Gia, submitted; thamdinh is not assigned to it in the demo."""
    assessment = demo["assessments"]["TINHGIA"]
    fill_assessment(assessment)
    submit_directly(assessment)
    return assessment


def test_assigning_an_appraiser_opens_the_unit_to_them_and_removing_closes_it(
    client: Any, login_as: Any, demo: dict[str, Any], tinhgia: Any
) -> None:
    period, appraiser = demo["period"], demo["users"]["thamdinh"]
    login_as("thamdinh")
    assert client.get(f"/appraisal/assessments/{tinhgia.id}").status_code == 404

    login_as("admin")
    url = f"/appraisal/periods/{period.id}/assignments"
    response = client.post(
        url,
        data={
            "unit_id": str(tinhgia.unit_id),
            "user_id": str(appraiser.id),
            "area_codes": ["1", "3"],
        },
    )
    assert response.status_code == 302
    page = client.get(url).text
    assert "Phường Tĩnh Gia" in page and "1, 3" in page
    assignment = db.session.scalar(
        sa.select(AppraiserAssignment).where(
            AppraiserAssignment.unit_id == tinhgia.unit_id
        )
    )
    assert assignment is not None and assignment.area_codes == ["1", "3"]

    login_as("thamdinh")
    screen = client.get(f"/appraisal/assessments/{tinhgia.id}")
    assert screen.status_code == 200
    assert (
        "Bạn không được phân công thẩm định lĩnh vực này." in screen.text
    )  # areas 2, 4…
    assert "Phường Tĩnh Gia" in client.get("/appraisal/").text

    login_as("admin")
    assert (
        client.post(f"/appraisal/assignments/{assignment.id}/delete").status_code == 302
    )
    login_as("thamdinh")
    assert client.get(f"/appraisal/assessments/{tinhgia.id}").status_code == 404

    actions = list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("assignment.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["assignment.create", "assignment.delete"]


def test_bad_assignments_are_refused_with_a_message(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    period = demo["period"]
    url = f"/appraisal/periods/{period.id}/assignments"
    truclam, appraiser = demo["units"]["TRUCLAM"], demo["users"]["thamdinh"]
    login_as("admin")
    count = db.session.scalar(sa.select(sa.func.count(AppraiserAssignment.id)))

    duplicate = client.post(
        url, data={"unit_id": str(truclam.id), "user_id": str(appraiser.id)}
    )
    assert duplicate.status_code == 422
    assert "đã được phân công thẩm định Phường Trúc Lâm" in duplicate.text

    editor = demo["users"]["truclam.chuyenvien"]
    wrong_role = client.post(
        url, data={"unit_id": str(truclam.id), "user_id": str(editor.id)}
    )
    assert wrong_role.status_code == 422
    assert "không phải thành viên thẩm định" in wrong_role.text

    bad_area = client.post(
        url,
        data={
            "unit_id": str(truclam.id),
            "user_id": str(appraiser.id),
            "area_codes": ["9"],
        },
    )
    assert bad_area.status_code == 422
    assert "Lĩnh vực không có: 9" in bad_area.text
    assert db.session.scalar(sa.select(sa.func.count(AppraiserAssignment.id))) == count


def test_only_the_coordinator_manages_assignments(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    login_as("thamdinh")
    assert (
        client.get(f"/appraisal/periods/{demo['period'].id}/assignments").status_code
        == 403
    )
    login_as("truclam.lanhdao")
    assert (
        client.get(f"/appraisal/periods/{demo['period'].id}/assignments").status_code
        == 403
    )
