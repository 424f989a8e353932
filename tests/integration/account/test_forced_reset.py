"""A temporary password (set by the coordinator) must be replaced before all else."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User

pytestmark = pytest.mark.db

TEMPORARY = "TamThoi@2026x"
OWN = "MatKhauRieng@2026"
MUST_CHANGE = "Bạn đang dùng mật khẩu tạm thời: hãy đổi mật khẩu trước khi tiếp tục."


def _user(username: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


@pytest.fixture
def admin(app: Any, demo: dict[str, Any]) -> Any:
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": "admin", "password": demo["password"]}
    )
    assert response.status_code == 302
    return client


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_demo_users_are_not_forced_to_change_their_password(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    assert not any(u.must_change_password for u in demo["users"].values())
    login_as("truclam.chuyenvien")
    assert client.get("/assessments/").status_code == 200


def test_forcing_a_change_ends_sessions_and_the_next_login_asks_for_a_password(
    app: Any, client: Any, admin: Any, demo: dict[str, Any], login_as: Any
) -> None:
    user = demo["users"]["truclam.chuyenvien"]
    login_as("truclam.chuyenvien")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Buộc đổi mật khẩu" in page
    response = admin.post(f"/admin/users/{user.id}/force-password-change")
    assert response.status_code == 302
    assert "Chờ đổi mật khẩu" in admin.get("/admin/users").get_data(as_text=True)
    assert _user("truclam.chuyenvien").must_change_password
    assert _is_login_redirect(client.get("/assessments/"))
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.force_password_change")
    )
    assert event is not None
    assert event.object_id == str(user.id) and event.after["must_change_password"]

    # The user's own password still opens the door, but only to the change page.
    login = client.post(
        "/auth/login",
        data={"username": "truclam.chuyenvien", "password": demo["password"]},
    )
    assert login.headers["Location"].endswith("/account/password")
    for path in ("/assessments/", "/account/", "/help/", "/evidence/"):
        refused = client.get(path)
        assert refused.status_code == 302, path
        assert refused.headers["Location"].endswith("/account/password"), path
    xhr = client.post(
        "/assessments/1/criteria/1.1",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert xhr.status_code == 403
    assert xhr.get_json() == {"ok": False, "error": MUST_CHANGE}
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200
    page = client.get("/account/password").get_data(as_text=True)
    assert "mật khẩu tạm thời" in page

    changed = client.post(
        "/account/password",
        data={"current": demo["password"], "new": OWN, "confirm": OWN},
    )
    assert changed.status_code == 302
    assert client.get("/assessments/").status_code == 200
    assert not _user("truclam.chuyenvien").must_change_password


def test_an_account_created_by_the_coordinator_starts_with_a_temporary_password(
    app: Any, admin: Any, demo: dict[str, Any]
) -> None:
    response = admin.post(
        "/admin/users/new",
        data={
            "username": "cacson.chuyenvien",
            "full_name": "Đỗ Văn Hùng",
            "role": "unit_editor",
            "unit_id": demo["units"]["CACSON"].id,
            "password": TEMPORARY,
        },
    )
    assert response.status_code == 302
    assert _user("cacson.chuyenvien").must_change_password
    newcomer = app.test_client()
    login = newcomer.post(
        "/auth/login", data={"username": "cacson.chuyenvien", "password": TEMPORARY}
    )
    assert login.headers["Location"].endswith("/account/password")
    assert "lần đăng nhập đầu" in newcomer.get("/account/password").get_data(
        as_text=True
    )
    assert (
        newcomer.get("/assessments/").headers["Location"].endswith("/account/password")
    )
    # Logging out stays possible while the temporary password is in use.
    assert _is_login_redirect(newcomer.post("/auth/logout"))


def test_a_password_reset_by_the_coordinator_is_temporary(
    app: Any, admin: Any, demo: dict[str, Any]
) -> None:
    user = demo["users"]["nghison.lanhdao"]
    response = admin.post(
        f"/admin/users/{user.id}/password",
        data={"password": TEMPORARY, "confirm": TEMPORARY},
    )
    assert response.status_code == 302
    other = app.test_client()
    login = other.post(
        "/auth/login", data={"username": "nghison.lanhdao", "password": TEMPORARY}
    )
    assert login.headers["Location"].endswith("/account/password")
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.reset_password")
    )
    assert event is not None and event.after["must_change_password"] is True


def test_the_coordinator_cannot_force_their_own_account(
    admin: Any, demo: dict[str, Any]
) -> None:
    me = demo["users"]["admin"]
    response = admin.post(f"/admin/users/{me.id}/force-password-change")
    assert response.status_code == 303
    assert not _user("admin").must_change_password
