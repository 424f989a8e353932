"""Forgotten password: the emailed link works once, expires after 30 minutes, the
answer never tells whether the account exists, and requests are throttled."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.notify.models import OutgoingEmail, PasswordResetToken

pytestmark = pytest.mark.db

NEW_PASSWORD = "Mat-khau-moi-2026"
SAME_ANSWER = "Nếu tài khoản tồn tại và có địa chỉ thư điện tử, chúng tôi đã gửi"
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=VN_TZ)


@pytest.fixture
def ask(client: Any) -> Any:
    """Post the forgotten-password form; the email goes out when the answer closes."""

    def post(identifier: str) -> Any:
        response = client.post("/auth/forgot", data={"identifier": identifier})
        response.close()
        return response

    return post


def link_in(mailbox: Any) -> str:
    text = mailbox.text(mailbox.messages[-1])
    match = re.search(r"https://cchc\.thanhhoa\.test(/auth/reset/\S+)", text)
    assert match, text
    return match.group(1)


def test_the_same_answer_whether_or_not_the_account_exists(
    demo: dict[str, Any], clock: Any, client: Any, ask: Any, mailbox: Any
) -> None:
    clock.value = NOON
    answers = []
    for identifier in ("truclam.chuyenvien", "khong.ton.tai", "ai@noi.khac.vn"):
        response = ask(identifier)
        page = client.get(response.headers["Location"])
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                SAME_ANSWER in page.text,
            )
        )

    assert answers == [(303, "/auth/login", True)] * 3
    assert mailbox.recipients() == ["truclam.chuyenvien@demo.parindex.invalid"]
    assert mailbox.subject(mailbox.messages[0]) == "[Chỉ số CCHC] Đặt lại mật khẩu"
    # Only the token's hash is kept, and the sent email's copy loses the link.
    token = link_in(mailbox).rsplit("/", 1)[1]
    stored = db.session.scalars(sa.select(PasswordResetToken.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0]
    sent = db.session.scalar(sa.select(OutgoingEmail))
    assert sent is not None and token not in sent.text + sent.html


def test_the_link_works_once_and_ends_the_other_sessions(
    app: Any, demo: dict[str, Any], clock: Any, client: Any, ask: Any, mailbox: Any
) -> None:
    clock.value = NOON
    other = app.test_client()
    other.post(
        "/auth/login",
        data={"username": "truclam.lanhdao", "password": demo["password"]},
    )
    assert other.get("/assessments/").status_code == 200
    ask("truclam.lanhdao@demo.parindex.invalid")  # by email address this time
    link = link_in(mailbox)

    form = client.get(link)
    assert form.status_code == 200 and "Đặt lại mật khẩu" in form.text
    done = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"
    assert other.get("/assessments/").status_code == 302  # logged out
    login = client.post(
        "/auth/login", data={"username": "truclam.lanhdao", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302
    client.post("/auth/logout")
    again = client.get(link)
    assert again.status_code == 404
    assert "không hợp lệ, đã hết hạn hoặc đã được dùng" in again.text
    replay = client.post(
        link, data={"new": "Mot-mat-khau-khac", "confirm": "Mot-mat-khau-khac"}
    )
    assert replay.status_code == 404
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("user.password%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["user.password_reset_request", "user.password_reset"]


def test_a_weak_password_is_refused_and_the_link_stays_usable(
    demo: dict[str, Any], clock: Any, client: Any, ask: Any, mailbox: Any
) -> None:
    clock.value = NOON
    ask("truclam.chuyenvien")
    link = link_in(mailbox)

    short = client.post(link, data={"new": "ngan", "confirm": "ngan"})

    assert short.status_code == 400
    assert "Mật khẩu mới phải có từ 10 đến 200 ký tự." in short.text
    assert client.get(link).status_code == 200


def test_the_link_expires_after_30_minutes(
    demo: dict[str, Any], clock: Any, client: Any, ask: Any, mailbox: Any
) -> None:
    clock.value = NOON
    ask("truclam.chuyenvien")
    link = link_in(mailbox)

    clock.value = NOON + timedelta(minutes=29, seconds=59)
    assert client.get(link).status_code == 200
    clock.value = NOON + timedelta(minutes=30)
    expired = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert expired.status_code == 404
    assert "Yêu cầu liên kết mới" in expired.text
    assert (
        client.post(
            "/auth/login",
            data={"username": "truclam.chuyenvien", "password": NEW_PASSWORD},
        ).status_code
        == 401
    )


@pytest.mark.parametrize("identifier", ["truclam.chuyenvien", "khong.ton.tai"])
def test_requests_are_throttled_like_logins(
    demo: dict[str, Any], clock: Any, ask: Any, mailbox: Any, identifier: str
) -> None:
    clock.value = NOON
    statuses = [ask(identifier).status_code for _ in range(6)]

    assert statuses == [303] * 5 + [429]
    assert len(mailbox.messages) == (5 if identifier == "truclam.chuyenvien" else 0)


def test_the_login_page_offers_the_link(client: Any, demo: dict[str, Any]) -> None:
    page = client.get("/auth/login")
    assert '<a href="/auth/forgot">Quên mật khẩu?</a>' in page.text
    assert "Tên đăng nhập hoặc địa chỉ thư điện tử" in client.get("/auth/forgot").text
