"""Uploads written once, straight from the request into the store: the CSRF header is
checked before a byte is stored, a bad file is refused while it still arrives, and what
is refused leaves nothing behind, on the local directory and on S3."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Evidence

MIB = 1 << 20
# Werkzeug's test client keeps bodies over 500 KiB in temporary files it never closes
# when a request is refused early: stay under that where the request is refused.
SMALL = 400 * 1024


def _pdf(size: int) -> bytes:
    head, tail = b"%PDF-1.4\n%", b"\ntrailer\n<< >>\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


def _rows() -> list[Evidence]:
    return list(db.session.scalars(sa.select(Evidence)))


def _left_on_disk(app: Any) -> list[str]:
    root = app.config["EVIDENCE_LOCAL_ROOT"]
    return [f for _, _, files in os.walk(root) for f in files]


def _post(client: Any, assessment_id: int, name: str, data: bytes, **kw: Any) -> Any:
    headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
    headers.update(kw.pop("headers", {}))
    return client.post(
        f"/evidence/assessments/{assessment_id}/upload",
        data={"file": (io.BytesIO(data), name), "criterion_code": "1.1.1", **kw},
        headers=headers,
        content_type="multipart/form-data",
    )


class _CountingStages:
    """Counts what the store's stages receive (how many bytes reached the store)."""

    def __init__(self, monkeypatch: Any, store: Any) -> None:
        self.opened = 0
        self.written = 0
        real = type(store).stage
        outer = self

        class Counting:
            def __init__(self, inner: Any) -> None:
                self.inner, self.key = inner, inner.key

            def write(self, data: bytes) -> int:
                outer.written += len(data)
                return int(self.inner.write(data))

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

        def stage(self_: Any, key: str, **kwargs: Any) -> Any:
            outer.opened += 1
            return Counting(real(self_, key, **kwargs))

        monkeypatch.setattr(type(store), "stage", stage)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def _logged_in_page_token(
    client: Any, login_as: Any, csrf_token_in: Any, demo: Any
) -> str:
    """Log in through the real form (CSRF is on here); the assessment page's token."""
    token = csrf_token_in(client.get("/auth/login").data)
    response = client.post(
        "/auth/login",
        data={
            "username": "truclam.chuyenvien",
            "password": demo["password"],
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    page = client.get(f"/assessments/{demo['assessments']['TRUCLAM'].id}")
    return str(csrf_token_in(page.data))


def test_a_stale_header_token_is_refused_before_a_byte_is_stored(
    app: Any,
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    csrf_token_in: Any,
    evidence_backend: str,
    evidence_store: Any,
    monkeypatch: Any,
) -> None:
    _logged_in_page_token(client, login_as, csrf_token_in, demo)
    counting = _CountingStages(monkeypatch, evidence_store)

    response = _post(
        client,
        demo["assessments"]["TRUCLAM"].id,
        "Kế hoạch.pdf",
        _pdf(SMALL),
        headers={"X-CSRFToken": "het-han"},
    )

    assert response.status_code == 400
    assert "mã bảo mật biểu mẫu đã hết hạn" in response.get_json()["error"]
    assert counting.opened == 0  # the body was never parsed into the store
    assert _rows() == []
    assert list(evidence_store.list()) == []


def test_the_header_token_alone_lets_the_widget_upload(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    csrf_token_in: Any,
    evidence_backend: str,
) -> None:
    token = _logged_in_page_token(client, login_as, csrf_token_in, demo)
    data = _pdf(SMALL)

    response = _post(
        client,
        demo["assessments"]["TRUCLAM"].id,
        "Kế hoạch CCHC.pdf",
        data,
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    (row,) = _rows()
    assert row.original_filename == "Kế hoạch CCHC.pdf"
    assert row.size == len(data)
    assert row.crc32 == zlib.crc32(data)
    assert client.get(f"/evidence/{row.id}/download").data == data


def test_the_plain_form_still_sends_its_token_as_a_field(
    client: Any, demo: dict[str, Any], login_as: Any, csrf_token_in: Any
) -> None:
    token = _logged_in_page_token(client, login_as, csrf_token_in, demo)
    response = client.post(
        f"/evidence/assessments/{demo['assessments']['TRUCLAM'].id}/upload",
        data={
            "csrf_token": token,
            "criterion_code": "1.1.1",
            "file": (io.BytesIO(_pdf(64 * 1024)), "Báo cáo.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert [r.original_filename for r in _rows()] == ["Báo cáo.pdf"]


def test_a_forged_field_token_leaves_no_file_behind(
    app: Any, client: Any, demo: dict[str, Any], login_as: Any, csrf_token_in: Any
) -> None:
    _logged_in_page_token(client, login_as, csrf_token_in, demo)
    response = client.post(
        f"/evidence/assessments/{demo['assessments']['TRUCLAM'].id}/upload",
        data={
            "csrf_token": "gia-mao",
            "file": (io.BytesIO(_pdf(SMALL)), "Báo cáo.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert _rows() == []
    assert _left_on_disk(app) == []  # not even the stage's temporary file


def test_a_disguised_program_is_refused_while_it_arrives(
    app: Any,
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    csrf_token_in: Any,
    evidence_backend: str,
    evidence_store: Any,
    monkeypatch: Any,
) -> None:
    token = _logged_in_page_token(client, login_as, csrf_token_in, demo)
    counting = _CountingStages(monkeypatch, evidence_store)
    program = b"MZ\x90\x00" + os.urandom(SMALL)

    response = _post(
        client,
        demo["assessments"]["TRUCLAM"].id,
        "Quyết định.pdf",
        program,
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 400
    assert "chương trình chạy được" in response.get_json()["error"]
    # Refused from its head: the rest never reached the store.
    assert counting.written < SMALL // 2
    assert _rows() == []
    assert list(evidence_store.list()) == []
    if evidence_backend == "local":
        assert _left_on_disk(app) == []


def test_the_zip_stores_a_pdf_as_is_and_ends_with_the_generated_documents(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    csrf_token_in: Any,
) -> None:
    token = _logged_in_page_token(client, login_as, csrf_token_in, demo)
    assessment_id = demo["assessments"]["TRUCLAM"].id
    data = _pdf(256 * 1024)
    assert (
        _post(
            client, assessment_id, "Kế hoạch.pdf", data, headers={"X-CSRFToken": token}
        )
    ).status_code == 200

    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/dossier/assessments/{assessment_id}/dossier.zip").data)
    )

    (pdf,) = [i for i in archive.infolist() if i.filename.endswith("Kế hoạch.pdf")]
    assert pdf.compress_type == zipfile.ZIP_STORED
    assert archive.read(pdf) == data
    names = archive.namelist()
    assert names.index(pdf.filename) < names.index(
        next(n for n in names if n.endswith(".docx"))
    )
    assert names[-2:] == ["manifest.csv", "manifest.json"]
    assert archive.testzip() is None
