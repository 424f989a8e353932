"""Browser tests: the app served on a free local port, Debian's Chromium via Playwright.

Set PARINDEX_SCREENSHOT_DIR to keep the screenshots somewhere other than tmp_path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A real browser session: CSRF on, and always SQLite in the test's directory."""
    app_config["WTF_CSRF_ENABLED"] = True
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'browser.sqlite'}"
    return app_config


@pytest.fixture
def new_page(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Open pages in fresh browser contexts (separate cookies: another user's browser).

    Each page collects JS errors and console errors in ``page.problems``. Skipped only
    when /usr/bin/chromium is missing (`scripts/install-browser.sh` installs it in CI).
    """
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        contexts: list[Any] = []

        def open_page() -> Any:
            context = browser.new_context(
                viewport={"width": 1366, "height": 768}, locale="vi-VN"
            )
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(15_000)
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
            # A refused save is answered 422/409 on purpose; any other console error
            # is a fault (a CSP refusal of an inline script or style shows up here).
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console {msg.type}: {msg.text}")
                    if msg.type == "error"
                    and "status of 422" not in msg.text
                    and "status of 409" not in msg.text
                    else None
                ),
            )
            page.problems = problems
            return page

        try:
            yield open_page
        finally:
            for context in contexts:
                context.close()
            browser.close()


@pytest.fixture
def browser_page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def log_in(demo: dict[str, Any]) -> Callable[[Any, str, str], None]:
    """Log a page in as a demo user; lands on the user's home."""

    def login(page: Any, base: str, username: str) -> None:
        page.goto(f"{base}/auth/login")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', demo["password"])
        page.click('button:has-text("Đăng nhập")')
        page.wait_for_load_state()

    return login


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Save a screenshot under tmp_path (and PARINDEX_SCREENSHOT_DIR when set)."""

    def take(page: Any, name: str) -> Path:
        target = tmp_path / name
        page.screenshot(path=str(target))
        keep = os.environ.get("PARINDEX_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(target, Path(keep) / name)
        return target

    return take
