"""Admin forms: they check the shape of the input (required, lengths, formats, choices).

Rules that need the database (unique codes and usernames, deadlines against the period)
are checked by the admin service modules and come back as field errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import Field
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from webapp.models import ROLE_LABELS, ROLES, UNIT_KIND_LABELS, UNIT_KINDS

DATE_ERROR = "Ngày không hợp lệ, nhập theo dạng dd/mm/yyyy."
INVALID_CHOICE = "Lựa chọn không hợp lệ, vui lòng chọn trong danh sách."
REQUIRED = "Vui lòng nhập {}."
UNIT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]*$"
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def as_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them (plain tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _too_long(label: str, limit: int) -> str:
    return f"{label} tối đa {limit} ký tự."


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class VNDateField(Field):
    """A date typed as dd/mm/yyyy (the way Vietnamese offices write dates).

    Empty input gives None (combine with DataRequired or Optional); anything that is
    not a real calendar day in that shape, such as 31/02/2026, is a field error.
    """

    widget = TextInput()

    def __init__(
        self, label: str | None = None, validators: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "render_kw", {"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}
        )
        super().__init__(label, validators, **kwargs)
        self.raw_text = ""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.strftime("%d/%m/%Y") if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_text = (valuelist[0] if valuelist else "").strip()
        if not self.raw_text:
            self.data = None
            return
        self.data = parse_vn_date(self.raw_text)
        if self.data is None:
            raise ValueError(DATE_ERROR)

    def pre_validate(self, form: Any) -> None:
        # The parse error already explains itself; stop DataRequired from replacing it
        # with "please enter a date" when the user did type one.
        if self.process_errors:
            raise StopValidation()


def parse_vn_date(text: str) -> date | None:
    """Parse dd/mm/yyyy (day and month of 1-2 digits, 4-digit year); None if invalid."""
    parts = text.strip().split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    if not (1 <= len(parts[0]) <= 2 and 1 <= len(parts[1]) <= 2):
        return None
    try:
        return datetime(int(parts[2]), int(parts[1]), int(parts[0])).date()
    except ValueError:
        return None


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multi-select (easier than Ctrl+click on a long unit list)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- Units ----------------------------------------------------------------------------


class UnitForm(FlaskForm):
    code = StringField(
        "Mã đơn vị",
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        validators=[
            DataRequired(REQUIRED.format("mã đơn vị")),
            Length(max=32, message=_too_long("Mã đơn vị", 32)),
            Regexp(
                UNIT_CODE_PATTERN,
                message="Mã đơn vị chỉ gồm chữ in hoa không dấu, chữ số "
                "và các dấu _ . -",
            ),
        ],
    )
    name = StringField(
        "Tên đơn vị",
        filters=[_strip],
        validators=[
            DataRequired(REQUIRED.format("tên đơn vị")),
            Length(max=200, message=_too_long("Tên đơn vị", 200)),
        ],
    )
    kind = SelectField(
        "Loại đơn vị",
        choices=as_choices((k, UNIT_KIND_LABELS[k]) for k in UNIT_KINDS),
        invalid_choice_message="Vui lòng chọn loại đơn vị trong danh sách.",
    )
    parent_body = StringField(
        "Cơ quan chủ quản (dòng đầu báo cáo)",
        filters=[_strip],
        validators=[Length(max=200, message=_too_long("Cơ quan chủ quản", 200))],
    )
    place_name = StringField(
        "Địa danh (dòng ngày tháng)",
        filters=[_strip],
        validators=[Length(max=100, message=_too_long("Địa danh", 100))],
    )
    leader_name = StringField(
        "Người ký báo cáo",
        filters=[_strip],
        validators=[Length(max=120, message=_too_long("Người ký", 120))],
    )
    leader_title = StringField(
        "Chức danh người ký",
        filters=[_strip],
        validators=[Length(max=120, message=_too_long("Chức danh người ký", 120))],
    )
    report_number = StringField(
        "Số, ký hiệu báo cáo",
        filters=[_strip],
        validators=[Length(max=40, message=_too_long("Số, ký hiệu báo cáo", 40))],
    )


class UnitImportForm(FlaskForm):
    file = FileField(
        "Tệp CSV danh sách đơn vị",
        validators=[FileRequired("Vui lòng chọn tệp CSV.")],
    )


# --- Users ----------------------------------------------------------------------------

ROLE_CHOICES = as_choices((r, ROLE_LABELS[r]) for r in ROLES)


class _UserFields(FlaskForm):
    full_name = StringField(
        "Họ và tên",
        filters=[_strip],
        validators=[
            DataRequired(REQUIRED.format("họ và tên")),
            Length(max=120, message=_too_long("Họ và tên", 120)),
        ],
    )
    role = SelectField(
        "Vai trò", choices=ROLE_CHOICES, invalid_choice_message="Vui lòng chọn vai trò."
    )
    unit_id = SelectField(
        "Đơn vị",
        coerce=int,
        default=0,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message=INVALID_CHOICE,
        description="Bắt buộc với chuyên viên và lãnh đạo đơn vị; "
        "để trống với quản trị và thẩm định.",
    )

    def set_unit_choices(self, units: list[tuple[int, str]]) -> None:
        self.unit_id.choices = as_choices([(0, "— Không thuộc đơn vị —"), *units])


class UserCreateForm(_UserFields):
    username = StringField(
        "Tên đăng nhập",
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        validators=[
            DataRequired(REQUIRED.format("tên đăng nhập")),
            Length(min=3, max=64, message="Tên đăng nhập phải có từ 3 đến 64 ký tự."),
            Regexp(
                USERNAME_PATTERN,
                message="Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số "
                "và các dấu _ . -",
            ),
        ],
    )
    password = PasswordField(
        "Mật khẩu ban đầu",
        validators=[
            DataRequired(REQUIRED.format("mật khẩu")),
            Length(min=10, max=200, message="Mật khẩu phải có từ 10 đến 200 ký tự."),
        ],
    )


class UserEditForm(_UserFields):
    pass


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "Mật khẩu mới",
        validators=[
            DataRequired(REQUIRED.format("mật khẩu mới")),
            Length(min=10, max=200, message="Mật khẩu phải có từ 10 đến 200 ký tự."),
        ],
    )
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[EqualTo("password", "Mật khẩu nhập lại không khớp.")],
    )


# --- Periods and extensions -----------------------------------------------------------


class PeriodForm(FlaskForm):
    name = StringField(
        "Tên kỳ đánh giá",
        filters=[_strip],
        validators=[
            DataRequired(REQUIRED.format("tên kỳ đánh giá")),
            Length(max=200, message=_too_long("Tên kỳ đánh giá", 200)),
        ],
    )
    year = IntegerField(
        "Năm đánh giá",
        invalid_value_message="Năm đánh giá phải là số có 4 chữ số.",
        validators=[
            InputRequired("Vui lòng nhập năm đánh giá (4 chữ số)."),
            NumberRange(2000, 2100, "Năm đánh giá phải từ 2000 đến 2100."),
        ],
    )
    criteria_set_id = SelectField(
        "Bộ tiêu chí", invalid_choice_message="Vui lòng chọn một bộ tiêu chí đã nhập."
    )
    unit_ids = MultiCheckboxField(
        "Đơn vị tham gia",
        coerce=int,
        validators=[DataRequired("Vui lòng chọn ít nhất một đơn vị tham gia.")],
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message="Có đơn vị không hợp lệ trong danh sách đã chọn.",
    )
    opens_on = VNDateField(
        "Ngày mở", validators=[DataRequired(REQUIRED.format("ngày mở kỳ đánh giá"))]
    )
    self_deadline = VNDateField(
        "Hạn tự đánh giá",
        validators=[Optional()],
        description="Để trống: 23:59:59 ngày 15/12 của năm đánh giá (giờ Việt Nam).",
    )
    appraisal_deadline = VNDateField(
        "Hạn thẩm định",
        validators=[Optional()],
        description="Để trống: 23:59:59 ngày 15/01 năm sau.",
    )


class ExtensionForm(FlaskForm):
    unit_id = SelectField(
        "Đơn vị",
        coerce=int,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message="Vui lòng chọn một đơn vị tham gia kỳ đánh giá.",
    )
    new_deadline = VNDateField(
        "Gia hạn đến hết ngày",
        validators=[DataRequired(REQUIRED.format("ngày gia hạn"))],
        description="Hạn mới là 23:59:59 của ngày này (giờ Việt Nam).",
    )
    reason = TextAreaField(
        "Lý do gia hạn",
        filters=[_strip],
        validators=[
            DataRequired(REQUIRED.format("lý do gia hạn")),
            Length(max=2000, message=_too_long("Lý do", 2000)),
        ],
    )


class CriteriaImportForm(FlaskForm):
    filename = SelectField(
        "Tệp bộ tiêu chí",
        invalid_choice_message="Tệp bộ tiêu chí không có trong danh sách.",
    )


# --- Audit filter (GET, no CSRF: it changes nothing) ----------------------------------


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    unit = SelectField(
        "Đơn vị",
        coerce=int,
        default=0,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message=INVALID_CHOICE,
    )
    period = SelectField(
        "Kỳ đánh giá",
        coerce=int,
        default=0,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message=INVALID_CHOICE,
    )
    action = SelectField("Thao tác", default="", invalid_choice_message=INVALID_CHOICE)
    user = SelectField(
        "Người thực hiện",
        coerce=int,
        default=0,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message=INVALID_CHOICE,
    )
    date_from = VNDateField("Từ ngày", validators=[Optional()])
    date_to = VNDateField("Đến ngày", validators=[Optional()])
