"""Every page shows a status with the same badge, and one deadline per unit."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from webapp.clock import VN_TZ
from webapp.extensions import db

pytestmark = pytest.mark.db


def badge_classes(page: str, label: str) -> set[str]:
    """The colour classes of every badge reading `label` on the page."""
    found = re.findall(
        r'<span class="badge([^"]*)">' + re.escape(label) + "</span>", page
    )
    return {" ".join(c for c in cls.split() if c != "status-badge") for cls in found}


def test_a_submitted_assessment_wears_one_badge_on_every_page(
    demo: dict[str, Any],
    clock: Any,
    login_as: Any,
    fill_assessment: Any,
    submit_directly: Any,
) -> None:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    fill_assessment(truclam)
    submit_directly(truclam)
    pages = {}
    client = login_as("truclam.lanhdao")
    pages["unit dashboard"] = client.get("/assessments/")
    pages["unit assessment"] = client.get(f"/assessments/{truclam.id}")
    pages["dossier settings"] = client.get(
        f"/dossier/assessments/{truclam.id}/settings"
    )
    client = login_as("admin")
    pages["period progress"] = client.get(f"/admin/periods/{demo['period'].id}")
    client = login_as("thamdinh")
    pages["appraisal list"] = client.get("/appraisal/")
    pages["appraisal screen"] = client.get(f"/appraisal/assessments/{truclam.id}")

    seen = {}
    for name, response in pages.items():
        assert response.status_code == 200, name
        seen[name] = badge_classes(response.get_data(as_text=True), "Đã gửi")
    assert seen == dict.fromkeys(pages, {""})


def test_the_progress_table_and_the_submit_gate_use_the_extended_deadline(
    demo: dict[str, Any], clock: Any, login_as: Any, fill_assessment: Any
) -> None:
    period, nghison = demo["period"], demo["assessments"]["NGHISON"]
    admin = login_as("admin")
    response = admin.post(
        f"/admin/periods/{period.id}/extensions/new",
        data={
            "unit_id": demo["units"]["NGHISON"].id,
            "new_deadline": "20/12/2026",
            "reason": "Sáp nhập đơn vị hành chính.",
        },
    )
    assert response.status_code == 302
    row = re.search(
        r"Phường Nghi Sơn.*?</tr>",
        admin.get(f"/admin/periods/{period.id}").get_data(as_text=True),
        re.S,
    )
    assert row is not None and "20/12/2026 23:59" in row.group(0)
    assert "Đã gia hạn" in row.group(0)

    # After the period's deadline, before the unit's own: the unit may still submit.
    clock.value = datetime(2026, 12, 17, 9, 0, tzinfo=VN_TZ)
    fill_assessment(nghison)
    client = login_as("nghison.lanhdao")
    page = client.get(f"/assessments/{nghison.id}").get_data(as_text=True)
    assert 'data-deadline="2026-12-20T16:59:59+00:00"' in page
    sent = client.post(f"/assessments/{nghison.id}/submit")
    assert (sent.status_code, sent.headers["Location"]) == (303, "/assessments/")
    db.session.expire_all()
    assert demo["assessments"]["NGHISON"].status == "submitted"

    # Trúc Lâm has no extension: the same moment is past its deadline.
    truclam = demo["assessments"]["TRUCLAM"]
    fill_assessment(truclam)
    client = login_as("truclam.lanhdao")
    refused = client.post(f"/assessments/{truclam.id}/submit", follow_redirects=True)
    assert "Đã quá hạn gửi hồ sơ tự đánh giá (23:59:59 15/12/2026)" in refused.get_data(
        as_text=True
    )
