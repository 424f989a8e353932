"""Security headers on every response; session cookie flags; no inline script/style."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _problems(label: str, response: Any) -> list[str]:
    out = []
    csp = response.headers.get("Content-Security-Policy", "")
    if "default-src 'self'" not in csp or "script-src 'self'" not in csp:
        out.append(f"{label}: CSP missing or too loose: {csp!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        out.append(f"{label}: CSP allows inline code")
    if "frame-ancestors" not in csp and "X-Frame-Options" not in response.headers:
        out.append(f"{label}: may be framed")
    if response.headers.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN"):
        out.append(
            f"{label}: X-Frame-Options {response.headers.get('X-Frame-Options')!r}"
        )
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        out.append(f"{label}: no nosniff")
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        for name, pattern in (
            ("script", INLINE_SCRIPT),
            ("style=", INLINE_STYLE),
            ("on…= handler", INLINE_HANDLER),
        ):
            if pattern.search(html):
                out.append(
                    f"{label}: inline {name}: {pattern.search(html).group(0)[:80]}"
                )
    response.close()  # static files are streamed from an open file
    return out


def _pages(app: Any) -> Iterator[str]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods and not rule.arguments:
            yield rule.rule


def test_every_page_carries_the_security_headers(
    app: Any, client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    problems: list[str] = []
    for path in _pages(app):
        problems += _problems(f"anonymous {path}", client.get(path))
    problems += _problems("static", client.get("/static/css/app.css"))
    problems += _problems("404", client.get("/khong-co-trang-nay"))
    problems += _problems("405", client.get("/auth/logout"))
    problems += _problems(
        "failed login",
        client.post(
            "/auth/login", data={"username": "admin", "password": "sai-mat-khau"}
        ),
    )
    for username in ("admin", "truclam.lanhdao", "thamdinh"):
        login_as(username)
        for path in _pages(app):
            problems += _problems(f"{username} {path}", client.get(path))
    assert problems == []


def _session_cookie_at_login(client: Any, password: str) -> str:
    response = client.post(
        "/auth/login", data={"username": "admin", "password": password}
    )
    return next(
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith("parindex_session=")
    )


def test_session_cookie_is_httponly_and_samesite_lax(
    client: Any, demo: dict[str, Any]
) -> None:
    cookie = _session_cookie_at_login(client, demo["password"])
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in the embedded default


@pytest.fixture(params=["config", "environment"])
def secure_cookie_app_config(
    request: Any, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    if request.param == "config":
        app_config["SESSION_COOKIE_SECURE"] = True
    else:
        monkeypatch.setenv("PARINDEX_SESSION_COOKIE_SECURE", "true")
    return app_config


@pytest.mark.usefixtures("secure_cookie_app_config")
def test_session_cookie_is_secure_when_configured(
    client: Any, demo: dict[str, Any]
) -> None:
    cookie = _session_cookie_at_login(client, demo["password"])
    assert "Secure" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_hsts_over_plain_http_by_default(client: Any) -> None:
    # The embedded run is plain HTTP: pinning HTTPS would lock users out of it.
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers


def test_hsts_follows_the_secure_cookie_setting(app_config: dict[str, Any]) -> None:
    from webapp import create_app
    from webapp.extensions import db

    for extra, expected in (
        ({"SESSION_COOKIE_SECURE": True}, "max-age=31536000; includeSubDomains"),
        (
            {"SESSION_COOKIE_SECURE": True, "HSTS_MAX_AGE": 600},
            "max-age=600; includeSubDomains",
        ),
        ({"SESSION_COOKIE_SECURE": True, "HSTS_MAX_AGE": 0}, None),
    ):
        instance = create_app({**app_config, **extra})
        response = instance.test_client().get("/static/css/app.css")
        response.close()
        assert response.headers.get("Strict-Transport-Security") == expected
        with instance.app_context():
            db.engine.dispose()
