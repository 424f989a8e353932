"""The appraisal screen: answers beside scores, evidence integrity, filters, keys."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import CriterionScore, Evidence
from webapp.storage import get_store


@pytest.fixture
def submitted(
    demo: dict[str, Any], fill_assessment: Any, submit_directly: Any, add_evidence: Any
) -> Any:
    """Trúc Lâm with a signed plan proving 1.1.1 and 1.1.2, then submitted."""
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment, {"1.1.3": {"numerator": "9", "denominator": "10"}})
    add_evidence(
        assessment,
        ["1.1.1", "1.1.2"],
        doc_type="Kế hoạch",
        doc_number="12/KH-UBND",
        issuer="UBND phường Trúc Lâm",
        summary="Kế hoạch CCHC năm 2026",
    )
    submit_directly(assessment)
    return assessment


def leaf_codes(html: str) -> list[str]:
    return re.findall(r'data-leaf="([0-9.]+)"', html)


def card(html: str, code: str) -> str:
    anchor = f'id="leaf-{code.replace(".", "-")}"'
    start = html.index(anchor)
    return html[start : html.index("</article>", start)]


def test_each_leaf_shows_the_answer_self_score_evidence_and_citation(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    page = client.get(f"/appraisal/assessments/{submitted.id}").text
    assert (
        len(leaf_codes(page)) == 64
    )  # every self/system leaf; survey leaves are not here
    plan = card(page, "1.1.1")
    assert "Ngày ký số của Kế hoạch: 31/01/2026" in plan
    assert "Kế hoạch số 12/KH-UBND" in plan and "UBND phường Trúc Lâm" in plan
    assert "SHA-256 khớp bản đã gửi" in plan
    assert re.search(r'href="/evidence/\d+/download"', plan)
    ratio = card(page, "1.1.3")
    assert "9/10 = 90%" in ratio and "Thuyết minh tiêu chí 1.1.3" in ratio
    assert "<strong>0,90</strong> / 1,00" in ratio
    checklist = card(page, "1.1.2")
    assert "☑ Xác định rõ sản phẩm, kết quả đầu ra làm căn cứ đánh giá" in checklist


def test_a_changed_or_missing_file_is_flagged_when_checked_on_demand(
    client: Any, login_as: Any, submitted: Any, add_evidence: Any
) -> None:
    evidence = add_evidence(submitted, ["1.2"], filename="Báo cáo bổ sung.pdf")
    login_as("thamdinh")
    page = client.get(f"/appraisal/assessments/{submitted.id}").text
    assert "Bổ sung sau khi gửi hồ sơ" in card(
        page, "1.2"
    )  # not in the submitted snapshot

    # Someone rewrites the stored object behind the app's back.
    store = get_store()
    original = db.session.get(Evidence, submitted.snapshot["evidence"][0]["id"])
    assert original is not None
    store.put(original.storage_key, io.BytesIO(b"tampered"))
    checked = client.get(f"/appraisal/assessments/{submitted.id}?verify=1").text
    assert "Tệp trong kho đã bị thay đổi (SHA-256 không khớp)" in card(checked, "1.1.1")
    store.delete(evidence.storage_key)
    checked = client.get(f"/appraisal/assessments/{submitted.id}?verify=1").text
    assert "Không tìm thấy tệp trong kho lưu trữ" in card(checked, "1.2")


def test_filters_show_pending_differing_and_undocumented_leaves(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    version = db.session.scalar(
        sa.select(CriterionScore.version).where(
            CriterionScore.assessment_id == submitted.id,
            CriterionScore.criterion_code == "1.5",
        )
    )
    client.post(
        f"/appraisal/assessments/{submitted.id}/leaves/1.5",
        data={"points": "0", "comment": "Không có sáng kiến", "version": str(version)},
    )
    base = f"/appraisal/assessments/{submitted.id}"
    pending = leaf_codes(client.get(base + "?filter=pending").text)
    assert len(pending) == 63 and "1.5" not in pending
    assert leaf_codes(client.get(base + "?filter=differing").text) == ["1.5"]
    undocumented = leaf_codes(client.get(base + "?filter=no_evidence").text)
    assert "1.1.1" not in undocumented and "1.1.2" not in undocumented
    assert len(undocumented) == 62


def test_save_and_next_focuses_the_next_leaf_to_do_and_the_page_obeys_the_csp(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    base = f"/appraisal/assessments/{submitted.id}"
    page = client.get(base).text
    # The first leaf waiting for a score gets the focus; its score is prefilled with the
    # self-score, so agreeing is one key press.
    assert re.search(
        r'<select id="points-1-1-1" name="points" class="points-input" autofocus>', page
    )
    assert '<option value="0,50" selected>' in card(page, "1.1.1")
    assert "Lưu và sang tiêu chí tiếp" in page
    assert 'src="/static/js/appraisal.js"' in page
    assert "style=" not in page and "<script>" not in page

    response = client.post(
        f"{base}/leaves/1.1.1?filter=pending",
        data={"points": "0,50", "version": "1", "save_next": "1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "filter=pending&focus=1.1.2#leaf-1-1-2"
    )
    after = client.get(response.headers["Location"]).text
    assert 'id="points-1-1-2" name="points" class="points-input" autofocus' in after
    assert "1.1.1" not in leaf_codes(after)


def test_a_ratio_card_shows_one_figure_rounded_half_up_as_the_engine(
    client: Any,
    login_as: Any,
    demo: dict[str, Any],
    fill_assessment: Any,
    submit_directly: Any,
) -> None:
    # 2.677/4.010 = 66,7581… %: once "66,75" (truncated) and "66,76" on one card.
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment, {"1.1.3": {"numerator": "2677", "denominator": "4010"}})
    submit_directly(assessment)
    login_as("thamdinh")

    ratio = card(client.get(f"/appraisal/assessments/{assessment.id}").text, "1.1.3")

    assert "66,76%" in ratio and "66,75" not in ratio


def test_the_appraisal_tree_shows_states_and_works_area_by_area(
    client: Any, login_as: Any, submitted: Any, demo: dict[str, Any], clock: Any
) -> None:
    from datetime import datetime
    from decimal import Decimal

    from webapp.clock import VN_TZ, vn_end_of_day
    from webapp.models import ReturnRequest
    from webapp.workflow import score_row

    clock.value = datetime(2026, 12, 18, 9, 0, tzinfo=VN_TZ)
    own = score_row(submitted, "1.1.1")
    own.appraised_points = Decimal("0.25")  # the unit claimed 0,50
    own.appraised_at = clock.value
    db.session.add(
        ReturnRequest(
            assessment_id=submitted.id,
            criterion_codes=["1.1.2"],
            message="Bổ sung kế hoạch đã ký.",
            due_at=vn_end_of_day(2026, 12, 25),
            created_by_id=demo["users"]["thamdinh"].id,
        )
    )
    db.session.commit()
    login_as("thamdinh")

    page = client.get(f"/appraisal/assessments/{submitted.id}?area=2").text

    assert leaf_codes(page) and all(c.startswith("2.") for c in leaf_codes(page))
    assert "← Lĩnh vực 1" in page and "Lĩnh vực 3 →" in page
    tree = page[page.index('class="criteria-nav') : page.index("</aside>")]

    def state(code: str) -> str:
        item = re.search(rf'data-code="{re.escape(code)}"[^>]*>.*?</li>', tree, re.S)
        assert item, code
        return re.sub(r"<[^>]+>", "", item.group(0)).rsplit(code, 1)[1].strip()

    assert state("1.1.1") == "Khác điểm tự chấm"
    assert state("1.1.2") == "Đã trả lại"
    assert state("1.1.3") == "Chưa thẩm định"
    returned = client.get(f"/appraisal/assessments/{submitted.id}?filter=returned").text
    assert leaf_codes(returned) == ["1.1.2"]
    assert "Đã trả lại (1)" in returned
