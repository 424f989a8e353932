"""Forms of the plan pages (Vietnamese fields from webapp.fields)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField

from webapp.fields import DateField, TextAreaField
from webapp.lifecycle import PlanTaskStatus


class ImportForm(FlaskForm):
    file = FileField(
        "Tệp kế hoạch (DOCX, XLSX hoặc CSV)",
        validators=[FileRequired("Vui lòng chọn tệp kế hoạch.")],
    )


class ConfirmForm(FlaskForm):
    payload = HiddenField()


class StatusForm(FlaskForm):
    status = SelectField(
        "Trạng thái", choices=[SelectChoice(s.value, s.label) for s in PlanTaskStatus]
    )
    completed_on = DateField("Ngày hoàn thành (để trống: hôm nay)")
    reason = TextAreaField("Lý do không thực hiện")


class DueForm(FlaskForm):
    due_date = DateField("Hạn hoàn thành (để trống: không có hạn)")


class NoteForm(FlaskForm):
    text = TextAreaField("Ghi chú tiến độ")


class OwnersForm(FlaskForm):
    owners = SelectMultipleField("Người phụ trách", coerce=int, choices=[])


class EvidenceForm(FlaskForm):
    evidence_id = SelectField("Tài liệu kiểm chứng", coerce=int, choices=[])
