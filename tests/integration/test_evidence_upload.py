"""Uploading evidence to a leaf: names kept exactly, refusals, and failures that leave
nothing behind."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pytest
import sqlalchemy as sa

VN_NAME = "Kế hoạch CCHC năm 2026 - phường Trúc Lâm.pdf"
PDF_LINES = [
    "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "PHƯỜNG TRÚC LÂM Độc lập - Tự do - Hạnh phúc",
    "Số: 125/KH-UBND Trúc Lâm, ngày 05 tháng 01 năm 2026",
    "KẾ HOẠCH",
    "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
    "Thực hiện Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ",
]


def _rows() -> list[Any]:
    from webapp.extensions import db
    from webapp.models import Evidence

    return list(db.session.scalars(sa.select(Evidence)))


def _objects(store: Any) -> list[Any]:
    return list(store.list(""))


def _audit(action: str) -> list[Any]:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))
    )


def test_upload_keeps_the_vietnamese_name_exactly_and_links_the_leaf(
    evidence_backend: str,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    login_as("truclam.chuyenvien")
    assessment = demo["assessments"]["TRUCLAM"]
    data = evidence_files.pdf(PDF_LINES)
    # macOS sends decomposed (NFD) names; the stored name must be the composed (NFC)
    # one.
    nfd_name = unicodedata.normalize("NFD", VN_NAME)

    response = upload_file(
        assessment.id,
        nfd_name,
        data,
        ("1.1.1",),
        doc_type="Kế hoạch",
        doc_number="125/KH-UBND",
        issued_on="05/01/2026",
        issuer="UBND phường Trúc Lâm",
        summary="Cải cách hành chính năm 2026",
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] is True
    assert body["evidence"]["original_filename"] == VN_NAME
    assert body["evidence"]["criterion_codes"] == ["1.1.1"]
    assert 'class="evidence-item"' in body["item_html"] and VN_NAME in body["item_html"]
    (row,) = _rows()
    assert row.original_filename == VN_NAME
    assert unicodedata.is_normalized("NFC", row.original_filename)
    assert (
        row.size == len(data)
        and row.mime_type == "application/pdf"
        and row.kind == "pdf"
    )
    assert row.issued_on.isoformat() == "2026-01-05" and row.doc_number == "125/KH-UBND"
    assert "ke hoach cchc nam 2026" in row.search_text
    # The object holds exactly the uploaded bytes, under a generated key (not the name).
    assert b"".join(evidence_store.iter_chunks(row.storage_key)) == data
    assert row.storage_key.startswith("TRUCLAM/") and "Ke" not in row.storage_key
    (event,) = _audit("evidence.upload")
    assert event.after["original_filename"] == VN_NAME
    assert event.after["criterion_codes"] == ["1.1.1"] and event.before is None


def test_one_upload_can_prove_several_leaves(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "ke-hoach.pdf",
        evidence_files.pdf(["KẾ HOẠCH"]),
        ("1.1.1", "1.1.2"),
    )
    assert response.status_code == 200
    (row,) = _rows()
    assert row.criterion_codes == ["1.1.1", "1.1.2"]


@pytest.mark.parametrize(
    ("code", "message"),
    [("9.9.9", "Không có tiêu chí mã 9.9.9"), ("1.1", "có tiêu chí thành phần")],
)
def test_upload_to_an_unknown_or_non_leaf_code_is_refused(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    code: str,
    message: str,
) -> None:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "a.pdf", evidence_files.pdf(["x"]), (code,)
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _rows() == [] and _objects(evidence_store) == []


def test_disguised_html_is_refused_with_its_message_and_leaves_nothing(
    evidence_backend: str,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Báo cáo.pdf", evidence_files.html()
    )

    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False
    assert body["error"].startswith("Tệp “Báo cáo.pdf”")
    assert "trang HTML" in body["error"]
    assert _rows() == [] and _objects(evidence_store) == []
    assert _audit("evidence.upload") == []


def test_too_large_a_file_is_refused_with_413(
    app: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 500
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "lớn.pdf", evidence_files.pdf(PDF_LINES)
    )
    assert response.status_code == 413
    assert "vượt giới hạn" in response.get_json()["error"]
    assert _rows() == [] and _objects(evidence_store) == []


def test_storage_failure_mid_upload_leaves_no_row_and_no_object(
    evidence_backend: str,
    app: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_store: Any,
    evidence_files: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evidence_store import StorageError

    real_stage = type(evidence_store).stage

    class BrokenStage:
        """Takes 64 KiB of the upload as it arrives, then the connection dies."""

        def __init__(self, inner: Any) -> None:
            self.inner, self.sent = inner, 0
            self.key = inner.key

        def write(self, data: bytes) -> int:
            if self.sent >= 64 * 1024:
                raise StorageError("Mất kết nối tới kho lưu trữ.")
            self.sent += len(data)
            return int(self.inner.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def failing_stage(self: Any, key: str, **kwargs: Any) -> Any:
        return BrokenStage(real_stage(self, key, **kwargs))

    monkeypatch.setattr(type(evidence_store), "stage", failing_stage)
    login_as("truclam.chuyenvien")
    # A real JPEG header would be rejected as truncated: a big valid PDF passes
    # validation.
    # Larger than one read of the parser (1 MiB): the body reaches the stage in
    # several writes, and the second one fails.
    big_pdf = evidence_files.padded_pdf(3 << 20)
    response = upload_file(demo["assessments"]["TRUCLAM"].id, "Biên bản.pdf", big_pdf)

    assert response.status_code == 503
    assert "Không lưu được tệp vào kho lưu trữ" in response.get_json()["error"]
    assert _rows() == []
    assert _objects(evidence_store) == []
    if evidence_backend == "local":
        # Not even the backend's temporary part file is left on disk.
        root = app.config["EVIDENCE_LOCAL_ROOT"]
        import os

        assert [f for _, _, files in os.walk(root) for f in files] == []


def test_database_failure_after_the_store_put_deletes_the_object(
    evidence_backend: str,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    from webapp.extensions import db

    login_as("truclam.chuyenvien")

    def database_down(session: Any, *_: Any) -> None:
        raise sa.exc.OperationalError(
            "INSERT INTO evidence", {}, Exception("database is locked")
        )

    sa.event.listen(db.session, "before_flush", database_down)
    try:
        response = upload_file(
            demo["assessments"]["TRUCLAM"].id,
            "Kế hoạch.pdf",
            evidence_files.pdf(PDF_LINES),
        )
    finally:
        sa.event.remove(db.session, "before_flush", database_down)

    assert response.status_code == 500
    assert "Tệp vừa tải đã được hủy" in response.get_json()["error"]
    assert _rows() == []
    assert _objects(evidence_store) == []  # no orphan: the object was deleted again


def test_plain_form_upload_redirects_to_the_document_to_confirm_its_citation(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    client: Any,
) -> None:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        VN_NAME,
        evidence_files.pdf(PDF_LINES),
        xhr=False,
    )
    assert response.status_code == 302
    (row,) = _rows()
    assert f"/evidence/{row.id}?prefill=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # The empty citation fields are filled from the document's header, for the user to
    # confirm.
    assert 'value="125/KH-UBND"' in page
    assert 'value="05/01/2026"' in page
    assert "Ủy ban nhân dân phường Trúc Lâm" in page
    assert (
        '<option selected value="Kế hoạch">' in page
        or 'value="Kế hoạch" selected' in page
    )
    assert row.doc_number == ""  # nothing is saved until the user confirms
    # Read once, before the redirect, and kept: reopening the page reads no file.
    assert row.citation_proposal["doc_number"] == "125/KH-UBND"


def test_plain_form_upload_of_several_files_reports_each(
    demo: dict[str, Any],
    login_as: Any,
    evidence_files: Any,
    client: Any,
    evidence_store: Any,
) -> None:
    login_as("truclam.chuyenvien")
    assessment = demo["assessments"]["TRUCLAM"]
    response = client.post(
        f"/evidence/assessments/{assessment.id}/upload",
        data={
            "file": [
                (io.BytesIO(evidence_files.pdf(["a"])), "Tờ trình.pdf"),
                (io.BytesIO(evidence_files.html()), "Giả mạo.pdf"),
                (io.BytesIO(evidence_files.png()), "Ảnh chụp.png"),
            ],
            "criterion_code": "1.1.2",
            "next": "/assessments/",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/assessments/"
    )
    assert sorted(r.original_filename for r in _rows()) == [
        "Tờ trình.pdf",
        "Ảnh chụp.png",
    ]
    assert len(_objects(evidence_store)) == 2
    with client.session_transaction() as session:
        flashes = [message for _, message in session["_flashes"]]
    assert any("Giả mạo.pdf" in m and "trang HTML" in m for m in flashes)


def test_uploads_are_refused_once_the_assessment_is_submitted(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    evidence_store: Any,
    submit_directly: Any,
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    submit_directly(assessment)
    login_as("truclam.chuyenvien")
    response = upload_file(
        assessment.id, "Báo cáo.pdf", evidence_files.pdf(["BÁO CÁO"])
    )
    assert response.status_code == 409
    assert (
        response.get_json()["error"] == "Hồ sơ đã gửi và được khóa: không thể thay đổi."
    )
    assert _rows() == [] and _objects(evidence_store) == []


def test_uploads_are_refused_after_the_deadline(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    clock: Any,
) -> None:
    from datetime import UTC, datetime

    clock.value = datetime(
        2026, 12, 15, 17, 0, 1, tzinfo=UTC
    )  # 16/12 00:00:01 in Hà Nội
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Báo cáo.pdf", evidence_files.pdf(["x"])
    )
    assert response.status_code == 409
    assert "Đã quá hạn tự đánh giá" in response.get_json()["error"]
    assert _rows() == []


def test_another_units_assessment_is_not_found(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    login_as("nghison.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "x.pdf", evidence_files.pdf(["x"])
    )
    assert response.status_code == 404
    assert _rows() == []


@pytest.mark.parametrize("username", ["admin", "thamdinh"])
def test_only_unit_staff_upload(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    username: str,
) -> None:
    login_as(username)
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "x.pdf", evidence_files.pdf(["x"])
    )
    assert response.status_code == 403
    assert _rows() == []


def test_upload_without_csrf_token_is_refused(
    app: Any, demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    app.config["WTF_CSRF_ENABLED"] = True
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "x.pdf", evidence_files.pdf(["x"])
    )
    assert response.status_code == 400
    assert "mã bảo mật biểu mẫu đã hết hạn" in response.get_json()["error"]
    assert _rows() == []


def test_a_request_over_the_server_limit_gets_a_json_answer_for_the_widget(
    app: Any, demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "lớn.pdf", evidence_files.pdf(PDF_LINES)
    )
    assert response.status_code == 413
    assert response.get_json() == {
        "ok": False,
        "error": "Tệp tải lên vượt quá dung lượng cho phép (100 MB).",
    }
    assert _rows() == []


def test_the_size_refusal_names_the_configured_limit(
    app: Any, demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    """PARINDEX_UPLOAD_MAX_BYTES=20 MiB: the message says 20 MB, not a fixed 100 MB."""
    login_as("truclam.chuyenvien")
    app.config["UPLOAD_MAX_BYTES"] = 20 << 20
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "lớn.pdf", evidence_files.pdf(PDF_LINES)
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "Tệp tải lên vượt quá dung lượng cho phép (20 MB)."
    )
    assert _rows() == []


def test_a_full_windows_path_from_an_old_browser_keeps_the_base_name(
    demo: dict[str, Any], login_as: Any, evidence_files: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    pdf = evidence_files.pdf(PDF_LINES)
    # As old browsers send it: the whole path, backslashes not escaped.
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file"; '
        + 'filename="C:\\fakepath\\Kế hoạch CCHC.pdf"'.encode()
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + pdf
        + b'\r\n--XX\r\nContent-Disposition: form-data; name="criterion_code"\r\n\r\n'
        + b"1.1.1\r\n--XX--\r\n"
    )
    response = client.post(
        f"/evidence/assessments/{demo['assessments']['TRUCLAM'].id}/upload",
        data=body,
        content_type="multipart/form-data; boundary=XX",
        headers={"X-Requested-With": "XMLHttpRequest"},
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["evidence"]["original_filename"] == "Kế hoạch CCHC.pdf"
    (row,) = _rows()
    assert row.original_filename == "Kế hoạch CCHC.pdf"


def test_a_file_shorter_than_the_widget_declared_is_refused_on_s3(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    s3_store_of_app: Any,
) -> None:
    login_as("truclam.chuyenvien")
    data = evidence_files.padded_pdf(2 << 20)
    # The size header says more than arrives: S3 streams a declared upload and must
    # not store a truncated file.
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Biên bản.pdf", data, declared=len(data) + 1
    )

    assert response.status_code == 503
    assert "Không lưu được tệp vào kho lưu trữ" in response.get_json()["error"]
    assert _rows() == []
    assert _objects(s3_store_of_app) == []


@pytest.mark.parametrize("header", ["abc", "-5", "١٢٣", "9" * 30])
def test_a_size_header_that_is_no_size_is_ignored(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    s3_store_of_app: Any,
    header: str,
) -> None:
    login_as("truclam.chuyenvien")
    data = evidence_files.padded_pdf(2 << 20)

    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Biên bản.pdf", data, declared=header
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    (row,) = _rows()
    assert row.size == len(data)
