"""Sessions that end: logout, password change, deactivation, reset, idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

COOKIE = "parindex_session"
NEW_PASSWORD = "MatKhauMoi@2026"


def _cookie_of(client: Any) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return str(cookie.value)


@pytest.fixture
def replay(app: Any) -> Callable[[str, str], Any]:
    """Send a stolen copy of a session cookie from another browser to a page."""

    def request(cookie: str, path: str) -> Any:
        other = app.test_client()
        other.set_cookie(COOKIE, cookie)
        return other.get(path)

    return request


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_cookie_copied_before_logout_is_refused_after(
    client: Any, demo: dict[str, Any], login_as: Any, replay: Any
) -> None:
    login_as("admin")
    cookie = _cookie_of(client)
    assert (
        replay(cookie, "/admin/").status_code == 200
    )  # the copy works while logged in
    client.post("/auth/logout")
    assert _is_login_redirect(replay(cookie, "/admin/"))
    assert _is_login_redirect(client.get("/admin/"))


def test_password_change_ends_other_sessions_but_keeps_this_one(
    client: Any, demo: dict[str, Any], login_as: Any, replay: Any
) -> None:
    login_as("truclam.chuyenvien")
    cookie = _cookie_of(client)
    response = client.post(
        "/auth/password",
        data={
            "current": demo["password"],
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _is_login_redirect(replay(cookie, "/assessments/"))
    assert client.get("/assessments/").status_code == 200
    assert replay(_cookie_of(client), "/assessments/").status_code == 200


def test_deactivation_ends_the_users_sessions_at_once(
    app: Any, client: Any, demo: dict[str, Any], login_as: Any, replay: Any
) -> None:
    user = demo["users"]["truclam.chuyenvien"]
    login_as("truclam.chuyenvien")
    cookie = _cookie_of(client)
    admin = app.test_client()
    admin.post("/auth/login", data={"username": "admin", "password": demo["password"]})
    assert admin.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert _is_login_redirect(replay(cookie, "/assessments/"))
    assert _is_login_redirect(client.get("/assessments/"))
    refused = client.post(
        "/auth/login",
        data={"username": "truclam.chuyenvien", "password": demo["password"]},
    )
    assert refused.status_code == 401


def test_password_reset_by_admin_ends_the_users_sessions(
    app: Any, client: Any, demo: dict[str, Any], login_as: Any, replay: Any
) -> None:
    user = demo["users"]["nghison.lanhdao"]
    login_as("nghison.lanhdao")
    cookie = _cookie_of(client)
    admin = app.test_client()
    admin.post("/auth/login", data={"username": "admin", "password": demo["password"]})
    response = admin.post(
        f"/admin/users/{user.id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _is_login_redirect(replay(cookie, "/assessments/"))
    old = client.post(
        "/auth/login",
        data={"username": "nghison.lanhdao", "password": demo["password"]},
    )
    assert old.status_code == 401
    new = client.post(
        "/auth/login", data={"username": "nghison.lanhdao", "password": NEW_PASSWORD}
    )
    assert new.status_code == 302


def test_idle_session_expires_after_the_limit_and_activity_extends_it(
    app: Any, client: Any, clock: Any, demo: dict[str, Any], login_as: Any
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    limit = timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))
    clock.value = start
    login_as("truclam.lanhdao")
    clock.value = start + limit - timedelta(minutes=1)
    assert client.get("/assessments/").status_code == 200
    clock.value = (
        start + 2 * limit - timedelta(minutes=2)
    )  # idle time counts from last use
    assert client.get("/assessments/").status_code == 200
    clock.value += limit + timedelta(minutes=1)
    expired = client.get("/assessments/")
    assert _is_login_redirect(expired)
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Phiên làm việc đã hết hạn do không thao tác" in page
    assert _is_login_redirect(client.get("/assessments/"))


def test_idle_limit_starts_at_login_even_without_a_follow_up_request(
    app: Any, client: Any, clock: Any, demo: dict[str, Any], login_as: Any
) -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    clock.value = start
    login_as("truclam.lanhdao")
    clock.value = start + timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]) + 1)
    assert _is_login_redirect(client.get("/assessments/"))
