"""Hostile or mistyped input gets a Vietnamese message and changes nothing (issue 11).

Each case below used to be a 500: a NUL byte reaching PostgreSQL (which refuses it in
text), a count too long for int(), a survey value too long for its column, a page
number too large for OFFSET. Run on SQLite and, marked `db`, on PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from webapp.clock import VN_TZ

pytestmark = pytest.mark.db

NUL = "Kế hoạch\x00 CCHC"
CONTROL = "ký tự điều khiển không hợp lệ"
HUGE_COUNT = "9" * 4301
HUGE_SURVEY = "1" * 31


@pytest.fixture
def ready(demo: dict[str, Any], clock: Any) -> dict[str, Any]:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    return demo


@pytest.fixture
def evidence_id(
    ready: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> int:
    login_as("truclam.chuyenvien")
    response = upload_file(
        ready["assessments"]["TRUCLAM"].id,
        "kh.pdf",
        evidence_files.pdf(["Kế hoạch"]),
        doc_number="1/KH",
    )
    return int(response.get_json()["evidence"]["id"])


def message_of(response: Any) -> str:
    """The refusal as the user reads it: the JSON error, or the page's text."""
    if response.is_json:
        return str(response.get_json()["error"])
    return str(response.get_data(as_text=True))


Case = Callable[[Any, dict[str, Any]], Any]


def _leaf_note(client: Any, demo: dict[str, Any]) -> Any:
    a = demo["assessments"]["TRUCLAM"]
    return client.post(
        f"/assessments/{a.id}/criteria/1.1.3",
        data={"1.1.3-value": "90", "1.1.3-note": NUL, "1.1.3-version": "0"},
        follow_redirects=True,  # refused and kept across a redirect (PRG)
    )


def _leaf_count(client: Any, demo: dict[str, Any]) -> Any:
    a = demo["assessments"]["TRUCLAM"]
    return client.post(
        f"/assessments/{a.id}/criteria/1.2",
        data={"1.2-count_0": HUGE_COUNT, "1.2-version": "0"},
    )


def _report_section(client: Any, demo: dict[str, Any]) -> Any:
    a = demo["assessments"]["TRUCLAM"]
    return client.post(
        f"/dossier/assessments/{a.id}/settings", data={"section-kho_khan": NUL}
    )


def _library_search(client: Any, demo: dict[str, Any]) -> Any:
    return client.get("/evidence/", query_string={"q": NUL})


def _leaf_search(client: Any, demo: dict[str, Any]) -> Any:
    a = demo["assessments"]["TRUCLAM"]
    return client.get(
        f"/evidence/assessments/{a.id}/search",
        query_string={"q": NUL},
        headers={"Accept": "application/json"},
    )


UNIT_CASES: dict[str, tuple[Case, int, str]] = {
    "leaf note": (_leaf_note, 200, CONTROL),
    "4,301-digit count": (_leaf_count, 422, "quá dài: tối đa 12 chữ số"),
    "report section": (_report_section, 422, CONTROL),
    "library search q": (_library_search, 400, CONTROL),
    "leaf search q (JSON)": (_leaf_search, 400, CONTROL),
}


@pytest.mark.parametrize("case", UNIT_CASES, ids=list(UNIT_CASES))
def test_unit_users_bad_input_is_refused_with_a_message_and_changes_nothing(
    case: str, ready: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    send, status, message = UNIT_CASES[case]
    client = login_as("truclam.chuyenvien")
    before = db_state()
    response = send(client, ready)
    assert response.status_code == status
    assert message in message_of(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "value"), [("summary", NUL), ("doc_number", "1/KH\x00"), ("issuer", NUL)]
)
def test_a_nul_in_a_citation_is_refused_next_to_the_field(
    field: str, value: str, evidence_id: int, client: Any, db_state: Any
) -> None:
    before = db_state()
    response = client.post(f"/evidence/{evidence_id}/citation", data={field: value})
    assert response.status_code == 400
    assert CONTROL in response.get_data(as_text=True)
    assert db_state() == before


