"""One error base, one handler: a refusal as a page, a form and a script see it."""

from __future__ import annotations

from typing import Any

import pytest

from webapp.errors import ParIndexError, back_to

MESSAGE = "Hồ sơ đã gửi và được khóa: không thể thay đổi."


@pytest.fixture
def refusing(app: Any) -> Any:
    """An app with one endpoint that refuses, as a service would, after setting back."""

    def refuse() -> str:
        back_to("/assessments/7")
        raise ParIndexError(MESSAGE, field="note", status=409)

    def refuse_plain() -> str:
        raise ParIndexError(MESSAGE)

    app.add_url_rule("/_refuse", "refuse", refuse, methods=["GET", "POST"])
    app.add_url_rule("/_refuse_plain", "refuse_plain", refuse_plain, methods=["POST"])
    return app.test_client()


def flashes(client: Any) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_a_script_gets_json_with_the_message_field_and_status(refusing: Any) -> None:
    response = refusing.post("/_refuse", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 409
    assert response.get_json() == {"ok": False, "error": MESSAGE, "field": "note"}
    response = refusing.post("/_refuse", json={"x": 1})
    assert response.get_json()["error"] == MESSAGE


def test_a_page_post_flashes_the_message_and_goes_back_where_the_view_said(
    refusing: Any,
) -> None:
    response = refusing.post("/_refuse")
    assert response.status_code == 303
    assert response.headers["Location"] == "/assessments/7"
    assert flashes(refusing) == [("error", MESSAGE)]


def test_without_a_declared_page_it_goes_back_to_the_referring_page_of_this_site(
    refusing: Any,
) -> None:
    here = refusing.post(
        "/_refuse_plain", headers={"Referer": "http://localhost/evidence/?q=x"}
    )
    assert here.headers["Location"] == "/evidence/?q=x"
    for foreign in ("https://example.com/x", "//example.com/x", "/\\example.com"):
        away = refusing.post("/_refuse_plain", headers={"Referer": foreign})
        assert away.headers["Location"] == "/", foreign


def test_a_get_shows_the_message_on_the_error_page_with_the_status(
    refusing: Any,
) -> None:
    response = refusing.get("/_refuse")
    assert response.status_code == 409
    assert MESSAGE in response.get_data(as_text=True)


def test_a_refused_button_post_is_flashed_and_changes_nothing(
    demo: dict[str, Any], login_as: Any, db_state: Any
) -> None:
    # Closing a period that is not open: the service refuses, the handler answers.
    client = login_as("admin")
    period = demo["period"]
    assert client.post(f"/admin/periods/{period.id}/close").status_code in (302, 303)
    before = db_state()
    response = client.post(f"/admin/periods/{period.id}/close")
    assert response.headers["Location"].endswith(f"/admin/periods/{period.id}")
    messages = [m for kind, m in flashes(client) if kind == "error"]
    assert messages and "đóng" in messages[0].lower()
    assert db_state() == before
