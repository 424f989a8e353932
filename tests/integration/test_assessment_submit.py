"""Deadline, submit gate, freezing, reopening, resubmitting after a return request."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from scoring import score_assessment
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import (
    Assessment,
    AuditEvent,
    CriterionScore,
    Evidence,
    EvidenceLink,
    Extension,
    ReturnRequest,
)
from webapp.workflow import answers_of

pytestmark = pytest.mark.db

DEADLINE = vn_end_of_day(2026, 12, 15)  # 23:59:59 Asia/Ho_Chi_Minh
JUST_BEFORE = DEADLINE - timedelta(seconds=1)
JUST_AFTER = DEADLINE + timedelta(seconds=1)


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any) -> Any:
    clock.value = datetime(2026, 12, 10, 10, 0, tzinfo=VN_TZ)
    return demo["assessments"]["TRUCLAM"]


@pytest.fixture
def filled(truclam: Any, demo: dict[str, Any], fill_assessment: Any) -> Any:
    """Every self-assessed leaf answered and explained: the gate lets it through."""
    fill_assessment(
        truclam,
        user=demo["users"]["truclam.chuyenvien"],
        note="Tài liệu kiểm chứng nộp bổ sung khi thẩm định.",
    )
    return truclam


def _fresh(assessment: Any) -> Assessment:
    db.session.expire_all()
    return db.session.get(Assessment, assessment.id)


def _row(assessment: Any, code: str) -> CriterionScore | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


def _changes_logged() -> int:
    """Audit events other than logins and logouts."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action.not_like("user.%"))
    )


def _flashes(client: Any) -> str:
    """The messages flashed since the last call (taken out, as a page view would)."""
    with client.session_transaction() as session:
        return " ".join(message for _, message in session.pop("_flashes", []))


def _version(assessment: Any, code: str) -> int:
    row = _row(assessment, code)
    return row.version if row else 0


# -- deadline -----------------------------------------------------------------------


def test_edit_accepted_just_before_the_deadline(
    truclam: Any, clock: Any, login_as: Any, save_leaf: Any
) -> None:
    clock.value = JUST_BEFORE
    login_as("truclam.chuyenvien")
    assert save_leaf(truclam.id, "1.1.3", value="90").status_code == 303
    assert _row(truclam, "1.1.3").answer == {"value": "90"}


def test_edit_refused_just_after_the_deadline(
    truclam: Any, clock: Any, login_as: Any, save_leaf: Any, client: Any
) -> None:
    login_as("truclam.chuyenvien")
    save_leaf(truclam.id, "1.1.3", value="90")
    clock.value = JUST_AFTER
    login_as("truclam.chuyenvien")  # days later: the idle session has expired

    response = save_leaf(truclam.id, "1.1.3", version=1, value="100")

    assert response.status_code == 303
    assert "Đã quá hạn tự đánh giá (23:59:59 15/12/2026)" in _flashes(client)
    assert _row(truclam, "1.1.3").answer == {"value": "90"}
    assert len(_events("answer.save")) == 1
    page = client.get(f"/assessments/{truclam.id}").get_data(as_text=True)
    assert 'class="leaf-form"' not in page
    assert "Đã quá hạn tự đánh giá" in page


def test_submit_accepted_just_before_the_deadline(
    filled: Any, clock: Any, login_as: Any, client: Any
) -> None:
    clock.value = JUST_BEFORE
    login_as("truclam.lanhdao")

    response = client.post(f"/assessments/{filled.id}/submit")

    assert response.status_code == 303
    assessment = _fresh(filled)
    assert assessment.status == "submitted"
    assert assessment.submitted_at == JUST_BEFORE


def test_submit_refused_just_after_the_deadline(
    filled: Any, clock: Any, login_as: Any, client: Any
) -> None:
    clock.value = JUST_AFTER
    login_as("truclam.lanhdao")

    response = client.post(f"/assessments/{filled.id}/submit")

    assert response.status_code == 303
    assert "Đã quá hạn gửi hồ sơ tự đánh giá (23:59:59 15/12/2026)" in _flashes(client)
    assert _fresh(filled).status == "draft"
    assert _events("assessment.submit") == []
    page = client.get(f"/assessments/{filled.id}/submit").get_data(as_text=True)
    assert "Đã quá hạn gửi hồ sơ" in page
    assert "Xác nhận gửi hồ sơ" not in page


