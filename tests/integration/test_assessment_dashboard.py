"""The unit dashboard: countdown, progress, score and chart, points at risk, returns."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from scoring import format_decimal, score_assessment
from webapp.assessment.overview import countdown_text
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import ReturnRequest
from webapp.workflow import answers_of

pytestmark = pytest.mark.db


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any) -> Any:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    return demo["assessments"]["TRUCLAM"]


@pytest.mark.parametrize(
    ("now", "text"),
    [
        (datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ), "còn 14 ngày 14 giờ"),
        (datetime(2026, 12, 15, 8, 0, tzinfo=VN_TZ), "còn 15 giờ 59 phút"),
        (datetime(2026, 12, 15, 23, 59, 59, tzinfo=VN_TZ), "còn 00 giờ 00 phút"),
        (datetime(2026, 12, 16, 0, 0, 0, tzinfo=VN_TZ), "đã hết hạn"),
    ],
)
def test_countdown_counts_to_the_vietnam_deadline(now: datetime, text: str) -> None:
    assert countdown_text(vn_end_of_day(2026, 12, 15), now) == text


def test_dashboard_shows_deadline_progress_score_and_chart(
    truclam: Any,
    demo: dict[str, Any],
    login_as: Any,
    client: Any,
    save_leaf: Any,
    add_evidence: Any,
) -> None:
    login_as("truclam.chuyenvien")
    save_leaf(truclam.id, "1.1.3", value="92,5")
    save_leaf(truclam.id, "3.3", numerator="7", denominator="8")
    save_leaf(truclam.id, "1.5", level="0", note="Có quyết định khen thưởng")
    add_evidence(truclam, ["1.1.3", "1.1.1"])
    old, new = add_evidence(truclam, ["3.3"]), add_evidence(truclam, [])
    old.replaced_by_id = new.id  # a replaced file proves nothing any more
    db.session.commit()

    page = client.get("/assessments/").get_data(as_text=True)

    assert "Phường Trúc Lâm" in page
    assert 'data-deadline="2026-12-15T16:59:59+00:00"' in page
    assert ">còn 14 ngày 14 giờ<" in page
    assert "Hạn: 15/12/2026 23:59 (giờ Việt Nam)" in page
    self_leaves = [
        leaf for leaf in criteria_for(truclam).leaves() if leaf.assessed_by != "survey"
    ]
    expecting = [leaf for leaf in self_leaves if leaf.evidence]
    assert f"<strong>3/{len(self_leaves)}</strong> tiêu chí đã trả lời" in page
    assert f"<strong>2/{len(expecting)}</strong> tiêu chí cần tài liệu" in page
    score = score_assessment(criteria_for(truclam), answers_of(truclam))
    assert (
        f"{format_decimal(score.points)} <small>/ {format_decimal(score.max_points)}"
        in page
    )
    assert f"Chỉ số: <strong>{format_decimal(score.index)}%</strong>" in page
    bars = re.findall(r'<rect class="bar" [^>]*width="([\d.]+)"', page)
    assert len(bars) == len(criteria_for(truclam).areas) == 8
    area1 = score.nodes["1"]
    assert float(bars[0]) == pytest.approx(float(area1.index) * 3.4, abs=0.05)
    assert "<script" in page and "/static/js/assessment.js" in page
    assert 'style="' not in page.split("<main", 1)[1]  # CSP: no inline styles


def test_points_at_risk_sorted_by_points_with_links(
    truclam: Any,
    demo: dict[str, Any],
    fill_assessment: Any,
    login_as: Any,
    client: Any,
    add_evidence: Any,
) -> None:
    from webapp.assessment.answers import save_answer

    editor = demo["users"]["truclam.chuyenvien"]
    # Everything answered and explained, except: 3.3 (4 pts) and 1.1.1 (0.5) unanswered;
    # 3.2.2 (3 pts claimed) and 1.1.3 (0.85 claimed) without document or explanation;
    # 1.2 without explanation but with a document (not at risk).
    fill_assessment(truclam, user=editor, skip=("3.3", "1.1.1"))
    cs = criteria_for(truclam)
    for code, answer in {
        "3.2.2": {"value": "100"},
        "1.1.3": {"value": "85"},
        "1.2": {"counts": [0]},
    }.items():
        row = next(r for r in truclam.scores if r.criterion_code == code)
        save_answer(
            truclam,
            cs.node(code),
            answer=answer,
            note="",
            version=row.version,
            user=editor,
        )
    add_evidence(truclam, ["1.2"])
    login_as("truclam.chuyenvien")

    page = client.get("/assessments/").get_data(as_text=True)

    rows = re.findall(r'<tr class="risk-row" data-code="([^"]+)">', page)
    assert rows == ["3.3", "3.2.2", "1.1.3", "1.1.1"]
    assert f'href="/assessments/{truclam.id}?area=3#leaf-3.2.2"' in page
    risk = page[page.index('data-code="3.3"') :]
    assert "Chưa trả lời" in risk.split("</tr>")[0]
    assert "4,00" in risk.split("</tr>")[0]
    assert "Chưa có tài liệu kiểm chứng và chưa có giải trình" in page


def test_nothing_at_risk_when_everything_is_answered_and_explained(
    truclam: Any, demo: dict[str, Any], fill_assessment: Any, login_as: Any, client: Any
) -> None:
    fill_assessment(
        truclam,
        user=demo["users"]["truclam.chuyenvien"],
        note="Tài liệu kiểm chứng nộp bổ sung khi thẩm định.",
    )
    login_as("truclam.lanhdao")
    page = client.get("/assessments/").get_data(as_text=True)
    assert 'class="risk-row"' not in page
    assert "Mọi tiêu chí đã được trả lời" in page
    assert (
        f'href="/assessments/{truclam.id}/submit"' in page
    )  # the head's submit button


def test_open_return_requests_are_shown_first(
    truclam: Any, demo: dict[str, Any], login_as: Any, client: Any
) -> None:
    truclam.status = "returned"
    db.session.add(
        ReturnRequest(
            assessment_id=truclam.id,
            criterion_codes=["1.1.3", "2.2.1"],
            message="Bổ sung báo cáo kết quả thực hiện kế hoạch.",
            due_at=vn_end_of_day(2026, 12, 22),
            status="open",
        )
    )
    db.session.add(
        ReturnRequest(
            assessment_id=truclam.id,
            criterion_codes=["1.2"],
            message="Đã xử lý trước đó.",
            due_at=vn_end_of_day(2026, 12, 22),
            status="resubmitted",
        )
    )
    db.session.add(
        ReturnRequest(
            assessment_id=truclam.id,
            criterion_codes=["1.5"],
            message="Giải trình mức đánh giá.",
            due_at=vn_end_of_day(2026, 11, 30),
            status="open",
        )
    )
    db.session.commit()
    login_as("truclam.chuyenvien")

    page = client.get("/assessments/").get_data(as_text=True)

    returns = page[
        page.index('class="card returns"') : page.index('class="grid dash-stats"')
    ]
    overdue, current = returns.split('class="return-request"')[1:]
    assert "Giải trình mức đánh giá." in overdue and "Đã quá hạn" in overdue
    assert "Đã quá hạn" not in current
    assert "Bổ sung báo cáo kết quả thực hiện kế hoạch." in returns
    assert "22/12/2026 23:59" in returns
    assert f'href="/assessments/{truclam.id}?area=1#leaf-1.1.3"' in returns
    assert f'href="/assessments/{truclam.id}?area=2#leaf-2.2.1"' in returns
    assert "Đã xử lý trước đó." not in page
    assert "Yêu cầu giải trình, bổ sung" in page


def test_dashboard_is_for_unit_users_only(
    truclam: Any, login_as: Any, client: Any
) -> None:
    login_as("admin")
    assert client.get("/assessments/").status_code == 403
    login_as("thamdinh")
    assert client.get("/assessments/").status_code == 403


def test_another_units_assessment_is_not_found(
    demo: dict[str, Any], truclam: Any, login_as: Any, client: Any
) -> None:
    login_as("nghison.chuyenvien")
    assert client.get(f"/assessments/{truclam.id}").status_code == 404
    assert client.get(f"/assessments/{truclam.id}/submit").status_code == 403
    login_as("nghison.lanhdao")
    assert client.get(f"/assessments/{truclam.id}/submit").status_code == 404


def test_assessment_page_shows_the_tree_rules_and_expected_documents(
    truclam: Any, login_as: Any, client: Any
) -> None:
    login_as("truclam.chuyenvien")
    # Every area on one page (one area at a time otherwise: test_assessment_page_cost).
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    cs = criteria_for(truclam)
    assert page.count('<details class="area card"') == len(cs.areas)
    assert page.count('<section class="leaf') == len(cs.leaves())
    leaf = page[page.index('id="leaf-1.1.1"') : page.index('id="leaf-1.1.2"')]
    assert "Thời điểm ban hành Kế hoạch CCHC năm 2026 của UBND xã" in leaf
    assert "0,00/0,50 điểm" in leaf
    assert "đến 31/01/2026: 0,5 điểm" in leaf  # the rule in plain Vietnamese
    assert "Kế hoạch CCHC năm 2026 của UBND xã" in leaf  # the document it expects
    assert "Chưa trả lời" in leaf


def test_a_leaf_that_did_not_arise_is_not_missing_documents(
    truclam: Any, login_as: Any, client: Any
) -> None:
    from webapp.workflow import score_row

    # 1.3.2 expects a report; "không phát sinh" takes it out of the maximum.
    score_row(truclam, "1.3.2").answer = {"not_applicable": True}
    score_row(truclam, "1.3.2").is_not_applicable = True
    db.session.commit()
    login_as("truclam.chuyenvien")
    page = client.get(f"/assessments/{truclam.id}").get_data(as_text=True)
    leaf = page[page.index('id="leaf-1.3.2"') : page.index('id="leaf-1.4.1"')]
    assert "Không phát sinh" in leaf and "Không cần tài liệu" in leaf
    assert "Thiếu tài liệu" not in leaf
    before = page[page.index('id="leaf-1.3.1"') : page.index('id="leaf-1.3.2"')]
    assert "Thiếu tài liệu" in before  # an unanswered neighbour still says so
    risks = client.get("/assessments/").get_data(as_text=True)
    assert 'data-code="1.3.2"' not in risks
