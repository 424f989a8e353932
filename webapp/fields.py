"""Vietnamese form fields and parsers: the one place that reads what users type.

Numbers are read as Vietnamese users write them: "." groups thousands and "," is the
decimal mark ("1.215" = 1215, "92,5" = 92.5, "1.234,5" = 1234.5). Anything else that
could be misread ("1.5", "1e2", "1,234,5") is refused with a message showing how to
write it, never guessed. Dates are dd/mm/yyyy between 1900 and 2100. Text may not carry
NUL or other control characters (PostgreSQL refuses NUL; the others are never typed).
Every parser raises :class:`InvalidInput`, a :class:`~webapp.errors.ParIndexError` and
a ``ValueError``, so a WTForms field shows it next to the input and a service or an
import can let it reach the one error handler.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms import TextAreaField as _TextAreaField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from scoring import format_date
from webapp.errors import ParIndexError
from webapp.formatting import number as format_number

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
MAX_NUMBER_CHARS = 30
MAX_INTEGER_DIGITS = 12  # up to 999.999.999.999: more than any count or budget line
MAX_FRACTION_DIGITS = 6
MAX_COUNT = 1_000_000
MAX_PAGE = 100_000
INVALID_CHOICE = "Lựa chọn không hợp lệ, vui lòng chọn trong danh sách."
EXAMPLE = "ví dụ 1.215 (một nghìn hai trăm mười lăm), 92,5 hoặc 1.234,5"

_NUMBER_RE = re.compile(
    r"(?P<sign>[+-])?(?P<int>\d+|\d{1,3}(?:\.\d{3})+)(?:,(?P<frac>\d+))?(?P<pct>%)?"
)
_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ALLOWED_CONTROL = frozenset("\t\n\r")


class InvalidInput(ParIndexError, ValueError):
    """What the user typed cannot be read; the message says how to write it."""

    status = 400


# --- numbers -------------------------------------------------------------------------


def _shown(text: str) -> str:
    # Echo what was typed, but never a 4,300-digit wall of text.
    return text if len(text) <= 24 else text[:20] + "…"


def parse_number(
    text: str,
    *,
    integer: bool = False,
    negative: bool = False,
    percent: bool = False,
    max_value: Decimal | int | None = None,
    label: str = "Giá trị",
    field: str | None = None,
) -> Decimal:
    """Read a Vietnamese-written number; :class:`InvalidInput` when it cannot be."""
    raw = text.strip()
    shown = _shown(raw)

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, field)

    if len(raw) > MAX_NUMBER_CHARS:
        raise refuse(
            f"{label} quá dài: tối đa {MAX_INTEGER_DIGITS} chữ số phần nguyên"
            + ("." if integer else f" và {MAX_FRACTION_DIGITS} chữ số thập phân.")
        )
    match = _NUMBER_RE.fullmatch(raw)
    if match is None:
        raise refuse(_why_not_a_number(raw, shown, integer=integer, label=label))
    if match["pct"] and not percent:
        raise refuse(f"“{shown}”: không nhập dấu % ở ô này, chỉ nhập số.")
    digits = match["int"].replace(".", "")
    frac = match["frac"] or ""
    if integer and frac:
        raise refuse(
            f"“{shown}” không phải là số nguyên. Nhập số nguyên, ví dụ 2 hoặc 1.215."
        )
    if len(digits.lstrip("0")) > MAX_INTEGER_DIGITS or len(frac) > MAX_FRACTION_DIGITS:
        raise refuse(
            f"{label} quá lớn hoặc quá nhiều chữ số: tối đa {MAX_INTEGER_DIGITS} "
            f"chữ số phần nguyên và {MAX_FRACTION_DIGITS} chữ số thập phân."
        )
    value = Decimal(f"{digits}.{frac}" if frac else digits)
    if match["sign"] == "-":
        value = -value
    if value < 0 and not negative:
        raise refuse(f"{label} không được là số âm.")
    if max_value is not None and value > max_value:
        raise refuse(
            f"{label} {format_number(value)} vượt quá mức tối đa "
            f"{format_number(max_value)}."
        )
    return value


def _why_not_a_number(raw: str, shown: str, *, integer: bool, label: str) -> str:
    if not raw:
        return "Chưa nhập số."
    if re.fullmatch(r"[+-]?[\d.,]*\d[eE][+-]?\d+", raw):
        return f"“{shown}”: không viết số dạng lũy thừa. Viết đầy đủ, ví dụ 100."
    if re.fullmatch(r"[+-]?\d+\.\d+", raw):
        # "1.5": a dot that cannot be a thousands group. Say both readings.
        whole, part = raw.lstrip("+-").split(".")
        if integer:
            return (
                f"“{shown}” không rõ nghĩa: dấu chấm chỉ dùng để tách hàng nghìn "
                f"(ví dụ 1.500). Nhập số nguyên, ví dụ {whole}."
            )
        return (
            f"“{shown}” không rõ nghĩa: dấu chấm chỉ dùng để tách hàng nghìn "
            f"(ví dụ 1.215), phần thập phân viết sau dấu phẩy: {whole},{part}."
        )
    if integer:
        return f"“{shown}” không phải là số nguyên. Nhập số nguyên, ví dụ 2 hoặc 1.215."
    return (
        f"{label} “{shown}” không phải là số viết đúng cách: dấu chấm tách hàng nghìn, "
        f"dấu phẩy trước phần thập phân ({EXAMPLE})."
    )


def parse_count(text: str, *, label: str = "Số lần", field: str | None = None) -> int:
    """A whole number of times, 0..MAX_COUNT ("1.215" = 1215; "1.5" refused)."""
    return int(
        parse_number(text, integer=True, max_value=MAX_COUNT, label=label, field=field)
    )


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """A list's page number from the query string: 1 when absent, bounded."""
    text = args.get(name, "")
    if not text:
        return 1
    page = parse_number(text, integer=True, max_value=MAX_PAGE, label="Số trang")
    return max(1, int(page))


