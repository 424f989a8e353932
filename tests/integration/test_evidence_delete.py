"""A wrongly uploaded document can be deleted while its leaves are editable (soft
delete: the row is marked, the object stays until the sweep, the audit log has it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Evidence, utcnow


@pytest.fixture
def wrong_upload(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> Any:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "Nhầm tệp.pdf",
        evidence_files.pdf(["Nhầm"]),
        ("1.1.1", "1.1.2"),
    )
    assert response.status_code == 200
    return db.session.get(Evidence, response.get_json()["evidence"]["id"])


def test_deleting_a_wrong_upload_marks_it_keeps_the_object_and_is_audited(
    app: Any,
    client: Any,
    demo: dict[str, Any],
    wrong_upload: Any,
    evidence_store: Any,
    clock: Any,
) -> None:
    truclam = demo["assessments"]["TRUCLAM"]
    page = client.get(f"/assessments/{truclam.id}").text
    assert f'action="/evidence/{wrong_upload.id}/delete"' in page

    response = client.post(f"/evidence/{wrong_upload.id}/delete")

    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Evidence, wrong_upload.id)
    assert row is not None and row.deleted_at is not None
    assert row.deleted_by_id == demo["users"]["truclam.chuyenvien"].id
    assert evidence_store.exists(row.storage_key)  # kept until the sweep
    page = client.get(f"/assessments/{truclam.id}").text
    assert ">Nhầm tệp.pdf</a>" not in page
    assert ">Nhầm tệp.pdf</a>" not in client.get("/evidence/").text
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "evidence.delete")
    )
    assert event is not None and event.summary == "Xóa tài liệu “Nhầm tệp.pdf”"
    assert event.before["criterion_codes"] == ["1.1.1", "1.1.2"]

    # The sweep treats the object as an orphan once past its grace, and removes it.
    clock.value = utcnow() + timedelta(days=2)
    result = app.test_cli_runner().invoke(
        args=["evidence", "sweep", "--delete-orphans", "--no-hashes"]
    )
    assert result.exit_code == 0, result.output
    assert not evidence_store.exists(row.storage_key)


def test_a_document_in_a_submitted_snapshot_is_never_deleted(
    client: Any,
    demo: dict[str, Any],
    wrong_upload: Any,
    submit_directly: Any,
    login_as: Any,
) -> None:
    truclam = demo["assessments"]["TRUCLAM"]
    submit_directly(truclam)
    # Even reopened (a draft again), what was submitted stays provable.
    truclam.status = "draft"
    db.session.commit()
    login_as("truclam.chuyenvien")
    assert (
        f'action="/evidence/{wrong_upload.id}/delete"'
        not in client.get(f"/assessments/{truclam.id}").text
    )

    response = client.post(
        f"/evidence/{wrong_upload.id}/delete",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 409
    assert "thuộc hồ sơ đã gửi" in response.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(Evidence, wrong_upload.id).deleted_at is None


def test_a_frozen_leaf_keeps_its_documents(
    client: Any, demo: dict[str, Any], wrong_upload: Any, clock: Any, login_as: Any
) -> None:
    clock.value = utcnow() + timedelta(days=60)  # past the deadline
    login_as("truclam.chuyenvien")

    response = client.post(
        f"/evidence/{wrong_upload.id}/delete",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Evidence, wrong_upload.id).deleted_at is None
