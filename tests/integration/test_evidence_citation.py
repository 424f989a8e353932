"""Citations: pre-filled from a real DOCX and a real PDF, confirmed or corrected by the
user, with a warning (not a refusal) when the document is dated outside the year."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

HEADER = [
    ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("PHƯỜNG TRÚC LÂM", "Độc lập - Tự do - Hạnh phúc"),
    ("Số: 125/KH-UBND", "Trúc Lâm, ngày 05 tháng 01 năm 2026"),
]
BODY = [
    "KẾ HOẠCH",
    "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
    "Thực hiện Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ về việc ban hành "
    "Chương trình tổng thể cải cách hành chính nhà nước giai đoạn 2021 - 2030; "
    "Kế hoạch cải cách hành chính "
    "số 257/KH-UBND ngày 22/12/2025 của UBND tỉnh Thanh Hóa.",
    "I. MỤC ĐÍCH, YÊU CẦU",
]
EXPECTED = {
    "doc_type": "Kế hoạch",
    "doc_number": "125/KH-UBND",
    "issued_on": "05/01/2026",
    "issuer": "Ủy ban nhân dân phường Trúc Lâm",
    "summary": "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
}


def test_prefill_from_a_real_docx(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    read_proposal: Any,
    evidence_files: Any,
    evidence_store: Any,
) -> None:
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    docx = evidence_files.docx(HEADER, BODY)
    response = upload_file(demo["assessments"]["TRUCLAM"].id, "KH CCHC 2026.docx", docx)
    assert response.status_code == 200
    body = response.get_json()
    # The upload answers at once; the file's text is read when the widget asks next.
    assert body["prefill"] is None and "Sửa trích dẫn" in body["item_html"]
    assert body["warnings"] == []
    proposal = read_proposal(body)
    assert proposal["prefill"] == EXPECTED
    assert proposal["warnings"] == []
    # The widget shows the proposal in the document's citation form, for the user to
    # confirm.
    html = proposal["item_html"]
    assert 'value="125/KH-UBND"' in html and "Xác nhận trích dẫn" in html
    assert 'class="field proposed"' in html
    # Read once and kept: asked again without the file, the same proposal comes back.
    evidence = db.session.get(Evidence, body["evidence"]["id"])
    evidence_store.delete(evidence.storage_key)
    assert read_proposal(body)["prefill"] == EXPECTED


def test_prefill_from_a_real_pdf(
    evidence_backend: str,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    read_proposal: Any,
    evidence_files: Any,
) -> None:
    login_as("truclam.chuyenvien")
    # A PDF's two-column header extracts line by line, both columns on one line.
    pdf = evidence_files.pdf(
        [
            "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "PHƯỜNG TRÚC LÂM Độc lập - Tự do - Hạnh phúc",
            "Số: 125/KH-UBND Trúc Lâm, ngày 05 tháng 01 năm 2026",
            "KẾ HOẠCH",
            "Cải cách hành chính trên địa bàn phường Trúc Lâm",
            "năm 2026",
            "Thực hiện Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ",
        ]
    )
    response = upload_file(demo["assessments"]["TRUCLAM"].id, "KH CCHC 2026.pdf", pdf)
    assert response.status_code == 200
    assert read_proposal(response.get_json())["prefill"] == EXPECTED


def test_what_the_user_typed_wins_over_the_proposal(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    read_proposal: Any,
    evidence_files: Any,
) -> None:
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "KH.docx",
        evidence_files.docx(HEADER, BODY),
        doc_number="126/KH-UBND",
    )
    html = read_proposal(response.get_json())["item_html"]
    assert 'value="126/KH-UBND"' in html and 'value="125/KH-UBND"' not in html
    assert 'value="05/01/2026"' in html  # the empty date is still proposed


def test_files_without_text_propose_nothing(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    login_as("truclam.chuyenvien")
    body = upload_file(
        demo["assessments"]["TRUCLAM"].id, "Ảnh.png", evidence_files.png()
    ).get_json()
    assert body["proposal_url"] is None  # nothing to read in an image
    assert body["prefill"] == {
        "doc_type": "",
        "doc_number": "",
        "issued_on": "",
        "issuer": "",
        "summary": "",
    }


def test_a_document_dated_outside_the_assessed_year_is_accepted_with_a_warning(
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    read_proposal: Any,
    evidence_files: Any,
) -> None:
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    header = [
        HEADER[0],
        HEADER[1],
        ("Số: 257/KH-UBND", "Trúc Lâm, ngày 22 tháng 12 năm 2025"),
    ]
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "KH 2025.docx",
        evidence_files.docx(header, BODY),
    )
    assert response.status_code == 200
    assert read_proposal(response.get_json())["warnings"] == [
        "Ngày ban hành 22/12/2025 không thuộc năm đánh giá 2026: "
        "vui lòng kiểm tra lại văn bản hoặc ngày ban hành."
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1


def test_confirming_the_citation_saves_it_and_audits_before_and_after(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
) -> None:
    from webapp.extensions import db
    from webapp.models import AuditEvent, Evidence

    login_as("truclam.chuyenvien")
    evidence_id = upload_file(
        demo["assessments"]["TRUCLAM"].id, "KH.docx", evidence_files.docx(HEADER, BODY)
    ).get_json()["evidence"]["id"]
    response = client.post(
        f"/evidence/{evidence_id}/citation",
        data=EXPECTED,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.get_json()["evidence"]["doc_number"] == "125/KH-UBND"
    evidence = db.session.get(Evidence, evidence_id)
    assert (
        evidence.issued_on == date(2026, 1, 5) and evidence.issuer == EXPECTED["issuer"]
    )
    assert "uy ban nhan dan phuong truc lam" in evidence.search_text
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "evidence.update")
    )
    assert (
        event.before["doc_number"] == "" and event.after["doc_number"] == "125/KH-UBND"
    )
    assert event.after["issued_on"] == "2026-01-05"
    # Correcting it later to a date of another year warns, and still saves.
    fix = client.post(
        f"/evidence/{evidence_id}/citation",
        data={**EXPECTED, "issued_on": "30/12/2025"},
    )
    assert fix.status_code == 302
    with client.session_transaction() as session:
        messages = [m for _, m in session["_flashes"]]
    assert "Đã lưu trích dẫn tài liệu." in messages
    assert any("không thuộc năm đánh giá 2026" in m for m in messages)
    db.session.expire_all()
    assert db.session.get(Evidence, evidence_id).issued_on == date(2025, 12, 30)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "issued_on",
            "31/02/2026",
            "Ngày 31/02/2026 không có thật. Nhập ngày theo dạng dd/mm/yyyy",
        ),
        ("issued_on", "2026-01-05", "Ngày ban hành không hợp lệ"),
        ("issued_on", "15/01/0001", "nằm ngoài khoảng cho phép"),
        ("summary", "Kế hoạch\x00", "ký tự điều khiển"),
        ("issuer", "UBND\x1b", "ký tự điều khiển"),
        ("doc_type", "Nghị quyết", "Loại văn bản không hợp lệ"),
        ("doc_number", "1" * 81, "Số/ký hiệu tối đa 80 ký tự."),
    ],
)
def test_bad_citation_input_is_shown_next_to_the_field_and_changes_nothing(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
    field: str,
    value: str,
    message: str,
) -> None:
    from webapp.extensions import db
    from webapp.models import AuditEvent, Evidence

    login_as("truclam.chuyenvien")
    evidence_id = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "x.pdf",
        evidence_files.pdf(["x"]),
        doc_number="1/KH-UBND",
    ).get_json()["evidence"]["id"]
    page = client.post(
        f"/evidence/{evidence_id}/citation", data={**EXPECTED, field: value}
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html and 'class="field has-error"' in html
    xhr = client.post(
        f"/evidence/{evidence_id}/citation",
        data={**EXPECTED, field: value},
        headers={"Accept": "application/json"},
    )
    assert xhr.status_code == 400 and message in xhr.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(Evidence, evidence_id).doc_number == "1/KH-UBND"
    assert (
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "evidence.update")
        ).all()
        == []
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a decision with a parent body above the issuing body
            "UBND TỈNH THANH HÓA\nSỞ NỘI VỤ\n-------\nSố: 12/2025/QĐ-SNV\n"
            "Thanh Hóa, ngày 31 tháng 12 năm 2025\nQUYẾT ĐỊNH\n"
            "Về việc ban hành Quy chế làm việc\n"
            "GIÁM ĐỐC SỞ NỘI VỤ\nCăn cứ Luật Tổ chức chính quyền địa phương",
            {
                "doc_type": "Quyết định",
                "doc_number": "12/2025/QĐ-SNV",
                "issued_on": "31/12/2025",
                "issuer": "Sở Nội vụ",
                "summary": "Về việc ban hành Quy chế làm việc",
            },
        ),
        (  # a letter (công văn): no title, the subject is the V/v line
            "ỦY BAN NHÂN DÂN\nPHƯỜNG TRÚC LÂM\nSố: 87/UBND-VP\n"
            "V/v triển khai đánh giá Chỉ số CCHC\nnăm 2026\n"
            "Trúc Lâm, ngày 10 tháng 3 năm 2026\nKính gửi: Các phòng chuyên môn",
            {
                "doc_type": "Công văn",
                "doc_number": "87/UBND-VP",
                "issued_on": "10/03/2026",
                "issuer": "Ủy ban nhân dân phường Trúc Lâm",
                "summary": "triển khai đánh giá Chỉ số CCHC năm 2026",
            },
        ),
        (  # a report
            "ỦY BAN NHÂN DÂN\nXÃ CÁC SƠN\nSố: 45/BC-UBND\n"
            "Các Sơn, ngày 15 tháng 6 năm 2026\nBÁO CÁO\n"
            "Kết quả thực hiện công tác cải cách hành chính năm 2026\nI. KẾT QUẢ",
            {
                "doc_type": "Báo cáo",
                "doc_number": "45/BC-UBND",
                "issued_on": "15/06/2026",
                "issuer": "Ủy ban nhân dân xã Các Sơn",
                "summary": "Kết quả thực hiện công tác cải cách hành chính năm 2026",
            },
        ),
        (  # the ward's real plan before signing: number and day left blank
            "\n\nSố: /KH-UBND\n\nTrúc Lâm, ngày tháng 01 năm 2026\n\n## KẾ HOẠCH\n\n"
            "### Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026\n\n"
            "Thực hiện Nghị quyết",
            {
                "doc_type": "Kế hoạch",
                "doc_number": "",
                "issued_on": "",
                "issuer": "",
                "summary": "Cải cách hành chính trên địa bàn phường Trúc Lâm năm 2026",
            },
        ),
        (  # typed without diacritics (an old font, a scan's OCR): read the same way
            "UBND PHUONG TRUC LAM\n-------\nSo: 12/KH-UBND\n"
            "Truc Lam, ngay 05 thang 01 nam 2026\nKE HOACH\n"
            "Cai cach hanh chinh nam 2026\nThuc hien Nghi quyet so 76/NQ-CP",
            {
                "doc_type": "Kế hoạch",
                "doc_number": "12/KH-UBND",
                "issued_on": "05/01/2026",
                "issuer": "UBND phuong Truc Lam",
                "summary": "Cai cach hanh chinh nam 2026",
            },
        ),
        (  # the issuer in running-text capitalisation, acronyms kept
            "UBND PHƯỜNG TRÚC LÂM\nSố: 3/QĐ-UBND\n"
            "Trúc Lâm, ngày 02 tháng 02 năm 2026\nQUYẾT ĐỊNH\n"
            "Về việc kiện toàn Tổ công tác CCHC\nCăn cứ",
            {
                "doc_type": "Quyết định",
                "doc_number": "3/QĐ-UBND",
                "issued_on": "02/02/2026",
                "issuer": "UBND phường Trúc Lâm",
                "summary": "Về việc kiện toàn Tổ công tác CCHC",
            },
        ),
        (
            "Một đoạn văn bản không có phần đầu theo Nghị định 30.",
            {
                "doc_type": "",
                "doc_number": "",
                "issued_on": "",
                "issuer": "",
                "summary": "",
            },
        ),
    ],
)
def test_propose_citation_reads_nd30_headers(
    text: str, expected: dict[str, str]
) -> None:
    from webapp.evidence.prefill import propose_citation

    assert propose_citation(text).as_dict() == expected


def test_a_document_dated_in_the_future_is_warned_about(
    demo: dict[str, Any],
    clock: Any,
    login_as: Any,
    upload_file: Any,
    read_proposal: Any,
    evidence_files: Any,
) -> None:
    from datetime import datetime

    from webapp.clock import VN_TZ

    clock.value = datetime(2026, 1, 3, 9, 0, tzinfo=VN_TZ)  # two days before
    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id, "KH.docx", evidence_files.docx(HEADER, BODY)
    )
    assert read_proposal(response.get_json())["warnings"] == [
        "Ngày ban hành 05/01/2026 là ngày trong tương lai: "
        "vui lòng kiểm tra lại ngày ban hành."
    ]


def test_after_a_replace_the_new_documents_date_and_number_are_proposed(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    upload_file: Any,
    evidence_files: Any,
) -> None:
    import io

    login_as("truclam.chuyenvien")
    # The draft was cited by hand; the signed version has its own number and date.
    evidence_id = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "KH dự thảo.docx",
        evidence_files.docx(HEADER, BODY),
        doc_type="Kế hoạch",
        doc_number="120/KH-UBND",
        issued_on="02/01/2026",
        issuer="Ủy ban nhân dân phường Trúc Lâm",
    ).get_json()["evidence"]["id"]
    signed = [
        HEADER[0],
        HEADER[1],
        ("Số: 131/KH-UBND", "Trúc Lâm, ngày 09 tháng 01 năm 2026"),
    ]

    response = client.post(
        f"/evidence/{evidence_id}/replace",
        data={"file": (io.BytesIO(evidence_files.docx(signed, BODY)), "KH đã ký.docx")},
        content_type="multipart/form-data",
    )

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="131/KH-UBND"' in page and 'value="09/01/2026"' in page
    assert 'value="120/KH-UBND"' not in page
