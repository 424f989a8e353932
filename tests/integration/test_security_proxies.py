"""Behind nginx (PARINDEX_TRUSTED_PROXIES=1) the client is the hop nginx appended, and
the site is HTTPS only: HSTS on every response."""

from __future__ import annotations

from typing import Any

import pytest

WRONG = "sai-mat-khau-123"
NGINX = "127.0.0.1"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["TRUSTED_PROXIES"] = 1
    app_config["SESSION_COOKIE_SECURE"] = True
    app_config["LOGIN_RATE_LIMIT"] = "3 per 15 minutes"
    return app_config


def _login(client: Any, forwarded_for: str, password: str = WRONG) -> Any:
    return client.post(
        "/auth/login",
        data={"username": "truclam.chuyenvien", "password": password},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": NGINX},
    )


def test_the_address_nginx_saw_is_the_one_counted(
    client: Any, demo: dict[str, Any]
) -> None:
    # nginx appends the real peer; whatever the client put before it is ignored.
    for i in range(3):
        assert _login(client, f"10.9.9.{i}, 203.0.113.5").status_code == 401
    assert _login(client, "10.9.9.99, 203.0.113.5").status_code == 429
    # Everyone behind the same nginx is not one address: another client is not blocked.
    owner = _login(client, "198.51.100.8", demo["password"])
    assert owner.status_code == 302


def test_hsts_when_configured_secure(client: Any) -> None:
    response = client.get("/auth/login")
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