def test_an_extension_reallows_edits_and_submit(
    filled: Any,
    demo: dict[str, Any],
    clock: Any,
    login_as: Any,
    client: Any,
    save_leaf: Any,
) -> None:
    clock.value = JUST_AFTER
    db.session.add(
        Extension(
            period_id=filled.period_id,
            unit_id=filled.unit_id,
            new_deadline=vn_end_of_day(2026, 12, 20),
            reason="Thiên tai",
            granted_by_id=demo["users"]["admin"].id,
        )
    )
    db.session.commit()
    login_as("truclam.chuyenvien")

    assert (
        save_leaf(
            filled.id,
            "1.1.3",
            version=_version(filled, "1.1.3"),
            value="95",
            note="Báo cáo 12/BC-UBND",
        ).status_code
        == 303
    )
    assert _row(filled, "1.1.3").answer == {"value": "95"}
    dashboard = client.get("/assessments/").get_data(as_text=True)
    assert "Đã được gia hạn" in dashboard and "20/12/2026 23:59" in dashboard

    login_as("truclam.lanhdao")
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 303
    assert _fresh(filled).status == "submitted"


def test_other_units_extension_does_not_help(
    filled: Any, demo: dict[str, Any], clock: Any, login_as: Any, save_leaf: Any
) -> None:
    clock.value = JUST_AFTER
    db.session.add(
        Extension(
            period_id=filled.period_id,
            unit_id=demo["units"]["NGHISON"].id,
            new_deadline=vn_end_of_day(2026, 12, 20),
            reason="Thiên tai",
        )
    )
    db.session.commit()
    login_as("truclam.chuyenvien")
    save_leaf(filled.id, "1.1.3", version=_version(filled, "1.1.3"), value="95")
    assert _row(filled, "1.1.3").answer == {"value": "100"}


# -- the gate -----------------------------------------------------------------------


def test_submit_refusal_lists_exactly_the_leaves_at_fault(
    truclam: Any,
    demo: dict[str, Any],
    fill_assessment: Any,
    add_evidence: Any,
    login_as: Any,
    client: Any,
) -> None:
    from webapp.assessment.answers import save_answer

    editor = demo["users"]["truclam.chuyenvien"]
    fill_assessment(truclam, user=editor, skip=("1.1.1", "3.3"))
    cs = criteria_for(truclam)

    def resave(code: str, answer: dict[str, Any]) -> None:
        save_answer(
            truclam,
            cs.node(code),
            answer=answer,
            note="",
            version=_version(truclam, code),
            user=editor,
        )

    resave("1.1.3", {"value": "100"})  # points, no document, no explanation: at fault
    resave("1.3.2", {"not_applicable": True})  # did not arise: out of the max, no proof
    resave("1.1.2", {"checked": []})  # claims nothing: no proof needed
    resave("2.3.3", {"value": False})  # claims nothing
    resave("2.2.1", {"value": True})  # proven by a document below
    add_evidence(truclam, ["2.2.1"])
    login_as("truclam.lanhdao")

    response = client.post(f"/assessments/{truclam.id}/submit")

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    listed = re.findall(r'<li class="problem" data-code="([^"]+)"', page)
    assert listed == ["1.1.1", "1.1.3", "3.3"]
    assert "Chưa trả lời" in page
    assert "chưa có tài liệu kiểm chứng và chưa có giải trình" in page
    assert "Xác nhận gửi hồ sơ" not in page
    assert _fresh(truclam).status == "draft"
    assert _events("assessment.submit") == []
    # The confirmation page shows the same list before anyone presses the button.
    page = client.get(f"/assessments/{truclam.id}/submit").get_data(as_text=True)
    assert re.findall(r'<li class="problem" data-code="([^"]+)"', page) == listed


def test_replaced_document_does_not_count_as_proof(
    filled: Any, demo: dict[str, Any], add_evidence: Any, login_as: Any, client: Any
) -> None:
    from webapp.assessment.answers import save_answer

    editor = demo["users"]["truclam.chuyenvien"]
    leaf = criteria_for(filled).node("1.1.3")
    save_answer(
        filled,
        leaf,
        answer={"value": "100"},
        note="",
        version=_version(filled, "1.1.3"),
        user=editor,
    )
    old, new = (
        add_evidence(filled, ["1.1.3"]),
        add_evidence(filled, [], filename="Bản mới.pdf"),
    )
    old.replaced_by_id = new.id
    db.session.commit()
    login_as("truclam.lanhdao")

    page = client.post(f"/assessments/{filled.id}/submit").get_data(as_text=True)

    assert re.findall(r'<li class="problem" data-code="([^"]+)"', page) == ["1.1.3"]


