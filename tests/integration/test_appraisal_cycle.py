"""The whole appraisal year on two demo wards, checked against hand-computed scores.

Scheme (kept simple so the arithmetic stays readable): both wards answer every
self/system leaf for full points, so each self-scores 68,00 of the 68 appraised points;
the appraiser lowers a few named leaves; survey leaves (32 points) get one percentage
per ward.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.formatting import number
from webapp.models import AuditEvent, CriterionScore, ReturnRequest
from webapp.results.ranking import period_results

# 01/12/2026 10:00 in Hà Nội: before the self-assessment deadline (15/12/2026).
DAY_ONE = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def row(assessment: Any, code: str) -> CriterionScore:
    found = db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )
    assert found is not None
    return found


def appraise(
    client: Any,
    assessment: Any,
    code: str,
    points: str,
    comment: str = "",
    button: str = "save",
) -> Any:
    response = client.post(
        f"/appraisal/assessments/{assessment.id}/leaves/{code}",
        data={
            "points": points,
            "comment": comment,
            "version": str(row(assessment, code).version),
            button: "1",
        },
    )
    assert response.status_code == 302, response.text
    return response


def test_full_cycle_on_two_wards_matches_the_hand_computation(
    app: Any,
    demo: dict[str, Any],
    client: Any,
    login_as: Any,
    clock: Any,
    fill_assessment: Any,
    add_evidence: Any,
) -> None:
    clock.value = DAY_ONE
    truclam, nghison = demo["assessments"]["TRUCLAM"], demo["assessments"]["NGHISON"]
    period = demo["period"]
    cs = criteria_for(truclam)
    appraised_leaves = [
        lf for lf in cs.leaves() if lf.assessed_by in ("self", "system")
    ]
    survey_leaves = [lf for lf in cs.leaves() if lf.assessed_by == "survey"]
    assert len(appraised_leaves) == 64 and len(survey_leaves) == 10
    assert sum(lf.max_points for lf in appraised_leaves) == Decimal("68")
    assert sum(lf.max_points for lf in survey_leaves) == Decimal("32")

    # 1. Both wards answer every leaf for full points and their heads submit.
    fill_assessment(truclam)
    fill_assessment(nghison)
    for head, assessment in (
        ("truclam.lanhdao", truclam),
        ("nghison.lanhdao", nghison),
    ):
        login_as(head)
        assert client.post(f"/assessments/{assessment.id}/submit").status_code in (
            302,
            303,
        )
        assert assessment.status == "submitted"

    # 2. The appraiser scores every leaf; three scores go down, each with a comment.
    login_as("thamdinh")
    lowered = {
        truclam: {
            "1.5": ("0,5", "Giải pháp chưa được công nhận là sáng kiến."),
            "1.1.2": ("0,35", "Kế hoạch chưa xác định rõ sản phẩm đầu ra."),
        },
        nghison: {"1.2": ("0,75", "Báo cáo quý III gửi chậm.")},
    }
    first = appraise(client, truclam, "1.1.1", "0,5", button="save_next")
    assert (
        "focus=1.1.2" in first.headers["Location"]
    )  # save & next goes to the next leaf
    for assessment in (truclam, nghison):
        for leaf in appraised_leaves:
            if assessment is truclam and leaf.code == "1.1.1":
                continue
            points, comment = lowered[assessment].get(
                leaf.code, (number(leaf.max_points), "")
            )
            appraise(client, assessment, leaf.code, points, comment)
        assert assessment.status == "appraised"

    # 3. Two leaves of Trúc Lâm go back for explanation, due 10/12/2026.
    response = client.post(
        f"/appraisal/assessments/{truclam.id}/returns",
        data={
            "codes": ["1.1.3", "1.3.2"],
            "message": "Bổ sung danh mục nhiệm vụ và báo cáo xử lý.",
            "due_date": "10/12/2026",
        },
    )
    assert response.status_code == 302
    assert truclam.status == "returned"
    request = db.session.scalar(sa.select(ReturnRequest))
    assert request is not None and request.criterion_codes == ["1.1.3", "1.3.2"]
    assert request.before["1.1.3"]["answer"] == {"value": "100"}
    assert row(truclam, "1.1.3").appraised_at is None  # to be appraised again

    # 4. The ward changes only those leaves: 1.1.3 becomes 90 %, 1.3.2 gets a document.
    login_as("truclam.chuyenvien")
    changed = client.post(
        f"/assessments/{truclam.id}/criteria/1.1.3",
        data={
            "1.1.3-value": "90",
            "1.1.3-note": "Hoàn thành 18/20 nhiệm vụ đúng hạn.",
            "1.1.3-version": str(row(truclam, "1.1.3").version),
        },
    )
    assert changed.status_code in (302, 303)
    assert row(truclam, "1.1.3").answer == {"value": "90"}
    add_evidence(truclam, ["1.3.2"], filename="Báo cáo xử lý sau kiểm tra.pdf")
    refused = client.post(
        f"/assessments/{truclam.id}/criteria/1.1.1",
        data={
            "1.1.1-value": "15/02/2026",
            "1.1.1-note": "Sửa ngày",
            "1.1.1-version": str(row(truclam, "1.1.1").version),
        },
        follow_redirects=True,
    )
    assert "không nằm trong yêu cầu giải trình" in refused.text
    assert row(truclam, "1.1.1").answer == {"value": "2026-01-31"}  # still frozen
    login_as("truclam.lanhdao")
    assert client.post(f"/assessments/{truclam.id}/submit").status_code in (302, 303)
    assert truclam.status == "submitted"
    assert request.status == "resubmitted"

    # 5. The appraiser sees what changed and finishes.
    login_as("thamdinh")
    page = client.get(f"/appraisal/assessments/{truclam.id}").text
    assert "Thay đổi từ khi yêu cầu giải trình, bổ sung" in page
    assert "100%" in page and "90%" in page
    assert "Thêm: Báo cáo xử lý sau kiểm tra.pdf" in page
    appraise(client, truclam, "1.1.3", "0,9")  # = the new self-score: no comment needed
    appraise(client, truclam, "1.3.2", "0,5")
    assert truclam.status == "appraised"

    # 6. The coordinator enters the survey results (Trúc Lâm 80 %, Nghi Sơn 50 %)
    #    and publishes.
    login_as("admin")
    grid = {f"v-{truclam.id}-{lf.code}": "80" for lf in survey_leaves}
    grid |= {f"v-{nghison.id}-{lf.code}": "50,0" for lf in survey_leaves}
    assert (
        client.post(f"/appraisal/periods/{period.id}/survey", data=grid).status_code
        == 302
    )
    # The two other wards never submitted but still have time: publishing would
    # freeze them, so it is refused until the coordinator closes early for them.
    refused = client.post(f"/results/periods/{period.id}/publish")
    assert refused.status_code == 409
    assert "Phường Tĩnh Gia còn thời gian tự đánh giá đến 15/12/2026" in refused.text
    assert client.post(f"/results/periods/{period.id}/close-early").status_code == 303
    assert client.post(f"/results/periods/{period.id}/publish").status_code == 302
    assert period.status == "published"

    # 7. By hand.
    # Trúc Lâm appraised:
    #   68 − (1 − 0,5) [1.5] − (0,5 − 0,35) [1.1.2] − (1 − 0,9) [1.1.3] = 67,25
    #   survey: every survey leaf at 80 % → 32 × 80 ÷ 100 = 25,60
    #   (each survey leaf's maximum is a whole number: no rounding)
    #   final 67,25 + 25,60 = 92,85 of 100 → index 92,85 → "Xuất sắc (A)" (≥ 90)
    #   area 1: 8 self points − 0,5 − 0,15 − 0,1 = 7,25, plus 1.8 at 80 % of 1 = 0,80
    #           → 8,05 of 9 → 100 × 8,05 ÷ 9 = 89,44
    # Nghi Sơn appraised: 68 − (1 − 0,75) [1.2] = 67,75; survey 32 × 50 ÷ 100 = 16,00
    #   final 83,75 → index 83,75 → "Tốt (B)" (80 to under 90)
    # Ranks: 92,85 > 83,75 → Trúc Lâm 1, Nghi Sơn 2.
    results = period_results(period)
    by_code = {r.unit.code: r for r in results.rows}
    assert [r.unit.code for r in results.rows] == ["TRUCLAM", "NGHISON"]
    tl, ns = by_code["TRUCLAM"], by_code["NGHISON"]
    assert tl.final.points == Decimal("92.85") and tl.final.max_points == Decimal("100")
    assert tl.final.index == Decimal("92.85") and tl.final.band == "Xuất sắc (A)"
    assert tl.final.nodes["1"].points == Decimal("8.05")
    assert tl.final.nodes["1"].index == Decimal("89.44")
    assert ns.final.points == Decimal("83.75") and ns.final.index == Decimal("83.75")
    assert ns.final.band == "Tốt (B)"
    assert (tl.rank, ns.rank) == (1, 2)
    # Self: 68 − 0,1 [1.1.3]; the survey points are the Sở's, never the unit's.
    assert tl.self_total.points == Decimal("67.90")
    assert tl.self_total.max_points == Decimal("68")

    # 8. The ward now sees its own result and the ranking.
    login_as("truclam.chuyenvien")
    mine = client.get(f"/results/assessments/{truclam.id}")
    assert mine.status_code == 200
    assert "92,85" in mine.text and "Xuất sắc (A)" in mine.text
    assert "Giải pháp chưa được công nhận là sáng kiến." in mine.text
    ranking = client.get(f"/results/periods/{period.id}")
    assert ranking.status_code == 200 and "83,75" in ranking.text

    # 9. Everything landed in the audit log.
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {
        "appraisal.save",
        "appraisal.return",
        "survey.save",
        "period.close_early",
        "period.publish",
    } <= actions
    published = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "period.publish")
    )
    assert published is not None
    assert published.after["results"]["TRUCLAM"]["rank"] == 1
