"""A leaf's answer form as the criteria page shows it, without a WTForms form per leaf.

WTForms renders each input by building its attributes anew (about 70 calls per leaf)
and leaves reference cycles behind (form ↔ fields ↔ meta). The inputs of a leaf never
change but for their values, so each leaf's markup is rendered by WTForms once per
process (`leaf_inputs`, cached like the parsed criteria set it comes from) and a render
only fills in values, ticks and errors. Posts still go through the same form classes
(webapp/assessment/forms.py): CSRF and validation are unchanged.

The objects here answer what templates/assessment/_leaf.html asks of a form
(``form.kind``, ``form.value.label``, ``form.value()``, ``form.hidden_tag()``…), so the
template reads the same for a stored answer and for a refused post.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    TextAreaField,
)

from criteria import Node
from webapp.assessment.forms import (
    FormKind,
    LeafForm,
    form_prefix,
    initial_data,
    leaf_form_class,
    saved_texts,
)
from webapp.assessment.overview import AssessmentView

# Attributes the page gives each input kind (what the template passed to WTForms).
_NOTE_ATTRS = {
    "rows": 2,
    "placeholder": (
        "Thuyết minh cách tính, hoặc giải trình khi chưa có tài liệu kiểm chứng"
    ),
}
_CHOICES = (RadioField, SelectMultipleField)


@dataclass(frozen=True)
class Label:
    """A field's label: ``{{ f.label }}`` gives the tag, ``f.label.text`` the words."""

    text: str
    html: Markup

    def __html__(self) -> str:
        return str(self.html)


@dataclass(frozen=True)
class InputSpec:
    """One input's markup without its value: rendered once per leaf and process."""

    name: str  # the form's field name ("value", "count_0", "note")
    shape: str  # text, textarea, choices, check, hidden
    label: Label
    head: str  # text/hidden: the tag up to its value; textarea: up to its content
    list_head: str = ""  # choices: the <ul …> tag
    options: tuple[tuple[str, str, str], ...] = ()  # (value, input tag, label tag)


@dataclass
class InputView:
    """One input of one render: the spec plus the value shown and its errors."""

    spec: InputSpec
    value: str = ""
    ticked: frozenset[str] = frozenset()
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> Label:
        return self.spec.label

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self) -> Markup:
        spec = self.spec
        if spec.shape in ("text", "hidden"):
            return Markup(f'{spec.head} value="{escape(self.value)}">')
        if spec.shape == "textarea":
            return Markup(f"{spec.head}{escape(self.value)}</textarea>")
        if spec.shape == "check":
            return Markup(_tick(spec.head, "y" in self.ticked))
        items = "".join(
            f"<li>{_tick(tag, value in self.ticked)} {label}</li>"
            for value, tag, label in spec.options
        )
        return Markup(f"{spec.list_head}{items}</ul>")


def _tick(tag: str, ticked: bool) -> str:
    # WTForms writes attributes in alphabetical order: "checked" comes first.
    return "<input checked " + tag[len("<input ") :] if ticked else tag


@dataclass(frozen=True)
class LeafInputs:
    """Every input of a leaf's form, by field name, rendered without values."""

    kind: FormKind
    specs: dict[str, InputSpec]
    answer_names: tuple[str, ...]
    csrf_name: str  # FlaskForm's prefixed token field: "1.1.1-csrf_token"


@lru_cache(maxsize=512)
def leaf_inputs(leaf: Node) -> LeafInputs:
    """Render the leaf's form once with WTForms and keep its markup, values left out.

    Leaves are immutable (webapp/criteria_sets.py), so the markup is too.
    """
    cls = leaf_form_class(leaf)
    form = cls(formdata=None, prefix=form_prefix(leaf.code), meta={"csrf": False})
    specs: dict[str, InputSpec] = {}
    for name, f in form._fields.items():
        label = Label(str(f.label.text), Markup(str(f.label())))
        if isinstance(f, _CHOICES):
            rendered = str(f(class_="choice-list"))
            options = tuple((str(opt.data), str(opt()), str(opt.label())) for opt in f)
            list_head = rendered[: rendered.index(">") + 1]
            specs[name] = InputSpec(name, "choices", label, "", list_head, options)
        elif isinstance(f, BooleanField):
            specs[name] = InputSpec(name, "check", label, str(f(class_="na-toggle")))
        elif isinstance(f, HiddenField):
            specs[name] = InputSpec(name, "hidden", label, _without_value(str(f())))
        elif isinstance(f, TextAreaField):
            rendered = str(f(**_NOTE_ATTRS))
            head = rendered[: rendered.index(">") + 1] + "\r\n"
            specs[name] = InputSpec(name, "textarea", label, head)
        else:
            specs[name] = InputSpec(
                name, "text", label, _without_value(str(f(autocomplete="off")))
            )
    return LeafInputs(
        cls.kind,
        specs,
        tuple(form.answer_field_names()),
        form_prefix(leaf.code) + "csrf_token",
    )


