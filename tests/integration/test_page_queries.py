"""Pages that list every unit issue as many queries for 6 units as for 2.

The ranking, the appraisal list and the dossier index are read at national scale
(3,321 units: bench/pages.py), so none of them may load anything unit by unit. Each
test counts the SQL statements of one request (SQLAlchemy's before_cursor_execute)
with 2 submitted and appraised units, then with 6, both for the first request after
the data changed and for a repeated one. The units' totals are kept between requests
(webapp/standings.py); the last tests show a changed appraisal is never served stale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import url_for

from criteria import DATA_DIR
from webapp.auth.services import hash_password
from webapp.criteria_sets import criteria_for, import_criteria_set
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db
from webapp.lifecycle import PeriodStatus
from webapp.models import Assessment, Period, Unit, User

WARD_SET = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"


@pytest.fixture
def period_id(app: Any) -> int:
    import_criteria_set(WARD_SET)
    db.session.add(
        User(
            username="admin",
            full_name="Nguyễn Văn Quản (Sở Nội vụ)",
            role="admin",
            password_hash=hash_password(DEMO_PASSWORD),
        )
    )
    period = Period(
        name="Đánh giá Chỉ số CCHC năm 2026 (cấp xã)",
        year=2026,
        criteria_set_id=WARD_SET.stem,
        opens_at=datetime(2026, 11, 1, tzinfo=UTC),
        self_deadline=datetime(2026, 12, 15, 16, 59, 59, tzinfo=UTC),
        appraisal_deadline=datetime(2027, 1, 15, 16, 59, 59, tzinfo=UTC),
        status=PeriodStatus.OPEN,
    )
    db.session.add(period)
    db.session.commit()
    criteria_for(period)  # the registry is warm in every case compared below
    return period.id


@pytest.fixture
def add_units(
    period_id: int,
    fill_assessment: Any,
    submit_directly: Any,
    appraise_directly: Any,
    enter_survey: Any,
) -> Callable[[int], None]:
    """Add units to the period, each submitted, appraised and surveyed."""

    def add(count: int) -> None:
        period = db.session.get(Period, period_id)
        assert period is not None
        start = len(period.units)
        for i in range(start, start + count):
            unit = Unit(code=f"P{i:02d}", name=f"Phường Số {i:02d}", kind="xa_phuong")
            period.units.append(unit)
            assessment = Assessment(period=period, unit=unit)
            db.session.add(assessment)
            db.session.commit()
            fill_assessment(assessment)
            submit_directly(assessment)
            appraise_directly(assessment)
            enter_survey(assessment, str(50 + i))

    return add


def _queries(client: Any, url: str, sql_statements: Any) -> tuple[int, int]:
    """Statements of the first request and of a repeated one (both must succeed)."""
    counts = []
    for _ in range(2):
        # Requests share the test's session: empty it, as a new request's would be.
        db.session.remove()
        with sql_statements() as seen:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(seen))
    return counts[0], counts[1]


@pytest.mark.parametrize(
    "endpoint", ["results.ranking", "appraisal.index", "dossier.index"]
)
def test_the_page_issues_as_many_queries_for_six_units_as_for_two(
    period_id: int,
    add_units: Callable[[int], None],
    login_as: Any,
    sql_statements: Any,
    endpoint: str,
) -> None:
    client = login_as("admin")
    with client.application.test_request_context():
        url = url_for(endpoint, period_id=period_id)
    add_units(2)
    with_two = _queries(client, url, sql_statements)
    add_units(4)
    with_six = _queries(client, url, sql_statements)
    page = client.get(url).get_data(as_text=True)
    assert all(f"Phường Số {i:02d}" in page for i in range(6))
    assert with_six == with_two


def _final_points(period_id: int) -> dict[str, Any]:
    from webapp.results.ranking import period_results

    db.session.remove()
    period = db.session.get(Period, period_id)
    assert period is not None
    return {r.unit.code: r.final.points for r in period_results(period).rows}


def _lower_first_appraised_leaf(unit_code: str) -> None:
    from decimal import Decimal

    import sqlalchemy as sa

    from webapp.models import CriterionScore

    row = db.session.scalar(
        sa.select(CriterionScore)
        .join(Assessment)
        .join(Unit)
        .where(
            Unit.code == unit_code,
            CriterionScore.appraised_points > 0,
        )
        .order_by(CriterionScore.id)
    )
    assert row is not None
    row.appraised_points = Decimal(0)
    db.session.commit()


def test_a_changed_appraisal_moves_the_ranking_at_once(
    period_id: int, add_units: Callable[[int], None]
) -> None:
    add_units(2)
    before = _final_points(period_id)
    _lower_first_appraised_leaf("P01")
    after = _final_points(period_id)
    assert after["P01"] < before["P01"]
    assert after["P00"] == before["P00"]


def test_another_instance_sees_an_appraisal_changed_elsewhere(
    app: Any,
    app_config: dict[str, Any],
    period_id: int,
    add_units: Callable[[int], None],
) -> None:
    from webapp import create_app

    add_units(2)
    before = _final_points(period_id)
    other = create_app(app_config)
    with other.app_context():
        _lower_first_appraised_leaf("P00")
        db.session.remove()
        db.engine.dispose()
    after = _final_points(period_id)
    assert after["P00"] < before["P00"]
