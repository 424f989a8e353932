"""Audit: one event per admin action, and the filterable, paginated audit page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent

PASSWORD = "MatKhau@2026x"


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    return login_as("admin")


def _period_form(demo: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "name": "Kỳ thử",
        "year": "2027",
        "criteria_set_id": "thanhhoa-ubnd-xa-phuong-2026-draft",
        "unit_ids": [demo["units"]["TRUCLAM"].id],
        "opens_on": "01/11/2027",
        **changes,
    }


def _new_period_id(admin: Any, demo: dict[str, Any]) -> int:
    admin.post("/admin/periods/new", data=_period_form(demo))
    return int(db.session.scalar(sa.select(sa.func.max(AuditEvent.period_id))) or 0)


# Each admin action: (audit action, is it a creation, the request for client and demo).
ACTIONS: list[tuple[str, bool, Callable[[Any, dict[str, Any]], Any]]] = [
    (
        "unit.create",
        True,
        lambda c, d: c.post(
            "/admin/units/new",
            data={"code": "HAITIEN", "name": "Phường Hải Tiến", "kind": "xa_phuong"},
        ),
    ),
    (
        "unit.update",
        False,
        lambda c, d: c.post(
            f"/admin/units/{d['units']['CACSON'].id}/edit",
            data={
                "code": "CACSON",
                "name": "Xã Các Sơn",
                "kind": "xa_phuong",
                "report_number": "7/BC-UBND",
            },
        ),
    ),
    (
        "unit.deactivate",
        False,
        lambda c, d: c.post(f"/admin/units/{d['units']['CACSON'].id}/deactivate"),
    ),
    (
        "unit.import",
        True,
        lambda c, d: c.post(
            "/admin/units/import",
            data={
                "file": (
                    BytesIO(b"code,name,kind\nHAITIEN,Hai Tien,xa_phuong\n"),
                    "u.csv",
                )
            },
            content_type="multipart/form-data",
        ),
    ),
    (
        "user.create",
        True,
        lambda c, d: c.post(
            "/admin/users/new",
            data={
                "username": "moi",
                "full_name": "Người Mới",
                "role": "appraiser",
                "unit_id": 0,
                "password": PASSWORD,
            },
        ),
    ),
    (
        "user.update",
        False,
        lambda c, d: c.post(
            f"/admin/users/{d['users']['thamdinh'].id}/edit",
            data={"full_name": "Vũ Thị Thu Hà", "role": "appraiser", "unit_id": 0},
        ),
    ),
    (
        "user.reset_password",
        False,
        lambda c, d: c.post(
            f"/admin/users/{d['users']['thamdinh'].id}/password",
            data={"password": PASSWORD, "confirm": PASSWORD},
        ),
    ),
    (
        "user.deactivate",
        False,
        lambda c, d: c.post(f"/admin/users/{d['users']['thamdinh'].id}/deactivate"),
    ),
    (
        "period.create",
        True,
        lambda c, d: c.post("/admin/periods/new", data=_period_form(d)),
    ),
    (
        "period.update",
        False,
        lambda c, d: c.post(
            f"/admin/periods/{d['period'].id}/edit",
            data=_period_form(
                d,
                name="Tên mới",
                year="2026",
                opens_on="01/11/2026",
                unit_ids=[u.id for u in d["units"].values()],
            ),
        ),
    ),
    (
        "period.close",
        False,
        lambda c, d: c.post(f"/admin/periods/{d['period'].id}/close"),
    ),
    (
        "extension.grant",
        False,
        lambda c, d: c.post(
            f"/admin/periods/{d['period'].id}/extensions/new",
            data={
                "unit_id": d["units"]["NGHISON"].id,
                "new_deadline": "20/12/2026",
                "reason": "Đơn vị mới sáp nhập.",
            },
        ),
    ),
    (
        "criteria.import",
        True,
        lambda c, d: c.post(
            "/admin/criteria-sets/import", data={"filename": "test-mini.yaml"}
        ),
    ),
]


@pytest.mark.parametrize(
    ("action", "creates", "perform"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
def test_each_admin_action_writes_exactly_one_audit_event(
    admin: Any,
    demo: dict[str, Any],
    action: str,
    creates: bool,
    perform: Callable[[Any, dict[str, Any]], Any],
) -> None:
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    response = perform(admin, demo)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    new = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > last)))
    assert [e.action for e in new] == [action]
    (event,) = new
    assert event.actor_id == demo["users"]["admin"].id
    assert event.after
    if creates:
        assert not event.before
    else:
        assert event.before and event.before != event.after


def test_open_and_reactivate_are_audited_too(admin: Any, demo: dict[str, Any]) -> None:
    period_id = _new_period_id(admin, demo)
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    admin.post(f"/admin/periods/{period_id}/open")
    unit = demo["units"]["CACSON"]
    admin.post(f"/admin/units/{unit.id}/deactivate")
    admin.post(f"/admin/units/{unit.id}/activate")
    user = demo["users"]["thamdinh"]
    admin.post(f"/admin/users/{user.id}/deactivate")
    admin.post(f"/admin/users/{user.id}/activate")
    actions = list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.id > last)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == [
        "period.open",
        "unit.deactivate",
        "unit.activate",
        "user.deactivate",
        "user.activate",
    ]


def _event(when: datetime, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "action": "unit.update",
        "object_type": "unit",
        "object_id": "1",
        "actor_name": "Nguyễn Văn Quản",
        "summary": "Sửa đơn vị",
    }
    values.update(fields)
    return AuditEvent(occurred_at=when, **values)


def test_audit_page_shows_vietnam_time_actor_label_object_and_changes(
    admin: Any, demo: dict[str, Any]
) -> None:
    unit = demo["units"]["TRUCLAM"]
    db.session.add(
        _event(
            datetime(2026, 12, 15, 17, 30, tzinfo=UTC),
            object_id=str(unit.id),
            unit_id=unit.id,
            before={"leader_name": "Lê Văn Minh", "is_active": True},
            after={"leader_name": "Lê Thị Thu", "is_active": True},
        )
    )
    db.session.commit()
    page = admin.get(f"/admin/audit?unit={unit.id}").get_data(as_text=True)
    assert "16/12/2026 00:30" in page  # 17:30 UTC is 00:30 next day in Vietnam
    assert "Nguyễn Văn Quản" in page
    assert "Sửa đơn vị" in page
    assert "Đơn vị: Phường Trúc Lâm (TRUCLAM)" in page
    assert "<del>Lê Văn Minh</del> → <ins>Lê Thị Thu</ins>" in page
    assert (
        "Đang hoạt động" not in page.split("<tbody>")[1]
    )  # unchanged keys are not shown


def test_audit_page_filters_by_unit_period_action_user_and_dates(
    admin: Any, demo: dict[str, Any]
) -> None:
    units, period = demo["units"], demo["period"]
    me = demo["users"]["admin"]
    base = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    db.session.add_all(
        [
            _event(base, unit_id=units["TRUCLAM"].id, summary="SU-KIEN-A"),
            _event(
                base + timedelta(days=1),
                unit_id=units["NGHISON"].id,
                summary="SU-KIEN-B",
                period_id=period.id,
                action="extension.grant",
            ),
            _event(
                base + timedelta(days=2),
                actor_id=me.id,
                summary="SU-KIEN-C",
                action="period.close",
                period_id=period.id,
            ),
            # 20:00 UTC on 3 December is already 4 December in Vietnam.
            _event(datetime(2026, 12, 3, 20, 0, tzinfo=UTC), summary="SU-KIEN-D"),
        ]
    )
    db.session.commit()

    def shown(query: str) -> list[str]:
        page = admin.get(f"/admin/audit?{query}").get_data(as_text=True)
        return [
            m for m in ("SU-KIEN-A", "SU-KIEN-B", "SU-KIEN-C", "SU-KIEN-D") if m in page
        ]

    assert shown(f"unit={units['TRUCLAM'].id}") == ["SU-KIEN-A"]
    assert shown(f"period={period.id}") == ["SU-KIEN-B", "SU-KIEN-C"]
    assert shown("action=extension.grant") == ["SU-KIEN-B"]
    assert shown(f"user={me.id}&date_from=01/12/2026") == ["SU-KIEN-C"]
    assert shown("date_from=02/12/2026&date_to=03/12/2026") == [
        "SU-KIEN-B",
        "SU-KIEN-C",
    ]
    assert shown("date_from=04/12/2026&date_to=04/12/2026") == ["SU-KIEN-D"]


def test_bad_date_filter_shows_error_and_is_ignored(
    admin: Any, form_errors: Any
) -> None:
    response = admin.get("/admin/audit?date_from=31/02/2026")
    assert response.status_code == 200
    assert form_errors(response.data) == {
        "date_from": [
            "Ngày 31/02/2026 không có thật. Nhập ngày theo dạng dd/mm/yyyy, "
            "ví dụ 15/01/2026."
        ]
    }


def test_audit_page_is_paginated_and_keeps_filters(
    admin: Any, demo: dict[str, Any]
) -> None:
    unit = demo["units"]["TINHGIA"]
    start = datetime(2026, 12, 1, tzinfo=UTC)
    db.session.add_all(
        [
            _event(
                start + timedelta(minutes=i),
                unit_id=unit.id,
                summary=f"Sự kiện số {i:03d}.",
            )
            for i in range(120)
        ]
    )
    db.session.commit()
    first = admin.get(f"/admin/audit?unit={unit.id}").get_data(as_text=True)
    assert "Sự kiện số 119." in first and "Sự kiện số 070." in first
    assert "Sự kiện số 069." not in first
    assert f"/admin/audit?page=3&amp;unit={unit.id}" in first
    last = admin.get(f"/admin/audit?unit={unit.id}&page=3").get_data(as_text=True)
    assert "Sự kiện số 019." in last and "Sự kiện số 000." in last
    assert "Sự kiện số 020." not in last
    beyond = admin.get(f"/admin/audit?unit={unit.id}&page=9")
    assert beyond.status_code == 200
    assert "Không có sự kiện nào phù hợp." in beyond.get_data(as_text=True)


def test_audit_page_reads_as_vietnamese_labels_and_screen_formats(
    admin: Any, demo: dict[str, Any]
) -> None:
    period = demo["period"]
    db.session.add(
        _event(
            datetime(2026, 12, 20, 2, 0, tzinfo=UTC),
            action="appraisal.save",
            object_type="criterion_score",
            object_id="1/1.1.3",
            period_id=period.id,
            before={"appraised_points": None, "appraised_answer": None},
            after={
                "appraised_points": "0.93",
                "appraised_answer": {"value": "92.5"},
                "published_at": "2026-12-20T02:00:00+00:00",
                "issued_on": "2026-01-05",
            },
        )
    )
    db.session.commit()

    body = admin.get("/admin/audit").get_data(as_text=True).split("<tbody>")[1]

    assert "appraised_points" not in body and "published_at" not in body
    assert "Điểm thẩm định" in body and "<ins>0,93</ins>" in body
    assert "<ins>Giá trị: 92,5</ins>" in body
    assert "<ins>20/12/2026 09:00</ins>" in body and "<ins>05/01/2026</ins>" in body


def test_no_two_actions_share_a_filter_label() -> None:
    from webapp.audit import ACTION_LABELS

    labels = list(ACTION_LABELS.values())
    assert len(labels) == len(set(labels))
