"""Evidence forms: they check the shape of the citation (choices, lengths, dd/mm/yyyy).

Rules (is the leaf editable, does the code exist, is the file acceptable by content)
are the services' and the evidence store's business.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import TextInput

from webapp.evidence.prefill import DOC_TYPES

DATE_ERROR = "Ngày ban hành không hợp lệ, nhập theo dạng dd/mm/yyyy (ví dụ 05/01/2026)."
DOC_TYPE_CHOICES = [
    SelectChoice("", "— Chọn loại văn bản —"),
    *(SelectChoice(t, t) for t in DOC_TYPES),
]
DOC_TYPE_VALUES = frozenset(("", *DOC_TYPES))
CITATION_FIELDS = ("doc_type", "doc_number", "issued_on", "issuer", "summary")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def parse_vn_date(text: str) -> date | None:
    """ "05/01/2026" → date(2026, 1, 5); None if it is not a real day in that shape."""
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


class VNDateField(Field):
    """A date typed as dd/mm/yyyy; empty gives None."""

    widget = TextInput()

    def __init__(
        self, label: str | None = None, validators: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "render_kw", {"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}
        )
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.strftime("%d/%m/%Y") if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        self.data = parse_vn_date(raw)
        if self.data is None:
            raise ValueError(DATE_ERROR)


class DocTypeField(SelectField):
    """The NĐ 30 type select, with a Vietnamese message for a value outside the list."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in DOC_TYPE_VALUES:
            raise ValidationError(
                "Loại văn bản không hợp lệ, vui lòng chọn trong danh sách."
            )


class CitationForm(FlaskForm):
    """The citation of a document (trích dẫn văn bản); every field may come later."""

    doc_type = DocTypeField("Loại văn bản", choices=DOC_TYPE_CHOICES, default="")
    doc_number = StringField(
        "Số/ký hiệu",
        filters=[_strip],
        validators=[Optional(), Length(max=80, message="Số/ký hiệu tối đa 80 ký tự.")],
        render_kw={"placeholder": "VD: 125/KH-UBND"},
    )
    issued_on = VNDateField("Ngày ban hành")
    issuer = StringField(
        "Cơ quan ban hành",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=200, message="Cơ quan ban hành tối đa 200 ký tự."),
        ],
        render_kw={"placeholder": "VD: UBND phường Trúc Lâm"},
    )
    summary = TextAreaField(
        "Trích yếu",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=1000, message="Trích yếu tối đa 1000 ký tự."),
        ],
        render_kw={"rows": 2},
    )

    def citation(self) -> dict[str, Any]:
        """The submitted citation: strings ("" when empty) and the date (or None)."""
        out: dict[str, Any] = {
            name: getattr(self, name).data or "" for name in CITATION_FIELDS
        }
        out["issued_on"] = self.issued_on.data
        return out

    def first_error(self) -> str:
        for field in self:
            for error in field.errors:
                return f"{field.label.text}: {error}"
        return "Dữ liệu không hợp lệ."


class UploadForm(CitationForm):
    """One or more files plus an optional citation (used when one file is sent)."""

    file = FileField(
        "Tệp tài liệu", validators=[FileRequired("Vui lòng chọn tệp cần tải lên.")]
    )


class ReplaceForm(FlaskForm):
    file = FileField(
        "Tệp mới", validators=[FileRequired("Vui lòng chọn tệp thay thế.")]
    )
