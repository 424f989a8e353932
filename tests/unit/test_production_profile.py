"""The shipped production files agree with each other and with the app's settings:
nginx buffers whole request bodies up to the upload limit before gunicorn sees them,
keeps connections to gunicorn open, and never reuses one gunicorn is about to close.
(`scripts/check-nginx-config.sh` runs `nginx -t` on the same file.)"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX = (ROOT / "deploy/nginx/parindex.conf").read_text()


def _directive(name: str, text: str = NGINX) -> list[str]:
    return re.findall(rf"(?m)^\s*{name}\s+([^;]+);", text)


def _size(value: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower()).groups()  # type: ignore[union-attr]
    return int(number) * units.get(unit, 1)


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s?)", value.strip()).groups()  # type: ignore[union-attr]
    return int(number)


@pytest.fixture
def gunicorn(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    for name in ("PARINDEX_KEEPALIVE", "PARINDEX_WORKERS", "PARINDEX_THREADS"):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_nginx_takes_the_whole_upload_before_gunicorn_sees_it() -> None:
    limit = 100 * 1024 * 1024  # webapp.config UPLOAD_MAX_BYTES, the env example's too
    example = (ROOT / "deploy/parindex.env.example").read_text()
    assert f"PARINDEX_UPLOAD_MAX_BYTES={limit}" in example
    # The one exception is the verify page, which takes a whole dossier ZIP as it
    # arrives (the app spools it to disk and bounds it by PARINDEX_VERIFY_MAX_BYTES).
    verify = re.search(r"location = /dossier/verify \{(.*?)\}", NGINX, re.S)
    assert verify
    assert _directive("proxy_request_buffering", verify.group(1)) == ["off"]
    general = NGINX.replace(verify.group(0), "")
    (body,) = _directive("client_max_body_size", general)
    # The limit plus the multipart form's own bytes, and not so much more that an
    # oversize upload reaches the app.
    assert limit < _size(body) <= limit + 16 * 1024 * 1024
    assert _directive("proxy_request_buffering", general) == ["on"]
    assert _directive("client_body_temp_path")
    assert _directive("client_body_timeout")


def test_nginx_keeps_connections_to_gunicorn_and_drops_them_first(
    gunicorn: dict[str, object],
) -> None:
    upstream = re.search(r"upstream parindex_app \{(.*?)\}", NGINX, re.S)
    assert upstream
    assert int(_directive("keepalive", upstream.group(1))[0]) > 0
    (idle,) = _directive("keepalive_timeout", upstream.group(1))
    assert _seconds(idle) < int(str(gunicorn["keepalive"]))
    locations = NGINX.count("proxy_pass http://parindex_app;")
    assert _directive("proxy_http_version").count("1.1") == locations
    assert _directive("proxy_set_header Connection").count('""') == locations
    assert "location /static/" in NGINX


def test_gunicorn_serves_slow_requests_on_threads(gunicorn: dict[str, object]) -> None:
    assert gunicorn["worker_class"] == "gthread"
    assert int(str(gunicorn["threads"])) > 1
    assert int(str(gunicorn["timeout"])) >= 60