def test_only_the_unit_head_submits(filled: Any, login_as: Any, client: Any) -> None:
    login_as("truclam.chuyenvien")
    assert client.get(f"/assessments/{filled.id}/submit").status_code == 403
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 403
    login_as("nghison.lanhdao")
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 404
    assert _fresh(filled).status == "draft"


# -- freezing -----------------------------------------------------------------------


def test_submission_freezes_a_snapshot_of_what_was_submitted(
    filled: Any,
    demo: dict[str, Any],
    add_evidence: Any,
    login_as: Any,
    client: Any,
    clock: Any,
) -> None:
    plan = add_evidence(filled, ["1.1.1", "1.1.2"], filename="Kế hoạch CCHC 2026.pdf")
    report = add_evidence(filled, ["1.1.3"], filename="Báo cáo CCHC năm 2026.pdf")
    draft = add_evidence(filled, ["1.1.3"], filename="Bản nháp.pdf")
    draft.replaced_by_id = report.id
    db.session.commit()
    expected_answers = answers_of(filled)
    expected = score_assessment(criteria_for(filled), expected_answers)
    login_as("truclam.lanhdao")

    assert client.get(f"/assessments/{filled.id}/submit").status_code == 200
    response = client.post(f"/assessments/{filled.id}/submit")

    assert response.status_code == 303
    assessment = _fresh(filled)
    assert assessment.status == "submitted"
    assert assessment.submitted_by_id == demo["users"]["truclam.lanhdao"].id
    assert assessment.submitted_at == clock.value
    snap = assessment.snapshot
    assert snap["answers"] == expected_answers
    assert snap["totals"]["points"] == str(expected.points)
    assert snap["totals"]["max"] == str(expected.max_points)
    assert snap["totals"]["index"] == str(expected.index)
    assert snap["totals"]["band"] == expected.band
    for code, leaf_score in expected.leaves.items():
        stored = snap["leaves"][code]
        assert stored["self_points"] == (
            None if leaf_score.points is None else str(leaf_score.points)
        ), code
        assert stored["explanation"] == leaf_score.explanation
    assert (
        snap["leaves"]["1.1.3"]["note"]
        == "Tài liệu kiểm chứng nộp bổ sung khi thẩm định."
    )
    assert snap["evidence"] == [
        {
            "id": plan.id,
            "sha256": plan.sha256,
            "size": plan.size,
            "original_filename": "Kế hoạch CCHC 2026.pdf",
            "codes": ["1.1.1", "1.1.2"],
        },
        {
            "id": report.id,
            "sha256": report.sha256,
            "size": report.size,
            "original_filename": "Báo cáo CCHC năm 2026.pdf",
            "codes": ["1.1.3"],
        },
    ]
    (event,) = _events("assessment.submit")
    assert event.before["status"] == "draft"
    assert event.after["status"] == "submitted"
    assert event.after["totals"]["points"] == str(expected.points)
    assert event.actor_name == "Lê Văn Minh"


