"""Results: ranking (ties share a rank), publication, who sees what, analyses."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from webapp import lifecycle
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.results.ranking import period_results


@pytest.fixture
def ready(
    demo: dict[str, Any],
    fill_assessment: Any,
    submit_directly: Any,
    appraise_directly: Any,
    enter_survey: Any,
) -> dict[str, Any]:
    """All four wards submitted, appraised at their self-score (full: 68) and surveyed.

    Final = 68 + 32 × survey % ÷ 100:
      Trúc Lâm 80 % → 68 + 25,60 = 93,60    Nghi Sơn 80 % → 93,60 (a tie)
      Các Sơn  60 % → 68 + 19,20 = 87,20    Tĩnh Gia 50 % → 68 + 16,00 = 84,00
    Ranks: 1, 1, 3, 4 (the tie takes ranks 1 and 2, so the next is 3).
    """
    for code, percent in (
        ("TRUCLAM", "80"),
        ("NGHISON", "80"),
        ("CACSON", "60"),
        ("TINHGIA", "50"),
    ):
        assessment = demo["assessments"][code]
        fill_assessment(assessment)
        submit_directly(assessment)
        appraise_directly(assessment)
        enter_survey(assessment, percent)
    return demo


def ranking_rows(html: str) -> list[tuple[str, str, str]]:
    """(rank, unit, index) of each row of the ranking table."""
    body = html[html.index('<table class="ranking">') :]
    body = body[: body.index("</table>")]
    out = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        out.append((cells[0], cells[1], cells[5]))
    return out


def test_tied_units_share_a_rank_and_the_next_rank_skips(
    client: Any, login_as: Any, ready: dict[str, Any]
) -> None:
    period = ready["period"]
    results = period_results(period)
    ranks = {r.unit.code: r.rank for r in results.rows}
    assert ranks == {"TRUCLAM": 1, "NGHISON": 1, "CACSON": 3, "TINHGIA": 4}
    assert {r.unit.code: r.final.index for r in results.rows} == {
        "TRUCLAM": Decimal("93.60"),
        "NGHISON": Decimal("93.60"),
        "CACSON": Decimal("87.20"),
        "TINHGIA": Decimal("84.00"),
    }

    login_as("admin")
    assert client.post(f"/results/periods/{period.id}/publish").status_code == 302
    page = client.get(f"/results/periods/{period.id}").text
    assert ranking_rows(page) == [
        ("1", "Phường Nghi Sơn", "93,60"),
        ("1", "Phường Trúc Lâm", "93,60"),
        ("3", "Xã Các Sơn", "87,20"),
        ("4", "Phường Tĩnh Gia", "84,00"),
    ]
    assert "Xuất sắc (A)" in page and "Tốt (B)" in page
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "period.publish")
    )
    assert event is not None
    assert {k: v["rank"] for k, v in event.after["results"].items()} == ranks


def test_publishing_is_refused_with_the_list_of_what_is_missing(
    client: Any, login_as: Any, ready: dict[str, Any]
) -> None:
    period = ready["period"]
    nghison = ready["assessments"]["NGHISON"]
    for row in nghison.scores:
        if row.criterion_code == "1.5":
            row.appraised_at = None
            row.appraised_points = None
        if row.criterion_code in ("1.8", "2.4"):
            row.survey_value = None
    lifecycle.settle_appraisal(nghison, complete=False)
    db.session.commit()

    login_as("admin")
    response = client.post(f"/results/periods/{period.id}/publish")
    assert response.status_code == 409
    listed = re.search(r'<ul class="problems">(.*?)</ul>', response.text, re.S)
    assert listed is not None
    assert re.findall(r"<li>(.*?)</li>", listed.group(1)) == [
        "Phường Nghi Sơn: còn 1 tiêu chí chưa thẩm định; "
        "thiếu kết quả điều tra XHH tiêu chí 1.8, 2.4"
    ]
    assert period.status == "open" and period.published_at is None
    assert (
        db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "period.publish")
        )
        is None
    )


def test_units_see_their_results_and_the_ranking_only_after_publication(
    client: Any, login_as: Any, ready: dict[str, Any]
) -> None:
    period = ready["period"]
    truclam, nghison = ready["assessments"]["TRUCLAM"], ready["assessments"]["NGHISON"]
    login_as("truclam.chuyenvien")
    waiting = client.get(f"/results/assessments/{truclam.id}")
    assert waiting.status_code == 200
    assert "chưa được công bố" in waiting.text and "93,60" not in waiting.text
    assert client.get(f"/results/periods/{period.id}").status_code == 404
    # An appraiser sees only the units assigned to them before publication.
    login_as("thamdinh")
    preview = client.get(f"/results/periods/{period.id}").text
    assert "Phường Trúc Lâm" in preview and "Phường Tĩnh Gia" not in preview

    login_as("admin")
    client.post(f"/results/periods/{period.id}/publish")

    login_as("truclam.chuyenvien")
    mine = client.get(f"/results/assessments/{truclam.id}").text
    assert "93,60" in mine and "Xuất sắc (A)" in mine
    assert re.search(r"1<small>/4 đơn vị</small>", mine)  # rank 1 of 4
    ranking = client.get(f"/results/periods/{period.id}")
    assert ranking.status_code == 200 and "Phường Tĩnh Gia" in ranking.text
    assert client.get(f"/results/assessments/{nghison.id}").status_code == 404
    assert "Xem kết quả của đơn vị" in client.get("/results/").text


def test_after_publication_scores_and_survey_values_are_frozen(
    client: Any, login_as: Any, ready: dict[str, Any]
) -> None:
    period, truclam = ready["period"], ready["assessments"]["TRUCLAM"]
    login_as("admin")
    client.post(f"/results/periods/{period.id}/publish")
    version = next(r.version for r in truclam.scores if r.criterion_code == "1.5")
    response = client.post(
        f"/appraisal/assessments/{truclam.id}/leaves/1.5",
        data={"points": "0", "comment": "x", "version": str(version)},
    )
    assert response.status_code == 422
    assert "Kết quả đã công bố" in response.text
    survey = client.post(
        f"/appraisal/periods/{period.id}/survey", data={f"v-{truclam.id}-1.8": "10"}
    )
    assert survey.status_code == 409
    assert period_results(period).row_for(truclam.id).final.index == Decimal("93.60")  # type: ignore[union-attr]


def test_charts_and_analyses_for_the_coordinator(
    client: Any, login_as: Any, ready: dict[str, Any]
) -> None:
    period, truclam = ready["period"], ready["assessments"]["TRUCLAM"]
    for row in truclam.scores:
        if row.criterion_code == "3.3":
            row.appraised_points = Decimal("1.5")
            row.appraiser_comment = "Tỷ lệ xử lý trực tuyến thực tế 30 %"
    db.session.commit()
    login_as("admin")
    ranking = client.get(f"/results/periods/{period.id}").text
    chart = ranking[ranking.index("<svg") : ranking.index("</svg>")]
    assert "Phường Trúc Lâm" in chart and "91,10%" in chart  # 93,60 − (4 − 1,5)
    assert "style=" not in ranking

    unit = client.get(f"/results/assessments/{truclam.id}").text
    assert unit.count("<svg") == 2  # grouped bars and radar against the period average
    assert "Bình quân các đơn vị" in unit
    assert "<polygon" in unit

    grid = client.get(f"/results/periods/{period.id}/criteria?code=3.3").text
    units_in_order = re.findall(r'#leaf-3-3">([^<]+)</a>', grid)
    assert units_in_order[0] == "Phường Trúc Lâm"  # the largest difference comes first
    assert "-2,50" in grid

    differences = client.get(f"/results/periods/{period.id}/differences").text
    assert (
        "Tỷ lệ xử lý trực tuyến thực tế 30 %" in differences and "-2,50" in differences
    )


@pytest.fixture
def partly_submitted(
    demo: dict[str, Any], fill_assessment: Any, submit_directly: Any
) -> dict[str, Any]:
    """Trúc Lâm and Các Sơn submitted; Nghi Sơn and Tĩnh Gia have not.

    "thamdinh" is assigned Trúc Lâm and Nghi Sơn; "thamdinh.moi" is assigned nothing.
    """
    from webapp.auth.services import hash_password
    from webapp.models import User

    for code in ("TRUCLAM", "CACSON"):
        fill_assessment(demo["assessments"][code])
        submit_directly(demo["assessments"][code])
    db.session.add(
        User(
            username="thamdinh.moi",
            full_name="Đinh Thị Ngọc",
            role="appraiser",
            password_hash=hash_password(demo["password"]),
        )
    )
    db.session.commit()
    return demo


NOT_SUBMITTED = ("Phường Nghi Sơn", "Phường Tĩnh Gia")


def test_an_unassigned_appraiser_learns_nothing_about_who_has_not_submitted(
    client: Any, login_as: Any, partly_submitted: dict[str, Any]
) -> None:
    login_as("thamdinh.moi")
    page = client.get(f"/results/periods/{partly_submitted['period'].id}")
    assert page.status_code == 200
    assert "chưa gửi hồ sơ" not in page.text
    for name in (*NOT_SUBMITTED, "Phường Trúc Lâm", "Xã Các Sơn"):
        assert name not in page.text
    assert "Chưa có đơn vị nào gửi" not in page.text


def test_appraisers_see_only_their_own_units_left_out_the_coordinator_all(
    client: Any, login_as: Any, partly_submitted: dict[str, Any]
) -> None:
    url = f"/results/periods/{partly_submitted['period'].id}"
    login_as("thamdinh")
    hint = re.search(
        r"Không xếp hạng \(chưa gửi hồ sơ\): ([^<]*)", client.get(url).text
    )
    assert hint and hint.group(1) == "Phường Nghi Sơn."
    login_as("admin")
    hint = re.search(
        r"Không xếp hạng \(chưa gửi hồ sơ\): ([^<]*)", client.get(url).text
    )
    assert hint and set(hint.group(1).rstrip(".").split(", ")) == set(NOT_SUBMITTED)
