"""A whole year through the API alone, with each role's personal token: the period is
opened, every leaf answered (every rule type), evidence uploaded and linked, the
assessment submitted, appraised, one leaf returned, answered again and resubmitted,
survey values entered, results published, the ranking read back and the dossier
downloaded, its ZIP verified by the app that issued it."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.admin.periods import PeriodInput, create_period
from webapp.criteria_sets import criteria_for
from webapp.demo import DEMO_SET_ID
from webapp.extensions import db
from webapp.models import AppraiserAssignment, AuditEvent

pytestmark = pytest.mark.db


def _pdf(text: str) -> bytes:
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _answer_body(leaf: Any, full_answer: Any) -> dict[str, Any]:
    """The PUT body giving the leaf its maximum, in the API's own words."""
    answer = full_answer(leaf)
    note = f"Thuyết minh tiêu chí {leaf.code} (qua API)"
    if leaf.rule.type == "manual":
        return {"self_score": answer["level"], "explanation": note}
    if leaf.rule.type == "ratio" and leaf.assessed_by == "self":
        # The same measure as a numerator and denominator (value = 100 × n ÷ d).
        value = int(answer["value"])
        return {
            "inputs": {"numerator": value, "denominator": 100},
            "explanation": note,
        }
    return {"inputs": answer, "explanation": note}


