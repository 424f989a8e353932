"""API fixtures: a personal token per demo user, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa


@pytest.fixture
def app_config(app_config: dict[str, Any], clock: Any) -> dict[str, Any]:
    # A fixed day before the demo period's deadline (15/12/2026), whatever the date.
    clock.value = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    return app_config


@pytest.fixture
def token_for(app: Any, demo: dict[str, Any]) -> Callable[..., str]:
    """A new personal token's text for a user, created by the service."""
    from webapp.api.tokens import create_token
    from webapp.extensions import db
    from webapp.models import User

    def make(username: str, *, days: int | None = None, name: str = "Kiểm thử") -> str:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        return create_token(user, name=name, expires_days=days, actor=user).secret

    return make


class Api:
    """The Flask test client with a Bearer token on every call (JSON by default)."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(
            "/api/v1" + path, json=json, headers=self._headers(None), **kw
        )

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(
            "/api/v1" + path, json=json, headers=self._headers(None), **kw
        )

    def upload(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(
            "/api/v1" + path,
            data=data,
            headers=self._headers(None),
            content_type="multipart/form-data",
        )


@pytest.fixture
def api_as(app: Any, token_for: Callable[..., str]) -> Callable[[str], Api]:
    """An API client for a demo user (its own test client: no cookie shared)."""

    def make(username: str) -> Api:
        return Api(app.test_client(), token_for(username))

    return make
