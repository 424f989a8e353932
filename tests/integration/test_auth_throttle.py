"""Login throttling (DESIGN.md §7): failures only, per username and address and per
address across usernames; another address is never locked out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

WRONG = "sai-mat-khau-123"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["LOGIN_RATE_LIMIT"] = "3 per 15 minutes"
    return app_config


def _login(client: Any, username: str, password: str, ip: str = "127.0.0.1") -> Any:
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_fourth_failure_for_same_username_and_address_is_refused(
    client: Any, demo: dict[str, Any]
) -> None:
    for _ in range(3):
        assert _login(client, "truclam.chuyenvien", WRONG).status_code == 401
    blocked = _login(client, "truclam.chuyenvien", WRONG)
    assert blocked.status_code == 429
    assert "quá nhiều lần" in blocked.get_data(as_text=True)
    # Even the right password is refused while blocked: the attacker learns nothing.
    assert _login(client, "truclam.chuyenvien", demo["password"]).status_code == 429
    assert client.get("/assessments/").status_code == 302


def test_username_case_does_not_dodge_the_limit(
    client: Any, demo: dict[str, Any]
) -> None:
    for name in ("truclam.chuyenvien", "TrucLam.ChuyenVien", " truclam.chuyenvien"):
        assert _login(client, name, WRONG).status_code == 401
    assert _login(client, "TRUCLAM.CHUYENVIEN", WRONG).status_code == 429


def test_other_username_and_other_address_are_not_blocked(
    client: Any, demo: dict[str, Any]
) -> None:
    for _ in range(4):
        _login(client, "truclam.chuyenvien", WRONG)
    assert _login(client, "truclam.chuyenvien", WRONG).status_code == 429
    assert _login(client, "nghison.chuyenvien", WRONG).status_code == 401
    assert _login(client, "truclam.chuyenvien", WRONG, ip="10.0.0.2").status_code == 401
    assert _login(client, "nghison.chuyenvien", demo["password"]).status_code == 302


def test_successful_logins_do_not_count(client: Any, demo: dict[str, Any]) -> None:
    assert _login(client, "truclam.chuyenvien", WRONG).status_code == 401
    for _ in range(3):
        assert _login(client, "truclam.chuyenvien", demo["password"]).status_code == 302
        client.post("/auth/logout")
    assert _login(client, "truclam.chuyenvien", WRONG).status_code == 401
    assert _login(client, "truclam.chuyenvien", WRONG).status_code == 401
    assert _login(client, "truclam.chuyenvien", WRONG).status_code == 429


def test_many_usernames_from_one_address_are_refused(
    client: Any, demo: dict[str, Any], app: Any
) -> None:
    """Password spraying: one wrong guess each for 40 accounts, from one address."""
    budget = int(app.config["LOGIN_ADDRESS_RATE_LIMIT"].split()[0])
    statuses = [
        _login(client, f"nguoi-dung-{i}", WRONG, ip="203.0.113.7").status_code
        for i in range(40)
    ]
    assert statuses == [401] * budget + [429] * (40 - budget)
    blocked = _login(client, "truclam.chuyenvien", demo["password"], ip="203.0.113.7")
    assert blocked.status_code == 429
    assert "địa chỉ mạng này" in blocked.get_data(as_text=True)
    # The real owner, elsewhere, still logs in.
    assert _login(client, "truclam.chuyenvien", demo["password"]).status_code == 302


def test_the_owner_is_not_locked_out_from_another_address(
    client: Any, demo: dict[str, Any]
) -> None:
    for _ in range(10):
        _login(client, "truclam.lanhdao", WRONG, ip="198.51.100.23")
    assert _login(client, "truclam.lanhdao", WRONG, ip="198.51.100.23").status_code == (
        429
    )
    owner = _login(client, "truclam.lanhdao", demo["password"], ip="10.1.2.3")
    assert owner.status_code == 302


def test_a_forged_x_forwarded_for_does_not_reset_the_count(
    client: Any, demo: dict[str, Any]
) -> None:
    """With no trusted proxy configured the header is the client's own word: ignored."""
    for i in range(3):
        response = client.post(
            "/auth/login",
            data={"username": "truclam.chuyenvien", "password": WRONG},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
        )
        assert response.status_code == 401
    response = client.post(
        "/auth/login",
        data={"username": "truclam.chuyenvien", "password": WRONG},
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert response.status_code == 429


@pytest.fixture
def redis_instances(
    app_config: dict[str, Any], demo: dict[str, Any]
) -> Iterator[tuple[Any, Any, Callable[[], list[bytes]]]]:
    """Two app instances counting in one Redis, as behind a load balancer."""
    import uuid

    import redis

    from webapp import create_app
    from webapp.extensions import db

    url = "redis://127.0.0.1:6379/0"
    server = redis.Redis.from_url(url)
    server.ping()  # this machine kind runs Redis for the suite
    prefix = f"parindex-test-{uuid.uuid4().hex}"
    config = {
        **app_config,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_ADDRESS_RATE_LIMIT": "4 per 15 minutes",
    }
    first, second = create_app(config), create_app(config)
    try:
        yield first, second, lambda: server.keys(f"*{prefix}*")
        keys = server.keys(f"*{prefix}*")
        if keys:
            server.delete(*keys)
    finally:
        # Each instance has its own connection pool: close it, as a server would.
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()
        server.close()


def test_redis_storage_shares_the_limit_between_app_instances(
    redis_instances: tuple[Any, Any, Callable[[], list[bytes]]],
) -> None:
    """With several app instances behind a load balancer, the count lives in Redis."""
    first, second, keys = redis_instances
    for _ in range(3):
        response = _login(first.test_client(), "truclam.chuyenvien", WRONG)
        assert response.status_code == 401
    # The counter is in Redis (not in this process), where every instance reads it.
    assert keys()
    blocked = _login(second.test_client(), "truclam.chuyenvien", WRONG)
    assert blocked.status_code == 429


def test_redis_shares_the_per_address_count_too(
    redis_instances: tuple[Any, Any, Callable[[], list[bytes]]],
) -> None:
    first, second, _keys = redis_instances
    for i in range(4):
        instance = first if i % 2 else second
        response = _login(instance.test_client(), f"nguoi-dung-{i}", WRONG)
        assert response.status_code == 401
    blocked = _login(first.test_client(), "nguoi-dung-9", WRONG)
    assert blocked.status_code == 429
    assert "địa chỉ mạng này" in blocked.get_data(as_text=True)
