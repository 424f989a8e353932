"""scripts/isolation_suite.py against a live server thread, bounded, kept working.

The full run (thousands of requests) is for a deployment; this one sends a few dozen
requests per family and checks that every one held, and that a broken defence shows.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # A live server thread: CSRF on as deployed, always SQLite in the test's directory.
    app_config["WTF_CSRF_ENABLED"] = True
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'live.sqlite'}"
    return app_config


@pytest.fixture(scope="module")
def suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "isolation_suite", ROOT / "scripts" / "isolation_suite.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _users(demo: dict[str, Any], suite: ModuleType) -> list[tuple[str, str, str]]:
    return [(name, demo["password"], role) for name, role in suite.DEMO_USERS]


def test_every_family_holds_against_a_live_server(
    live_server: str, demo: dict[str, Any], suite: ModuleType
) -> None:
    lines: list[str] = []
    families = suite.run(
        live_server, _users(demo, suite), limit=40, crawl_limit=30, out=lines.append
    )
    figures = {f.name: (f.tried, f.held) for f in families}
    assert set(figures) == {
        "cross-unit",
        "cross-role",
        "hostile uploads",
        "forged CSRF",
        "replayed cookies",
    }
    for name, (tried, held) in figures.items():
        assert tried > 0, name
        assert held == tried, [line for line in lines if "NOT HELD" in line]
    assert "cross-unit: 40 tried / 40 held" in lines
    assert figures["replayed cookies"] == (12, 12)


@pytest.fixture
def csrf_off(app_config: dict[str, Any]) -> None:
    app_config["WTF_CSRF_ENABLED"] = False


def test_the_suite_reports_a_defence_that_is_missing(
    csrf_off: None, live_server: str, demo: dict[str, Any], suite: ModuleType
) -> None:
    """With CSRF protection off, forged posts go through and the suite says so."""
    lines: list[str] = []
    families = suite.run(
        live_server, _users(demo, suite), limit=10, crawl_limit=10, out=lines.append
    )
    forged = next(f for f in families if f.name == "forged CSRF")
    assert forged.tried == 10 and forged.held < forged.tried
    assert any(line.startswith("    NOT HELD admin POST") for line in lines)
