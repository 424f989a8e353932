"""No state change on GET: every role opens every page; the database must not change.

POST-only routes answer GET with 405; pages that show a form (GET and POST) must render
it without side effects. Recording that a dossier was exported is the one write a GET
may make (it logs a read, it changes nothing a user works on).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import Rule

from webapp.extensions import db
from webapp.models import AppraiserAssignment, AuditEvent

READ_ACTIONS = {"dossier.export", "dossier.export_failed"}


def _rules(app: Any) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


def _ids(
    demo: dict[str, Any], unit: str, evidence_id: int, code: str
) -> dict[str, Any]:
    assessment = demo["assessments"][unit]
    return {
        "assessment_id": assessment.id,
        "evidence_id": evidence_id,
        "unit_id": assessment.unit_id,
        "user_id": demo["users"]["truclam.chuyenvien"].id,
        "period_id": demo["period"].id,
        "assignment_id": db.session.scalar(
            sa.select(AppraiserAssignment.id).where(
                AppraiserAssignment.unit_id == assessment.unit_id
            )
        ),
        "code": code,
    }


def _url(app: Any, rule: Rule, ids: dict[str, Any]) -> str:
    with app.test_request_context():
        return str(
            url_for(
                rule.endpoint,
                **{a: ids.get(a, ids["assessment_id"]) for a in rule.arguments},
            )
        )


def test_post_only_routes_refuse_get(
    app: Any, client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    ids = _ids(demo, "TRUCLAM", 1, "1.1.1")
    post_only = [r for r in _rules(app) if "GET" not in r.methods]
    assert post_only  # logout at least
    for who in (None, "admin"):
        if who:
            login_as(who)
        wrong = [
            (r.rule, s)
            for r in post_only
            if (s := client.get(_url(app, r, ids)).status_code) != 405
        ]
        assert wrong == []


def test_opening_every_page_as_every_role_changes_nothing(
    app: Any,
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    db_state: Any,
    add_evidence: Any,
    nghison_secrets: dict[str, Any],
    submit_directly: Any,
) -> None:
    code = nghison_secrets["code"]
    own = add_evidence(
        demo["assessments"]["TRUCLAM"],
        [code],
        filename="Kế hoạch.pdf",
        summary="Kế hoạch CCHC năm 2026",
        doc_number="12/KH-UBND",
    )
    nghison = demo["assessments"]["NGHISON"]
    submit_directly(nghison)  # what the appraiser (assigned to NGHISON) may open
    visits = [
        ("admin", _ids(demo, "TRUCLAM", own.id, code)),
        ("truclam.chuyenvien", _ids(demo, "TRUCLAM", own.id, code)),
        ("truclam.lanhdao", _ids(demo, "TRUCLAM", own.id, code)),
        ("thamdinh", _ids(demo, "NGHISON", nghison_secrets["evidence_id"], code)),
    ]
    errors = []
    opened = 0
    for username, ids in visits:
        login_as(username)
        before = db_state()
        for rule in _rules(app):
            if "GET" not in rule.methods:
                continue
            response = client.get(_url(app, rule, ids))
            response.close()
            opened += response.status_code == 200
            if response.status_code >= 500:
                errors.append((username, rule.rule, response.status_code))
        after = db_state()
        audit_changes = set(after.pop("audit_events")) - set(before.pop("audit_events"))
        changed = [t for t in after if after[t] != before[t]]
        writes = [e for e in _actions(audit_changes) if e not in READ_ACTIONS]
        if changed or writes:
            errors.append((username, "changed on GET", changed, writes))
    assert errors == []
    assert opened > 20  # the pages really rendered, not just refused


def _actions(rows: set[tuple[str, ...]]) -> list[str]:
    index = list(AuditEvent.__table__.columns.keys()).index("action")
    return [row[index].strip("'") for row in rows]
