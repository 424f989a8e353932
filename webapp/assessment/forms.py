"""Self-assessment forms: one form class per leaf, shaped by the leaf's scoring rule.

Forms check shape only (a number is a number, a date is a real dd/mm/yyyy date, a count
is a non-negative integer) and turn the typed text into the engine's answer JSON
(DESIGN.md §4). Whether the answer is acceptable for the leaf (101 %, numerator above
denominator, "không phát sinh" where the policy refuses it) is the scoring engine's
call, made in the service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Generic, Literal, TypeVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from criteria import (
    BinaryRule,
    ChecklistRule,
    DeductionRule,
    ManualRule,
    Node,
    RatioRule,
    Rule,
    SurveyRule,
    TiersRule,
)
from scoring import format_date, format_points
from webapp.fields import (
    CheckboxList,
    CountField,
    DateField,
    DecimalField,
    TextAreaField,
)
from webapp.formatting import number as format_number

NOTE_MAX = 5000


def vn_number(value: Decimal | str | int | None) -> str:
    """Show a stored number the way a user types it: "1215" → "1.215"."""
    return format_number(value)


class ChoiceRadio(RadioField):
    """A radio group that may stay empty (unanswered); a forged value gets a message."""

    data: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            self.data = None
            return
        if str(self.data) not in {c.value for c in self.choices}:
            raise ValidationError("Lựa chọn không hợp lệ.")


class LeafForm(FlaskForm):
    """Fields every leaf has; leaf_form_class adds the ones its rule needs."""

    leaf: ClassVar[Node]
    kind: ClassVar[FormKind]

    not_applicable = BooleanField("Không phát sinh / không áp dụng")
    note = TextAreaField(
        "Thuyết minh / giải trình",
        validators=[Length(max=NOTE_MAX, message=f"Tối đa {NOTE_MAX} ký tự.")],
    )
    version = HiddenField()
    # The stored figures as the user would write them, shown next to their inputs.
    saved: dict[str, str]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if self.not_applicable.data:
            # "Không phát sinh" replaces the figures: they are not read, so not checked.
            answer_fields = self.answer_field_names()
            for name in answer_fields:
                self[name].errors = []
            return not any(
                f.errors for n, f in self._fields.items() if n not in answer_fields
            )
        if self.kind == "percent":
            ok = self._check_percent_shape() and ok
        return ok

    def _check_percent_shape(self) -> bool:
        value, num, den = self["value"], self["numerator"], self["denominator"]
        if value.errors or num.errors or den.errors:
            return False
        has_fraction = num.parsed is not None or den.parsed is not None
        if value.parsed is not None and has_fraction:
            value.errors.append(
                "Chỉ nhập một cách: tỷ lệ (%) hoặc tử số và mẫu số, không nhập cả hai."
            )
            return False
        if num.parsed is not None and den.parsed is None:
            den.errors.append("Nhập cả mẫu số.")
            return False
        if den.parsed is not None and num.parsed is None:
            num.errors.append("Nhập cả tử số.")
            return False
        return True

    def answer_field_names(self) -> list[str]:
        return [name for name in self._fields if name not in _COMMON]

    def version_number(self) -> int | None:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return None

    def answer(self) -> dict[str, Any] | None:
        """The answer JSON for the engine; None when the leaf is left unanswered."""
        if self.not_applicable.data:
            return {"not_applicable": True}
        if self.kind == "binary":
            choice = self["value"].data
            return None if choice is None else {"value": choice == "yes"}
        if self.kind == "date":
            day = self["value"].parsed
            return None if day is None else {"value": day.isoformat()}
        if self.kind == "percent":
            if self["value"].parsed is not None:
                return {"value": _plain(self["value"].parsed)}
            if self["numerator"].parsed is not None:
                return {
                    "numerator": _plain(self["numerator"].parsed),
                    "denominator": _plain(self["denominator"].parsed),
                }
            return None
        if self.kind == "checklist":
            # Saving a checklist answers it even with nothing ticked: no item holds.
            return {"checked": sorted(int(v) for v in self["checked"].data or [])}
        if self.kind == "deduction":
            counts = [
                self[name].parsed for name in self._fields if name.startswith("count_")
            ]
            if all(c is None for c in counts):
                return None
            return {"counts": [c or 0 for c in counts]}
        if self.kind == "manual":
            level = self["level"].data
            return None if level is None else {"level": int(level)}
        return None

    def field_for_engine(self, engine_field: str) -> str | None:
        """The form field where an engine error about `engine_field` belongs."""
        if engine_field in self._fields:
            return engine_field
        if engine_field == "counts" and "count_0" in self._fields:
            return "count_0"
        return None


_COMMON = {"not_applicable", "note", "version", "csrf_token"}


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


FormKind = Literal["binary", "date", "percent", "checklist", "deduction", "manual"]
R = TypeVar("R", bound=Rule)


def _percent_label(rule: TiersRule | RatioRule) -> str:
    """Say when a measure may go above 100 % (revenue against its estimate)."""
    top = rule.measure.max_value
    if top is None:
        return "Tỷ lệ (%, có thể trên 100%)"
    if top != 100:
        return f"Tỷ lệ (%, tối đa {format_points(top)}%)"
    return "Tỷ lệ (%)"


@dataclass(frozen=True)
class RuleForm(Generic[R]):
    """What a rule class needs from a form: the input shape (which the templates and
    the appraiser's correction follow) and the unit form's answer fields."""

    kind: Callable[[R], FormKind]
    fields: Callable[[R], dict[str, Any]]


def _binary_fields(rule: BinaryRule) -> dict[str, Any]:
    return {
        "value": ChoiceRadio(
            "Kết quả",
            choices=[
                SelectChoice("yes", f"Đạt ({format_points(rule.points_true)} điểm)"),
                SelectChoice(
                    "no", f"Không đạt ({format_points(rule.points_false)} điểm)"
                ),
            ],
        )
    }


def _measure_kind(rule: TiersRule | RatioRule) -> FormKind:
    return "date" if rule.measure.unit == "date" else "percent"


def _measure_fields(rule: TiersRule | RatioRule) -> dict[str, Any]:
    if rule.measure.unit == "date":
        return {"value": DateField("Ngày (dd/mm/yyyy)")}
    return {
        "value": DecimalField(
            _percent_label(rule),
            percent=True,
            render_kw={"inputmode": "decimal", "placeholder": "ví dụ 92,5"},
        ),
        "numerator": DecimalField("Tử số"),
        "denominator": DecimalField("Mẫu số"),
    }


def _checklist_fields(rule: ChecklistRule) -> dict[str, Any]:
    return {
        "checked": CheckboxList(
            "Nội dung đạt",
            choices=[
                SelectChoice(str(i), f"{item.text} ({format_points(item.points)} điểm)")
                for i, item in enumerate(rule.items)
            ],
        )
    }


def _deduction_fields(rule: DeductionRule) -> dict[str, Any]:
    return {
        f"count_{i}": CountField(
            f"Số lần: {event.event} (trừ {format_points(event.minus)} điểm mỗi lần)"
        )
        for i, event in enumerate(rule.events)
    }


def _manual_fields(rule: ManualRule) -> dict[str, Any]:
    return {
        "level": ChoiceRadio(
            "Mức đánh giá",
            choices=[
                SelectChoice(
                    str(i), f"{level.text} ({format_points(level.points)} điểm)"
                )
                for i, level in enumerate(rule.levels)
            ],
        )
    }


# The one table of forms by rule class. Survey rules have none: the coordinator enters
# survey results, units never answer them.
RULE_FORMS: dict[type[Rule], RuleForm[Any]] = {
    BinaryRule: RuleForm(lambda rule: "binary", _binary_fields),
    TiersRule: RuleForm(_measure_kind, _measure_fields),
    RatioRule: RuleForm(_measure_kind, _measure_fields),
    ChecklistRule: RuleForm(lambda rule: "checklist", _checklist_fields),
    DeductionRule: RuleForm(lambda rule: "deduction", _deduction_fields),
    ManualRule: RuleForm(lambda rule: "manual", _manual_fields),
}


@dataclass(frozen=True)
class RuleHelp:
    """Hướng dẫn trả lời: what a rule class asks of the unit, in plain Vietnamese."""

    title: str
    lines: tuple[str, ...]


_EVIDENCE_LINE = (
    "Đính kèm tài liệu kiểm chứng (văn bản, báo cáo, quyết định…) cho phần được "
    "tính điểm; nếu chưa có, ghi giải trình ở ô “Thuyết minh”."
)

# One entry per rule class, beside RULE_FORMS: a rule class added without its help
# fails tests/integration/test_help.py.
RULE_HELP: dict[type[Rule], RuleHelp] = {
    BinaryRule: RuleHelp(
        "Tiêu chí đạt / không đạt",
        (
            "Chọn “Đạt” khi đơn vị đã thực hiện đầy đủ yêu cầu của tiêu chí trong năm "
            "đánh giá; chọn “Không đạt” nếu chưa thực hiện hoặc thực hiện chưa đủ.",
            "Điểm là số điểm ghi cạnh lựa chọn.",
            _EVIDENCE_LINE,
        ),
    ),
    TiersRule: RuleHelp(
        "Tiêu chí chấm theo mức",
        (
            "Nhập kết quả đạt được: tỷ lệ phần trăm (ví dụ 92,5), hoặc tử số và mẫu số "
            "để hệ thống tự tính tỷ lệ; với tiêu chí theo ngày, nhập ngày dd/mm/yyyy.",
            "Điểm là điểm của mức đầu tiên mà kết quả đạt (xem “Cách tính điểm”).",
            _EVIDENCE_LINE,
        ),
    ),
    RatioRule: RuleHelp(
        "Tiêu chí chấm theo tỷ lệ",
        (
            "Nhập tỷ lệ phần trăm (ví dụ 87,5), hoặc tử số và mẫu số để hệ thống tự "
            "tính.",
            "Điểm tỷ lệ thuận với kết quả so với chỉ tiêu, không quá điểm tối đa; "
            "dưới ngưỡng tối thiểu được 0 điểm.",
            _EVIDENCE_LINE,
        ),
    ),
    ChecklistRule: RuleHelp(
        "Tiêu chí gồm nhiều nội dung",
        (
            "Đánh dấu từng nội dung đơn vị đã thực hiện; để trống nội dung chưa làm.",
            "Điểm là tổng điểm các nội dung được đánh dấu.",
            _EVIDENCE_LINE,
        ),
    ),
    DeductionRule: RuleHelp(
        "Tiêu chí trừ điểm theo số lần",
        (
            "Nhập số lần xảy ra từng sự việc trong năm đánh giá; nhập 0 nếu không có.",
            "Điểm bắt đầu từ điểm tối đa và bị trừ theo từng lần, không thấp hơn mức "
            "sàn.",
            "Ghi rõ nguồn số liệu ở ô “Thuyết minh”.",
        ),
    ),
    ManualRule: RuleHelp(
        "Tiêu chí chọn mức đánh giá",
        (
            "Chọn một mức mô tả đúng nhất tình hình của đơn vị.",
            "Thành viên thẩm định xem xét tài liệu kiểm chứng và có thể điều chỉnh "
            "mức đã chọn.",
            _EVIDENCE_LINE,
        ),
    ),
    SurveyRule: RuleHelp(
        "Tiêu chí đánh giá qua điều tra xã hội học",
        (
            "Đơn vị không tự chấm tiêu chí này: Sở Nội vụ nhập kết quả điều tra (%).",
            "Điểm = điểm tối đa × kết quả điều tra ÷ 100.",
        ),
    ),
}

_NOT_APPLICABLE_LINE = {
    "full_points": "Nếu trong năm không phát sinh việc phải làm, đánh dấu “Không phát "
    "sinh”: tiêu chí được tính điểm tối đa.",
    "exclude_from_max": "Nếu trong năm không phát sinh việc phải làm, đánh dấu "
    "“Không phát sinh”: tiêu chí không tính vào điểm tối đa của đơn vị.",
}


def rule_help(leaf: Node) -> RuleHelp | None:
    """The answering help of the leaf's rule class, with its "không phát sinh" line."""
    rule = leaf.rule
    found = None if rule is None else RULE_HELP.get(type(rule))
    if found is None:
        return None
    extra = _NOT_APPLICABLE_LINE.get(leaf.not_applicable or "")
    if extra and not isinstance(rule, SurveyRule):
        return RuleHelp(found.title, (*found.lines, extra))
    return found


def rule_kind(leaf: Node) -> FormKind | None:
    """The form shape a leaf needs; None for survey leaves (the unit never answers)."""
    rule = leaf.rule
    entry = None if rule is None else RULE_FORMS.get(type(rule))
    return None if entry is None else entry.kind(rule)


@lru_cache(maxsize=512)
def leaf_form_class(leaf: Node) -> type[LeafForm]:
    """Build (once per leaf) the form class made for the leaf's rule."""
    rule = leaf.rule
    entry = None if rule is None else RULE_FORMS.get(type(rule))
    if entry is None:
        raise ValueError(f"{leaf.code}: tiêu chí không do đơn vị tự chấm")
    attrs: dict[str, Any] = {"leaf": leaf, "kind": entry.kind(rule)}
    attrs.update(entry.fields(rule))
    name = "LeafForm_" + leaf.code.replace(".", "_")
    return type(name, (LeafForm,), attrs)


def form_prefix(code: str) -> str:
    """Field names are "<code>-<field>": unique input ids across the page."""
    return f"{code}-"


def initial_data(
    leaf: Node, answer: dict[str, Any] | None, note: str, version: int
) -> dict[str, Any]:
    """Form values showing a stored answer the way the user typed it."""
    data: dict[str, Any] = {"note": note, "version": str(version)}
    if not answer:
        return data
    if answer.get("not_applicable"):
        data["not_applicable"] = True
        return data
    kind = rule_kind(leaf)
    if kind == "binary":
        data["value"] = "yes" if answer.get("value") else "no"
    elif kind == "date":
        with contextlib.suppress(KeyError, ValueError):
            data["value"] = format_date(date.fromisoformat(answer["value"]))
    elif kind == "percent":
        for key in ("value", "numerator", "denominator"):
            if key in answer:
                data[key] = vn_number(answer[key])
    elif kind == "checklist":
        data["checked"] = [str(i) for i in answer.get("checked", [])]
    elif kind == "deduction":
        for i, count in enumerate(answer.get("counts", [])):
            data[f"count_{i}"] = format_number(count)
    elif kind == "manual" and "level" in answer:
        data["level"] = str(answer["level"])
    return data


def saved_texts(leaf: Node, answer: dict[str, Any] | None) -> dict[str, str]:
    """The stored answer's figures and date, written the Vietnamese way, by field."""
    if rule_kind(leaf) not in ("date", "percent", "deduction"):
        return {}
    data = initial_data(leaf, answer, "", 0)
    return {k: v for k, v in data.items() if k not in _COMMON}


def build_leaf_form(
    leaf: Node,
    *,
    answer: dict[str, Any] | None = None,
    note: str = "",
    version: int = 0,
    formdata: Any = None,
) -> LeafForm:
    """A leaf's form: bound to posted data, or showing the stored answer."""
    cls = leaf_form_class(leaf)
    if formdata is not None:
        form = cls(formdata=formdata, prefix=form_prefix(leaf.code))
    else:
        form = cls(
            formdata=None,
            prefix=form_prefix(leaf.code),
            data=initial_data(leaf, answer, note, version),
        )
    form.saved = saved_texts(leaf, answer)
    return form


class ReopenForm(FlaskForm):
    """Coordinator reopens a submitted assessment; the reason goes to the audit log."""

    reason = TextAreaField(
        "Lý do mở lại",
        validators=[
            DataRequired(message="Nhập lý do mở lại hồ sơ."),
            Length(max=2000, message="Tối đa 2000 ký tự."),
        ],
    )


class SubmitForm(FlaskForm):
    """The unit head's confirmation (CSRF token only)."""
