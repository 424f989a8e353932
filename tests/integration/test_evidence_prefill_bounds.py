"""The citation pre-fill is bounded: read once, right after the upload, from the first
pages or the first KB of text (never the whole document), stored with the document,
and a document past the bound gets no proposal but is still uploaded."""

from __future__ import annotations

import io
from typing import Any

import pytest

from webapp.evidence import textread

HEADER = [
    ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("PHƯỜNG TRÚC LÂM", "Độc lập - Tự do - Hạnh phúc"),
    ("Số: 125/KH-UBND", "Trúc Lâm, ngày 05 tháng 01 năm 2026"),
]
BODY = ["KẾ HOẠCH", "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026"]
PDF_LINES = [
    "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "PHƯỜNG TRÚC LÂM Độc lập - Tự do - Hạnh phúc",
    "Số: 125/KH-UBND Trúc Lâm, ngày 05 tháng 01 năm 2026",
    "KẾ HOẠCH",
    "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
]
NO_PROPOSAL = {
    "doc_type": "",
    "doc_number": "",
    "issued_on": "",
    "issuer": "",
    "summary": "",
}


@pytest.fixture
def upload_and_read(upload_file: Any, read_proposal: Any) -> Any:
    """Upload as the widget does, then ask for the proposal: its answer and the row."""
    from webapp.extensions import db
    from webapp.models import Evidence

    def upload(demo: dict[str, Any], name: str, data: bytes) -> Any:
        response = upload_file(demo["assessments"]["TRUCLAM"].id, name, data)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["prefill"] is None  # not read on the upload's path
        proposal = read_proposal(body)
        db.session.expire_all()
        return proposal, db.session.get(Evidence, body["evidence"]["id"])

    return upload


@pytest.fixture
def large_docx(evidence_files: Any) -> bytes:
    data = evidence_files.docx(HEADER, BODY, filler_bytes=6_000_000)
    assert len(data) > 6_000_000
    return bytes(data)


def test_a_6_mb_docx_is_proposed_from_its_first_part_only(
    demo: dict[str, Any], login_as: Any, upload_and_read: Any, large_docx: bytes
) -> None:
    login_as("truclam.chuyenvien")

    body, evidence = upload_and_read(demo, "Kế hoạch lớn.docx", large_docx)

    assert body["prefill"]["doc_number"] == "125/KH-UBND"
    assert evidence.citation_proposal["doc_number"] == "125/KH-UBND"
    # The reader stops at its paragraph and byte bounds, whatever follows.
    text = textread.docx_text(io.BytesIO(large_docx))
    assert len(text.splitlines()) <= textread.MAX_PARAGRAPHS
    assert len(text.encode()) <= textread.MAX_XML_BYTES


def test_a_docx_whose_header_lies_past_the_reading_bound_gets_no_proposal(
    demo: dict[str, Any], login_as: Any, upload_and_read: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    data = evidence_files.docx(HEADER, BODY, filler_bytes=1_000_000, filler_first=True)

    body, evidence = upload_and_read(demo, "Phụ lục.docx", data)

    assert body["prefill"] == NO_PROPOSAL
    assert evidence.citation_proposal == {}  # read: nothing kept
    assert "125/KH-UBND" not in textread.docx_text(io.BytesIO(data))


def test_a_small_pdf_that_inflates_massively_gets_no_proposal(
    demo: dict[str, Any], login_as: Any, upload_and_read: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    heavy = evidence_files.pdf(PDF_LINES, filler_ops=1_500_000)
    assert len(heavy) < 20_000  # 10 MB of page content once inflated

    body, evidence = upload_and_read(demo, "Quyết định nặng.pdf", heavy)

    assert body["prefill"] == NO_PROPOSAL  # uploaded all the same
    assert evidence.citation_proposal == {}  # read: nothing kept
    with pytest.raises(textread.TooHeavy):
        textread.pdf_text(io.BytesIO(heavy))
    # The same page without the filler is proposed: the bound, not the text, said no.
    light, _ = upload_and_read(demo, "Quyết định.pdf", evidence_files.pdf(PDF_LINES))
    assert light["prefill"]["doc_number"] == "125/KH-UBND"


def test_the_detail_page_reads_the_stored_proposal_not_the_file(
    demo: dict[str, Any],
    login_as: Any,
    upload_and_read: Any,
    evidence_files: Any,
    evidence_store: Any,
    client: Any,
) -> None:
    login_as("truclam.chuyenvien")
    _, evidence = upload_and_read(
        demo, "Kế hoạch.docx", evidence_files.docx(HEADER, BODY)
    )
    evidence_store.delete(evidence.storage_key)  # nothing left to read again

    page = client.get(f"/evidence/{evidence.id}?prefill=1")

    assert page.status_code == 200
    assert 'value="125/KH-UBND"' in page.get_data(as_text=True)


def test_a_reader_past_its_time_limit_gives_no_proposal_and_the_upload_stands(
    app: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_and_read: Any,
    evidence_files: Any,
) -> None:
    app.config["PREFILL_TIMEOUT"] = 0.001
    login_as("truclam.chuyenvien")

    body, evidence = upload_and_read(
        demo, "Kế hoạch.docx", evidence_files.docx(HEADER, BODY)
    )

    assert body["prefill"] == NO_PROPOSAL
    assert evidence.citation_proposal == {}  # read: nothing kept and evidence.size > 0
