"""Appraisal forms: they check the shape of the input only.

Whether a score is reachable by the rule, whether a comment is needed, who may appraise
which leaf: those are rules, checked by the services and returned as field errors.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    HiddenField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length

from criteria import Node
from webapp.appraisal.scores import AppraisalInput
from webapp.fields import CheckboxList, TextAreaField, TextField
from webapp.models import Period, User


class LeafAppraisalForm(FlaskForm):
    """One leaf's appraisal; each leaf card on the page posts its own copy."""

    # Figures stay text here: the scores module reads them with webapp.fields once it
    # knows the leaf's rule (length and magnitude are bounded there).
    points = TextField("Điểm thẩm định")
    correct = BooleanField("Sửa số liệu của đơn vị (tính lại điểm theo cách tính)")
    value = TextField("Số liệu đã sửa")
    numerator = TextField("Tử số")
    denominator = TextField("Mẫu số")
    checked = SelectMultipleField("Nội dung đạt", validate_choice=False)
    counts = FieldList(TextField(), min_entries=0, max_entries=50)
    comment = TextAreaField(
        "Nhận xét thẩm định",
        validators=[Length(max=4000, message="Nhận xét tối đa 4000 ký tự.")],
    )
    version = HiddenField()
    save_next = SubmitField("Lưu và sang tiêu chí tiếp")
    save = SubmitField("Lưu")

    def to_input(self) -> AppraisalInput:
        return AppraisalInput(
            points=self.points.data or "",
            correct=bool(self.correct.data),
            value=self.value.data or "",
            numerator=self.numerator.data or "",
            denominator=self.denominator.data or "",
            checked=[str(c) for c in self.checked.data or []],
            counts=[str(c or "") for c in self.counts.data or []],
            comment=self.comment.data or "",
            version=self.version.data or "",
        )


class ReturnForm(FlaskForm):
    """Yêu cầu giải trình, bổ sung: the leaves are checkboxes on the leaf cards."""

    codes = SelectMultipleField(
        "Tiêu chí cần giải trình, bổ sung", validate_choice=False
    )
    message = TextAreaField(
        "Nội dung yêu cầu",
        validators=[
            DataRequired("Vui lòng ghi nội dung yêu cầu giải trình, bổ sung."),
            Length(max=4000, message="Nội dung tối đa 4000 ký tự."),
        ],
    )
    due_date = TextField(
        "Hạn giải trình, bổ sung (dd/mm/yyyy)",
        validators=[
            DataRequired("Vui lòng nhập hạn giải trình, bổ sung."),
        ],
        render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"},
    )


class AssignmentForm(FlaskForm):
    unit_id = SelectField("Đơn vị", validate_choice=False)
    user_id = SelectField("Thành viên thẩm định", validate_choice=False)
    area_codes = CheckboxList(
        "Chỉ thẩm định các lĩnh vực (để trống: tất cả lĩnh vực)",
        validate_choice=False,
    )


def assignment_form(
    period: Period, areas: Sequence[Node], appraisers: Sequence[User]
) -> AssignmentForm:
    """The assignment form with the period's units, the appraisers and the areas."""
    form = AssignmentForm()
    form.unit_id.choices = [(str(u.id), f"{u.name} ({u.code})") for u in period.units]
    form.user_id.choices = [(str(u.id), u.full_name) for u in appraisers]
    form.area_codes.choices = [(a.code, f"{a.code}. {a.title}") for a in areas]
    return form


class SurveyImportForm(FlaskForm):
    file = FileField(
        "Tệp kết quả (CSV hoặc Excel .xlsx)",
        validators=[FileRequired("Vui lòng chọn tệp CSV hoặc Excel (.xlsx).")],
    )
