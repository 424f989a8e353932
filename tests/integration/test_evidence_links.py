"""One document proving several leaves: link, unlink, the picker's accent-insensitive
search, the library page, and refusals on frozen assessments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa


@pytest.fixture
def uploaded(
    demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> Any:
    """A plan uploaded by Trúc Lâm's editor to leaf 1.1.1, with its citation."""
    from webapp.extensions import db
    from webapp.models import Evidence

    login_as("truclam.chuyenvien")
    response = upload_file(
        demo["assessments"]["TRUCLAM"].id,
        "Kế hoạch CCHC 2026.pdf",
        evidence_files.pdf(["KẾ HOẠCH"]),
        ("1.1.1",),
        doc_type="Kế hoạch",
        doc_number="125/KH-UBND",
        issued_on="05/01/2026",
        issuer="UBND phường Trúc Lâm",
        summary="Cải cách hành chính trên địa bàn phường năm 2026",
    )
    assert response.status_code == 200
    return db.session.get(Evidence, response.get_json()["evidence"]["id"])


def _events(action: str) -> list[Any]:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))
    )


def _xhr() -> dict[str, str]:
    return {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


def test_link_the_same_document_to_a_second_leaf_without_uploading_again(
    client: Any, uploaded: Any, evidence_store: Any
) -> None:
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.2"},
        headers=_xhr(),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["evidence"]["criterion_codes"] == ["1.1.1", "1.1.2"]
    assert "Kế hoạch CCHC 2026.pdf" in body["item_html"]
    assert uploaded.criterion_codes == ["1.1.1", "1.1.2"]
    assert len(list(evidence_store.list(""))) == 1  # still one stored file
    (event,) = _events("evidence.link")
    assert event.before == {"criterion_codes": ["1.1.1"]}
    assert event.after == {"criterion_codes": ["1.1.1", "1.1.2"]}


def test_linking_twice_is_refused(client: Any, uploaded: Any) -> None:
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.1"},
        headers=_xhr(),
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "Tài liệu đã được gắn với tiêu chí 1.1.1."
    assert _events("evidence.link") == []


def test_plain_form_link_goes_back_to_the_page(client: Any, uploaded: Any) -> None:
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.3", "next": "/assessments/1#leaf-1.1.3"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/assessments/1#leaf-1.1.3"
    assert uploaded.criterion_codes == ["1.1.1", "1.1.3"]


def test_next_url_cannot_leave_the_site(client: Any, uploaded: Any) -> None:
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.2", "next": "//evil.example/"},
    )
    assert response.headers["Location"] == f"/evidence/{uploaded.id}"


def test_unlink_keeps_the_document_in_the_library(client: Any, uploaded: Any) -> None:
    client.post(f"/evidence/{uploaded.id}/link", data={"criterion_code": "1.1.2"})
    response = client.post(
        f"/evidence/{uploaded.id}/unlink",
        data={"criterion_code": "1.1.1"},
        headers=_xhr(),
    )
    assert response.status_code == 200
    assert uploaded.criterion_codes == ["1.1.2"]
    (event,) = _events("evidence.unlink")
    assert event.before == {"criterion_codes": ["1.1.1", "1.1.2"]}
    assert event.after == {"criterion_codes": ["1.1.2"]}
    client.post(f"/evidence/{uploaded.id}/unlink", data={"criterion_code": "1.1.2"})
    page = client.get("/evidence/").get_data(as_text=True)
    assert "Kế hoạch CCHC 2026.pdf" in page and "Chưa gắn" in page


def test_unlinking_a_leaf_the_document_does_not_prove_is_refused(
    client: Any, uploaded: Any
) -> None:
    response = client.post(
        f"/evidence/{uploaded.id}/unlink",
        data={"criterion_code": "1.1.2"},
        headers=_xhr(),
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "Tài liệu không gắn với tiêu chí 1.1.2."


def test_search_ignores_case_and_diacritics(client: Any, uploaded: Any) -> None:
    url = f"/evidence/assessments/{uploaded.assessment_id}/search"
    queries = [
        "ke hoach",
        "KE HOACH",
        "Kế hoạch",
        "truc lam 2026",
        "125/kh",
        "cai cach",
        "05/01/2026",
    ]
    for query in queries:
        response = client.get(url, query_string={"q": query, "code": "1.1.2"})
        assert response.status_code == 200
        (result,) = response.get_json()["results"]
        assert result["original_filename"] == "Kế hoạch CCHC 2026.pdf", query
        assert result["linked"] is False
        assert result["link_url"] == f"/evidence/{uploaded.id}/link"


def test_search_finds_nothing_for_other_words_and_treats_wildcards_literally(
    client: Any, uploaded: Any
) -> None:
    for query in ("bao cao", "%", "ke_hoach"):
        response = client.get(
            f"/evidence/assessments/{uploaded.assessment_id}/search",
            query_string={"q": query},
        )
        assert response.get_json()["results"] == [], query


def test_search_html_fragment_offers_a_link_button(client: Any, uploaded: Any) -> None:
    html = client.get(
        f"/evidence/assessments/{uploaded.assessment_id}/search",
        query_string={"q": "ke hoach", "code": "1.1.2", "format": "html"},
    ).get_data(as_text=True)
    assert "Kế hoạch CCHC 2026.pdf" in html
    assert "Gắn vào tiêu chí 1.1.2" in html


def test_library_lists_documents_with_their_leaves_and_searches_without_diacritics(
    client: Any, uploaded: Any
) -> None:
    client.post(f"/evidence/{uploaded.id}/link", data={"criterion_code": "1.1.2"})
    page = client.get("/evidence/").get_data(as_text=True)
    assert "Kế hoạch CCHC 2026.pdf" in page
    assert ">1.1.1</span>" in page and ">1.1.2</span>" in page
    assert "Kế hoạch số 125/KH-UBND ngày 05/01/2026 của UBND phường Trúc Lâm" in page
    found = client.get("/evidence/", query_string={"q": "ke hoach cchc"}).get_data(
        as_text=True
    )
    assert "Kế hoạch CCHC 2026.pdf" in found
    missing = client.get("/evidence/", query_string={"q": "bien ban"}).get_data(
        as_text=True
    )
    assert (
        "Kế hoạch CCHC 2026.pdf" not in missing
        and "Không tìm thấy tài liệu phù hợp." in missing
    )


def test_library_link_mode_links_to_the_chosen_leaf(client: Any, uploaded: Any) -> None:
    page = client.get(
        "/evidence/", query_string={"link_to": "1.1.3", "next": "/assessments/1"}
    )
    html = page.get_data(as_text=True)
    assert "Gắn vào 1.1.3" in html
    response = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.3", "next": "/assessments/1"},
    )
    assert response.headers["Location"] == "/assessments/1"
    assert uploaded.criterion_codes == ["1.1.1", "1.1.3"]