def _without_value(tag: str) -> str:
    end = ' value="">'
    if not tag.endswith(end):  # a field that renders a default value
        raise ValueError(f"unexpected input markup: {tag}")
    return tag[: -len(end)]


class LeafFormView:
    """What the page shows of one leaf's form: a stored answer or a refused post."""

    def __init__(
        self,
        inputs: LeafInputs,
        fields: dict[str, InputView],
        *,
        saved: dict[str, str],
        form_errors: list[str],
        posted: bool = False,
    ) -> None:
        self.kind = inputs.kind
        # A refused post shows what was typed, not the row (see leaf_cache.py).
        self.posted = posted
        self._inputs = inputs
        self._fields = fields
        self.saved = saved
        self.form_errors = form_errors

    def __getitem__(self, name: str) -> InputView:
        return self._fields[name]

    def __getattr__(self, name: str) -> InputView:
        fields: dict[str, InputView] = self.__dict__["_fields"]
        try:
            return fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[InputView]:
        return iter(self._fields.values())

    @property
    def errors(self) -> dict[str, list[str]]:
        return {n: f.errors for n, f in self._fields.items() if f.errors}

    def answer_field_names(self) -> tuple[str, ...]:
        return self._inputs.answer_names

    def hidden_tag(self) -> Markup:
        """The version and the CSRF token, as FlaskForm.hidden_tag writes them."""
        csrf = self._inputs.csrf_name
        token = escape(generate_csrf())
        return Markup(
            f"{self._fields['version']()}\n"
            f'<input id="{csrf}" name="{csrf}" type="hidden" value="{token}">'
        )


def stored_form(
    leaf: Node, answer: dict[str, Any] | None, note: str, version: int
) -> LeafFormView:
    """The form showing the stored answer the way the user typed it."""
    inputs = leaf_inputs(leaf)
    data = initial_data(leaf, answer, note, version)
    fields: dict[str, InputView] = {}
    for name, spec in inputs.specs.items():
        value = data.get(name)
        if spec.shape in ("choices", "check"):
            if spec.shape == "check":
                ticked = frozenset({"y"} if value else ())
            elif isinstance(value, list):
                ticked = frozenset(value)
            else:
                ticked = frozenset({value} if value is not None else ())
            fields[name] = InputView(spec, ticked=ticked)
        else:
            fields[name] = InputView(spec, value="" if value is None else str(value))
    return LeafFormView(inputs, fields, saved=saved_texts(leaf, answer), form_errors=[])


def posted_form(form: LeafForm, saved: dict[str, str]) -> LeafFormView:
    """A refused post: what the user typed, with the messages, on the same markup."""
    inputs = leaf_inputs(form.leaf)
    fields: dict[str, InputView] = {}
    for name, spec in inputs.specs.items():
        f = form[name]
        errors = list(f.errors or [])
        if spec.shape == "check":
            fields[name] = InputView(
                spec, ticked=frozenset({"y"} if f.data else ()), errors=errors
            )
        elif spec.shape == "choices":
            data = f.data
            chosen = data if isinstance(data, list) else [data]
            ticked = frozenset(str(v) for v in chosen if v not in (None, ""))
            fields[name] = InputView(spec, ticked=ticked, errors=errors)
        else:
            fields[name] = InputView(spec, value=str(f._value()), errors=errors)
    return LeafFormView(
        inputs, fields, saved=saved, form_errors=list(form.form_errors), posted=True
    )


def leaf_forms(
    view: AssessmentView,
    bound: dict[str, LeafForm],
    *,
    codes: Collection[str] | None = None,
) -> dict[str, LeafFormView]:
    """A form per editable leaf (of `codes`, default all): the posted one where given,
    else the stored answer."""
    forms: dict[str, LeafFormView] = {}
    for code, leaf_view in view.leaves.items():
        if not leaf_view.editable or (codes is not None and code not in codes):
            continue
        row = leaf_view.row
        answer = row.answer if row else None
        if code in bound:
            forms[code] = posted_form(bound[code], saved_texts(leaf_view.leaf, answer))
            continue
        forms[code] = stored_form(
            leaf_view.leaf,
            answer,
            row.note if row else "",
            row.version if row else 0,
        )
    return forms
