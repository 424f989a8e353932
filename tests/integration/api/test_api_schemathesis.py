"""Schemathesis against the app's own /api/v1/openapi.json: a bounded number of
generated requests per operation, each answered without a server error and exactly
as the document describes it (status, content type, body schema).

The objects named in paths are real ones (TRUCLAM's assessment, one of its documents,
the demo period, a binary leaf) so that generated bodies reach the services instead
of stopping at a 404; every operation is called with a token of a role it admits.
One test walks every operation (Schemathesis' pytest plugin does not yet run under
pytest 9), collecting each operation's failure so that one run shows them all.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.db

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
UNIT_ONLY = ("PUT /criteria/{code}", "POST /evidence", "POST /links", "POST /submit")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["API_RATE_LIMIT"] = "100000 per minute"
    return app_config


def _fixtures(app: Any, demo: dict[str, Any], token_for: Any) -> dict[str, Any]:
    admin, head = token_for("admin"), token_for("truclam.lanhdao")
    assessment = demo["assessments"]["TRUCLAM"]
    pdf = b"%PDF-1.4\n%" + b"0" * 2000 + b"\ntrailer\n<< >>\n%%EOF\n"
    uploaded = app.test_client().post(
        f"/api/v1/assessments/{assessment.id}/evidence",
        data={"file": (io.BytesIO(pdf), "Mẫu.pdf")},
        headers={"Authorization": f"Bearer {head}"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    return {
        "tokens": {"admin": admin, "unit": head},
        "ids": {
            "assessment_id": assessment.id,
            "evidence_id": uploaded.get_json()["evidence"]["id"],
            "period_id": demo["period"].id,
            "code": "2.2.1",
        },
    }


def _unit_only(method: str, path: str) -> bool:
    return any(
        method == m and path.endswith(p)
        for m, p in (item.split(" ", 1) for item in UNIT_ONLY)
    )


def _checker(strategy: Any, headers: dict[str, str]) -> Any:
    """One operation's property: every generated request answered as documented."""

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    return check


def test_the_api_answers_as_its_openapi_document_says(
    app: Any, demo: dict[str, Any], token_for: Any
) -> None:
    context = _fixtures(app, demo, token_for)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried: list[str] = []
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        label = f"{method} {path}"
        params = {
            name: value
            for name, value in context["ids"].items()
            if "{" + name + "}" in path
        }
        role = "unit" if _unit_only(method, path) else "admin"
        headers = {"Authorization": f"Bearer {context['tokens'][role]}"}

        check = _checker(operation.as_strategy(path_parameters=params), headers)
        try:
            check()
        except Exception as exc:  # every operation is tried; all failures reported
            failures[label] = f"{type(exc).__name__}: {str(exc)[:2000]}"
        tried.append(label)
    assert len(tried) >= 20  # every operation of DESIGN §6 and the coordinator's
    assert failures == {}
