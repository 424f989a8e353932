"""Who may open what (DESIGN.md §5), checked against every route in app.url_map.

New routes are covered automatically: every argument-free GET page is tried with every
role, and every object-addressed route (an <int:…> argument) is tried with another
unit's ids. Blueprints this file does not know are still checked for the basics: an
anonymous visitor is sent to the login page, and no role gets a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import Rule

from webapp.extensions import db
from webapp.models import AppraiserAssignment

ROLE_USERS = {
    "admin": "admin",
    "unit_editor": "truclam.chuyenvien",
    "unit_head": "truclam.lanhdao",
    "appraiser": "thamdinh",
}
ALL = frozenset(ROLE_USERS)
UNIT = frozenset({"unit_editor", "unit_head"})
STAFF = frozenset({"admin", "appraiser"})
PUBLIC = {
    "static",
    "auth.login",
    "auth.forgot_password",
    "main.healthz",
    # The API's description holds no data (its routes: tests/integration/api/).
    "api.openapi_json",
    "api.reference",
}

# DESIGN.md §5: per blueprint (or per endpoint, overriding its blueprint), the roles
# that must be let in and the roles that may be. Any role outside the second set: 403.
POLICY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "main": (ALL, ALL),
    "auth": (ALL, ALL),
    # One's own profile and sessions, and the guide of one's role: everyone.
    "account": (ALL, ALL),
    "help": (ALL, ALL),
    # Trao đổi threads: every role; which threads is scoped per object (404).
    "discussion": (frozenset(), ALL),
    "admin": (frozenset({"admin"}), frozenset({"admin"})),
    # The coordinator "sees everything"; a feature may open its pages to them too.
    "assessment": (UNIT, UNIT | {"admin"}),
    "evidence": (UNIT, UNIT | {"admin"}),
    "appraisal": (STAFF, STAFF),
    # Staff see every result; a unit sees its own, and the ranking once published.
    "results": (frozenset({"admin"}), STAFF | UNIT),
    "results.my_results": (UNIT, UNIT),  # a unit's own published results
    # Everyone entitled exports the dossier; each role sees only what it may read.
    "dossier": (frozenset(), ALL),
    # Everyone has their own notifications; the outbox is the coordinator's.
    "notify": (ALL, ALL),
    "notify.outbox": (frozenset({"admin"}), frozenset({"admin"})),
    # Everyone manages their own personal API tokens.
    "api_tokens": (ALL, ALL),
}

# Route arguments that name something every unit shares rather than owns.
SHARED_ARGS = {"period_id"}
SECRET_CODE_ARGS = {"code"}


def _policy(endpoint: str) -> tuple[frozenset[str], frozenset[str]] | None:
    return POLICY.get(endpoint) or POLICY.get(endpoint.split(".", 1)[0])


def declared_roles(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles given to webapp.access.roles_required on a view, if it uses it.

    Read from the decorator's closure so the test follows the code as it changes; the
    roles are then held against POLICY (the design) and against the real responses.
    """
    todo: list[Any] = [view]
    seen: set[int] = set()
    while todo:
        fn = todo.pop()
        if id(fn) in seen or not callable(fn):
            continue
        seen.add(id(fn))
        code = getattr(fn, "__code__", None)
        closure = getattr(fn, "__closure__", None) or ()
        for name, cell in zip(code.co_freevars if code else (), closure, strict=False):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if name == "roles" and isinstance(value, tuple):
                return frozenset(value)
            if callable(value):
                todo.append(value)
        if getattr(fn, "__wrapped__", None) is not None:
            todo.append(fn.__wrapped__)
    return None


def _get_rules(app: Any, *, with_args: bool) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        if bool(rule.arguments) == with_args:
            yield rule