def test_after_submission_every_write_is_refused(
    filled: Any,
    demo: dict[str, Any],
    add_evidence: Any,
    login_as: Any,
    client: Any,
    save_leaf: Any,
) -> None:
    plan = add_evidence(filled, ["1.1.1"], filename="Kế hoạch CCHC 2026.pdf")
    login_as("truclam.lanhdao")
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 303
    snapshot = _fresh(filled).snapshot
    rows_before = {
        r.criterion_code: (r.answer, r.self_points, r.note, r.version)
        for r in _fresh(filled).scores
    }
    audit_before = _changes_logged()
    evidence_before = db.session.scalar(
        sa.select(sa.func.count()).select_from(Evidence)
    )

    login_as("truclam.chuyenvien")
    for code, fields in [
        ("1.1.1", {"value": "01/03/2026"}),
        ("1.1.2", {"checked": ["0"]}),
        ("1.1.3", {"value": "50"}),
        ("1.1.3", {"value": "abc"}),  # bad input too: refused as locked, not as bad
        ("1.2", {"count_0": "3"}),
        ("1.5", {"level": "2"}),
        ("2.2.1", {"value": "no"}),
        ("1.3.2", {"not_applicable": "y"}),
    ]:
        response = save_leaf(filled.id, code, version=_version(filled, code), **fields)
        assert response.status_code == 303, code
        assert "Hồ sơ đã gửi và được khóa" in _flashes(client)
    # The evidence feature's write routes go through the same rule.
    writes = [
        (
            f"/evidence/assessments/{filled.id}/upload",
            {"criterion_code": "1.1.3", "file": (_pdf(), "Bổ sung.pdf")},
        ),
        (f"/evidence/{plan.id}/link", {"criterion_code": "1.1.3"}),
        (f"/evidence/{plan.id}/unlink", {"criterion_code": "1.1.1"}),
        (
            f"/evidence/{plan.id}/citation",
            {"doc_type": "Kế hoạch", "doc_number": "1/KH"},
        ),
    ]
    for url, data in writes:
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code in (302, 303, 400, 409), url
    login_as("truclam.lanhdao")
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 303
    assert "Hồ sơ đã được gửi lúc" in _flashes(client)

    assessment = _fresh(filled)
    assert assessment.status == "submitted" and assessment.snapshot == snapshot
    assert {
        r.criterion_code: (r.answer, r.self_points, r.note, r.version)
        for r in assessment.scores
    } == rows_before
    assert _changes_logged() == audit_before
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Evidence))
        == evidence_before
    )
    assert [
        link.criterion_code for link in db.session.get(Evidence, plan.id).links
    ] == ["1.1.1"]
    # The unit still sees everything, read-only.
    page = client.get(f"/assessments/{filled.id}").get_data(as_text=True)
    assert 'class="leaf-form"' not in page
    assert "Hồ sơ đã gửi lúc 10/12/2026 10:00 bởi Lê Văn Minh" in page
    assert "Kế hoạch CCHC 2026.pdf" in page


def _pdf() -> Any:
    import io

    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return io.BytesIO(body)


# -- reopening and returns -------------------------------------------------------------


def test_admin_reopens_a_submitted_assessment_and_it_is_audited(
    filled: Any, login_as: Any, client: Any, save_leaf: Any
) -> None:
    login_as("truclam.lanhdao")
    client.post(f"/assessments/{filled.id}/submit")
    submitted_snapshot = _fresh(filled).snapshot

    assert (
        client.post(
            f"/assessments/{filled.id}/reopen", data={"reason": "Nhầm số liệu"}
        ).status_code
        == 403
    )
    login_as("admin")
    page = client.get(f"/assessments/{filled.id}").get_data(as_text=True)
    assert "Mở lại hồ sơ" in page
    missing = client.post(f"/assessments/{filled.id}/reopen", data={"reason": " "})
    assert missing.status_code == 422
    assert "Nhập lý do mở lại hồ sơ." in missing.get_data(as_text=True)
    assert _fresh(filled).status == "submitted"

    response = client.post(
        f"/assessments/{filled.id}/reopen",
        data={"reason": "Đơn vị đề nghị sửa số liệu tiêu chí 1.1.3"},
    )

    assert response.status_code == 303
    assessment = _fresh(filled)
    assert assessment.status == "draft"
    assert assessment.submitted_at is None and assessment.snapshot is None
    (event,) = _events("assessment.reopen")
    assert event.before["status"] == "submitted"
    assert event.before["snapshot"] == submitted_snapshot
    assert event.after == {
        "status": "draft",
        "reason": "Đơn vị đề nghị sửa số liệu tiêu chí 1.1.3",
    }
    assert event.actor_name == "Nguyễn Văn Quản (Sở Nội vụ)"
    # The unit can change it again.
    login_as("truclam.chuyenvien")
    assert (
        save_leaf(
            filled.id, "1.1.3", version=_version(filled, "1.1.3"), value="90"
        ).status_code
        == 303
    )
    assert _row(filled, "1.1.3").answer == {"value": "90"}


