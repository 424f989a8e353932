"""A unit's page revision moves with every committed change its criteria pages show,
and only then (webapp/page_revision.py, issue 16): the cached page body is keyed on it,
so a change that did not move it would leave a stale page; a change that moved every
unit's for nothing would throw every page away."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.audit import record
from webapp.clock import VN_TZ, utcnow
from webapp.extensions import db
from webapp.models import EvidenceLink, Period, Unit
from webapp.notify.models import Notification
from webapp.plan.models import PlanNote, PlanTask
from webapp.workflow import score_row

pytestmark = pytest.mark.db


def revisions() -> dict[str, int]:
    # A connection of its own: what is committed, whatever this session has seen.
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(Unit.code, Unit.page_revision))
        return {code: revision for code, revision in rows}


def moved(before: dict[str, int]) -> set[str]:
    return {code for code, n in revisions().items() if n != before[code]}


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any) -> Any:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    return demo["assessments"]["TRUCLAM"]


def test_an_answer_saved_on_the_page_moves_only_its_units_revision(
    truclam: Any, login_as: Any, save_leaf: Any
) -> None:
    login_as("truclam.chuyenvien")
    before = revisions()

    response = save_leaf(truclam.id, "1.1.3", 0, value="80", note="Theo KH số 5")

    assert response.status_code == 303
    assert score_row(truclam, "1.1.3").note == "Theo KH số 5"
    assert moved(before) == {"TRUCLAM"}


def test_a_document_unlinked_and_a_plan_task_move_their_units_revision(
    truclam: Any, add_evidence: Any
) -> None:
    evidence = add_evidence(truclam, ["1.1.1"])
    before = revisions()
    db.session.delete(db.session.get(EvidenceLink, (evidence.id, "1.1.1")))
    db.session.commit()
    assert moved(before) == {"TRUCLAM"}

    before = revisions()
    db.session.add(
        PlanTask(
            unit_id=truclam.unit_id,
            year=2026,
            appendix=1,
            appendix_title="Phụ lục I",
            number="1",
            content="Ban hành kế hoạch CCHC năm 2026",
        )  # fmt: skip
    )
    db.session.commit()
    assert moved(before) == {"TRUCLAM"}


def test_a_renamed_user_moves_every_unit_but_a_login_moves_none(
    demo: dict[str, Any],
) -> None:
    user = demo["users"]["truclam.chuyenvien"]
    before = revisions()
    user.last_login_at = utcnow()
    record("auth.login", "user", user.id, actor=user)
    db.session.commit()
    assert moved(before) == set()

    user.full_name = "Nguyễn Thị Đổi Tên"
    db.session.commit()
    assert moved(before) == set(before)


def test_a_bulk_update_moves_every_unit_unless_no_page_shows_its_rows(
    demo: dict[str, Any],
) -> None:
    before = revisions()
    db.session.execute(sa.update(Notification).values(read_at=utcnow()))
    db.session.commit()
    assert moved(before) == set()

    db.session.execute(sa.update(Period).values(name=Period.name + " (sửa)"))
    db.session.commit()
    assert moved(before) == set(before)


def test_a_rolled_back_change_moves_nothing(truclam: Any, fill_assessment: Any) -> None:
    fill_assessment(truclam)
    before = revisions()
    score_row(truclam, "1.1.1").note = "Không lưu"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert moved(before) == set()


def test_rows_whose_owner_the_session_does_not_hold_are_traced_by_the_commit(
    truclam: Any, add_evidence: Any
) -> None:
    evidence = add_evidence(truclam, ["1.1.1", "1.1.2"])
    task = PlanTask(
        unit_id=truclam.unit_id, year=2026, appendix=1, appendix_title="Phụ lục I",
        number="2", content="Tuyên truyền CCHC",
    )  # fmt: skip
    db.session.add(task)
    db.session.commit()
    evidence_id, task_id = evidence.id, task.id
    db.session.expunge_all()  # only the link and the note below are in the session

    before = revisions()
    db.session.delete(db.session.get(EvidenceLink, (evidence_id, "1.1.2")))
    db.session.commit()
    assert moved(before) == {"TRUCLAM"}

    before = revisions()
    db.session.add(PlanNote(task_id=task_id, text="Đã đăng tin trên cổng"))
    db.session.commit()
    assert moved(before) == {"TRUCLAM"}
