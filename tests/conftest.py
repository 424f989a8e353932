"""Fixtures every test directory may use, none of which needs Flask: a settable clock
and the evidence stores (local, and S3 on moto's server mode on 127.0.0.1).

Integration fixtures (app, client, demo data, …) live in tests/integration/conftest.py;
the upload corpora beside the validation tests in tests/unit/uploads/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest


class Clock:
    """A settable clock for deadline tests; None means real time."""

    def __init__(self) -> None:
        self.value: datetime | None = None

    def __call__(self) -> datetime:
        from webapp.models import utcnow

        return self.value or utcnow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


# --- evidence store fixtures ---
# S3 runs over real HTTP against moto's server mode on 127.0.0.1: one server per
# session (free port chosen by the OS), a fresh bucket per test. The sample and
# hostile upload files are generated here so that web tests can post the same
# corpus through the upload routes. Imports are local: moto is slow to import
# and most runs never need it.

_EV_MIB = 1 << 20
_EV_PART = 5 * _EV_MIB  # S3's minimum part size, so multipart tests stay small


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Any:
    """Yield the URL of a moto S3 server on 127.0.0.1, stopped after the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(moto_s3_endpoint: str) -> dict[str, Any]:
    """Settings for `store_from_settings` (or the app config): S3 on the moto
    server, a fresh bucket created on first use, 5 MiB parts."""
    import uuid

    return {
        "EVIDENCE_BACKEND": "s3",
        "S3_ENDPOINT_URL": moto_s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_BUCKET": f"evidence-{uuid.uuid4().hex[:16]}",
        "S3_ACCESS_KEY": "testing",
        "S3_SECRET_KEY": "testing",
        "S3_PATH_STYLE": True,
        "S3_CREATE_BUCKET": True,
        "S3_PRESIGNED": False,
        "S3_PART_SIZE": _EV_PART,
        "S3_MULTIPART_THRESHOLD": _EV_PART,
    }


@pytest.fixture
def s3_client(moto_s3_endpoint: str) -> Any:
    """A boto3 S3 client for the moto server, configured as in production."""
    from evidence_store import make_client

    return make_client(
        endpoint_url=moto_s3_endpoint, access_key="testing", secret_key="testing"
    )


@pytest.fixture
def s3_store(s3_client: Any, s3_settings: dict[str, Any]) -> Any:
    """An `S3Store` on a fresh bucket of the moto server (5 MiB parts/threshold)."""
    from evidence_store import S3Store

    return S3Store(
        s3_client,
        s3_settings["S3_BUCKET"],
        part_size=_EV_PART,
        multipart_threshold=_EV_PART,
        create_bucket=True,
    )


@pytest.fixture
def local_store(tmp_path: Any) -> Any:
    """A `LocalStore` in a fresh temporary directory."""
    from evidence_store import LocalStore

    return LocalStore(tmp_path / "evidence")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest) -> Any:
    """Each backend in turn: the evidence-store contract suite runs on both."""
    return request.getfixturevalue(f"{request.param}_store")


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 between the app and the moto server that fails the
    requests a test chooses: S3 outages over real HTTP without killing moto (which
    would lose its state). Rules match a method and a query-string marker
    ("uploadId", "partNumber", "uploads"...); each answers an S3-style error status,
    or drops the connection, for `times` requests (None: until cleared)."""

    def __init__(self, upstream: str) -> None:
        import threading
        from http.server import ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.upstream = urlsplit(upstream).netloc
        self.rules: list[dict[str, Any]] = []
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail(
        self,
        method: str = "*",
        marker: str = "",
        *,
        status: int = 503,
        code: str = "ServiceUnavailable",
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer `status` to matching requests (after letting `after` through)."""
        with self._lock:
            self.rules.append(
                {"method": method, "marker": marker, "status": status, "code": code,
                 "times": times, "after": after}
            )  # fmt: skip

    def drop(self, method: str = "*", marker: str = "") -> None:
        """Close the connection without an answer (the server is unreachable)."""
        self.fail(method, marker, status=0)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _rule_for(self, method: str, path: str) -> dict[str, Any] | None:
        with self._lock:
            self.seen.append(f"{method} {path}")
            for rule in self.rules:
                if rule["method"] not in ("*", method) or rule["marker"] not in path:
                    continue
                if rule["after"] > 0:
                    rule["after"] -= 1
                    return None
                if rule["times"] is not None:
                    if rule["times"] == 0:
                        continue
                    rule["times"] -= 1
                return rule
        return None

    def _handler(self) -> Any:
        import http.client
        from http.server import BaseHTTPRequestHandler

        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._rule_for(self.command, self.path)
                if rule is not None and rule["status"] == 0:
                    self.close_connection = True
                    self.connection.close()
                    return
                if rule is not None:
                    error = (
                        f'<?xml version="1.0"?><Error><Code>{rule["code"]}</Code>'
                        "<Message>injected by the test</Message></Error>"
                    ).encode()
                    self.send_response(rule["status"])
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items()}
                    upstream.request(
                        self.command, self.path, body=body, headers=headers
                    )
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "server",
                        "date",
                    ):
                        self.send_header(name, value)  # fmt: skip
                length_header = answer.getheader("Content-Length")
                self.send_header(
                    "Content-Length",
                    length_header if self.command == "HEAD" and length_header
                    else str(len(data)),
                )  # fmt: skip
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        return Handler


@pytest.fixture
def fault_proxy(moto_s3_endpoint: str) -> Iterator[FaultProxy]:
    """A `FaultProxy` in front of the session's moto server, stopped after the test."""
    proxy = FaultProxy(moto_s3_endpoint)
    try:
        yield proxy
    finally:
        proxy.close()
