"""Every /api/v1 route × every role × own unit / another unit, from app.url_map.

A route added later is covered without touching this file: its roles are read from
its ``roles(...)`` decorator and held against the design (DESIGN.md §5 as the pages
apply it), then tried with each role's token. Other units' objects answer 404 and
leak nothing; a role outside the route's answers 403; nothing answers 5xx; a session
cookie alone is never enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import url_for
from werkzeug.routing import Rule

from webapp.admin.periods import PeriodInput, create_period, open_period
from webapp.demo import DEMO_SET_ID

pytestmark = pytest.mark.db

ROLE_USERS = {
    "admin": "admin",
    "unit_editor": "truclam.chuyenvien",
    "unit_head": "truclam.lanhdao",
    "appraiser": "thamdinh.cacson",  # assigned to CACSON only
}
ALL = frozenset(ROLE_USERS)
UNIT = frozenset({"unit_editor", "unit_head"})
STAFF = frozenset({"admin", "appraiser"})
PUBLIC = {"api.openapi_json", "api.reference"}

# The design, endpoint by endpoint: who may call it.
POLICY: dict[str, frozenset[str]] = {
    "api.me": ALL,
    "api.periods": ALL,
    "api.criteria_set": ALL,
    "api.assessments": ALL,
    "api.assessment": ALL,
    "api.answer": UNIT,
    "api.upload": UNIT,
    "api.link": UNIT,
    "api.download": ALL,
    "api.submit": frozenset({"unit_head"}),
    "api.appraise": STAFF,
    "api.create_return_request": STAFF,
    "api.dossier_zip": ALL,
    "api.report_docx": ALL,
    "api.scores_xlsx": ALL,
    "api.open_": frozenset({"admin"}),
    "api.close_early_": frozenset({"admin"}),
    "api.survey": frozenset({"admin"}),
    "api.publish": frozenset({"admin"}),
    "api.ranking": ALL,
    "api.results_csv": ALL,
    "api.verify": STAFF,
}

# A body each route's schema accepts, so that scoping (not validation) answers.
BODIES: dict[str, dict[str, Any]] = {
    "api.answer": {"inputs": {"value": True}, "explanation": "x"},
    "api.link": {"criteria": ["1.1.1"]},
    "api.appraise": {"score": "0", "comment": "x"},
    "api.create_return_request": {
        "criteria": ["1.1.1"],
        "due_date": "2026-12-31",
        "message": "x",
    },
    "api.survey": {"values": [{"assessment_id": 1, "code": "1.8", "value": "50"}]},
}


def _api_rules(app: Any) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in PUBLIC:
            yield rule


def _method(rule: Rule) -> str:
    return next(m for m in ("GET", "PUT", "POST") if m in (rule.methods or ()))


@pytest.fixture
def world(
    app: Any,
    demo: dict[str, Any],
    nghison_secrets: dict[str, Any],
    add_evidence: Any,
    cacson_appraiser: Any,
) -> dict[str, Any]:
    """Own (TRUCLAM) and other (NGHISON, and a period without TRUCLAM) objects."""
    own = demo["assessments"]["TRUCLAM"]
    own_evidence = add_evidence(own, ["1.1.1"], filename="Của Trúc Lâm.pdf")
    elsewhere = create_period(
        PeriodInput(
            name="Kỳ của Các Sơn",
            year=2026,
            criteria_set_id=DEMO_SET_ID,
            unit_ids=[demo["units"]["CACSON"].id],
            opens_on=date(2026, 11, 1),
        )
    )
    open_period(elsewhere)
    return {
        "own": {
            "assessment_id": own.id,
            "evidence_id": own_evidence.id,
            "period_id": demo["period"].id,
            "code": "1.1.1",
        },
        "other": {
            "assessment_id": nghison_secrets["assessment_id"],
            "evidence_id": nghison_secrets["evidence_id"],
            "period_id": elsewhere.id,
            "code": nghison_secrets["code"],
        },
        "markers": nghison_secrets["markers"],
    }


def _call(app: Any, client: Any, token: str, rule: Rule, ids: dict[str, Any]) -> Any:
    values = {arg: ids[arg] for arg in rule.arguments}
    with app.test_request_context():
        url = url_for(rule.endpoint, **values)
    method = _method(rule)
    headers = {"Authorization": f"Bearer {token}"}
    if rule.endpoint in ("api.upload", "api.verify"):
        return client.open(
            url,
            method=method,
            data={"digest": "0" * 64},
            headers=headers,
            content_type="multipart/form-data",
        )
    if method == "GET":
        return client.open(url, method=method, headers=headers)
    return client.open(
        url, method=method, json=BODIES.get(rule.endpoint, {}), headers=headers
    )


def test_every_api_route_is_in_the_design_and_declares_its_roles(app: Any) -> None:
    found = {}
    for rule in _api_rules(app):
        view = app.view_functions[rule.endpoint]
        found[rule.endpoint] = getattr(view, "allowed_roles", None)
    assert set(found) == set(POLICY), "a route without a policy, or a policy unused"
    assert {e: r for e, r in found.items() if r != POLICY[e]} == {}


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_each_role_gets_what_the_design_gives_it(
    app: Any, world: dict[str, Any], token_for: Any, db_state: Any, role: str
) -> None:
    token = token_for(ROLE_USERS[role])
    problems = []
    for rule in _api_rules(app):
        allowed = role in POLICY[rule.endpoint]
        response = _call(app, app.test_client(), token, rule, world["own"])
        status = response.status_code
        code = (response.get_json(silent=True) or {}).get("error", {}).get("code")
        refused = status == 401 or (status == 403 and code == "forbidden")
        if status >= 500:
            problems.append((rule.rule, "own", status))
        elif not allowed and not refused:
            problems.append((rule.rule, "own", status, "should be 403"))
        elif allowed and refused:
            problems.append((rule.rule, "own", status, "should be allowed"))
        elif allowed and status == 403:
            # Allowed, but the results are not published yet: said so, by name.
            assert code == "not_published", rule.rule
    assert problems == []


@pytest.mark.parametrize("role", ["unit_editor", "unit_head", "appraiser"])
def test_another_units_objects_are_not_found_and_unchanged(
    app: Any, world: dict[str, Any], token_for: Any, db_state: Any, role: str
) -> None:
    token = token_for(ROLE_USERS[role])
    before = db_state()
    problems = []
    for rule in _api_rules(app):
        owned = {"assessment_id", "evidence_id"}
        if role in UNIT:
            owned.add("period_id")  # a period without their unit is not theirs
        # Periods are shared by every staff member (the pages' rule too).
        if not set(rule.arguments) & owned:
            continue
        response = _call(app, app.test_client(), token, rule, world["other"])
        status = response.status_code
        expected = 404 if role in POLICY[rule.endpoint] else 403
        if rule.endpoint == "api.verify":
            continue  # no object in its path
        if status != expected:
            problems.append((rule.rule, status, f"should be {expected}"))
        body = response.get_data().decode("utf-8", "replace")
        leaked = [m for m in world["markers"] if m in body]
        if leaked:
            problems.append((rule.rule, "leaks", leaked))
    assert problems == []
    after = db_state()
    # Creating the tokens is the only write, and it is in api_tokens and the log.
    for table in set(before) | set(after):
        if table not in ("api_tokens", "audit_events"):
            assert before.get(table) == after.get(table), table


def test_a_session_cookie_alone_is_never_enough(
    app: Any, client: Any, world: dict[str, Any], login_as: Any
) -> None:
    login_as("admin")
    assert client.get("/admin/").status_code == 200  # the session works for pages
    for rule in _api_rules(app):
        with app.test_request_context():
            values = {arg: world["own"][arg] for arg in rule.arguments}
            url = url_for(rule.endpoint, **values)
        response = client.open(url, method=_method(rule), json={})
        assert response.status_code == 401, rule.rule
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert "Set-Cookie" not in response.headers


def test_the_document_and_its_reference_page_need_no_token(
    client: Any, demo: Any
) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "Tài liệu API" in page.get_data(as_text=True)


def test_unit_users_see_only_their_units_assessments_and_periods(
    world: dict[str, Any], api_as: Any
) -> None:
    editor = api_as("truclam.chuyenvien")
    listed = editor.get("/assessments").get_json()
    assert {a["unit"]["code"] for a in listed["items"]} == {"TRUCLAM"}
    periods = editor.get("/periods").get_json()
    assert world["other"]["period_id"] not in {p["id"] for p in periods["items"]}
    appraiser = api_as("thamdinh.cacson")
    # Assigned to CACSON, whose assessment is still a draft: nothing to read yet.
    assert appraiser.get("/assessments").get_json()["total"] == 0
