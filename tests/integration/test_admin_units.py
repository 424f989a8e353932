"""Admin: units (create, edit report settings, deactivate, CSV import)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Unit

NEW_UNIT = {
    "code": "hoangmai",
    "name": "Phường Hoàng Mai",
    "kind": "xa_phuong",
    "parent_body": "UBND TỈNH THANH HÓA",
    "place_name": "Hoàng Mai",
    "leader_name": "Đặng Văn Bình",
    "leader_title": "CHỦ TỊCH",
    "report_number": "15/BC-UBND",
}


@pytest.fixture
def admin(client: Any, demo: dict[str, Any], login_as: Any) -> Any:
    return login_as("admin")


def _unit(code: str) -> Unit | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Unit).where(Unit.code == code))


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))
    )


def _upload(admin: Any, content: bytes, name: str = "don-vi.csv") -> Any:
    return admin.post(
        "/admin/units/import",
        data={"file": (BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_create_unit_with_report_settings(admin: Any) -> None:
    response = admin.post("/admin/units/new", data=NEW_UNIT)
    assert response.status_code == 302
    unit = _unit("HOANGMAI")  # codes are stored upper-case
    assert unit is not None
    assert (unit.name, unit.parent_body, unit.report_number) == (
        "Phường Hoàng Mai",
        "UBND TỈNH THANH HÓA",
        "15/BC-UBND",
    )
    listing = admin.get("/admin/units").get_data(as_text=True)
    assert "Phường Hoàng Mai" in listing


def test_edit_unit_changes_report_settings(admin: Any, demo: dict[str, Any]) -> None:
    unit = demo["units"]["TRUCLAM"]
    form = admin.get(f"/admin/units/{unit.id}/edit").get_data(as_text=True)
    assert 'value="Phường Trúc Lâm"' in form
    data = {
        **NEW_UNIT,
        "code": "TRUCLAM",
        "name": "Phường Trúc Lâm",
        "leader_name": "Lê Thị Thu",
        "leader_title": "PHÓ CHỦ TỊCH",
        "report_number": "210/BC-UBND",
    }
    assert admin.post(f"/admin/units/{unit.id}/edit", data=data).status_code == 302
    unit = _unit("TRUCLAM")
    assert unit is not None
    assert (unit.leader_name, unit.leader_title, unit.report_number) == (
        "Lê Thị Thu",
        "PHÓ CHỦ TỊCH",
        "210/BC-UBND",
    )
    (event,) = _events("unit.update")
    assert event.before["leader_name"] == "Lê Văn Minh"
    assert event.after["leader_name"] == "Lê Thị Thu"
    assert "name" not in event.after  # only what changed


def test_deactivated_unit_is_not_offered_for_new_periods_or_accounts(
    admin: Any, demo: dict[str, Any]
) -> None:
    unit = demo["units"]["CACSON"]
    assert admin.post(f"/admin/units/{unit.id}/deactivate").status_code == 302
    assert _unit("CACSON").is_active is False  # type: ignore[union-attr]
    assert "Xã Các Sơn (CACSON)" not in admin.get("/admin/periods/new").get_data(
        as_text=True
    )
    assert "Xã Các Sơn (CACSON)" not in admin.get("/admin/users/new").get_data(
        as_text=True
    )
    assert admin.post(f"/admin/units/{unit.id}/activate").status_code == 302
    assert _unit("CACSON").is_active is True  # type: ignore[union-attr]


def test_unit_search_ignores_accents(admin: Any) -> None:
    page = admin.get("/admin/units?q=truc lam").get_data(as_text=True)
    assert "Phường Trúc Lâm" in page
    assert "Phường Nghi Sơn" not in page


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_csv_import_creates_every_row(admin: Any, bom: bytes) -> None:
    content = bom + (
        "code,name,kind\r\n"
        "HAITIEN,Phường Hải Tiến,xa_phuong\r\n"
        "sotuphap,Sở Tư pháp,so_ban_nganh\r\n"
        "\r\n"
        'QUANGPHU,"Xã Quảng Phú, huyện cũ",UBND xã, phường\r\n'.replace(
            "UBND xã, phường", '"UBND xã, phường"'
        )
    ).encode("utf-8")
    response = _upload(admin, content)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _unit("HAITIEN").name == "Phường Hải Tiến"  # type: ignore[union-attr]
    assert _unit("SOTUPHAP").kind == "so_ban_nganh"  # type: ignore[union-attr]
    assert _unit("QUANGPHU").name == "Xã Quảng Phú, huyện cũ"  # type: ignore[union-attr]
    (event,) = _events("unit.import")
    assert [u["code"] for u in event.after["created"]] == [
        "HAITIEN",
        "SOTUPHAP",
        "QUANGPHU",
    ]


def test_csv_with_one_bad_row_imports_nothing_and_names_the_row(
    admin: Any, db_state: Any
) -> None:
    before = db_state()
    content = (
        "code,name,kind\n"
        "HAITIEN,Phường Hải Tiến,xa_phuong\n"
        "NGHISON,Phường Nghi Sơn mới,xa_phuong\n"
        "QUANGPHU,Xã Quảng Phú,xa\n"
        "HAITIEN,Trùng mã,xa_phuong\n"
        "THIEUTEN,,xa_phuong\n"
        "MOTCOT\n"
    ).encode()
    response = _upload(admin, content)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Không nhập đơn vị nào" in page
    for line, reason in [
        (3, "Mã đơn vị NGHISON đã có trong hệ thống."),
        (4, "Loại đơn vị “xa” không hợp lệ"),
        (5, "Mã đơn vị HAITIEN trùng với dòng 2."),
        (6, "Thiếu tên đơn vị"),
        (7, "Cần đúng 3 cột"),
    ]:
        assert f'<td class="num">{line}</td><td>{reason}' in page
    assert db_state() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"ma,ten,loai\nX,Y,xa_phuong\n",
            "Dòng tiêu đề phải đúng là: code,name,kind",
        ),
        # Saved by an old Excel as a Windows code page: not UTF-8.
        (
            "code,name,kind\nHAITIEN,Phòng Văn hóa,xa_phuong\n".encode(
                "cp1252", "replace"
            ),
            "Tệp không phải mã UTF-8",
        ),
        (b"", "Tệp trống"),
        (b"code,name,kind\n", "Tệp không có dòng dữ liệu nào"),
        (
            "code,name,kind\nHAI TIEN,Phường Hải Tiến,xa_phuong\n".encode(),
            "chỉ được gồm chữ in hoa không dấu",
        ),
        (
            f"code,name,kind\nHAITIEN,{'x' * 201},xa_phuong\n".encode(),
            "dài quá 200 ký tự",
        ),
    ],
    ids=["header", "not-utf8", "empty", "no-rows", "bad-code", "long-name"],
)
def test_csv_malformed_file_is_refused_with_reason(
    admin: Any, db_state: Any, content: bytes, message: str
) -> None:
    before = db_state()
    response = _upload(admin, content)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db_state() == before
