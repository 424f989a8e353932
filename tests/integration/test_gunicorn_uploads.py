"""Uploads through gunicorn itself (gunicorn.conf.py, as deployed): the upload routes
read the body from gunicorn's socket directly (webapp/evidence/intake.py), so what
gunicorn does around a request must still hold: the file arrives byte for byte, the
connection carries the next request (kept alive or pipelined), and a client that hangs
up halfway leaves no file and no row while the server goes on serving."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MIB = 1 << 20
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # Shared with the gunicorn process: a SQLite file and the evidence directory.
    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'served.sqlite'}"
    return app_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(
    app: Any, demo: dict[str, Any], app_config: dict[str, Any], tmp_path: Path
) -> Iterator[str]:
    """gunicorn with the shipped config on a free port of 127.0.0.1, stopped after."""
    from webapp.extensions import db

    db.session.commit()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARINDEX_")}
    env.update(
        DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
        PARINDEX_SECRET_KEY=secrets.token_urlsafe(36),
        PARINDEX_EVIDENCE_LOCAL_ROOT=app_config["EVIDENCE_LOCAL_ROOT"],
        PARINDEX_BIND=f"127.0.0.1:{port}",
        PARINDEX_WORKERS="1",
        PARINDEX_THREADS="4",
        PARINDEX_ACCESS_LOG="/dev/null",
        PARINDEX_LOG_LEVEL="warning",
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/auth/login", timeout=5).ok:
                    break
            assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


class _TimedSession(requests.Session):
    """A hung server fails the test instead of blocking it."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)


class _Unit:
    """phường Trúc Lâm's chuyên viên, logged in through the real form."""

    def __init__(self, base: str, demo: dict[str, Any]) -> None:
        self.base = base
        self.http = _TimedSession()
        token = _CSRF.search(self.http.get(f"{base}/auth/login").text)
        assert token
        self.http.post(
            f"{base}/auth/login",
            data={
                "csrf_token": token.group(1),
                "username": "truclam.chuyenvien",
                "password": demo["password"],
            },
        ).raise_for_status()
        self.assessment_id = demo["assessments"]["TRUCLAM"].id
        page = self.http.get(f"{base}/assessments/{self.assessment_id}")
        token = _CSRF.search(page.text)
        assert token
        self.csrf = token.group(1)

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def upload_request(self, body: bytes, boundary: str, *, length: int) -> bytes:
        return (
            f"POST /evidence/assessments/{self.assessment_id}/upload HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            f"X-CSRFToken: {self.csrf}\r\nX-Requested-With: XMLHttpRequest\r\n"
            "Accept: application/json\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode() + body


def _pdf(size: int, boundary: str) -> bytes:
    """A PDF-shaped file that holds its form's boundary, without a line break
    before it, in several places: data, not the end of the part."""
    head, tail = b"%PDF-1.4\n%", b"\ntrailer\n<< >>\n%%EOF\n"
    fake = b"x--" + boundary.encode()
    middle = bytearray(os.urandom(size - len(head) - len(tail)))
    for at in (1000, size // 2, size - 200):
        middle[at : at + len(fake)] = fake
    return head + bytes(middle).replace(b"%%EOF", b"%%EOG") + tail


def _multipart(data: bytes, boundary: str, filename: str) -> bytes:
    field = 'Content-Disposition: form-data; name="criterion_code"'
    head = (
        f"--{boundary}\r\n{field}\r\n\r\n1.1.1\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode()


def _stored(app: Any, name: str) -> list[Any]:
    from webapp.extensions import db
    from webapp.models import Evidence

    db.session.rollback()  # see what the gunicorn process committed
    return list(
        db.session.scalars(sa.select(Evidence).filter_by(original_filename=name))
    )


def _read_response(sock: socket.socket, pending: bytearray) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length; what follows stays pending."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        pending += chunk
    head, _, rest = bytes(pending).partition(b"\r\n\r\n")
    status = int(head.split()[1])
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert found, head
    length = int(found.group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    pending[:] = rest[length:]
    return status, rest[:length]


def test_a_file_full_of_its_own_boundary_arrives_byte_for_byte_on_a_kept_connection(
    app: Any, demo: dict[str, Any], served: str
) -> None:
    unit = _Unit(served, demo)
    boundary = "gunicornupload" + secrets.token_hex(6)
    for n, size in enumerate((3 * MIB + 17, 20 * 1024)):
        data = _pdf(size, boundary)
        response = unit.http.post(
            f"{served}/evidence/assessments/{unit.assessment_id}/upload",
            data=_multipart(data, boundary, f"Kế hoạch {n}.pdf"),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-CSRFToken": unit.csrf,
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json",
            },
        )
        assert response.status_code == 200, response.text[:300]
        (row,) = _stored(app, f"Kế hoạch {n}.pdf")
        assert row.size == size
        assert row.sha256 == hashlib.sha256(data).hexdigest()
        # The same connection serves the download of what was just stored.
        download = unit.http.get(f"{served}/evidence/{row.id}/download")
        assert download.status_code == 200
        assert download.content == data


def test_a_request_pipelined_behind_an_upload_is_answered_after_it(
    app: Any, demo: dict[str, Any], served: str
) -> None:
    unit = _Unit(served, demo)
    boundary = "pipelined" + secrets.token_hex(6)
    data = _pdf(2 * MIB, boundary)
    body = _multipart(data, boundary, "Báo cáo nối tiếp.pdf")
    upload = unit.upload_request(body, boundary, length=len(body))
    follow = b"GET /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    pending = bytearray()
    with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1]))) as sock:
        sock.settimeout(30)
        sock.sendall(upload + follow)  # both at once: gunicorn reads ahead into both
        status, answer = _read_response(sock, pending)
        assert status == 200, answer[:300]
        status, page = _read_response(sock, pending)
        assert status == 200
        assert "Đăng nhập".encode() in page
    (row,) = _stored(app, "Báo cáo nối tiếp.pdf")
    assert row.sha256 == hashlib.sha256(data).hexdigest()


def test_a_client_that_hangs_up_halfway_leaves_nothing_and_the_server_serves_on(
    app: Any, demo: dict[str, Any], served: str, app_config: dict[str, Any]
) -> None:
    unit = _Unit(served, demo)
    boundary = "hangup" + secrets.token_hex(6)
    body = _multipart(_pdf(4 * MIB, boundary), boundary, "Bỏ dở.pdf")
    half = unit.upload_request(body, boundary, length=len(body))[: len(body) // 2]
    with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1]))) as sock:
        sock.sendall(half)
    root = Path(app_config["EVIDENCE_LOCAL_ROOT"])
    deadline = time.monotonic() + 20
    while any(root.rglob(".tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker notices the hang-up and aborts the stage
    assert not any(root.rglob(".tmp-*"))
    assert not _stored(app, "Bỏ dở.pdf")
    assert (
        unit.http.get(f"{served}/assessments/{unit.assessment_id}").status_code == 200
    )
