"""The upload widget in a real browser, on the S3 backend (the moto server): it
declares its file's size, so a large scan goes up as one PutObject streamed while it
arrives, not as a multipart upload, and arrives byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import VN_TZ

pytestmark = pytest.mark.browser
FILENAME = "Bản quét quyết định 6 MiB.pdf"


def test_the_widget_streams_a_large_scan_to_s3_in_one_put(
    s3_store_of_app: Any,  # 5 MiB threshold: 6 MiB would be two parts
    live_server: str,
    browser_page: Any,
    demo: dict[str, Any],
    clock: Any,
    log_in: Callable[[Any, str, str], None],
    evidence_files: Any,
    tmp_path: Path,
) -> None:
    from webapp.extensions import db
    from webapp.models import Evidence

    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    data = evidence_files.padded_pdf(6 << 20)
    (tmp_path / FILENAME).write_bytes(data)

    page, base = browser_page, live_server
    log_in(page, base, "truclam.chuyenvien")
    page.goto(f"{base}/assessments/{truclam.id}")
    leaf = page.locator('[id="leaf-1.1.1"]')
    leaf.locator('.evidence-upload input[type="file"]').set_input_files(
        str(tmp_path / FILENAME)
    )
    done = leaf.locator(".upload-queue .upload-item.done")
    done.wait_for(timeout=30_000)
    assert "Đã tải lên" in done.locator(".upload-status").inner_text()

    db.session.rollback()
    row = db.session.scalar(sa.select(Evidence).filter_by(original_filename=FILENAME))
    assert row is not None
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    store = s3_store_of_app
    head = store.client.head_object(Bucket=store.bucket, Key=row.storage_key)
    assert head["ContentLength"] == len(data)
    assert "-" not in head["ETag"]  # one PutObject; a multipart ETag ends in "-2"