def _url(app: Any, endpoint: str, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return str(url_for(endpoint, **values))


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_anonymous_visitors_are_sent_to_login(app: Any, client: Any, demo: Any) -> None:
    problems = []
    for rule in _get_rules(app, with_args=False):
        if "GET" not in rule.methods:
            continue
        response = client.get(rule.rule)
        if rule.endpoint in PUBLIC:
            ok = response.status_code == 200
        elif rule.rule.startswith("/api/"):
            ok = response.status_code == 401
        else:
            ok = _is_login_redirect(response)
        if not ok:
            problems.append((rule.endpoint, response.status_code))
    assert problems == []


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_page_answers_each_role_as_the_design_says(
    app: Any, client: Any, demo: Any, login_as: Any, role: str
) -> None:
    login_as(ROLE_USERS[role])
    problems = []
    checked = 0
    for rule in _get_rules(app, with_args=False):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC:
            continue
        response = client.get(rule.rule)
        status = response.status_code
        if status >= 500:
            problems.append((rule.endpoint, status, "server error"))
            continue
        policy = _policy(rule.endpoint)
        if policy is None:  # a blueprint this file does not know yet
            continue
        must, may = policy
        declared = declared_roles(app.view_functions[rule.endpoint])
        if declared is not None and not must <= declared <= may:
            problems.append(
                (rule.endpoint, sorted(declared), "decorator differs from §5")
            )
        allowed = declared if declared is not None else must
        let_in = status == 200 or (status == 302 and not _is_login_redirect(response))
        if role in allowed and not let_in:
            problems.append((rule.endpoint, status, "should be allowed"))
        elif role not in (declared if declared is not None else may) and status != 403:
            problems.append((rule.endpoint, status, "should be 403"))
        checked += 1
    assert problems == []
    assert checked >= 5  # the admin pages alone are more; guards against an empty map


# --- Another unit's objects -----------------------------------------------------------


@pytest.fixture
def probe(
    app: Any, client: Any, db_state: Any
) -> Callable[[dict[str, Any]], list[Any]]:
    """Try every object-addressed route with the given ids; list what went wrong."""

    def run(target: dict[str, Any]) -> list[Any]:
        problems: list[Any] = []
        before = db_state()
        for rule in _get_rules(app, with_args=True):
            if rule.rule.startswith("/api/"):
                # Token-only: a session gets 401 there. The API's own matrix probes
                # these routes with each role's token (tests/integration/api/).
                continue
            values: dict[str, Any] = {}
            owned = False
            for arg in rule.arguments:
                if arg in SHARED_ARGS:
                    values[arg] = target["period_id"]
                elif arg in SECRET_CODE_ARGS:
                    values[arg] = target["code"]
                elif arg in target:
                    values[arg] = target[arg]
                    owned = True
                else:  # an id this file does not know: the other unit's assessment
                    values[arg] = target["assessment_id"]
                    owned = True
            url = _url(app, rule.endpoint, values)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method)
                body = (
                    response.get_data(as_text=True)
                    if response.mimetype.startswith("text/") or response.is_json
                    else response.get_data().decode("latin-1")
                )
                status = response.status_code
                if (owned and status not in (403, 404)) or status >= 500:
                    problems.append((method, rule.rule, response.status_code))
                leaked = [m for m in target["markers"] if m in body]
                if leaked:
                    problems.append((method, rule.rule, "leaks", leaked))
        # Session bookkeeping (last seen, at most once a minute) is not a change a
        # probe made to anyone's data.
        if _without_sessions(db_state()) != _without_sessions(before):
            problems.append("the probes changed the database")
        return problems

    return run


def _without_sessions(state: dict[str, Any]) -> dict[str, Any]:
    return {table: rows for table, rows in state.items() if table != "user_sessions"}


def _target(demo: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    assignment_id = db.session.scalar(
        sa.select(AppraiserAssignment.id).where(
            AppraiserAssignment.unit_id == secrets["unit_id"]
        )
    )
    return {
        **secrets,
        "evidence_id": secrets["evidence_id"],
        "score_id": secrets["score_ids"][0],
        "criterion_score_id": secrets["score_ids"][0],
        "user_id": demo["users"]["nghison.chuyenvien"].id,
        "assignment_id": assignment_id,
        "period_id": demo["period"].id,
    }


@pytest.mark.parametrize("username", ["truclam.chuyenvien", "truclam.lanhdao"])
def test_unit_users_cannot_reach_another_units_objects(
    demo: dict[str, Any],
    nghison_secrets: dict[str, Any],
    login_as: Any,
    probe: Any,
    username: str,
) -> None:
    login_as(username)
    assert probe(_target(demo, nghison_secrets)) == []


def test_appraiser_cannot_reach_units_they_are_not_assigned(
    demo: dict[str, Any],
    nghison_secrets: dict[str, Any],
    login_as: Any,
    probe: Any,
    submit_directly: Any,
    cacson_appraiser: Any,
) -> None:
    # NGHISON has submitted, so only the missing assignment stands in the way.
    submit_directly(demo["assessments"]["NGHISON"])
    login_as("thamdinh.cacson")
    assert probe(_target(demo, nghison_secrets)) == []


def test_probe_sees_the_data_when_access_is_allowed(
    demo: dict[str, Any],
    nghison_secrets: dict[str, Any],
    login_as: Any,
    client: Any,
) -> None:
    """The markers show on NGHISON's own pages: their absence above means something."""
    login_as("nghison.chuyenvien")
    page = client.get(f"/evidence/{nghison_secrets['evidence_id']}")
    assert page.status_code == 200
    assert nghison_secrets["markers"][0] in page.get_data(as_text=True)