# --- dates ---------------------------------------------------------------------------


def parse_date(text: str, *, label: str = "Ngày", field: str | None = None) -> date:
    """dd/mm/yyyy (d/m/yyyy too) between 1900 and 2100; 31/02/2026 is refused."""
    raw = text.strip()
    match = _DATE_RE.fullmatch(raw)
    if match is None:
        raise InvalidInput(
            f"{label} không hợp lệ, nhập theo dạng dd/mm/yyyy (ví dụ 15/01/2026).",
            field,
        )
    day, month, year = (int(g) for g in match.groups())
    try:
        value = date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"Ngày {raw} không có thật. Nhập ngày theo dạng dd/mm/yyyy, "
            "ví dụ 15/01/2026.",
            field,
        ) from None
    if not DATE_MIN <= value <= DATE_MAX:
        raise InvalidInput(
            f"{label} {raw} nằm ngoài khoảng cho phép "
            f"({format_date(DATE_MIN)} đến {format_date(DATE_MAX)}).",
            field,
        )
    return value


# --- text ----------------------------------------------------------------------------


def clean_text(text: str, *, label: str = "Nội dung", field: str | None = None) -> str:
    """The text without surrounding spaces; refused if it holds control characters."""
    for ch in text:
        if ch not in _ALLOWED_CONTROL and unicodedata.category(ch) == "Cc":
            raise InvalidInput(
                f"{label} chứa ký tự điều khiển không hợp lệ (mã U+{ord(ch):04X}); "
                "vui lòng gõ lại hoặc dán dưới dạng văn bản thuần.",
                field,
            )
    return text.strip()


# An address a mail server would take: one @, a dotted domain, no spaces. Stricter
# checks (does the domain exist?) would refuse working addresses on closed networks.
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE_RE = re.compile(r"\+?[\d .()-]+")