def test_reopen_refused_for_a_draft(truclam: Any, login_as: Any, client: Any) -> None:
    login_as("admin")
    response = client.post(f"/assessments/{truclam.id}/reopen", data={"reason": "Thử"})
    assert response.status_code == 303
    assert "Chỉ mở lại được hồ sơ đã gửi" in _flashes(client)
    assert _events("assessment.reopen") == []


def test_returned_leaves_reopen_and_the_head_resubmits(
    filled: Any,
    demo: dict[str, Any],
    clock: Any,
    login_as: Any,
    client: Any,
    save_leaf: Any,
    return_directly: Any,
) -> None:
    login_as("truclam.lanhdao")
    client.post(f"/assessments/{filled.id}/submit")
    first_submission = _fresh(filled).submitted_at
    # The appraiser returns leaf 1.1.3 (the appraisal feature does it; simulated here).
    clock.value = datetime(2026, 12, 20, 9, 0, tzinfo=VN_TZ)
    request = return_directly(
        _fresh(filled),
        ["1.1.3"],
        message="Đề nghị bổ sung danh mục nhiệm vụ đã hoàn thành.",
        due_at=vn_end_of_day(2026, 12, 25),
        by=demo["users"]["thamdinh"],
    )

    login_as("truclam.chuyenvien")
    dashboard = client.get("/assessments/").get_data(as_text=True)
    assert "Yêu cầu giải trình, bổ sung" in dashboard
    assert "Đề nghị bổ sung danh mục nhiệm vụ đã hoàn thành." in dashboard
    assert "25/12/2026 23:59" in dashboard
    assert f"/assessments/{filled.id}?area=1#leaf-1.1.3" in dashboard
    assert (
        save_leaf(
            filled.id,
            "1.1.3",
            version=_version(filled, "1.1.3"),
            value="96",
            note="Bổ sung danh mục",
        ).status_code
        == 303
    )
    assert _row(filled, "1.1.3").answer == {"value": "96"}
    save_leaf(filled.id, "1.1.1", version=_version(filled, "1.1.1"), value="01/03/2026")
    assert "không nằm trong yêu cầu giải trình, bổ sung" in _flashes(client)
    assert _row(filled, "1.1.1").answer == {"value": "2026-01-31"}
    page = client.get(f"/assessments/{filled.id}").get_data(as_text=True)
    assert page.count('class="leaf-form"') == 1

    login_as("truclam.lanhdao")
    assert "Gửi lại hồ sơ" in client.get(f"/assessments/{filled.id}").get_data(
        as_text=True
    )
    assert client.post(f"/assessments/{filled.id}/submit").status_code == 303

    assessment = _fresh(filled)
    assert assessment.status == "submitted"
    assert assessment.submitted_at == first_submission
    assert assessment.snapshot["answers"]["1.1.3"] == {"value": "96"}
    assert assessment.snapshot["resubmitted_at"] == clock.value.isoformat()
    request = db.session.get(ReturnRequest, request.id)
    assert request.status == "resubmitted"
    assert request.resubmitted_at == clock.value
    # The exported score table is dated by the latest submission, not the first.
    from openpyxl import load_workbook

    export = client.get(f"/dossier/assessments/{filled.id}/scores.xlsx")
    sheet = load_workbook(io.BytesIO(export.data)).active
    header = " ".join(
        str(sheet.cell(r, c).value or "") for r in range(1, 6) for c in range(1, 9)
    )
    assert "theo hồ sơ đã gửi ngày 20/12/2026 09:00" in header
    events = _events("assessment.submit")
    assert len(events) == 2
    assert events[1].before["status"] == "returned"
    assert events[1].after["return_requests"] == [request.id]


def test_evidence_link_counts_only_current_documents(
    filled: Any, add_evidence: Any, login_as: Any, client: Any
) -> None:
    old = add_evidence(filled, ["1.1.3"], filename="Cũ.pdf")
    new = add_evidence(filled, ["1.1.3"], filename="Mới.pdf")
    old.replaced_by_id = new.id
    db.session.commit()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EvidenceLink)
            .where(EvidenceLink.criterion_code == "1.1.3")
        )
        == 2
    )
    login_as("truclam.chuyenvien")
    page = client.get(f"/assessments/{filled.id}").get_data(as_text=True)
    leaf = page[page.index('id="leaf-1.1.3"') : page.index('id="leaf-1.2"')]
    assert "1 tài liệu" in leaf