def test_another_units_evidence_is_not_found(
    client: Any, uploaded: Any, login_as: Any
) -> None:
    login_as("nghison.chuyenvien")
    for method, url, data in [
        ("get", f"/evidence/{uploaded.id}", None),
        ("get", f"/evidence/{uploaded.id}/download", None),
        ("get", f"/evidence/{uploaded.id}/preview", None),
        ("post", f"/evidence/{uploaded.id}/link", {"criterion_code": "1.1.2"}),
        ("post", f"/evidence/{uploaded.id}/unlink", {"criterion_code": "1.1.1"}),
        ("post", f"/evidence/{uploaded.id}/citation", {"doc_number": "1/QĐ-UBND"}),
        ("get", f"/evidence/assessments/{uploaded.assessment_id}/search", None),
    ]:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, url
    # Their own library does not show Trúc Lâm's document either.
    assert "Kế hoạch CCHC 2026.pdf" not in client.get("/evidence/").get_data(
        as_text=True
    )
    assert uploaded.criterion_codes == ["1.1.1"]


def test_writes_are_refused_on_a_submitted_assessment(
    client: Any,
    uploaded: Any,
    evidence_files: Any,
    evidence_store: Any,
    submit_directly: Any,
) -> None:
    import io

    from webapp.extensions import db
    from webapp.models import Assessment, Evidence

    submit_directly(db.session.get(Assessment, uploaded.assessment_id))
    frozen = "Hồ sơ đã gửi và được khóa: không thể thay đổi."
    attempts = [
        (f"/evidence/{uploaded.id}/link", {"criterion_code": "1.1.2"}),
        (f"/evidence/{uploaded.id}/unlink", {"criterion_code": "1.1.1"}),
        (
            f"/evidence/{uploaded.id}/citation",
            {"doc_type": "Quyết định", "doc_number": "9/QĐ-UBND"},
        ),
        (
            f"/evidence/{uploaded.id}/replace",
            {"file": (io.BytesIO(evidence_files.pdf(["mới"])), "mới.pdf")},
        ),
    ]
    for url, data in attempts:
        response = client.post(
            url, data=data, headers=_xhr(), content_type="multipart/form-data"
        )
        assert response.status_code == 409, url
        assert response.get_json()["error"] == frozen
    db.session.expire_all()
    assert db.session.scalars(sa.select(Evidence)).all() == [uploaded]
    assert (
        uploaded.criterion_codes == ["1.1.1"] and uploaded.doc_number == "125/KH-UBND"
    )
    assert len(list(evidence_store.list(""))) == 1
    # Reading stays allowed.
    assert client.get(f"/evidence/{uploaded.id}/download").status_code == 200
    # The page offers no editing any more.
    page = client.get(f"/evidence/{uploaded.id}").get_data(as_text=True)
    assert "Lưu trích dẫn" not in page and "Thay tệp" not in page


def test_a_returned_assessment_reopens_only_the_returned_leaves(
    client: Any,
    uploaded: Any,
    clock: Any,
    demo: dict[str, Any],
    submit_directly: Any,
    return_directly: Any,
) -> None:
    from webapp.clock import now
    from webapp.extensions import db
    from webapp.models import Assessment

    assessment = db.session.get(Assessment, uploaded.assessment_id)
    submit_directly(assessment)
    return_directly(
        assessment,
        ["1.1.2"],
        message="Bổ sung kế hoạch",
        due_at=now() + timedelta(days=5),
    )

    ok = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.2"},
        headers=_xhr(),
    )
    assert ok.status_code == 200
    refused = client.post(
        f"/evidence/{uploaded.id}/link",
        data={"criterion_code": "1.1.3"},
        headers=_xhr(),
    )
    assert refused.status_code == 409
    assert "không nằm trong yêu cầu giải trình, bổ sung" in refused.get_json()["error"]
    # The citation also proves the frozen leaf 1.1.1: changing it is refused.
    cite = client.post(
        f"/evidence/{uploaded.id}/citation",
        data={"doc_number": "1/KH-UBND"},
        headers=_xhr(),
    )
    assert cite.status_code == 409
    assert uploaded.criterion_codes == ["1.1.1", "1.1.2"]
