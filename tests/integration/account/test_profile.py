"""Hồ sơ cá nhân: a user edits their name, e-mail, phone and notification choice."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User

pytestmark = pytest.mark.db


def _user(username: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def test_profile_saves_contact_details_and_the_notification_choice(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("truclam.chuyenvien")
    page = client.get("/account/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hồ sơ cá nhân" in html
    assert "Nhận thông báo qua thư điện tử" in html
    response = client.post(
        "/account/",
        data={
            "full_name": "  Lê Thị Hoa  ",
            "email": "hoa.le@ThanhHoa.gov.vn",
            "phone": "0237 3852 123",
            # The checkbox left unticked: no e-mail notifications.
        },
    )
    assert response.status_code == 302
    assert "Đã lưu hồ sơ." in client.get("/account/").get_data(as_text=True)
    user = _user("truclam.chuyenvien")
    assert (user.full_name, user.email, user.phone, user.email_notifications) == (
        "Lê Thị Hoa",
        "hoa.le@thanhhoa.gov.vn",
        "0237 3852 123",
        False,
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.profile")
    )
    assert event is not None and event.actor_id == user.id
    assert event.after["email"] == "hoa.le@thanhhoa.gov.vn"
    assert event.after["email_notifications"] is False
    assert event.before["email"] == "truclam.chuyenvien@demo.parindex.invalid"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "hoa.le@thanhhoa", "Địa chỉ thư điện tử “hoa.le@thanhhoa”"),
        ("email", "hoa le@thanhhoa.gov.vn", "không hợp lệ"),
        ("phone", "0237-38a", "Số điện thoại “0237-38a” không hợp lệ"),
        ("phone", "12345", "gồm 9 đến 15 chữ số"),
        ("full_name", "   ", "Vui lòng nhập họ và tên."),
    ],
)
def test_bad_profile_input_is_refused_in_vietnamese_next_to_its_field(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    form_errors: Any,
    field: str,
    value: str,
    message: str,
) -> None:
    login_as("nghison.lanhdao")
    before = _user("nghison.lanhdao")
    data = {
        "full_name": "Nguyễn Văn Minh",
        "email": "minh@nghison.gov.vn",
        "phone": "0912 345 678",
        "email_notifications": "y",
    }
    data[field] = value
    response = client.post("/account/", data=data)
    assert response.status_code == 422
    errors = form_errors(response.data)
    assert any(message in e for e in errors[field]), errors
    html = response.get_data(as_text=True)
    # What was typed stays in the form.
    assert 'value="minh@nghison.gov.vn"' in html or field == "email"
    after = _user("nghison.lanhdao")
    assert (after.email, after.phone, after.full_name) == (
        before.email,
        before.phone,
        before.full_name,
    )
    assert not db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.profile")
    )


def test_the_user_menu_links_profile_guide_and_logout(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("thamdinh")
    html = client.get("/appraisal/").get_data(as_text=True)
    assert 'href="/account/">Hồ sơ cá nhân</a>' in html
    assert 'href="/help/">Hướng dẫn</a>' in html
    assert 'action="/auth/logout"' in html


def test_the_old_password_address_still_changes_the_password(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    login_as("truclam.lanhdao")
    assert client.get("/auth/password").status_code == 200
    new = "MatKhauMoi@2026"
    response = client.post(
        "/auth/password",
        data={"current": demo["password"], "new": new, "confirm": new},
    )
    assert response.status_code == 302
    login_as("truclam.lanhdao", new)


def test_a_new_password_equal_to_the_current_one_is_refused(
    client: Any, demo: dict[str, Any], login_as: Any, form_errors: Any
) -> None:
    login_as("truclam.lanhdao")
    same = demo["password"]
    response = client.post(
        "/account/password", data={"current": same, "new": same, "confirm": same}
    )
    assert response.status_code == 200
    assert form_errors(response.data)["new"] == [
        "Mật khẩu mới phải khác mật khẩu hiện tại."
    ]
