"""Admin: periods (create, open, close, add units), extensions, criteria, dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.lifecycle import NotEditable, effective_deadline, ensure_editable
from webapp.models import Assessment, AuditEvent, CriteriaSetRecord, Period

SET_ID = "thanhhoa-ubnd-xa-phuong-2026-draft"


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    return login_as("admin")


def _new_period(admin: Any, units: list[Any], **extra: str) -> Period:
    data: dict[str, Any] = {
        "name": "Đánh giá năm 2027",
        "year": "2027",
        "criteria_set_id": SET_ID,
        "unit_ids": [u.id for u in units],
        "opens_on": "01/11/2027",
        **extra,
    }
    response = admin.post("/admin/periods/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    period = db.session.scalar(sa.select(Period).where(Period.year == 2027))
    assert period is not None
    return period


def _assessment_units(period: Period) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Assessment).where(Assessment.period_id == period.id)
    )
    return sorted(a.unit.code for a in rows)


def test_new_period_defaults_to_15_december_2359_vietnam_time(
    admin: Any, demo: dict[str, Any]
) -> None:
    form = admin.get("/admin/periods/new").get_data(as_text=True)
    assert "15/12" in form
    period = _new_period(admin, [demo["units"]["TRUCLAM"]])
    assert period.status == "draft"
    assert period.self_deadline == datetime(2027, 12, 15, 16, 59, 59, tzinfo=UTC)
    assert period.appraisal_deadline == datetime(2028, 1, 15, 16, 59, 59, tzinfo=UTC)
    assert period.opens_at == datetime(2027, 10, 31, 17, 0, tzinfo=UTC)
    detail = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "15/12/2027 23:59" in detail
    assert _assessment_units(period) == []  # nothing until it is opened


def test_open_creates_one_draft_assessment_per_unit_idempotently(
    admin: Any, demo: dict[str, Any]
) -> None:
    units = demo["units"]
    period = _new_period(
        admin,
        [units["TRUCLAM"], units["NGHISON"]],
        self_deadline="10/12/2027",
        appraisal_deadline="20/01/2028",
    )
    assert period.self_deadline == datetime(2027, 12, 10, 16, 59, 59, tzinfo=UTC)
    assert admin.post(f"/admin/periods/{period.id}/open").status_code == 302
    assert _assessment_units(period) == ["NGHISON", "TRUCLAM"]
    assert db.session.get(Period, period.id).status == "open"  # type: ignore[union-attr]
    assert admin.post(f"/admin/periods/{period.id}/open").status_code == 302
    assert _assessment_units(period) == ["NGHISON", "TRUCLAM"]
    opened = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "period.open")
    )
    assert len(list(opened)) == 1  # the second click changed nothing, so logged nothing


def test_unit_added_to_an_open_period_gets_its_assessment(
    admin: Any, demo: dict[str, Any]
) -> None:
    units = demo["units"]
    period = _new_period(admin, [units["TRUCLAM"]])
    admin.post(f"/admin/periods/{period.id}/open")
    response = admin.post(
        f"/admin/periods/{period.id}/edit",
        data={
            "name": period.name,
            "year": "2027",
            "criteria_set_id": SET_ID,
            "unit_ids": [units["TRUCLAM"].id, units["CACSON"].id],
            "opens_on": "01/11/2027",
            "self_deadline": "15/12/2027",
            "appraisal_deadline": "15/01/2028",
        },
    )
    assert response.status_code == 302
    assert _assessment_units(period) == ["CACSON", "TRUCLAM"]
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "period.update")
    )
    assert event is not None
    assert event.before == {"units": ["TRUCLAM"]}
    assert event.after == {
        "units": ["CACSON", "TRUCLAM"],
        "assessments_created": ["CACSON"],
    }


def test_unit_with_an_assessment_cannot_be_removed(
    admin: Any, demo: dict[str, Any], db_state: Any, form_errors: Any
) -> None:
    period = demo["period"]
    before = db_state()
    response = admin.post(
        f"/admin/periods/{period.id}/edit",
        data={
            "name": period.name,
            "year": "2026",
            "criteria_set_id": SET_ID,
            "unit_ids": [demo["units"]["TRUCLAM"].id],
            "opens_on": "01/11/2026",
        },
    )
    assert response.status_code == 200
    errors = form_errors(response.data)["unit_ids"]
    assert errors and errors[0].startswith(
        "Không thể bỏ đơn vị đã có hồ sơ tự đánh giá"
    )
    assert db_state() == before


def test_closing_a_period_freezes_its_drafts_and_it_can_be_reopened(
    admin: Any, demo: dict[str, Any]
) -> None:
    period = demo["period"]
    assert admin.post(f"/admin/periods/{period.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(Period, period.id).status == "closed"  # type: ignore[union-attr]
    with pytest.raises(NotEditable):
        ensure_editable(demo["assessments"]["TRUCLAM"])
    page = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "Đã đóng" in page
    assert "Mở kỳ đánh giá" in page  # it can be reopened


def test_extension_moves_one_units_deadline(admin: Any, demo: dict[str, Any]) -> None:
    period, unit = demo["period"], demo["units"]["TINHGIA"]
    response = admin.post(
        f"/admin/periods/{period.id}/extensions/new",
        data={
            "unit_id": unit.id,
            "new_deadline": "22/12/2026",
            "reason": "Mất điện diện rộng do bão số 5.",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assessment = demo["assessments"]["TINHGIA"]
    assert effective_deadline(assessment) == datetime(
        2026, 12, 22, 16, 59, 59, tzinfo=UTC
    )
    other = demo["assessments"]["TRUCLAM"]
    assert effective_deadline(other) == datetime(2026, 12, 15, 16, 59, 59, tzinfo=UTC)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "extension.grant")
    )
    assert (
        event is not None and event.unit_id == unit.id and event.period_id == period.id
    )
    assert event.before == {"deadline": "2026-12-15T16:59:59+00:00"}
    assert event.after["reason"] == "Mất điện diện rộng do bão số 5."
    page = admin.get(f"/admin/periods/{period.id}").get_data(as_text=True)
    assert "Mất điện diện rộng do bão số 5." in page
    assert "22/12/2026 23:59" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "Vui lòng nhập lý do gia hạn."),
        ({"reason": "   "}, "reason", "Vui lòng nhập lý do gia hạn."),
        (
            {"new_deadline": "10/12/2026"},
            "new_deadline",
            "Hạn mới phải sau hạn hiện tại",
        ),
        (
            {"new_deadline": "31/02/2026"},
            "new_deadline",
            "Ngày 31/02/2026 không có thật.",
        ),
        (
            {"new_deadline": "20/01/2027"},
            "new_deadline",
            "Hạn mới không được sau hạn thẩm định",
        ),
        ({"reason": "x" * 2001}, "reason", "Lý do tối đa 2000 ký tự."),
    ],
    ids=[
        "empty-reason",
        "blank-reason",
        "earlier",
        "malformed",
        "after-appraisal",
        "too-long",
    ],
)
def test_bad_extension_is_refused_next_to_the_field(
    admin: Any,
    demo: dict[str, Any],
    db_state: Any,
    form_errors: Any,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    period = demo["period"]
    before = db_state()
    form = {
        "unit_id": demo["units"]["TINHGIA"].id,
        "new_deadline": "22/12/2026",
        "reason": "Lý do",
        **data,
    }
    response = admin.post(f"/admin/periods/{period.id}/extensions/new", data=form)
    assert response.status_code == 200
    assert form_errors(response.data)[field][0].startswith(message)
    assert db_state() == before


def test_extension_for_a_unit_outside_the_period_is_refused(
    admin: Any, demo: dict[str, Any], db_state: Any, form_errors: Any
) -> None:
    admin.post(
        "/admin/units/new", data={"code": "MOI", "name": "Xã Mới", "kind": "xa_phuong"}
    )
    before = db_state()
    new_unit_id = max(u.id for u in demo["units"].values()) + 1
    response = admin.post(
        f"/admin/periods/{demo['period'].id}/extensions/new",
        data={
            "unit_id": new_unit_id,
            "new_deadline": "22/12/2026",
            "reason": "Lý do",
        },
    )
    assert "unit_id" in form_errors(response.data)
    assert db_state() == before


def test_criteria_sets_page_imports_a_shipped_file(admin: Any) -> None:
    page = admin.get("/admin/criteria-sets").get_data(as_text=True)
    assert "thanhhoa-ubnd-xa-phuong-2026-draft" in page
    assert "Đã nhập" in page and "Chưa nhập" in page
    response = admin.post(
        "/admin/criteria-sets/import", data={"filename": "test-mini.yaml"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    records = {r.id for r in db.session.scalars(sa.select(CriteriaSetRecord))}
    assert len(records) == 2
    events = list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "criteria.import")
        )
    )
    assert len(events) == 2  # the demo set and this one
    again = admin.post(
        "/admin/criteria-sets/import",
        data={"filename": "test-mini.yaml"},
        follow_redirects=True,
    )
    assert "không thay đổi" in again.get_data(as_text=True)


def test_criteria_import_refuses_names_outside_the_shipped_list(
    admin: Any, db_state: Any
) -> None:
    before = db_state()
    response = admin.post(
        "/admin/criteria-sets/import",
        data={"filename": "../../etc/passwd"},
        follow_redirects=True,
    )
    assert "không có trong danh sách" in response.get_data(as_text=True)
    assert db_state() == before


def test_criteria_set_list_shows_title_and_leaf_count(
    admin: Any, demo: dict[str, Any]
) -> None:
    from webapp.criteria_sets import criteria_for

    cs = criteria_for(SET_ID)
    page = admin.get("/admin/criteria-sets").get_data(as_text=True)
    assert cs.title in page
    assert f'<td class="num">{len(cs.leaves())}</td>' in page


def test_dashboard_shows_each_units_status_and_counts(
    admin: Any, demo: dict[str, Any], submit_directly: Any
) -> None:
    at = datetime(2026, 12, 10, 3, 30, tzinfo=UTC)
    submit_directly(demo["assessments"]["NGHISON"], at=at)
    page = admin.get("/admin/").get_data(as_text=True)
    assert demo["period"].name in page
    for name in ("Phường Trúc Lâm", "Phường Nghi Sơn", "Phường Tĩnh Gia", "Xã Các Sơn"):
        assert name in page
    assert "10/12/2026 10:30" in page  # submission time shown in Vietnam time
    assert "<strong>1/4</strong> đơn vị đã gửi hồ sơ" in page
    assert "Đang tự đánh giá: <strong>3</strong>" in page
    assert "Đã gửi: <strong>1</strong>" in page


def test_the_test_suites_criteria_set_is_not_offered_in_production(
    app: Any, admin: Any
) -> None:
    """test-mini.yaml is a fixture of the tests: a coordinator never sees it."""
    app.config["TESTING"] = False
    page = admin.get("/admin/criteria-sets").text
    assert "thanhhoa-ubnd-xa-phuong-2026-draft.yaml" in page
    assert "test-mini.yaml" not in page
    refused = admin.post(
        "/admin/criteria-sets/import",
        data={"filename": "test-mini.yaml"},
        follow_redirects=True,
    )
    assert "Tệp bộ tiêu chí không có trong danh sách." in refused.text
    assert db.session.get(CriteriaSetRecord, "test-mini") is None
