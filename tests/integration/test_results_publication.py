"""Publishing never freezes a unit that still has time; after it, units see results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.admin.periods import grant_extension
from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.models import AuditEvent

pytestmark = pytest.mark.db


@pytest.fixture
def nghison_extended(
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    submit_directly: Any,
    appraise_directly: Any,
    enter_survey: Any,
) -> dict[str, Any]:
    """On 02/12 three wards are submitted, appraised and surveyed; Nghi Sơn, still a
    draft, has an extension to 22/12."""
    clock.value = datetime(2026, 12, 2, 9, 0, tzinfo=VN_TZ)
    for code in ("TRUCLAM", "TINHGIA", "CACSON"):
        assessment = demo["assessments"][code]
        fill_assessment(assessment)
        submit_directly(assessment)
        appraise_directly(assessment)
        enter_survey(assessment, "80")
    grant_extension(
        demo["period"],
        unit_id=demo["units"]["NGHISON"].id,
        new_deadline=date(2026, 12, 22),
        reason="Thay đổi nhân sự",
        actor=demo["users"]["admin"],
    )
    return demo


def test_publishing_is_refused_while_a_unit_has_an_extension_running(
    client: Any, login_as: Any, nghison_extended: dict[str, Any]
) -> None:
    period = nghison_extended["period"]
    login_as("admin")

    response = client.post(f"/results/periods/{period.id}/publish")

    assert response.status_code == 409
    assert (
        "<li>Phường Nghi Sơn còn thời gian tự đánh giá đến 22/12/2026 23:59 "
        "(đã gia hạn)</li>" in response.text
    )
    assert "Kết thúc sớm việc tự đánh giá cho các đơn vị này" in response.text
    db.session.expire_all()
    assert period.status == "open"
    page = client.get(f"/results/periods/{period.id}").text
    assert "Phường Nghi Sơn còn thời gian tự đánh giá" in page


def test_after_an_explicit_early_close_publishing_is_allowed_and_the_unit_is_told(
    client: Any, login_as: Any, nghison_extended: dict[str, Any], save_leaf: Any
) -> None:
    period = nghison_extended["period"]
    nghison = nghison_extended["assessments"]["NGHISON"]
    login_as("admin")

    closed = client.post(f"/results/periods/{period.id}/close-early")

    assert closed.status_code == 303
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "period.close_early")
    )
    assert event is not None and event.after["units"] == ["NGHISON"]
    assert "Phường Nghi Sơn" in event.summary
    assert client.post(f"/results/periods/{period.id}/publish").status_code == 302

    login_as("nghison.chuyenvien")
    dashboard = client.get("/assessments/").text
    assert "Đã kết thúc sớm việc tự đánh giá" in dashboard
    assert "lúc <strong>02/12/2026 09:00</strong> (trước hạn 22/12/2026 23:59)" in (
        dashboard
    )
    assert 'class="countdown' not in dashboard
    assert "Tiếp tục tự chấm điểm" not in dashboard
    assert "Không xếp hạng" in dashboard
    refused = save_leaf(nghison.id, "1.1.3", value="90")
    assert refused.status_code == 303
    assert "kết thúc sớm" in client.get(refused.location).text


def test_a_published_result_replaces_the_countdown_on_the_dashboard(
    client: Any, login_as: Any, nghison_extended: dict[str, Any]
) -> None:
    period = nghison_extended["period"]
    login_as("admin")
    client.post(f"/results/periods/{period.id}/close-early")
    client.post(f"/results/periods/{period.id}/publish")

    login_as("truclam.chuyenvien")
    page = client.get("/assessments/").text

    assert "Kết quả đã công bố ngày 02/12/2026" in page
    # 68 appraised + 32 × 80 % survey = 93,60; the three submitted wards tie at rank 1.
    assert 'published-points">93,60 <small>/ 100,00</small>' in page
    assert 'published-band">Xuất sắc (A)' in page
    assert 'published-rank">1<' in page
    assert 'class="countdown' not in page and "Xếp loại dự kiến" not in page
    # "Điểm tự chấm" is the unit's own: the survey's 32 points are not in it.
    assert 'self-points">68,00 <small>/ 68,00 điểm' in page