def test_a_full_year_through_the_api(
    app: Any, demo: dict[str, Any], api_as: Any, full_answer: Any, clock: Any
) -> None:
    units = demo["units"]
    period = create_period(
        PeriodInput(
            name="Kỳ đánh giá 2026 qua API",
            year=2026,
            criteria_set_id=DEMO_SET_ID,
            unit_ids=[units["TRUCLAM"].id],
            opens_on=date(2026, 11, 1),
        )
    )
    db.session.add(
        AppraiserAssignment(
            period_id=period.id,
            unit_id=units["TRUCLAM"].id,
            user_id=demo["users"]["thamdinh"].id,
        )
    )
    db.session.commit()
    coordinator = api_as("admin")
    editor = api_as("truclam.chuyenvien")
    head = api_as("truclam.lanhdao")
    appraiser = api_as("thamdinh")

    # The coordinator opens the period: TRUCLAM gets its draft assessment.
    opened = coordinator.post(f"/periods/{period.id}/open")
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["assessments_created"] == ["TRUCLAM"]
    assert opened.get_json()["period"]["status"] == "open"
    listed = editor.get(f"/assessments?period={period.id}").get_json()
    assert listed["total"] == 1
    assessment_id = listed["items"][0]["id"]

    # The unit editor answers every self-assessed leaf, each rule type its own way.
    tree = editor.get(f"/criteria-sets/{DEMO_SET_ID}").get_json()
    assert tree["leaf_count"] == 74
    cs = criteria_for(DEMO_SET_ID)
    answered_types = set()
    for leaf in cs.leaves():
        if leaf.assessed_by == "survey":
            continue
        saved = editor.put(
            f"/assessments/{assessment_id}/criteria/{leaf.code}",
            json=_answer_body(leaf, full_answer),
        )
        assert saved.status_code == 200, (leaf.code, saved.get_json())
        body = saved.get_json()
        assert body["changed"] is True
        assert body["leaf"]["self_score"] == f"{leaf.max_points:.2f}", leaf.code
        answered_types.add(leaf.rule.type)
    assert answered_types == {
        "binary",
        "tiers",
        "ratio",
        "checklist",
        "deduction",
        "manual",
    }
    # A leaf whose case did not arise: the ward set leaves it out of the maximum.
    na = editor.put(
        f"/assessments/{assessment_id}/criteria/1.3.2",
        json={"not_applicable": True, "explanation": "Không phát sinh trong năm."},
    )
    assert na.status_code == 200
    assert na.get_json()["leaf"]["not_applicable"] is True
    assert na.get_json()["leaf"]["self_score"] is None

    # Evidence: uploaded with its citation and a leaf, then linked to a second one.
    uploaded = editor.upload(
        f"/assessments/{assessment_id}/evidence",
        {
            "file": (io.BytesIO(_pdf("Ke hoach CCHC 2026")), "Kế hoạch CCHC 2026.pdf"),
            "doc_type": "Kế hoạch",
            "doc_number": "125/KH-UBND",
            "issued_on": "2026-01-10",
            "issuer": "UBND phường Trúc Lâm",
            "summary": "Kế hoạch cải cách hành chính năm 2026",
            "criteria": "1.1.1",
        },
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    evidence = uploaded.get_json()["evidence"]
    assert evidence["original_filename"] == "Kế hoạch CCHC 2026.pdf"
    assert evidence["criteria"] == ["1.1.1"]
    linked = editor.post(
        f"/evidence/{evidence['id']}/links", json={"criteria": ["1.1.2"]}
    )
    assert linked.status_code == 200
    assert linked.get_json()["criteria"] == ["1.1.1", "1.1.2"]
    download = editor.get(f"/evidence/{evidence['id']}/download")
    assert download.status_code == 200
    assert download.data == _pdf("Ke hoach CCHC 2026")
    assert "K%E1%BA%BF%20ho%E1%BA%A1ch" in download.headers["Content-Disposition"]

    # Only the unit head submits.
    assert editor.post(f"/assessments/{assessment_id}/submit").status_code == 403
    submitted = head.post(f"/assessments/{assessment_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
    frozen = editor.put(
        f"/assessments/{assessment_id}/criteria/1.1.1", json={"inputs": None}
    )
    assert frozen.status_code == 409
    assert frozen.get_json()["error"]["code"] == "not_editable"

    # The appraiser agrees with every leaf but 1.1.2, and returns 1.1.1.
    detail = appraiser.get(f"/assessments/{assessment_id}").get_json()
    assert set(detail["leaves"][0]) >= {"inputs", "self_score", "evidence_ids"}
    leaves = {leaf["code"]: leaf for leaf in detail["leaves"]}
    assert leaves["1.1.1"]["evidence_ids"] == [evidence["id"]]
    for code, leaf in leaves.items():
        if leaf["assessed_by"] == "survey":
            continue
        score = leaf["self_score"]
        body: dict[str, Any] = {"score": score}
        if code == "1.1.2":
            body = {"score": "0", "comment": "Chưa có văn bản chứng minh."}
        saved = appraiser.put(
            f"/assessments/{assessment_id}/criteria/{code}/appraisal", json=body
        )
        assert saved.status_code == 200, (code, saved.get_json())
    assert saved.get_json()["assessment_status"] == "appraised"
    returned = appraiser.post(
        f"/assessments/{assessment_id}/returns",
        json={
            "criteria": ["1.1.1"],
            "due_date": "2026-12-10",
            "message": "Đề nghị bổ sung ngày ban hành kế hoạch.",
        },
    )
    assert returned.status_code == 201, returned.get_json()
    assert returned.get_json()["criteria"] == ["1.1.1"]

    # The unit answers the returned leaf again and resubmits.
    again = editor.put(
        f"/assessments/{assessment_id}/criteria/1.1.1",
        json={
            "inputs": full_answer(cs.node("1.1.1")),
            "explanation": "Đã bổ sung: kế hoạch ban hành ngày 10/01/2026.",
        },
    )
    assert again.status_code == 200, again.get_json()
    other = editor.put(
        f"/assessments/{assessment_id}/criteria/1.1.2", json={"inputs": None}
    )
    assert other.status_code == 409  # only the returned leaf reopened
    resubmitted = head.post(f"/assessments/{assessment_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert resubmitted.get_json()["status"] == "submitted"
    leaf = appraiser.get(f"/assessments/{assessment_id}").get_json()["leaves"][0]
    assert leaf["code"] == "1.1.1"
    done = appraiser.put(
        f"/assessments/{assessment_id}/criteria/1.1.1/appraisal",
        json={"score": leaf["self_score"]},
    )
    assert done.get_json()["assessment_status"] == "appraised"

    # The coordinator enters the survey and publishes.
    assert coordinator.get(f"/periods/{period.id}/ranking").status_code == 403
    survey = [leaf for leaf in cs.leaves() if leaf.assessed_by == "survey"]
    entered = coordinator.put(
        f"/periods/{period.id}/survey",
        json={
            "values": [
                {"assessment_id": assessment_id, "code": leaf.code, "value": "80"}
                for leaf in survey
            ]
        },
    )
    assert entered.status_code == 200, entered.get_json()
    assert entered.get_json()["changed"] == len(survey)
    # Nothing can still change (submitted, no return open): nothing to end early.
    closed = coordinator.post(f"/periods/{period.id}/close-early")
    assert closed.status_code == 422
    assert "Không còn đơn vị nào" in closed.get_json()["error"]["message"]
    published = coordinator.post(f"/periods/{period.id}/publish")
    assert published.status_code == 200, published.get_json()

    # The ranking, read back by the unit, with the appraised total.
    ranking = editor.get(f"/periods/{period.id}/ranking").get_json()
    assert ranking["period"]["status"] == "published"
    (row,) = ranking["rows"]
    assert row["rank"] == 1 and row["unit"]["code"] == "TRUCLAM"
    lost = cs.node("1.1.2").max_points
    survey_max = sum(lf.max_points for lf in survey)
    survey_points = sum(leaf.max_points * 80 / 100 for leaf in survey)
    # 1.3.2 did not arise: out of both the points and the maximum.
    not_arisen = cs.node("1.3.2").max_points
    maximum = cs.total_max_points - not_arisen
    expected = maximum - survey_max - lost + survey_points
    assert row["points"] == f"{expected:.2f}"
    assert row["max_points"] == f"{maximum:.2f}"
    csv_text = coordinator.get(f"/periods/{period.id}/results.csv").data.decode()
    assert "TRUCLAM" in csv_text and "Phường Trúc Lâm" in csv_text

    # The dossier: Excel, Word and the ZIP, which the app recognises as its own.
    xlsx = editor.get(f"/assessments/{assessment_id}/scores.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    docx = editor.get(f"/assessments/{assessment_id}/report.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    archive = editor.get(f"/assessments/{assessment_id}/dossier.zip")
    assert archive.status_code == 200
    data = archive.data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert any(name.endswith("Kế hoạch CCHC 2026.pdf") for name in names)
    assert hashlib.sha256(_pdf("Ke hoach CCHC 2026")).hexdigest() in json.dumps(
        manifest
    )
    verified = coordinator.client.post(
        "/api/v1/dossiers/verify",
        data={"file": (io.BytesIO(data), "ho-so.zip")},
        headers={"Authorization": f"Bearer {coordinator.token}"},
        content_type="multipart/form-data",
    )
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["ok"] is True
    assert verified.get_json()["assessment_id"] == assessment_id

    # Every step left the audit event the pages leave, by the token's user.
    actions = set(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.period_id == period.id)
        )
    )
    assert {
        "period.open",
        "answer.save",
        "evidence.upload",
        "evidence.link",
        "assessment.submit",
        "appraisal.save",
        "appraisal.return",
        "survey.save",
        "period.publish",
        "dossier.export",
    } <= actions
    names_by_action = dict(
        db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_name).where(
                AuditEvent.period_id == period.id
            )
        ).all()
    )
    assert names_by_action["assessment.submit"] == "Lê Văn Minh"
    assert names_by_action["appraisal.return"] == "Vũ Thị Thu (Sở Nội vụ)"
