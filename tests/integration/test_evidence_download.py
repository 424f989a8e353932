"""Getting documents back: download under the original Vietnamese name, inline
preview of PDFs and images, Word and Excel as safe HTML, who may read, and replacing
a file (history kept)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa

NAME = "Biên bản đánh giá – Đợt 1.pdf"


@pytest.fixture
def pdf_bytes(evidence_files: Any) -> bytes:
    return evidence_files.pdf(["BIÊN BẢN", "Đánh giá công tác cải cách hành chính"])


@pytest.fixture
def uploaded(
    demo: dict[str, Any], login_as: Any, upload_file: Any, pdf_bytes: bytes
) -> Any:
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        NAME,
        pdf_bytes,
        ("1.1.1", "1.1.2"),
        doc_type="Biên bản",
        summary="Đánh giá công tác CCHC",
    )
    assert response.status_code == 200
    return db.session.get(Evidence, response.get_json()["evidence"]["id"])


def test_download_returns_the_same_bytes_under_the_original_name(
    evidence_backend: str, client: Any, uploaded: Any, pdf_bytes: bytes
) -> None:
    response = client.get(f"/evidence/{uploaded.id}/download")

    assert response.status_code == 200
    assert response.get_data() == pdf_bytes
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(pdf_bytes))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(NAME, safe='')}" in disposition
    # Old clients get a readable ASCII name: diacritics dropped, đ as d.
    assert 'filename="Bien ban danh gia Dot 1.pdf"' in disposition
    # A browser decoding filename* gets the exact name back.
    from urllib.parse import unquote

    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == NAME


def test_pdf_preview_is_inline_with_a_strict_policy(
    client: Any, uploaded: Any, pdf_bytes: bytes
) -> None:
    response = client.get(f"/evidence/{uploaded.id}/preview")
    assert response.status_code == 200
    assert response.get_data() == pdf_bytes
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    page = client.get(f"/evidence/{uploaded.id}").get_data(as_text=True)
    assert (
        f'<iframe class="evidence-preview" src="/evidence/{uploaded.id}/preview"'
        in page
    )


def test_image_preview_is_sandboxed(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
) -> None:
    login_as("truclam.chuyenvien")
    body = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Ảnh bảng niêm yết.png", evidence_files.png()
    )
    evidence_id = body.get_json()["evidence"]["id"]
    response = client.get(f"/evidence/{evidence_id}/preview")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Security-Policy"].endswith("; sandbox")
    assert response.get_data() == evidence_files.png()
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert (
        f'<img class="evidence-preview-img" src="/evidence/{evidence_id}/preview"'
        in page
    )


def test_word_and_excel_documents_preview_as_sanitised_html(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
) -> None:
    from openpyxl import Workbook

    login_as("truclam.chuyenvien")
    truclam = demo["assessments"]["TRUCLAM"]
    docx = evidence_files.docx(
        [("ỦY BAN NHÂN DÂN", "")], ["Nội dung tờ trình", "<script>alert(1)</script>"]
    )
    body = upload_file(truclam.id, "Tờ trình.docx", docx).get_json()
    evidence_id = body["evidence"]["id"]
    assert body["evidence"]["preview_url"] == f"/evidence/{evidence_id}/preview"

    preview = client.get(f"/evidence/{evidence_id}/preview")

    assert preview.status_code == 200 and preview.mimetype == "text/html"
    text = preview.get_data(as_text=True)
    assert "<p>Nội dung tờ trình</p>" in text and "ỦY BAN NHÂN DÂN" in text
    # Text that looks like markup stays text; nothing in the page can run.
    assert "<script>" not in text and "&lt;script&gt;" in text
    csp = preview.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert (
        f'<iframe class="evidence-preview" src="/evidence/{evidence_id}/preview"'
        in (page)
    )
    download = client.get(f"/evidence/{evidence_id}/download")
    assert download.status_code == 200 and download.get_data() == docx

    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    ws.append(["Nhiệm vụ", "Tỷ lệ"])
    ws.append(["Hoàn thành", 92.5])
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet = upload_file(truclam.id, "Số liệu.xlsx", buffer.getvalue()).get_json()
    table = client.get(f"/evidence/{sheet['evidence']['id']}/preview").get_data(
        as_text=True
    )
    assert "<h2>Tổng hợp</h2>" in table
    assert "<td>Hoàn thành</td><td>92,5</td>" in table


def test_appraisers_read_only_submitted_assessments_of_their_units(
    client: Any, uploaded: Any, login_as: Any, pdf_bytes: bytes, submit_directly: Any
) -> None:
    from webapp.extensions import db
    from webapp.models import Assessment

    login_as("thamdinh")
    assert (
        client.get(f"/evidence/{uploaded.id}/download").status_code == 404
    )  # still a draft
    submit_directly(db.session.get(Assessment, uploaded.assessment_id))
    response = client.get(f"/evidence/{uploaded.id}/download")
    assert response.status_code == 200 and response.get_data() == pdf_bytes
    page = client.get(f"/evidence/{uploaded.id}")
    assert page.status_code == 200 and "Lưu trích dẫn" not in page.get_data(
        as_text=True
    )
    # An appraiser cannot write, even to a readable document.
    assert (
        client.post(
            f"/evidence/{uploaded.id}/unlink", data={"criterion_code": "1.1.1"}
        ).status_code
        == 403
    )


def test_admin_reads_every_units_documents(
    client: Any, uploaded: Any, login_as: Any
) -> None:
    login_as("admin")
    assert client.get(f"/evidence/{uploaded.id}/download").status_code == 200
    assert client.get(f"/evidence/{uploaded.id}").status_code == 200


def test_missing_object_gives_a_clean_404(
    client: Any, uploaded: Any, evidence_store: Any
) -> None:
    evidence_store.delete(uploaded.storage_key)
    response = client.get(f"/evidence/{uploaded.id}/download")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_replace_keeps_citation_links_and_the_old_version_downloadable(
    evidence_backend: str,
    client: Any,
    uploaded: Any,
    pdf_bytes: bytes,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    from webapp.extensions import db
    from webapp.models import AuditEvent, Evidence

    new_bytes = evidence_files.pdf(["BIÊN BẢN", "Bản đã ký số"])
    response = client.post(
        f"/evidence/{uploaded.id}/replace",
        data={"file": (io.BytesIO(new_bytes), "Biên bản (đã ký).pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    old = db.session.get(Evidence, uploaded.id)
    new = db.session.get(Evidence, old.replaced_by_id)
    assert response.headers["Location"] == f"/evidence/{new.id}?prefill=replaced"
    assert old.replaced_at is not None and not old.is_current and new.is_current
    assert new.original_filename == "Biên bản (đã ký).pdf"
    assert (new.doc_type, new.summary) == ("Biên bản", "Đánh giá công tác CCHC")
    assert new.criterion_codes == ["1.1.1", "1.1.2"]
    assert (
        old.criterion_codes == []
    )  # the links moved: "current evidence" never shows both
    assert new.storage_key != old.storage_key
    # Both objects are kept; each row downloads its own bytes.
    assert client.get(f"/evidence/{old.id}/download").get_data() == pdf_bytes
    assert client.get(f"/evidence/{new.id}/download").get_data() == new_bytes
    assert len(list(evidence_store.list(""))) == 2
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "evidence.replace")
    )
    assert (
        event.before["original_filename"] == NAME
        and event.before["sha256"] == old.sha256
    )
    assert (
        event.after["replaced_by_id"] == new.id and event.after["sha256"] == new.sha256
    )
    # The history is on the document page, newest first, with both downloads.
    page = client.get(f"/evidence/{new.id}").get_data(as_text=True)
    history = page.split("Lịch sử phiên bản", 1)[1]
    assert history.index("Biên bản (đã ký).pdf") < history.index(NAME)
    assert (
        f"/evidence/{old.id}/download" in history
        and f"/evidence/{new.id}/download" in history
    )
    old_page = client.get(f"/evidence/{old.id}").get_data(as_text=True)
    assert "Đã được thay thế" in old_page and "Thay tệp" not in old_page


def test_a_replaced_version_cannot_be_changed(
    client: Any, uploaded: Any, evidence_files: Any
) -> None:
    client.post(
        f"/evidence/{uploaded.id}/replace",
        data={"file": (io.BytesIO(evidence_files.pdf(["v2"])), "v2.pdf")},
        content_type="multipart/form-data",
    )
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.3"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert "đã được thay bằng phiên bản mới" in response.get_json()["error"]


def test_replacing_with_a_refused_file_changes_nothing(
    client: Any, uploaded: Any, evidence_files: Any, evidence_store: Any
) -> None:
    from webapp.extensions import db

    response = client.post(
        f"/evidence/{uploaded.id}/replace",
        data={"file": (io.BytesIO(evidence_files.html()), "v2.pdf")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and "trang HTML" in response.get_json()["error"]
    db.session.expire_all()
    assert uploaded.is_current and uploaded.criterion_codes == ["1.1.1", "1.1.2"]
    assert len(list(evidence_store.list(""))) == 1


def test_s3_presigned_downloads_redirect_after_the_access_check(
    app: Any,
    client: Any,
    login_as: Any,
    demo: dict[str, Any],
    upload_file: Any,
    pdf_bytes: bytes,
    s3_settings: dict[str, Any],
) -> None:
    app.config.update(s3_settings, S3_PRESIGNED=True)
    app.extensions["evidence_store"] = None
    login_as("truclam.chuyenvien")
    body = upload_file(demo["assessments"]["TRUCLAM"].id, NAME, pdf_bytes).get_json()
    response = client.get(f"/evidence/{body['evidence']['id']}/download")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(s3_settings["S3_ENDPOINT_URL"])
    assert "response-content-disposition" in location and "Signature" in location
    assert "response-cache-control=no-store" in location
    assert response.headers["Cache-Control"] == "no-store"
    fetched = requests.get(location, timeout=10)  # what the browser then gets from S3
    assert fetched.content == pdf_bytes
    assert fetched.headers["Cache-Control"] == "no-store"
    login_as("nghison.chuyenvien")
    assert client.get(f"/evidence/{body['evidence']['id']}/download").status_code == 404


def test_no_evidence_or_dossier_file_is_kept_in_a_cache(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    plan = dossier_case["plan"]
    client = login_as("truclam.chuyenvien")
    urls = [
        f"/evidence/{plan.id}/download",
        f"/evidence/{plan.id}/preview",
        *(
            f"/dossier/assessments/{assessment.id}/{name}"
            for name in ("scores.xlsx", "report.docx", "dossier.zip")
        ),
    ]
    for url in urls:
        response = client.get(url)
        response.get_data()  # read the streamed body to its end
        assert response.status_code == 200, url
        assert "Content-Disposition" in response.headers, url
        assert response.headers["Cache-Control"] == "no-store", url
    ranking = login_as("admin").get(
        f"/dossier/periods/{dossier_case['period'].id}/ranking.xlsx"
    )
    assert ranking.status_code == 200
    assert ranking.headers["Cache-Control"] == "no-store"


def test_the_back_link_stays_on_the_site(client: Any, uploaded: Any) -> None:
    page = client.get(
        f"/evidence/{uploaded.id}", query_string={"next": "/\\evil.example"}
    )
    assert "evil.example" not in page.get_data(as_text=True)
    page = client.get(
        f"/evidence/{uploaded.id}", query_string={"next": "/assessments/1"}
    )
    assert '<a href="/assessments/1">← Quay lại</a>' in page.get_data(as_text=True)
