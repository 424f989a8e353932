"""Evidence forms: they check the shape of the citation (choices, lengths, dd/mm/yyyy).

Rules (is the leaf editable, does the code exist, is the file acceptable by content)
are the services' and the evidence store's business.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from webapp.evidence.prefill import DOC_TYPES
from webapp.fields import DateField, TextAreaField, TextField

DOC_TYPE_CHOICES = [
    SelectChoice("", "— Chọn loại văn bản —"),
    *(SelectChoice(t, t) for t in DOC_TYPES),
]
DOC_TYPE_VALUES = frozenset(("", *DOC_TYPES))
CITATION_FIELDS = ("doc_type", "doc_number", "issued_on", "issuer", "summary")


_RAW_FILENAME = re.compile(r'(?:^|;)\s*filename="([^"]*)"', re.IGNORECASE)


def client_filename(storage: FileStorage) -> str:
    """The file name as the browser sent it.

    Browsers send backslashes unescaped in a multipart file name (old ones the whole
    path, "C:\\fakepath\\x.pdf"), but Werkzeug reads the header as an escaped
    quoted-string and drops them ("C:fakepathx.pdf"). The raw header keeps them, so
    `normalize_filename` can keep the base name; a name escaped RFC-style (\\" or
    \\\\, as curl writes) is left to Werkzeug.
    """
    parsed = storage.filename or ""
    match = _RAW_FILENAME.search(storage.headers.get("Content-Disposition", ""))
    if match is None or "\\" not in match.group(1):
        return parsed
    raw = match.group(1)
    return parsed if re.search(r'\\[\\"]', raw) else raw


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
    doc_number = TextField(
        "Số/ký hiệu",
        validators=[Optional(), Length(max=80, message="Số/ký hiệu tối đa 80 ký tự.")],
        render_kw={"placeholder": "VD: 125/KH-UBND"},
    )
    issued_on = DateField("Ngày ban hành")
    issuer = TextField(
        "Cơ quan ban hành",
        validators=[
            Optional(),
            Length(max=200, message="Cơ quan ban hành tối đa 200 ký tự."),
        ],
        render_kw={"placeholder": "VD: UBND phường Trúc Lâm"},
    )
    summary = TextAreaField(
        "Trích yếu",
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
