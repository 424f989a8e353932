"""Admin forms: they check the shape of the input (required, lengths, formats, choices).

Rules that need the database (unique codes and usernames, deadlines against the period)
are checked by the admin service modules and come back as field errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from webapp.fields import (
    INVALID_CHOICE,
    CheckboxList,
    DateField,
    IntegerField,
    TextAreaField,
    TextField,
)
from webapp.models import ROLE_LABELS, ROLES, UNIT_KIND_LABELS, UNIT_KINDS

REQUIRED = "Vui lòng nhập {}."
UNIT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]*$"
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def as_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them (plain tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _too_long(label: str, limit: int) -> str:
    return f"{label} tối đa {limit} ký tự."


# --- Units ----------------------------------------------------------------------------


class UnitForm(FlaskForm):
    code = TextField(
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
    name = TextField(
        "Tên đơn vị",
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
    parent_body = TextField(
        "Cơ quan chủ quản (dòng đầu báo cáo)",
        validators=[Length(max=200, message=_too_long("Cơ quan chủ quản", 200))],
    )
    place_name = TextField(
        "Địa danh (dòng ngày tháng)",
        validators=[Length(max=100, message=_too_long("Địa danh", 100))],
    )
    leader_name = TextField(
        "Người ký báo cáo",
        validators=[Length(max=120, message=_too_long("Người ký", 120))],
    )
    leader_title = TextField(
        "Chức danh người ký",
        validators=[Length(max=120, message=_too_long("Chức danh người ký", 120))],
    )
    report_number = TextField(
        "Số, ký hiệu báo cáo",
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
    full_name = TextField(
        "Họ và tên",
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
    username = TextField(
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
    name = TextField(
        "Tên kỳ đánh giá",
        validators=[
            DataRequired(REQUIRED.format("tên kỳ đánh giá")),
            Length(max=200, message=_too_long("Tên kỳ đánh giá", 200)),
        ],
    )
    year = IntegerField(
        "Năm đánh giá",
        validators=[
            InputRequired("Vui lòng nhập năm đánh giá (4 chữ số)."),
            NumberRange(2000, 2100, "Năm đánh giá phải từ 2000 đến 2100."),
        ],
    )
    criteria_set_id = SelectField(
        "Bộ tiêu chí", invalid_choice_message="Vui lòng chọn một bộ tiêu chí đã nhập."
    )
    unit_ids = CheckboxList(
        "Đơn vị tham gia",
        coerce=int,
        validators=[DataRequired("Vui lòng chọn ít nhất một đơn vị tham gia.")],
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message="Có đơn vị không hợp lệ trong danh sách đã chọn.",
    )
    opens_on = DateField(
        "Ngày mở", validators=[DataRequired(REQUIRED.format("ngày mở kỳ đánh giá"))]
    )
    self_deadline = DateField(
        "Hạn tự đánh giá",
        validators=[Optional()],
        description="Để trống: 23:59:59 ngày 15/12 của năm đánh giá (giờ Việt Nam).",
    )
    appraisal_deadline = DateField(
        "Hạn thẩm định",
        validators=[Optional()],
        description="Để trống: 23:59:59 ngày 15/01 năm sau.",
    )
    # Rules that differ between provinces (issue 18).
    second_criteria_set_id = SelectField(
        "Bộ tiêu chí cho nhóm đơn vị thứ hai",
        validate_choice=False,  # optional; the service checks the set exists
        description="Khi kỳ có cả sở, ban, ngành và UBND xã, phường: mỗi nhóm chấm "
        "theo bộ tiêu chí của mình và xếp hạng trong nhóm.",
    )
    classification_bands = TextAreaField(
        "Mức xếp loại của kỳ (để trống: theo bộ tiêu chí)",
        validators=[Length(max=2000, message=_too_long("Mức xếp loại", 2000))],
        description="Mỗi dòng một mức, từ cao xuống thấp: 'Xuất sắc: 90', 'Tốt: 80', "
        "…, mức cuối phải gồm cả chỉ số dưới 55%, ví dụ 'Yếu: dưới 50'.",
    )
    # Unchecked (and absent) means the survey leaves count, as before.
    exclude_survey = BooleanField(
        "Kỳ này không điều tra xã hội học: bỏ các tiêu chí điều tra khỏi bộ tiêu chí"
    )
    signed_report_required = BooleanField("Yêu cầu báo cáo tự chấm điểm đã ký số")
    request_letter_required = BooleanField(
        "Yêu cầu công văn (tờ trình) đề nghị thẩm định đã ký số"
    )
    report_recipient = TextField(
        "Kính gửi (nơi nhận báo cáo của đơn vị)",
        validators=[Optional(), Length(max=200)],
        description="Để trống: Sở Nội vụ.",
    )
    report_bases = TextAreaField(
        "Căn cứ (mỗi dòng một văn bản)",
        validators=[Optional(), Length(max=4000)],
        description="Số, ngày, cơ quan và trích yếu: kế hoạch CCHC của tỉnh, quyết "
        "định ban hành Bộ tiêu chí, hướng dẫn của Sở. In ở đầu báo cáo của mọi đơn vị.",
    )


class ExtensionForm(FlaskForm):
    unit_id = SelectField(
        "Đơn vị",
        coerce=int,
        invalid_value_message=INVALID_CHOICE,
        invalid_choice_message="Vui lòng chọn một đơn vị tham gia kỳ đánh giá.",
    )
    new_deadline = DateField(
        "Gia hạn đến hết ngày",
        validators=[DataRequired(REQUIRED.format("ngày gia hạn"))],
        description="Hạn mới là 23:59:59 của ngày này (giờ Việt Nam).",
    )
    reason = TextAreaField(
        "Lý do gia hạn",
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


class CriteriaWorkbookForm(FlaskForm):
    """Upload a set in the spreadsheet layout: check only, or check and import."""

    file = FileField(
        "Tệp Excel bộ tiêu chí (.xlsx)",
        validators=[FileRequired("Vui lòng chọn tệp Excel (.xlsx).")],
    )
    action = SelectField(
        "Thao tác",
        choices=as_choices([("check", "Chỉ kiểm tra"), ("import", "Kiểm tra và nhập")]),
        default="check",
    )


def code_map_field(code: str) -> str:
    return "map_" + code.replace(".", "_")


def code_map_form(
    old_leaves: Iterable[Any], new_leaves: Iterable[Any], mapping: dict[str, str]
) -> Any:
    """One select per leaf of the older set: its code in the newer one (or none)."""
    old = list(old_leaves)
    choices = as_choices(
        [
            ("", "— không ghép —"),
            *((n.code, f"{n.code}. {n.title}") for n in new_leaves),
        ]
    )

    class CodeMapForm(FlaskForm):
        def mapping(self) -> dict[str, str]:
            """The chosen old → new codes (unmapped leaves left out)."""
            chosen = {leaf.code: self[code_map_field(leaf.code)].data for leaf in old}
            return {k: v for k, v in chosen.items() if v}

    for leaf in old:
        field = SelectField(
            f"{leaf.code}. {leaf.title}",
            choices=choices,
            invalid_choice_message="Mã mới không có trong bộ tiêu chí.",
        )
        setattr(CodeMapForm, code_map_field(leaf.code), field)
    return CodeMapForm(data={code_map_field(k): v for k, v in mapping.items()})


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
    date_from = DateField("Từ ngày", validators=[Optional()])
    date_to = DateField("Đến ngày", validators=[Optional()])
