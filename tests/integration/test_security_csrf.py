"""CSRF on: a POST without a valid token is refused (400) and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Unit, User


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def _login(client: Any, csrf_token_in: Any, username: str, password: str) -> Any:
    token = csrf_token_in(client.get("/auth/login").data)
    return client.post(
        "/auth/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token,
        },
    )


def _logins() -> int:
    return len(
        list(
            db.session.scalars(
                sa.select(AuditEvent.id).where(AuditEvent.action == "user.login")
            )
        )
    )


@pytest.mark.parametrize(
    "token", [None, "gia-mao", ""], ids=["missing", "forged", "empty"]
)
def test_login_without_valid_token_is_refused(
    client: Any, demo: dict[str, Any], token: str | None
) -> None:
    data = {"username": "admin", "password": demo["password"]}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert "mã bảo mật biểu mẫu" in response.get_data(as_text=True)
    assert _logins() == 0
    assert client.get("/admin/").status_code == 302


def test_login_with_the_pages_token_works(
    client: Any, demo: dict[str, Any], csrf_token_in: Any
) -> None:
    assert _login(client, csrf_token_in, "admin", demo["password"]).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_token_of_another_browser_is_refused(
    app: Any, client: Any, demo: dict[str, Any], csrf_token_in: Any
) -> None:
    other = app.test_client()
    token = csrf_token_in(other.get("/auth/login").data)
    response = client.post(
        "/auth/login",
        data={
            "username": "admin",
            "password": demo["password"],
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert _logins() == 0


def test_logout_without_token_keeps_the_session(
    client: Any, demo: dict[str, Any], csrf_token_in: Any, db_state: Any
) -> None:
    _login(client, csrf_token_in, "admin", demo["password"])
    before = db_state()
    assert client.post("/auth/logout").status_code == 400
    assert db_state() == before  # session_version not bumped, no logout event
    assert client.get("/admin/").status_code == 200


def test_admin_form_without_token_creates_nothing(
    client: Any, demo: dict[str, Any], csrf_token_in: Any, db_state: Any
) -> None:
    _login(client, csrf_token_in, "admin", demo["password"])
    data = {"code": "HAITIEN", "name": "Phường Hải Tiến", "kind": "xa_phuong"}
    before = db_state()
    assert client.post("/admin/units/new", data=data).status_code == 400
    user = demo["users"]["thamdinh"]
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 400
    assert db_state() == before
    token = csrf_token_in(client.get("/admin/units/new").data)
    assert (
        client.post("/admin/units/new", data={**data, "csrf_token": token}).status_code
        == 302
    )
    assert db.session.scalar(sa.select(Unit).where(Unit.code == "HAITIEN")) is not None


def test_one_click_buttons_carry_the_token(
    client: Any, demo: dict[str, Any], csrf_token_in: Any
) -> None:
    _login(client, csrf_token_in, "admin", demo["password"])
    user = demo["users"]["thamdinh"]
    page = client.get("/admin/users").get_data(as_text=True)
    form_start = page.index(f'action="/admin/users/{user.id}/deactivate"')
    token = csrf_token_in(page[form_start:])
    response = client.post(
        f"/admin/users/{user.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is False  # type: ignore[union-attr]
