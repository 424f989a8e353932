"""What a script meets on every call: one error shape with Vietnamese messages,
pagination with a maximum, the assessment read's ETag, and
uploads streamed into the store with the page's checks and refusals."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Evidence

pytestmark = pytest.mark.db


def _pdf(size: int) -> bytes:
    head, tail = b"%PDF-1.4\n%", b"\ntrailer\n<< >>\n%%EOF\n"
    return head + b"0" * (size - len(head) - len(tail)) + tail


# --- errors ---------------------------------------------------------------------------


def test_errors_have_one_shape_with_a_stable_code_and_the_pages_message(
    api_as: Any, demo: dict[str, Any]
) -> None:
    editor = api_as("truclam.chuyenvien")
    assessment_id = demo["assessments"]["TRUCLAM"].id

    wrong_type = editor.put(
        f"/assessments/{assessment_id}/criteria/1.1.1",
        json={"inputs": {"value": "31/02/2026"}},
    )
    unknown_field = editor.put(
        f"/assessments/{assessment_id}/criteria/1.1.1", json={"giá_trị": 1}
    )
    survey = editor.put(
        f"/assessments/{assessment_id}/criteria/1.8", json={"inputs": {"value": 80}}
    )
    stale = editor.put(
        f"/assessments/{assessment_id}/criteria/2.3.3",
        json={"inputs": {"value": True}, "version": 7},
    )
    level_on_binary = editor.put(
        f"/assessments/{assessment_id}/criteria/2.2.1", json={"self_score": 1}
    )
    role = editor.post(f"/periods/{demo['period'].id}/publish")
    missing = editor.get("/assessments/999999")
    no_route = editor.get("/khong-co")

    assert wrong_type.status_code == 422
    assert wrong_type.get_json()["error"]["code"] == "answer_invalid"
    assert unknown_field.status_code == 422
    assert unknown_field.get_json()["error"]["code"] == "invalid"
    assert (
        "Dữ liệu gửi lên không hợp lệ" in unknown_field.get_json()["error"]["message"]
    )
    assert survey.status_code == 409  # the coordinator enters survey results
    assert survey.get_json()["error"]["code"] == "not_editable"
    assert "điều tra xã hội học" in survey.get_json()["error"]["message"]
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_answer"
    assert "vừa được thay đổi" in stale.get_json()["error"]["message"]
    assert level_on_binary.status_code == 422
    assert level_on_binary.get_json()["error"]["field"] == "self_score"
    assert role.status_code == 403
    assert role.get_json()["error"] == {
        "code": "forbidden",
        "message": "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    }
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert no_route.status_code == 404
    assert no_route.get_json()["error"]["code"] == "not_found"


def test_a_refused_submission_lists_the_leaves_at_fault(
    api_as: Any, demo: dict[str, Any]
) -> None:
    head = api_as("truclam.lanhdao")
    refused = head.post(f"/assessments/{demo['assessments']['TRUCLAM'].id}/submit")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "submit_refused"
    assert error["message"].startswith("Chưa gửi được hồ sơ: 64 tiêu chí")
    assert error["details"][0]["code"] == "1.1.1"
    assert error["details"][0]["reason"] == "Chưa trả lời"


def test_an_answer_saved_through_the_api_is_audited_as_on_the_page(
    api_as: Any, demo: dict[str, Any]
) -> None:
    editor = api_as("truclam.chuyenvien")
    assessment_id = demo["assessments"]["TRUCLAM"].id
    saved = editor.put(
        f"/assessments/{assessment_id}/criteria/2.2.1",
        json={"inputs": {"value": True}, "explanation": "Có quyết định kiện toàn."},
    )
    assert saved.status_code == 200, saved.get_json()
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "answer.save")
    )
    assert event is not None
    assert event.actor_name == "Hoàng Thị Lan"
    assert event.object_id == f"{assessment_id}/2.2.1"
    # The same answer again changes nothing and records nothing.
    again = editor.put(
        f"/assessments/{assessment_id}/criteria/2.2.1",
        json={"inputs": {"value": True}, "explanation": "Có quyết định kiện toàn."},
    )
    assert again.get_json()["changed"] is False
    count = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "answer.save")
    )
    assert count == 1


# --- pagination -----------------------------------------------------------------------


def test_every_list_pages_with_a_maximum(api_as: Any, demo: dict[str, Any]) -> None:
    admin = api_as("admin")
    first = admin.get("/assessments?per_page=3").get_json()
    second = admin.get("/assessments?per_page=3&page=2").get_json()
    beyond = admin.get("/assessments?per_page=3&page=9").get_json()
    too_many = admin.get("/assessments?per_page=201")
    assert (first["total"], first["page"], first["per_page"]) == (4, 1, 3)
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert {a["id"] for a in first["items"]} | {a["id"] for a in second["items"]} == {
        a.id for a in demo["assessments"].values()
    }
    assert beyond["items"] == [] and beyond["total"] == 4
    assert too_many.status_code == 422
    assert too_many.get_json()["error"]["field"] == "per_page"
    periods = admin.get("/periods").get_json()
    assert (periods["per_page"], periods["total"]) == (50, 1)
    assert admin.get("/periods?page=0").status_code == 422


# --- ETag -----------------------------------------------------------------------------


def test_the_assessment_read_answers_304_until_it_changes(
    api_as: Any, demo: dict[str, Any]
) -> None:
    editor = api_as("truclam.chuyenvien")
    path = f"/assessments/{demo['assessments']['TRUCLAM'].id}"
    first = editor.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag

    unchanged = editor.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""
    assert unchanged.headers["ETag"] == etag

    editor.put(f"{path}/criteria/2.2.1", json={"inputs": {"value": True}})
    changed = editor.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    leaf = next(lf for lf in changed.get_json()["leaves"] if lf["code"] == "2.2.1")
    assert leaf["inputs"] == {"value": True}


# --- uploads --------------------------------------------------------------------------


def test_an_upload_goes_through_the_pages_intake_and_checks(
    app: Any,
    api_as: Any,
    demo: dict[str, Any],
    evidence_backend: str,
    evidence_store: Any,
    monkeypatch: Any,
) -> None:
    from webapp.evidence import intake

    opened: list[str] = []
    real_open = intake.Intake.open

    def counting_open(self: Any, filename: str, content_type: str | None) -> Any:
        opened.append(filename)
        return real_open(self, filename, content_type)

    monkeypatch.setattr(intake.Intake, "open", counting_open)
    editor = api_as("truclam.chuyenvien")
    path = f"/assessments/{demo['assessments']['TRUCLAM'].id}/evidence"

    stored = editor.upload(
        path, {"file": (io.BytesIO(_pdf(300_000)), "Báo cáo.pdf"), "criteria": "1.1.1"}
    )
    disguised = editor.upload(
        path, {"file": (io.BytesIO(b"MZ\x90\x00" + b"0" * 5000), "Kế hoạch.pdf")}
    )
    unknown_leaf = editor.upload(
        path, {"file": (io.BytesIO(_pdf(2000)), "a.pdf"), "criteria": "9.9.9"}
    )
    bad_date = editor.upload(
        path, {"file": (io.BytesIO(_pdf(2000)), "b.pdf"), "issued_on": "31/02/2026"}
    )

    assert stored.status_code == 201, stored.get_json()
    assert opened[0] == "Báo cáo.pdf"  # parsed straight into a store stage
    assert disguised.status_code == 422
    assert disguised.get_json()["error"]["code"] == "evidence_refused"
    assert unknown_leaf.status_code in (404, 422)
    assert bad_date.status_code == 422
    assert bad_date.get_json()["error"]["field"] == "issued_on"
    rows = list(db.session.scalars(sa.select(Evidence)))
    assert [r.original_filename for r in rows] == ["Báo cáo.pdf"]
    # Only the stored file is left in the store: the refused ones were aborted.
    assert len(list(evidence_store.list())) == 1


def test_an_oversize_upload_is_refused_as_on_the_page(
    app: Any, api_as: Any, demo: dict[str, Any]
) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 100_000
    editor = api_as("truclam.chuyenvien")
    refused = editor.upload(
        f"/assessments/{demo['assessments']['TRUCLAM'].id}/evidence",
        {"file": (io.BytesIO(_pdf(200_000)), "Lớn.pdf")},
    )
    assert refused.status_code == 413
    assert refused.get_json()["error"]["code"] == "too_large"
    root = app.config["EVIDENCE_LOCAL_ROOT"]
    assert [f for _, _, files in os.walk(root) for f in files] == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0


def test_with_csrf_on_a_token_needs_no_form_token_and_a_cookie_gets_no_way_in(
    app: Any, api_as: Any, demo: dict[str, Any], login_as: Any, client: Any
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    editor = api_as("truclam.chuyenvien")
    path = f"/assessments/{demo['assessments']['TRUCLAM'].id}/criteria/2.2.1"
    saved = editor.put(path, json={"inputs": {"value": True}})
    assert saved.status_code == 200, saved.get_json()
    app.config["WTF_CSRF_ENABLED"] = False
    login_as("truclam.chuyenvien")
    app.config["WTF_CSRF_ENABLED"] = True
    with_cookie = client.put("/api/v1" + path, json={"inputs": {"value": False}})
    assert with_cookie.status_code == 401
    leaf = editor.get(path.rsplit("/criteria", 1)[0]).get_json()["leaves"]
    assert next(lf for lf in leaf if lf["code"] == "2.2.1")["inputs"] == {"value": True}
