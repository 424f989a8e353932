"""Bad input in every admin form: a Vietnamese error by the field, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from webapp.admin import units
from webapp.extensions import db

UNIT = {
    "code": "HAITIEN",
    "name": "Phường Hải Tiến",
    "kind": "xa_phuong",
    "parent_body": "",
    "place_name": "",
    "leader_name": "",
    "leader_title": "",
    "report_number": "",
}
USER = {
    "username": "haitien.chuyenvien",
    "full_name": "Lê Thị Hà",
    "role": "unit_editor",
    "unit_id": "TRUCLAM",
    "password": "MatKhau@2026",
}
PERIOD = {
    "name": "Đánh giá năm 2027",
    "year": "2027",
    "criteria_set_id": "thanhhoa-ubnd-xa-phuong-2026-draft",
    "unit_ids": ["TRUCLAM"],
    "opens_on": "01/11/2027",
    "self_deadline": "",
    "appraisal_deadline": "",
}
IMPOSSIBLE_DATE = (
    "Ngày 31/02/2026 không có thật. Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/01/2026."
)

CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    # (id, form, changes to the valid data, field, message the field shows)
    ("unit-empty-code", "unit_new", {"code": ""}, "code", "Vui lòng nhập mã đơn vị."),
    (
        "unit-empty-name",
        "unit_new",
        {"name": "  "},
        "name",
        "Vui lòng nhập tên đơn vị.",
    ),
    (
        "unit-long-code",
        "unit_new",
        {"code": "A" * 33},
        "code",
        "Mã đơn vị tối đa 32 ký tự.",
    ),
    (
        "unit-long-name",
        "unit_new",
        {"name": "x" * 201},
        "name",
        "Tên đơn vị tối đa 200 ký tự.",
    ),
    (
        "unit-long-parent",
        "unit_new",
        {"parent_body": "x" * 201},
        "parent_body",
        "Cơ quan chủ quản tối đa 200 ký tự.",
    ),
    (
        "unit-long-place",
        "unit_new",
        {"place_name": "x" * 101},
        "place_name",
        "Địa danh tối đa 100 ký tự.",
    ),
    (
        "unit-long-leader",
        "unit_new",
        {"leader_name": "x" * 121},
        "leader_name",
        "Người ký tối đa 120 ký tự.",
    ),
    (
        "unit-long-title",
        "unit_new",
        {"leader_title": "x" * 121},
        "leader_title",
        "Chức danh người ký tối đa 120 ký tự.",
    ),
    (
        "unit-long-number",
        "unit_new",
        {"report_number": "x" * 41},
        "report_number",
        "Số, ký hiệu báo cáo tối đa 40 ký tự.",
    ),
    (
        "unit-duplicate",
        "unit_new",
        {"code": "truclam"},
        "code",
        "Mã đơn vị TRUCLAM đã tồn tại.",
    ),
    (
        "unit-malformed-code",
        "unit_new",
        {"code": "TRÚC LÂM"},
        "code",
        "Mã đơn vị chỉ gồm chữ in hoa không dấu",
    ),
    (
        "unit-bad-kind",
        "unit_new",
        {"kind": "xa"},
        "kind",
        "Vui lòng chọn loại đơn vị trong danh sách.",
    ),
    (
        "unit-edit-duplicate",
        "unit_edit",
        {"code": "NGHISON"},
        "code",
        "Mã đơn vị NGHISON đã tồn tại.",
    ),
    (
        "unit-edit-empty-name",
        "unit_edit",
        {"name": ""},
        "name",
        "Vui lòng nhập tên đơn vị.",
    ),
    (
        "user-empty-username",
        "user_new",
        {"username": ""},
        "username",
        "Vui lòng nhập tên đăng nhập.",
    ),
    (
        "user-empty-name",
        "user_new",
        {"full_name": ""},
        "full_name",
        "Vui lòng nhập họ và tên.",
    ),
    (
        "user-empty-password",
        "user_new",
        {"password": ""},
        "password",
        "Vui lòng nhập mật khẩu.",
    ),
    (
        "user-long-username",
        "user_new",
        {"username": "a" * 65},
        "username",
        "Tên đăng nhập phải có từ 3 đến 64 ký tự.",
    ),
    (
        "user-long-name",
        "user_new",
        {"full_name": "x" * 121},
        "full_name",
        "Họ và tên tối đa 120 ký tự.",
    ),
    (
        "user-short-password",
        "user_new",
        {"password": "123456789"},
        "password",
        "Mật khẩu phải có từ 10 đến 200 ký tự.",
    ),
    (
        "user-duplicate",
        "user_new",
        {"username": "Admin"},
        "username",
        "Tên đăng nhập admin đã tồn tại.",
    ),
    (
        "user-malformed-username",
        "user_new",
        {"username": "nguyễn văn a"},
        "username",
        "Tên đăng nhập chỉ gồm chữ thường không dấu",
    ),
    (
        "user-unit-role-without-unit",
        "user_new",
        {"unit_id": "0"},
        "unit_id",
        "Chuyên viên và lãnh đạo đơn vị phải thuộc một đơn vị.",
    ),
    (
        "user-appraiser-with-unit",
        "user_new",
        {"role": "appraiser"},
        "unit_id",
        "Quản trị và thẩm định không thuộc đơn vị nào",
    ),
    (
        "user-bad-role",
        "user_new",
        {"role": "superuser"},
        "role",
        "Vui lòng chọn vai trò.",
    ),
    (
        "user-bad-unit",
        "user_new",
        {"unit_id": "abc"},
        "unit_id",
        "Lựa chọn không hợp lệ, vui lòng chọn trong danh sách.",
    ),
    (
        "user-edit-empty-name",
        "user_edit",
        {"full_name": ""},
        "full_name",
        "Vui lòng nhập họ và tên.",
    ),
    (
        "user-edit-no-unit",
        "user_edit",
        {"unit_id": "0"},
        "unit_id",
        "Chuyên viên và lãnh đạo đơn vị phải thuộc một đơn vị.",
    ),
    (
        "password-short",
        "user_password",
        {"password": "ngan", "confirm": "ngan"},
        "password",
        "Mật khẩu phải có từ 10 đến 200 ký tự.",
    ),
    (
        "password-mismatch",
        "user_password",
        {"confirm": "KhacHoanToan@1"},
        "confirm",
        "Mật khẩu nhập lại không khớp.",
    ),
    (
        "period-empty-name",
        "period_new",
        {"name": ""},
        "name",
        "Vui lòng nhập tên kỳ đánh giá.",
    ),
    (
        "period-long-name",
        "period_new",
        {"name": "x" * 201},
        "name",
        "Tên kỳ đánh giá tối đa 200 ký tự.",
    ),
    (
        "period-empty-year",
        "period_new",
        {"year": ""},
        "year",
        "Vui lòng nhập năm đánh giá (4 chữ số).",
    ),
    (
        "period-malformed-year",
        "period_new",
        {"year": "năm nay"},
        "year",
        "“năm nay” không phải là số nguyên. Nhập số nguyên, ví dụ 2 hoặc 1.215.",
    ),
    (
        "period-year-range",
        "period_new",
        {"year": "1999"},
        "year",
        "Năm đánh giá phải từ 2000 đến 2100.",
    ),
    (
        "period-empty-opens",
        "period_new",
        {"opens_on": ""},
        "opens_on",
        "Vui lòng nhập ngày mở kỳ đánh giá.",
    ),
    (
        "period-impossible-date",
        "period_new",
        {"opens_on": "31/02/2026"},
        "opens_on",
        IMPOSSIBLE_DATE,
    ),
    (
        "period-iso-date",
        "period_new",
        {"self_deadline": "2027-12-15"},
        "self_deadline",
        "Hạn tự đánh giá không hợp lệ, nhập theo dạng dd/mm/yyyy (ví dụ 15/01/2026).",
    ),
    (
        "period-year-one",
        "period_new",
        {"opens_on": "15/01/0001"},
        "opens_on",
        "Ngày mở 15/01/0001 nằm ngoài khoảng cho phép (01/01/1900 đến 31/12/2100).",
    ),
    (
        "period-no-units",
        "period_new",
        {"unit_ids": []},
        "unit_ids",
        "Vui lòng chọn ít nhất một đơn vị tham gia.",
    ),
    (
        "period-deadline-before-open",
        "period_new",
        {"self_deadline": "01/10/2027"},
        "self_deadline",
        "Hạn tự đánh giá phải sau ngày mở.",
    ),
    (
        "period-appraisal-before-self",
        "period_new",
        {"appraisal_deadline": "01/12/2027"},
        "appraisal_deadline",
        "Hạn thẩm định không được trước hạn tự đánh giá.",
    ),
    (
        "period-unknown-set",
        "period_new",
        {"criteria_set_id": "khong-co"},
        "criteria_set_id",
        "Vui lòng chọn một bộ tiêu chí đã nhập.",
    ),
    (
        "period-edit-empty-name",
        "period_edit",
        {"name": ""},
        "name",
        "Vui lòng nhập tên kỳ đánh giá.",
    ),
]


def _request(
    form: str, demo: dict[str, Any], changes: dict[str, Any]
) -> tuple[str, dict]:
    units = demo["units"]
    if form.startswith("unit"):
        data = {**UNIT, **changes}
        url = (
            "/admin/units/new"
            if form == "unit_new"
            else f"/admin/units/{units['TRUCLAM'].id}/edit"
        )
        if form == "unit_edit":
            data = {**UNIT, "code": "TRUCLAM", "name": "Phường Trúc Lâm", **changes}
        return url, data
    if form in ("user_new", "user_edit"):
        data = {**USER, **changes}
        if data["unit_id"] in units:
            data["unit_id"] = units[data["unit_id"]].id
        if form == "user_new":
            return "/admin/users/new", data
        return f"/admin/users/{demo['users']['truclam.chuyenvien'].id}/edit", data
    if form == "user_password":
        data = {"password": "MatKhau@2026", "confirm": "MatKhau@2026", **changes}
        return f"/admin/users/{demo['users']['truclam.chuyenvien'].id}/password", data
    if form == "period_new":
        data = {**PERIOD, **changes}
        data["unit_ids"] = [units[code].id for code in data["unit_ids"]]
        return "/admin/periods/new", data
    # The demo period is open: keep its units (they have assessments) and its year.
    data = {
        **PERIOD,
        "year": "2026",
        "opens_on": "01/11/2026",
        "unit_ids": list(units),
        **changes,
    }
    data["unit_ids"] = [units[code].id for code in data["unit_ids"]]
    return f"/admin/periods/{demo['period'].id}/edit", data


FORMS = sorted({case[1] for case in CASES})


@pytest.mark.parametrize("form", FORMS)
def test_bad_input_shows_error_next_to_field_and_changes_nothing(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    db_state: Any,
    form_errors: Any,
    form: str,
) -> None:
    # One database per form, not per case: each case must leave it unchanged anyway.
    login_as("admin")
    before = db_state()
    wrong = []
    for case_id, _, changes, field, message in (c for c in CASES if c[1] == form):
        url, data = _request(form, demo, changes)
        response = client.post(url, data=data)
        errors = form_errors(response.data)
        shown = errors.get(field, [""])[0]
        if (
            response.status_code != 200
            or list(errors) != [field]
            or not shown.startswith(message)
        ):
            wrong.append((case_id, response.status_code, errors))
        if db_state() != before:
            wrong.append((case_id, "changed the database"))
            before = db_state()
    assert wrong == []


def test_valid_data_of_the_bad_input_table_is_accepted(
    client: Any, demo: dict[str, Any], login_as: Any
) -> None:
    """The table's base data must pass, or every case above would prove nothing."""
    login_as("admin")
    for form in (
        "unit_new",
        "unit_edit",
        "user_new",
        "user_edit",
        "user_password",
        "period_new",
        "period_edit",
    ):
        url, data = _request(form, demo, {})
        response = client.post(url, data=data)
        assert response.status_code == 302, (
            form,
            response.get_data(as_text=True)[-3000:],
        )


@pytest.mark.parametrize("kind", ["unit", "user"])
def test_database_constraint_backs_up_the_duplicate_check(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    db_state: Any,
    form_errors: Any,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Two admins saving one code at once: the loser gets the field error, not a 500."""
    login_as("admin")
    if kind == "unit":
        monkeypatch.setattr(units, "_code_taken", lambda *_a, **_k: False)
        url, data, field = "/admin/units/new", {**UNIT, "code": "NGHISON"}, "code"
    else:
        monkeypatch.setattr(
            db.session,
            "scalar",
            _pretend_username_is_free(db.session.scalar),
        )
        url, field = "/admin/users/new", "username"
        data = {**USER, "username": "thamdinh", "unit_id": demo["units"]["TRUCLAM"].id}
    before = db_state()
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert "đã tồn tại" in form_errors(response.data)[field][0]
    assert db_state() == before


def _pretend_username_is_free(real: Any) -> Any:
    def scalar(statement: Any, *args: Any, **kwargs: Any) -> Any:
        if "lower(users.username)" in str(statement):
            return None
        return real(statement, *args, **kwargs)

    return scalar
