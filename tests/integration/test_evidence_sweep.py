"""`flask evidence sweep`: orphans, missing and corrupted objects; --delete-orphans
removes only objects no row references, never rows."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa


@pytest.fixture
def three_documents(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> list[Any]:
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    ids = []
    for name in ("Kế hoạch.pdf", "Báo cáo.pdf", "Quyết định.pdf"):
        response = upload_file(
            demo["assessments"]["TRUCLAM"].id, name, evidence_files.pdf([name])
        )
        assert response.status_code == 200
        ids.append(response.get_json()["evidence"]["id"])
    return [db.session.get(Evidence, i) for i in ids]


def _sweep(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["evidence", "sweep", *args])


def test_a_consistent_store_passes(
    app: Any, three_documents: list[Any], clock: Any
) -> None:
    result = _sweep(app)
    assert result.exit_code == 0, result.output
    assert "3 bản ghi" in result.output
    assert "Kết quả: kho lưu trữ và cơ sở dữ liệu khớp nhau." in result.output


def test_sweep_reports_orphan_missing_and_corrupted_then_deletes_only_the_orphan(
    evidence_backend: str,
    app: Any,
    three_documents: list[Any],
    evidence_store: Any,
    clock: Any,
) -> None:
    from evidence_store import new_key
    from webapp.extensions import db
    from webapp.models import Evidence, utcnow

    missing, corrupted, _fine = three_documents
    orphan_key = new_key("TRUCLAM")  # as left by an upload whose commit never happened
    evidence_store.put(orphan_key, io.BytesIO(b"%PDF-1.4 orphan"))
    evidence_store.delete(missing.storage_key)
    evidence_store.put(corrupted.storage_key, io.BytesIO(b"%PDF-1.4 altered on disk"))
    clock.value = utcnow() + timedelta(
        hours=25
    )  # the orphan is now past the 24 h grace

    dry = _sweep(app)
    assert dry.exit_code == 1
    out = dry.output
    assert "Tệp mồ côi (không bản ghi nào tham chiếu): 1" in out and orphan_key in out
    assert "Bản ghi mất tệp trong kho: 1" in out
    assert f"Tài liệu #{missing.id} “Kế hoạch.pdf” (đơn vị TRUCLAM)" in out
    assert "Tệp bị thay đổi (SHA-256 không khớp): 1" in out
    assert f"Tài liệu #{corrupted.id} “Báo cáo.pdf”" in out
    assert "Chạy thử: chưa xóa gì." in out
    assert evidence_store.exists(orphan_key)  # a dry run deletes nothing

    result = _sweep(app, "--delete-orphans")
    assert result.exit_code == 1  # the missing and corrupted files still need a person
    assert (
        "Đã xóa 1 tệp mồ côi và hủy 0 lượt tải lên dở dang. Không bản ghi nào bị xóa."
        in result.output
    )
    assert not evidence_store.exists(orphan_key)
    assert evidence_store.exists(corrupted.storage_key)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 3
    keys = {info.key for info in evidence_store.list("")}
    assert keys == {corrupted.storage_key, three_documents[2].storage_key}


def test_recent_orphans_are_left_alone_during_the_grace_period(
    app: Any, three_documents: list[Any], evidence_store: Any, clock: Any
) -> None:
    from evidence_store import new_key
    from webapp.models import utcnow

    key = new_key("TRUCLAM")
    evidence_store.put(key, io.BytesIO(b"upload still committing"))
    clock.value = utcnow() + timedelta(hours=2)
    result = _sweep(app, "--delete-orphans")
    assert result.exit_code == 0, result.output
    assert evidence_store.exists(key)
    shorter = _sweep(app, "--grace-hours", "1")
    assert shorter.exit_code == 1 and key in shorter.output


def test_replaced_versions_are_not_orphans(
    app: Any, client: Any, three_documents: list[Any], evidence_files: Any, clock: Any
) -> None:
    from webapp.models import utcnow

    old = three_documents[0]
    client.post(
        f"/evidence/{old.id}/replace",
        data={"file": (io.BytesIO(evidence_files.pdf(["v2"])), "Kế hoạch v2.pdf")},
        content_type="multipart/form-data",
    )
    clock.value = utcnow() + timedelta(days=3)
    result = _sweep(app)
    assert result.exit_code == 0, result.output
    assert "4 bản ghi" in result.output
