"""Every path from "bytes written" to "row committed" ends with no row and, after the
sweep, no object, temporary file or unfinished multipart upload: on the local store,
and on S3 over real HTTP with a fault-injecting proxy between the app and moto."""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from evidence_store import LocalStore, S3Store, StorageError

PDF_LINES = [
    "ỦY BAN NHÂN DÂN",
    "PHƯỜNG TRÚC LÂM",
    "Số: 125/KH-UBND Trúc Lâm, ngày 05 tháng 01 năm 2026",
    "KẾ HOẠCH",
    "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
]
MIB = 1 << 20


def _rows() -> int:
    from webapp.extensions import db
    from webapp.models import Evidence

    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)))


def _objects(store: Any) -> list[str]:
    return [info.key for info in store.list("")]


def _leftovers(store: Any) -> list[str]:
    return [upload.ref for upload in store.incomplete()]


def _sweep(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["evidence", "sweep", *args])


def _later(clock: Any, hours: float) -> None:
    from webapp.models import utcnow

    clock.value = utcnow() + timedelta(hours=hours)


def _assert_clean_after_the_sweep(app: Any, store: Any, clock: Any) -> None:
    _later(clock, 25)
    cleaned = _sweep(app, "--delete-orphans")
    assert cleaned.exit_code == 0, cleaned.output
    assert "Traceback" not in cleaned.output
    assert _rows() == 0
    assert _objects(store) == [] and _leftovers(store) == []


@pytest.fixture
def database_fails_after_put(app: Any, evidence_store: Any, monkeypatch: Any) -> Any:
    """Once the store has the bytes, every statement fails as on a lost connection.

    Set ``armed["ready"] = False`` for puts that must still succeed (a first upload).
    """
    from webapp.evidence import services
    from webapp.extensions import db

    armed = {"on": False, "ready": True}
    # The one step that makes the bytes durable, streamed upload or replace alike.
    real_put = services._put

    def put_then_lose_the_database(*args: Any, **kwargs: Any) -> Any:
        stored = real_put(*args, **kwargs)
        armed["on"] = armed["ready"]
        return stored

    def refuse(*_: Any, **__: Any) -> None:
        if armed["on"]:
            raise sa.exc.OperationalError(
                "SELECT", {}, Exception("server closed the connection unexpectedly")
            )

    monkeypatch.setattr(services, "_put", put_then_lose_the_database)
    sa.event.listen(db.engine, "before_cursor_execute", refuse)
    yield armed
    sa.event.remove(db.engine, "before_cursor_execute", refuse)


def test_a_database_failure_right_after_put_deletes_the_object_and_answers_json(
    faulty_backend: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    database_fails_after_put: Any,
) -> None:
    from webapp.evidence.services import DB_FAILED

    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "Kế hoạch.pdf",
        evidence_files.pdf(PDF_LINES),
    )
    database_fails_after_put["on"] = False

    assert response.status_code == 500
    assert response.is_json, response.data[:200]  # the widget's answer, not a page
    body = response.get_json()
    assert body["ok"] is False and body["error"] == DB_FAILED
    assert _rows() == 0
    assert _objects(evidence_store) == [] and _leftovers(evidence_store) == []


def test_when_the_compensating_delete_fails_the_user_is_told_and_the_sweep_cleans(
    faulty_backend: Any,
    app: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    monkeypatch: pytest.MonkeyPatch,
    clock: Any,
) -> None:
    from webapp.evidence.services import DB_FAILED_FILE_KEPT
    from webapp.extensions import db

    if faulty_backend is None:

        def broken_disk(self: Any, key: str) -> None:
            raise StorageError(
                "Không xoá được tệp khỏi kho lưu trữ: Input/output error."
            )

        monkeypatch.setattr(LocalStore, "delete", broken_disk)
    else:
        faulty_backend.fail("DELETE", "TRUCLAM")

    def database_down(*_: Any) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    login_as("truclam.chuyenvien")
    sa.event.listen(db.session, "before_flush", database_down)
    try:
        response = upload_file(
            demo["assessments"]["TRUCLAM"].id,
            "Kế hoạch.pdf",
            evidence_files.pdf(PDF_LINES),
        )
    finally:
        sa.event.remove(db.session, "before_flush", database_down)
    monkeypatch.undo()
    if faulty_backend is not None:
        faulty_backend.clear()

    assert response.status_code == 500
    message = response.get_json()["error"]
    assert message == DB_FAILED_FILE_KEPT and "đã được hủy" not in message
    assert _rows() == 0
    (orphan,) = _objects(evidence_store)
    # The default grace hides it from the clean-up, but not from the report.
    dry = _sweep(app)
    assert dry.exit_code == 0, dry.output
    assert "Chưa tính vì mới hơn 24 giờ" in dry.output and orphan in dry.output
    _assert_clean_after_the_sweep(app, evidence_store, clock)


