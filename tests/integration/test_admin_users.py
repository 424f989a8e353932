"""Admin: accounts (create, edit role/unit/name, reset password, lock)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User

PASSWORD = "KhoiTao@2026x"


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    return login_as("admin")


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_created_account_can_log_in_with_its_role_and_unit(
    app: Any, admin: Any, demo: dict[str, Any]
) -> None:
    unit = demo["units"]["TINHGIA"]
    response = admin.post(
        "/admin/users/new",
        data={
            "username": "TinhGia.ChuyenVien",
            "full_name": "Phạm Thị Dung",
            "role": "unit_editor",
            "unit_id": unit.id,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = _user("tinhgia.chuyenvien")  # stored lower-case, as the login form reads it
    assert user is not None
    assert (user.role, user.unit_id, user.full_name) == (
        "unit_editor",
        unit.id,
        "Phạm Thị Dung",
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.create")
    )
    assert event is not None and event.after["unit"] == "TINHGIA"
    assert PASSWORD not in str(event.after) and user.password_hash not in str(
        event.after
    )
    other = app.test_client()
    login = other.post(
        "/auth/login", data={"username": "tinhgia.chuyenvien", "password": PASSWORD}
    )
    # The coordinator's password is a temporary one: a new one comes first.
    assert login.headers["Location"].endswith("/account/password")
    own = "MatKhauRieng@2026"
    changed = other.post(
        "/account/password", data={"current": PASSWORD, "new": own, "confirm": own}
    )
    assert changed.status_code == 302
    assert other.get("/assessments/").status_code == 200
    assert other.get("/admin/").status_code == 403


def test_edit_changes_role_unit_and_name(admin: Any, demo: dict[str, Any]) -> None:
    user = demo["users"]["truclam.chuyenvien"]
    response = admin.post(
        f"/admin/users/{user.id}/edit",
        data={
            "full_name": "Hoàng Thị Lan Anh",
            "role": "unit_head",
            "unit_id": demo["units"]["NGHISON"].id,
        },
    )
    assert response.status_code == 302
    user = _user("truclam.chuyenvien")
    assert user is not None
    assert (user.full_name, user.role, user.unit.code) == (  # type: ignore[union-attr]
        "Hoàng Thị Lan Anh",
        "unit_head",
        "NGHISON",
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.update")
    )
    assert event is not None
    assert event.before == {
        "full_name": "Hoàng Thị Lan",
        "role": "unit_editor",
        "unit": "TRUCLAM",
    }
    assert event.after == {
        "full_name": "Hoàng Thị Lan Anh",
        "role": "unit_head",
        "unit": "NGHISON",
    }


def test_appraiser_edit_page_offers_no_unit(admin: Any, demo: dict[str, Any]) -> None:
    user = demo["users"]["thamdinh"]
    page = admin.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert '<option selected value="0">— Không thuộc đơn vị —</option>' in page


def test_locked_account_cannot_log_in_and_can_be_unlocked(
    app: Any, admin: Any, demo: dict[str, Any]
) -> None:
    user = demo["users"]["nghison.chuyenvien"]
    assert admin.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert _user("nghison.chuyenvien").is_active is False  # type: ignore[union-attr]
    other = app.test_client()
    data = {"username": "nghison.chuyenvien", "password": demo["password"]}
    assert other.post("/auth/login", data=data).status_code == 401
    assert admin.post(f"/admin/users/{user.id}/activate").status_code == 302
    assert other.post("/auth/login", data=data).status_code == 302


def test_admin_cannot_lock_or_demote_themself(
    admin: Any, demo: dict[str, Any], db_state: Any, form_errors: Any
) -> None:
    me = demo["users"]["admin"]
    before = db_state()
    response = admin.post(f"/admin/users/{me.id}/deactivate", follow_redirects=True)
    assert "Không thể tự khóa" in response.get_data(as_text=True)
    response = admin.post(
        f"/admin/users/{me.id}/edit",
        data={
            "full_name": me.full_name,
            "role": "appraiser",
            "unit_id": 0,
        },
    )
    assert form_errors(response.data) == {
        "role": ["Không thể tự thay đổi vai trò của chính mình."]
    }
    assert db_state() == before
    assert admin.get("/admin/").status_code == 200


def test_reset_password_replaces_the_old_one(
    app: Any, admin: Any, demo: dict[str, Any]
) -> None:
    user = demo["users"]["truclam.lanhdao"]
    response = admin.post(
        f"/admin/users/{user.id}/password",
        data={"password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    other = app.test_client()
    old = {"username": "truclam.lanhdao", "password": demo["password"]}
    assert other.post("/auth/login", data=old).status_code == 401
    new = {"username": "truclam.lanhdao", "password": PASSWORD}
    assert other.post("/auth/login", data=new).status_code == 302


def test_user_search_ignores_accents(admin: Any) -> None:
    page = admin.get("/admin/users?q=hoang thi lan").get_data(as_text=True)
    assert "truclam.chuyenvien" in page
    assert "nghison.chuyenvien" not in page


def test_account_of_a_stopped_unit_can_still_be_renamed_but_none_can_join_it(
    admin: Any, demo: dict[str, Any], form_errors: Any
) -> None:
    unit = demo["units"]["NGHISON"]
    admin.post(f"/admin/units/{unit.id}/deactivate")
    member = demo["users"]["nghison.lanhdao"]
    response = admin.post(
        f"/admin/users/{member.id}/edit",
        data={
            "full_name": "Nguyễn Thị Hoa (nghỉ)",
            "role": "unit_head",
            "unit_id": unit.id,
        },
    )
    assert response.status_code == 302
    outsider = demo["users"]["truclam.chuyenvien"]
    response = admin.post(
        f"/admin/users/{outsider.id}/edit",
        data={
            "full_name": outsider.full_name,
            "role": "unit_editor",
            "unit_id": unit.id,
        },
    )
    # The stopped unit is not even offered, so the choice itself is refused.
    assert form_errors(response.data) == {
        "unit_id": ["Lựa chọn không hợp lệ, vui lòng chọn trong danh sách."]
    }
    assert _user("truclam.chuyenvien").unit_id != unit.id  # type: ignore[union-attr]