def _unit_name(client: Any) -> Any:
    return client.post(
        "/admin/units/new", data={"code": "NUL1", "name": NUL, "kind": "ward"}
    )


ADMIN_CASES: dict[str, tuple[Callable[[Any], Any], int, str]] = {
    "unit name": (_unit_name, 200, CONTROL),
    "units search q": (
        lambda c: c.get("/admin/units", query_string={"q": NUL}),
        400,
        CONTROL,
    ),
    "users search q": (
        lambda c: c.get("/admin/users", query_string={"q": NUL}),
        400,
        CONTROL,
    ),
    "audit page 10^20": (
        lambda c: c.get("/admin/audit", query_string={"page": str(10**20)}),
        400,
        "Số trang",
    ),
}


@pytest.mark.parametrize("case", ADMIN_CASES, ids=list(ADMIN_CASES))
def test_coordinators_bad_input_is_refused_with_a_message_and_changes_nothing(
    case: str, ready: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    send, status, message = ADMIN_CASES[case]
    client = login_as("admin")
    before = db_state()
    response = send(client)
    assert response.status_code == status
    assert message in message_of(response)
    assert db_state() == before


def test_a_nul_in_the_login_username_is_a_400_without_logging_in(
    ready: dict[str, Any], client: Any, db_state: Any
) -> None:
    before = db_state()
    response = client.post(
        "/auth/login", data={"username": "admin\x00", "password": ready["password"]}
    )
    assert response.status_code == 400
    assert CONTROL in response.get_data(as_text=True)
    assert db_state() == before
    assert client.get("/admin/").status_code == 302  # still not logged in


def _survey_grid(client: Any, demo: dict[str, Any]) -> Any:
    a = demo["assessments"]["TRUCLAM"]
    return client.post(
        f"/appraisal/periods/{demo['period'].id}/survey",
        data={f"v-{a.id}-1.8": HUGE_SURVEY},
    )


def _survey_import(client: Any, demo: dict[str, Any]) -> Any:
    body = f"TRUCLAM;1.8;{HUGE_SURVEY}\n".encode()
    return client.post(
        f"/appraisal/periods/{demo['period'].id}/survey/import",
        data={"file": (io.BytesIO(body), "ket-qua.csv")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("send", [_survey_grid, _survey_import])
def test_a_31_digit_survey_value_is_refused_with_a_message_and_changes_nothing(
    send: Any, ready: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    client = login_as("admin")
    before = db_state()
    response = send(client, ready)
    assert response.status_code == 422
    assert "Kết quả quá dài" in message_of(response)
    assert db_state() == before


def test_an_appraisers_4301_digit_count_is_refused_and_changes_nothing(
    ready: dict[str, Any],
    fill_assessment: Any,
    submit_directly: Any,
    login_as: Any,
    db_state: Any,
) -> None:
    assessment = ready["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    client = login_as("thamdinh")
    before = db_state()
    response = client.post(
        f"/appraisal/assessments/{assessment.id}/leaves/1.2",
        data={"correct": "y", "counts-0": HUGE_COUNT, "comment": "x", "version": "1"},
    )
    assert response.status_code == 422
    assert "quá dài" in response.text
    assert db_state() == before


def test_a_nul_in_an_imported_unit_list_is_named_and_nothing_is_imported(
    ready: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    client = login_as("admin")
    before = db_state()
    body = "code,name,kind\nHAITIEN,Phường\x00 Hải Tiến,xa_phuong\n".encode()
    response = client.post(
        "/admin/units/import",
        data={"file": (io.BytesIO(body), "don-vi.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Không nhập đơn vị nào" in response.text
    assert CONTROL in response.text
    assert db_state() == before


def test_a_forged_survey_cell_with_a_huge_id_is_ignored(
    ready: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    client = login_as("admin")
    before = db_state()
    response = client.post(
        f"/appraisal/periods/{ready['period'].id}/survey",
        data={f"v-{HUGE_COUNT}-1.8": "80"},
    )
    assert response.status_code == 302
    assert db_state() == before
