"""A personal token's life: created on the page or the command line (shown once,
stored hashed), used (last use recorded), and refused once revoked, expired, after a
password change or a reset, after deactivation."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.admin.users import reset_password, set_user_active
from webapp.api.models import ApiToken
from webapp.api.tokens import revoke_token
from webapp.auth.services import change_password
from webapp.extensions import db
from webapp.models import AuditEvent, User

pytestmark = pytest.mark.db


def _me(client: Any, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def _row(token: str) -> ApiToken:
    prefix = token.split("_")[1]
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix))
    assert row is not None
    return row


def test_a_token_works_and_is_stored_only_as_a_hash(
    client: Any, token_for: Any, clock: Any
) -> None:
    token = token_for("truclam.chuyenvien")
    row = _row(token)
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(db.session.execute(sa.select(ApiToken)).all())
    assert row.last_used_at is None

    response = _me(client, token)

    assert response.status_code == 200
    assert response.get_json()["username"] == "truclam.chuyenvien"
    assert response.get_json()["unit"]["code"] == "TRUCLAM"
    db.session.refresh(row)
    assert row.last_used_at == clock.value
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer pi_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer pi_000000000000_" + "x" * 43,
    ],
)
def test_missing_or_forged_tokens_get_401(
    client: Any, demo: Any, token_for: Any, header: str
) -> None:
    token_for("admin")  # a real token exists; these are not it
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized"
    assert "mã truy cập" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401(client: Any, token_for: Any) -> None:
    token = token_for("truclam.chuyenvien")
    assert _me(client, token).status_code == 200
    revoke_token(_row(token), actor=_user("truclam.chuyenvien"))
    assert _me(client, token).status_code == 401
    assert db.session.scalar(
        sa.select(AuditEvent.id).where(AuditEvent.action == "api_token.revoke")
    )


def test_an_expired_token_gets_401(client: Any, token_for: Any, clock: Any) -> None:
    token = token_for("truclam.chuyenvien", days=1)
    assert _me(client, token).status_code == 200
    clock.value += timedelta(days=1, seconds=1)
    assert _me(client, token).status_code == 401


def test_changing_the_password_revokes_every_token(
    client: Any, token_for: Any, demo: Any
) -> None:
    first, second = token_for("truclam.chuyenvien"), token_for("truclam.chuyenvien")
    other = token_for("truclam.lanhdao")
    change_password(_user("truclam.chuyenvien"), demo["password"], "Mat-khau-moi-2026")
    assert _me(client, first).status_code == 401
    assert _me(client, second).status_code == 401
    assert _me(client, other).status_code == 200  # someone else's stays
    assert _row(first).revoked_reason == "password_changed"
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.change_password")
    )
    assert event is not None
    assert sorted(event.after["api_tokens_revoked"]) == sorted(
        [_row(first).id, _row(second).id]
    )


def test_a_password_reset_by_the_coordinator_revokes_the_tokens(
    client: Any, token_for: Any
) -> None:
    token = token_for("truclam.chuyenvien")
    reset_password(_user("truclam.chuyenvien"), "Tam-thoi-2026-x", actor=_user("admin"))
    assert _me(client, token).status_code == 401


def test_deactivation_revokes_the_tokens_and_reactivation_does_not_revive_them(
    client: Any, token_for: Any
) -> None:
    token = token_for("truclam.chuyenvien")
    user = _user("truclam.chuyenvien")
    set_user_active(user, False, actor=_user("admin"))
    assert _me(client, token).status_code == 401
    set_user_active(user, True, actor=_user("admin"))
    assert _me(client, token).status_code == 401
    assert _row(token).revoked_reason == "deactivated"


def test_the_token_page_creates_shows_once_lists_and_revokes(
    client: Any, demo: Any, login_as: Any
) -> None:
    login_as("truclam.chuyenvien")
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    assert "Bạn chưa có mã truy cập nào." in page.get_data(as_text=True)

    created = client.post(
        "/account/tokens/", data={"name": "Cổng dữ liệu tỉnh", "expires_days": "30"}
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 201
    token = re.search(r'class="token-secret">(pi_[^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert "chỉ hiện một lần" in html
    assert _me(app_client := client.application.test_client(), token).status_code == 200

    listed = client.get("/account/tokens/").get_data(as_text=True)
    assert "Cổng dữ liệu tỉnh" in listed
    assert token not in listed  # never shown again
    assert "Đang dùng" in listed
    assert "Dùng lần cuối" in listed and "Chưa dùng" not in listed

    row = _row(token)
    revoked = client.post(f"/account/tokens/{row.id}/revoke")
    assert revoked.status_code == 303
    assert "Đã thu hồi" in client.get("/account/tokens/").get_data(as_text=True)
    assert _me(app_client, token).status_code == 401


def test_the_token_page_refuses_bad_input_and_other_users_tokens(
    client: Any, demo: Any, login_as: Any, token_for: Any
) -> None:
    someone_else = _row(token_for("truclam.lanhdao"))
    login_as("truclam.chuyenvien")
    refused = client.post("/account/tokens/", data={"name": "", "expires_days": "5"})
    assert refused.status_code == 422
    assert "Vui lòng đặt tên" in refused.get_data(as_text=True)
    too_long = client.post(
        "/account/tokens/", data={"name": "Báo cáo", "expires_days": "9999"}
    )
    assert too_long.status_code == 422
    assert "Thời hạn của mã truy cập phải từ 1 đến 366 ngày" in too_long.get_data(
        as_text=True
    )
    assert client.post(f"/account/tokens/{someone_else.id}/revoke").status_code == 404
    db.session.refresh(someone_else)
    assert someone_else.revoked_at is None


def test_the_command_line_creates_and_revokes(app: Any, demo: Any) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "users",
            "token",
            "create",
            "thamdinh",
            "--name",
            "Hệ thống một cửa",
            "--expires-days",
            "7",
        ]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("pi_")
    client = app.test_client()
    assert _me(client, token).get_json()["token"]["name"] == "Hệ thống một cửa"
    row = _row(token)
    assert row.expires_at - row.created_at == timedelta(days=7)

    revoked = runner.invoke(args=["users", "token", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    assert "Đã thu hồi" in revoked.output
    assert _me(client, token).status_code == 401
    again = runner.invoke(args=["users", "token", "revoke", str(row.id)])
    assert again.exit_code == 1
    unknown = runner.invoke(args=["users", "token", "create", "khong-co-ai"])
    assert unknown.exit_code == 1
    assert "Không có tài khoản khong-co-ai" in unknown.output


def test_a_password_set_through_an_emailed_link_revokes_the_tokens(
    client: Any, token_for: Any, clock: Any
) -> None:
    from webapp.auth import reset
    from webapp.notify.models import PasswordResetToken

    token = token_for("truclam.chuyenvien")
    user = _user("truclam.chuyenvien")
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=reset._digest("lien-ket-dat-lai"),
            expires_at=clock.value + timedelta(minutes=30),
        )
    )
    db.session.commit()
    reset.reset_password("lien-ket-dat-lai", "Mat-khau-moi-2026")
    assert _me(client, token).status_code == 401
    assert _row(token).revoked_reason == "password_reset"
