"""Hướng dẫn: each role finds what to do now, in order, with its deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.html
import pytest

from webapp.criteria_sets import criteria_for

pytestmark = pytest.mark.db

# 2 December 2026, 10:00 in Hà Nội: the demo's self-assessment deadline is the end
# of 15/12/2026, 13 days and 13 hours ahead.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(clock: Any) -> None:
    clock.value = NOW


def _steps(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [
        " ".join(li.xpath("./strong")[0].text_content().split())
        for li in doc.xpath('//ol[@class="guide-steps"]/li')
    ]


def _deadline(html: str) -> str:
    doc = lxml.html.fromstring(html)
    return " ".join(doc.get_element_by_id("guide-deadline").text_content().split())


def _self_leaves(assessment: Any) -> list[Any]:
    return [
        leaf
        for leaf in criteria_for(assessment).leaves()
        if leaf.assessed_by in ("self", "system")
    ]


def test_the_unit_editor_sees_the_deadline_and_progress_in_order(
    client: Any, demo: dict[str, Any], login_as: Any, fill_assessment: Any
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    leaves = _self_leaves(assessment)
    skipped = tuple(leaf.code for leaf in leaves[:3])
    # Everything answered but three leaves, with no documents and no note.
    fill_assessment(assessment, skip=skipped, note="")
    login_as("truclam.chuyenvien")
    html = client.get("/help/").get_data(as_text=True)
    assert "Hướng dẫn cho chuyên viên đơn vị" in html
    assert _deadline(html) == (
        "Hạn tự đánh giá: 15/12/2026 lúc 23:59 · còn 13 ngày 13 giờ"
    )
    steps = _steps(html)
    answered = f"{len(leaves) - 3}/{len(leaves)}"
    assert steps[0] == f"Trả lời các tiêu chí: đã trả lời {answered}"
    assert steps[1].startswith("Đính kèm tài liệu kiểm chứng:")
    assert steps[2] == "Báo lãnh đạo đơn vị kiểm tra và gửi hồ sơ"
    # The unanswered leaves are named, with links to them on the criteria page.
    for code in skipped:
        assert f'href="/assessments/{assessment.id}#leaf-{code}"' in html
    missing = int(steps[1].split(":")[1].split()[0])
    assert missing > 0  # answered with points, no documents, no explanation


def test_nothing_is_marked_done_before_the_first_answer(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("truclam.chuyenvien")
    doc = lxml.html.fromstring(client.get("/help/").get_data(as_text=True))
    steps = doc.xpath('//ol[@class="guide-steps"]/li')
    assert (
        steps[1]
        .xpath("./strong")[0]
        .text_content()
        .startswith("Đính kèm tài liệu kiểm chứng: 0 tiêu chí còn thiếu")
    )
    assert [li.get("data-done") for li in steps[:3]] == ["0", "0", "0"]


def test_returned_leaves_come_first_with_their_due_date(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    fill_assessment: Any,
    submit_directly: Any,
    return_directly: Any,
) -> None:
    assessment = demo["assessments"]["NGHISON"]
    fill_assessment(assessment)
    submit_directly(assessment)
    code = _self_leaves(assessment)[0].code
    return_directly(assessment, [code], due_at=NOW + timedelta(days=4))
    login_as("nghison.lanhdao")
    html = client.get("/help/").get_data(as_text=True)
    assert "Hướng dẫn cho lãnh đạo đơn vị" in html
    steps = _steps(html)
    assert steps[0] == "Giải trình, bổ sung các tiêu chí bị trả lại"
    assert f"#leaf-{code}" in html
    assert "hạn 06/12/2026, còn 4 ngày 00 giờ" in html
    assert "Kiểm tra và gửi hồ sơ cho Sở Nội vụ" in steps


def test_the_appraiser_sees_the_appraisal_deadline_and_the_units_to_appraise(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    fill_assessment: Any,
    submit_directly: Any,
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    login_as("thamdinh")
    html = client.get("/help/").get_data(as_text=True)
    assert "Hướng dẫn cho thành viên thẩm định" in html
    assert _deadline(html).startswith(
        "Hạn thẩm định: 15/01/2027 lúc 23:59 · còn 44 ngày"
    )
    steps = _steps(html)
    assert steps[0] == "Thẩm định hồ sơ đã gửi: 1 đơn vị"
    assert steps[1] == "Chờ 1 đơn vị được phân công gửi hồ sơ"
    assert f'href="/appraisal/assessments/{assessment.id}"' in html
    assert assessment.unit.name in html


def test_the_coordinator_sees_the_period_steps_and_who_has_not_sent(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("admin")
    html = client.get("/help/").get_data(as_text=True)
    assert "Hướng dẫn cho Sở Nội vụ" in html
    assert _deadline(html).startswith(
        "Hạn tự đánh giá của các đơn vị: 15/12/2026 lúc 23:59 · còn 13 ngày"
    )
    steps = _steps(html)
    units = len(demo["period"].units)
    assert f"Theo dõi tiến độ: 0/{units} đơn vị đã gửi hồ sơ" in steps
    assert steps.index("Mở kỳ đánh giá") < steps.index("Đóng kỳ và công bố kết quả")
    assert f'href="/appraisal/periods/{demo["period"].id}/survey"' in html
    for unit in demo["period"].units:
        assert unit.name in html


def test_the_guide_is_linked_from_every_role_s_menu(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    for username in ("admin", "truclam.chuyenvien", "truclam.lanhdao", "thamdinh"):
        login_as(username)
        assert client.get("/help/").status_code == 200
        assert 'href="/help/">Hướng dẫn</a>' in client.get("/account/").get_data(
            as_text=True
        )
