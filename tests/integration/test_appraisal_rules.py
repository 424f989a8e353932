"""Appraised scores stay within the rule, differences need a comment, and only the
assigned appraiser (for the assigned areas) may appraise."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.auth.services import hash_password
from webapp.extensions import db
from webapp.models import AppraiserAssignment, AuditEvent, CriterionScore, User


@pytest.fixture
def submitted(demo: dict[str, Any], fill_assessment: Any, submit_directly: Any) -> Any:
    """Trúc Lâm, answered for full points and submitted."""
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    return assessment


def score(assessment: Any, code: str) -> CriterionScore:
    found = db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )
    assert found is not None
    return found


def post(client: Any, assessment: Any, code: str, **data: Any) -> Any:
    data.setdefault("version", str(score(assessment, code).version))
    return client.post(
        f"/appraisal/assessments/{assessment.id}/leaves/{code}", data=data
    )


def make_appraiser(username: str) -> User:
    user = User(
        username=username,
        full_name="Trần Văn Thẩm",
        role="appraiser",
        password_hash=hash_password("ParIndex@2026"),
    )
    db.session.add(user)
    db.session.commit()
    return user


OUT_OF_RULE = [
    # 1.5 is a manual rule: levels 1, 0,5 and 0 only.
    ("1.5", "0,7", "không đạt được theo cách tính của tiêu chí này"),
    ("1.5", "1,5", "phải từ 0 đến 1,00"),
    ("1.5", "-1", "phải từ 0 đến 1,00"),
    ("1.5", "abc", "không phải là số"),
    # 1.2 is a deduction of 0,25 per late report from 1: 0,8 is not reachable.
    ("1.2", "0,8", "chỉ nhận một trong các mức: 1,00; 0,75; 0,50; 0,25; 0,00"),
    # 3.3 is a ratio rule: any value from 0 to 4, but with two decimals at most.
    ("3.3", "4,01", "phải từ 0 đến 4,00"),
    ("3.3", "2,375", "tối đa hai chữ số thập phân"),
]


def test_a_score_the_rule_cannot_give_is_refused_with_a_message(
    client: Any, login_as: Any, submitted: Any
) -> None:
    # One database for all cases: a refusal changes nothing, so they cannot interfere.
    login_as("thamdinh")
    for code, typed, message in OUT_OF_RULE:
        response = post(client, submitted, code, points=typed, comment="Có nhận xét")
        assert response.status_code == 422, (code, typed)
        assert message in response.text, (code, typed)
        assert score(submitted, code).appraised_at is None
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "appraisal.save")
    ).all()


def test_a_score_different_from_the_self_score_needs_a_comment(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    refused = post(client, submitted, "1.5", points="0,5", comment="   ")
    assert refused.status_code == 422
    assert (
        "Điểm thẩm định (0,50) khác điểm tự chấm (1,00): bắt buộc ghi nhận xét."
        in refused.text
    )
    assert score(submitted, "1.5").appraised_points is None

    saved = post(client, submitted, "1.5", points="0,5", comment="Chưa được công nhận.")
    assert saved.status_code == 302
    row = score(submitted, "1.5")
    assert row.appraised_points == Decimal("0.50")
    assert row.appraiser_comment == "Chưa được công nhận."
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "appraisal.save")
    )
    assert event is not None and event.after["appraised_points"] == "0.50"

    # Agreeing needs no comment; a continuous rule takes any value with 2 decimals.
    assert post(client, submitted, "1.1.1", points="0,50").status_code == 302
    assert (
        post(
            client, submitted, "3.3", points="2,37", comment="Tỷ lệ thực tế thấp hơn"
        ).status_code
        == 302
    )
    assert score(submitted, "3.3").appraised_points == Decimal("2.37")


CORRECTIONS = [
    # tiers, 80 % to under 100 % gives max × value ÷ 100: 1 × 85 ÷ 100
    ("1.1.3", {"value": "85"}, "0.85", {"value": "85"}),
    # checklist: items 1 and 2 only (0,2 + 0,15)
    ("1.1.2", {"checked": ["0", "1"]}, "0.35", {"checked": [0, 1]}),
    # deduction: two late reports, 1 − 2 × 0,25
    ("1.2", {"counts-0": "2"}, "0.50", {"counts": [2]}),
    # date tiers: signed in February, 0,25
    ("1.1.1", {"value": "15/02/2026"}, "0.25", {"value": "2026-02-15"}),
    # binary: the condition does not hold after all
    ("2.2.1", {"value": "false"}, "0.00", {"value": False}),
]


def test_correcting_the_value_recomputes_the_score_with_the_engine(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    for code, correction, expected, stored in CORRECTIONS:
        response = post(
            client,
            submitted,
            code,
            correct="y",
            points="",
            comment="Số liệu thực tế khác",
            **correction,
        )
        assert response.status_code == 302, (code, response.text)
        row = score(submitted, code)
        assert row.appraised_points == Decimal(expected), code
        assert row.appraised_answer == stored, code
    # A corrected value is checked by the engine like the unit's own answer.
    refused = post(client, submitted, "1.1.3", correct="y", value="101", comment="x")
    assert refused.status_code == 422
    assert "Số liệu sửa không hợp lệ: 1.1.3: tỷ lệ 101% vượt quá 100%" in refused.text


def test_a_stale_form_is_refused_instead_of_overwriting(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    old_version = str(score(submitted, "1.5").version)
    assert post(client, submitted, "1.5", points="1").status_code == 302
    stale = post(client, submitted, "1.5", points="0", comment="x", version=old_version)
    assert stale.status_code == 422
    assert "vừa được người khác thay đổi" in stale.text
    assert score(submitted, "1.5").appraised_points == Decimal("1.00")


def test_survey_leaves_are_not_appraised(
    client: Any, login_as: Any, submitted: Any
) -> None:
    login_as("thamdinh")
    response = client.post(
        f"/appraisal/assessments/{submitted.id}/leaves/1.8",
        data={"points": "1", "version": ""},
    )
    assert response.status_code == 422
    assert "không thuộc phần thẩm định" in response.text


def test_an_appraiser_not_assigned_to_the_unit_cannot_see_it(
    client: Any,
    login_as: Any,
    demo: dict[str, Any],
    submitted: Any,
    fill_assessment: Any,
    submit_directly: Any,
) -> None:
    make_appraiser("thamdinh2")
    login_as("thamdinh2")
    assert client.get(f"/appraisal/assessments/{submitted.id}").status_code == 404
    assert post(client, submitted, "1.5", points="1").status_code == 404
    assert submitted.unit.name not in client.get("/appraisal/").text
    # thamdinh is assigned to Trúc Lâm and Nghi Sơn, not to Tĩnh Gia.
    tinhgia = demo["assessments"]["TINHGIA"]
    fill_assessment(tinhgia)
    submit_directly(tinhgia)
    login_as("thamdinh")
    assert client.get(f"/appraisal/assessments/{tinhgia.id}").status_code == 404
    # A unit's users never reach the appraisal screen, not even for their own unit.
    login_as("truclam.lanhdao")
    assert client.get(f"/appraisal/assessments/{submitted.id}").status_code == 403


def test_a_draft_assessment_is_not_shown_to_the_appraiser(
    client: Any, login_as: Any, demo: dict[str, Any]
) -> None:
    login_as("thamdinh")
    assert (
        client.get(
            f"/appraisal/assessments/{demo['assessments']['NGHISON'].id}"
        ).status_code
        == 404
    )


def test_an_appraiser_assigned_to_some_areas_appraises_only_those(
    client: Any, login_as: Any, demo: dict[str, Any], submitted: Any
) -> None:
    user = make_appraiser("thamdinh.linhvuc2")
    db.session.add(
        AppraiserAssignment(
            period_id=submitted.period_id,
            unit_id=submitted.unit_id,
            user_id=user.id,
            area_codes=["2"],
        )
    )
    db.session.commit()
    login_as("thamdinh.linhvuc2")
    page = client.get(f"/appraisal/assessments/{submitted.id}")
    assert page.status_code == 200
    assert "Bạn không được phân công thẩm định lĩnh vực này." in page.text
    refused = post(client, submitted, "1.5", points="1")
    assert refused.status_code == 422
    assert "không được phân công thẩm định lĩnh vực này" in refused.text
    assert score(submitted, "1.5").appraised_at is None
    assert post(client, submitted, "2.2.1", points="0,5").status_code == 302
    assert score(submitted, "2.2.1").appraised_points == Decimal("0.50")
