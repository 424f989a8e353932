"""The criteria registry (webapp/criteria_sets.py): each set parsed once per content.

Pages ask `criteria_for` for an assessment's or a period's set; once the registry is
warm, a request about an opened period does not touch the criteria-set table at all,
and a set that may still change (no opened period uses it) is re-read only when its
content changed: at once in this instance, and on the next request in any other
instance sharing the database.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from criteria import DATA_DIR
from webapp.criteria_sets import criteria_for, import_criteria_set

WARD_SET = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"
SET_ID = WARD_SET.stem


def _edited_copy(tmp_path: Path) -> Path:
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        WARD_SET.read_text(encoding="utf-8").replace("DỰ THẢO", "DỰ THẢO 2"),
        encoding="utf-8",
    )
    return edited


def _criteria_reads(statements: list[str]) -> list[str]:
    # The sets' own table (period_criteria_sets, a period's family sets, is not it).
    return [s for s in statements if re.search(r"\bcriteria_sets\b", s)]


def test_a_warm_page_of_an_opened_period_does_not_touch_the_criteria_table(
    demo: dict[str, Any], login_as: Any, sql_statements: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    page = f"/assessments/{demo['assessments']['TRUCLAM'].id}"
    assert client.get(page).status_code == 200  # warms the registry
    with sql_statements() as seen:
        again = client.get(page)
    assert again.status_code == 200
    assert "1.1.1" in again.get_data(as_text=True)
    assert seen and _criteria_reads(seen) == []


def test_a_set_no_opened_period_uses_is_checked_by_hash_not_reread(
    app: Any, sql_statements: Any
) -> None:
    import_criteria_set(WARD_SET)
    with app.app_context():
        criteria_for(SET_ID)
    with app.app_context(), sql_statements() as seen:
        criteria_for(SET_ID)
        criteria_for(SET_ID)
    assert len(_criteria_reads(seen)) == 1
    assert "source_yaml" not in seen[0]


def test_lookups_by_assessment_period_and_id_give_the_same_set(
    demo: dict[str, Any],
) -> None:
    by_id = criteria_for(SET_ID)
    assert criteria_for(demo["period"]) is by_id
    assert criteria_for(demo["assessments"]["CACSON"]) is by_id


def test_a_replaced_set_is_seen_at_once(app: Any, tmp_path: Path) -> None:
    import_criteria_set(WARD_SET)
    assert "DỰ THẢO 2" not in criteria_for(SET_ID).title
    _, outcome = import_criteria_set(_edited_copy(tmp_path), replace=True)
    assert outcome == "replaced"
    assert "DỰ THẢO 2" in criteria_for(SET_ID).title


def test_another_instance_sees_a_set_replaced_elsewhere(
    app: Any, app_config: dict[str, Any], tmp_path: Path
) -> None:
    from webapp import create_app
    from webapp.extensions import db

    import_criteria_set(WARD_SET)
    with app.app_context():  # a request on this instance warms its registry
        assert "DỰ THẢO 2" not in criteria_for(SET_ID).title
    other = create_app(app_config)
    with other.app_context():
        import_criteria_set(_edited_copy(tmp_path), replace=True)
        db.session.remove()
        db.engine.dispose()
    with app.app_context():  # the next request here
        assert "DỰ THẢO 2" in criteria_for(SET_ID).title


def test_an_unknown_set_id_is_a_key_error(app: Any) -> None:
    import pytest

    with pytest.raises(KeyError):
        criteria_for("khong-co-bo-nay")