def test_an_s3_outage_mid_multipart_upload_is_cleaned_by_the_sweep(
    s3_behind_proxy: Any,
    app: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    clock: Any,
) -> None:
    from webapp.evidence.services import STORE_FAILED

    faulty_backend = s3_behind_proxy
    # The first 5 MiB part goes through, then the server goes down, so the put's own
    # abort fails too.
    faulty_backend.fail("PUT", "partNumber", after=1)
    faulty_backend.fail("DELETE", "uploadId")
    client = login_as("truclam.chuyenvien")
    # Encoded here, in memory: the test client would spool a body this big to a
    # temporary file it never closes.
    boundary, body = encode_multipart(
        {
            "file": FileStorage(
                io.BytesIO(evidence_files.padded_pdf(6 * MIB)), "Biên bản.pdf"
            ),
            "criterion_code": "1.1.1",
        }
    )
    response = client.post(
        f"/evidence/assessments/{demo['assessments']['TRUCLAM'].id}/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    faulty_backend.clear()

    assert response.status_code == 503
    assert response.get_json()["error"] == STORE_FAILED
    assert _rows() == 0 and _objects(evidence_store) == []
    assert len(_leftovers(evidence_store)) == 1
    # (moto dates every multipart upload 10/11/2010, so the grace cannot hide this one
    # here; the local store's temporary files show that case below.)
    _later(clock, 25)
    dry = _sweep(app)
    assert dry.exit_code == 1
    assert "Lượt tải lên dở dang (tệp tạm, multipart upload): 1" in dry.output
    _assert_clean_after_the_sweep(app, evidence_store, clock)


_KILLED_WORKER = """
import sys, time
from evidence_store import LocalStore, S3Store, make_client

class Stalls:
    # Gives `size` bytes, then hangs as a client whose connection froze.
    def __init__(self, size):
        self.left = size
    def read(self, n=-1):
        if self.left <= 0:
            time.sleep(3600)
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return b"%PDF" * (n // 4) + b"%" * (n % 4)
    def seekable(self):
        return False

backend, where, key = sys.argv[1:4]
if backend == "local":
    LocalStore(where).put(key, Stalls(1 << 20))
else:
    endpoint, bucket = where.split("|")
    client = make_client(endpoint_url=endpoint, access_key="x", secret_key="x")
    store = S3Store(client, bucket, part_size=5 << 20, multipart_threshold=5 << 20)
    store.put(key, Stalls(6 << 20))
"""


def _started(store: Any) -> bool:
    if isinstance(store, LocalStore):
        return any(p.stat().st_size >= MIB for p in store.root.rglob(".tmp-*.part"))
    assert isinstance(store, S3Store)
    for upload in store.client.list_multipart_uploads(Bucket=store.bucket).get(
        "Uploads", []
    ):
        parts = store.client.list_parts(
            Bucket=store.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        if parts.get("Parts"):
            return True
    return False


def test_a_worker_killed_mid_write_leaves_bytes_the_sweep_removes(
    faulty_backend: Any,
    app: Any,
    demo: dict[str, Any],
    evidence_store: Any,
    moto_s3_endpoint: str,
    clock: Any,
) -> None:
    from evidence_store import new_key

    if isinstance(evidence_store, LocalStore):
        where, backend = str(evidence_store.root), "local"
    else:
        where, backend = f"{moto_s3_endpoint}|{evidence_store.bucket}", "s3"
    worker = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WORKER, backend, where, new_key("TRUCLAM")],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 30
        while not _started(evidence_store):
            assert worker.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker never wrote a byte"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()

    assert _objects(evidence_store) == []
    assert len(_leftovers(evidence_store)) == 1
    if isinstance(evidence_store, LocalStore):
        hidden = _sweep(app)
        assert hidden.exit_code == 0, hidden.output
        assert "Chưa tính vì mới hơn 24 giờ" in hidden.output
        assert "lượt tải lên dở dang TRUCLAM/.tmp-" in hidden.output
    _later(clock, 25)
    dry = _sweep(app)
    assert dry.exit_code == 1
    assert "Lượt tải lên dở dang (tệp tạm, multipart upload): 1" in dry.output
    _assert_clean_after_the_sweep(app, evidence_store, clock)


@pytest.mark.parametrize("big", [False, True], ids=["small", "streamed-on-s3"])
def test_a_full_store_says_so_and_leaves_nothing(
    faulty_backend: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    monkeypatch: pytest.MonkeyPatch,
    big: bool,
) -> None:
    from webapp.evidence.services import STORE_FULL

    if faulty_backend is None:

        def disk_full(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("evidence_store.local.os.fsync", disk_full)
    else:  # MinIO's answer when its drives are full
        faulty_backend.fail("PUT", "TRUCLAM", status=507, code="XMinioStorageFull")
    login_as("truclam.chuyenvien")
    # A declared 6 MiB file goes to S3 as one PutObject streamed while it arrives,
    # which the full server refuses midway.
    data = evidence_files.padded_pdf(6 << 20) if big else evidence_files.pdf(PDF_LINES)
    response = upload_file(demo["assessments"]["TRUCLAM"].id, "Kế hoạch.pdf", data)
    monkeypatch.undo()

    assert response.status_code == 507
    assert response.get_json()["error"] == STORE_FULL
    assert _rows() == 0
    assert _objects(evidence_store) == [] and _leftovers(evidence_store) == []


def test_the_sweep_says_clearly_when_s3_cannot_be_reached(
    s3_behind_proxy: Any, app: Any, demo: dict[str, Any], evidence_store: Any
) -> None:
    s3_behind_proxy.drop()

    result = _sweep(app)

    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # an exit status, no traceback
    assert "Traceback" not in result.output
    assert (
        "Không liệt kê được kho lưu trữ: không kết nối được tới máy chủ lưu trữ."
        in result.output
    )
    assert "Chưa xóa gì." in result.output


def test_a_replace_whose_database_write_fails_keeps_the_old_version_only(
    faulty_backend: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    client: Any,
    database_fails_after_put: Any,
) -> None:
    from webapp.evidence.services import DB_FAILED
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    database_fails_after_put["ready"] = False
    first = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Kế hoạch.pdf", evidence_files.pdf(PDF_LINES)
    ).get_json()["evidence"]
    database_fails_after_put["ready"] = True
    try:
        response = client.post(
            f"/evidence/{first['id']}/replace",
            data={"file": (io.BytesIO(evidence_files.pdf(["v2"])), "Kế hoạch v2.pdf")},
            content_type="multipart/form-data",
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
    finally:
        database_fails_after_put["on"] = False

    assert response.status_code == 500
    body = response.get_json()
    assert body["ok"] is False and body["error"] == DB_FAILED
    db.session.expire_all()
    (row,) = db.session.scalars(sa.select(Evidence))
    assert row.id == first["id"] and row.is_current
    assert _objects(evidence_store) == [row.storage_key]
    assert _leftovers(evidence_store) == []


def test_a_database_down_before_any_byte_is_stored_still_answers_the_widget_in_json(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    from webapp.evidence.routes import SYSTEM_FAILED
    from webapp.extensions import db
    from webapp.models import UserSession

    login_as("truclam.chuyenvien")
    assessment_id = demo["assessments"]["TRUCLAM"].id
    # The database goes down once the request is authenticated: the login's session
    # row stays loaded here, as the demo fixture keeps the user loaded.
    signed_in = list(db.session.scalars(sa.select(UserSession)))
    assert signed_in

    def refuse(*_: Any, **__: Any) -> None:
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    sa.event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        response = upload_file(
            assessment_id, "Kế hoạch.pdf", evidence_files.pdf(PDF_LINES)
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", refuse)

    assert response.status_code == 500
    assert response.is_json and response.get_json()["error"] == SYSTEM_FAILED
    assert _rows() == 0 and _objects(evidence_store) == []
