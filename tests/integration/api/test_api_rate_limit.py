"""Requests are counted per personal token, in the login throttle's storage."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.db


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["API_RATE_LIMIT"] = "5 per minute"
    return app_config


def test_the_rate_limit_counts_per_token(api_as: Any, demo: dict[str, Any]) -> None:
    first, second = api_as("truclam.chuyenvien"), api_as("truclam.chuyenvien")
    answers = [first.get("/me").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    refused = first.get("/me")
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "Quá nhiều yêu cầu" in refused.get_json()["error"]["message"]
    assert second.get("/me").status_code == 200  # another token has its own count