def parse_email(text: str, *, field: str | None = "email") -> str | None:
    """An e-mail address, lower-cased domain; None when left blank."""
    text = clean_text(text, label="Thư điện tử", field=field)
    if not text:
        return None
    if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
        raise InvalidInput(
            f"Địa chỉ thư điện tử “{_shown(text)}” không hợp lệ "
            "(ví dụ: nguyenvana@thanhhoa.gov.vn).",
            field,
        )
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def parse_phone(text: str, *, field: str | None = "phone") -> str | None:
    """A phone number of 9 to 15 digits (spaces, dots, dashes allowed); None: blank."""
    text = clean_text(text, label="Số điện thoại", field=field)
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE_RE.fullmatch(text) or not 9 <= digits <= 15 or len(text) > 32:
        raise InvalidInput(
            f"Số điện thoại “{_shown(text)}” không hợp lệ: "
            "gồm 9 đến 15 chữ số (ví dụ: 0237 3852 123 hoặc +84 912 345 678).",
            field,
        )
    return text


def text_arg(args: Mapping[str, str], name: str, *, label: str = "Từ khóa") -> str:
    """A free-text query-string value (a search), cleaned like a form field."""
    return clean_text(args.get(name, ""), label=label, field=name)


# --- WTForms fields ------------------------------------------------------------------


class _Parsed(StringField):
    """A text input whose typed text is kept for re-display and parsed once.

    ``parsed`` holds the value (None when left blank); a parse error is a field error.
    """

    parsed: Any = None
    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            # Not in the post at all: the value the form was built with stands.
            self.parsed = None if isinstance(self.data, str) else self.data
            return
        self.data = valuelist[0]
        self.parsed = None
        text = str(self.data).strip()
        if text:
            self.parsed = self.parse(text)

    def parse(self, text: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _value(self) -> str:
        # What was typed, else the value written the Vietnamese way.
        if self.raw_data:
            return str(self.raw_data[0])
        if isinstance(self.data, date):
            return format_date(self.data)
        if isinstance(self.data, Decimal | int):
            return format_number(self.data)
        return str(self.data or "")

    def pre_validate(self, form: Any) -> None:
        # The parse error explains itself; a DataRequired must not replace it.
        if self.process_errors:
            raise StopValidation()


class DecimalField(_Parsed):
    """A Vietnamese decimal ≥ 0 (with ``negative=True`` any sign)."""

    parsed: Decimal | None = None

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        negative: bool = False,
        percent: bool = False,
        max_value: Decimal | int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, validators, **kwargs)
        self.negative = negative
        self.percent = percent
        self.max_value = max_value

    def parse(self, text: str) -> Decimal:
        return parse_number(
            text,
            negative=self.negative,
            percent=self.percent,
            max_value=self.max_value,
            label=_label(self),
        )


class CountField(_Parsed):
    """How many times something happened: a whole number ≥ 0 (blank: none)."""

    parsed: int | None = None

    def __init__(
        self, label: str | None = None, validators: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)

    def parse(self, text: str) -> int:
        return parse_count(text, label=_label(self, "Số lần"))


class IntegerField(CountField):
    """A whole number such as a year; ``data`` is the int (or None)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if valuelist:
            self.data = self.parsed

    def _value(self) -> str:
        # A year reads 2026, not 2.026.
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class DateField(_Parsed):
    """A calendar day typed as dd/mm/yyyy; ``data`` is the date (or None)."""

    parsed: date | None = None

    def __init__(
        self, label: str | None = None, validators: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "render_kw", {"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}
        )
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if valuelist:
            self.data = self.parsed

    def parse(self, text: str) -> date:
        return parse_date(text, label=_label(self, "Ngày"))


class TextField(StringField):
    """One line of text, stripped; control characters are a field error."""

    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = clean_text(self.data, label=_label(self))

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class TextAreaField(_TextAreaField):
    """Several lines (line breaks kept), stripped; control characters refused."""

    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = clean_text(self.data, label=_label(self))

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class CheckboxList(SelectMultipleField):
    """Checkboxes for a multiple choice; a forged value gets a message, not a crash."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(
        self, label: str | None = None, validators: Any = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("invalid_value_message", INVALID_CHOICE)
        kwargs.setdefault("invalid_choice_message", INVALID_CHOICE)
        super().__init__(label, validators, **kwargs)


def _label(field: Any, default: str = "Giá trị") -> str:
    text = str(field.label.text or "") if field.label else ""
    return text.split(" (", 1)[0] or default


class EmptyForm(FlaskForm):
    """Only the CSRF token: one-click POST buttons."""
