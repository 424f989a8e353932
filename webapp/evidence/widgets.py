"""A leaf's upload and picker forms on the criteria page, rendered once per process.

The two forms (templates/evidence/_macros.html: upload_widget with its citation
fields, picker) differ between leaves only by the leaf code, the page they come back
to, the assessment and the CSRF token. They are rendered once with placeholders and
each leaf gets the same markup with its values put in: the page's HTML is unchanged,
without JavaScript too, for a fraction of a macro call per leaf.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from webapp.models import Assessment

_LEAF = "@@parindex-leaf@@"
_NEXT = "@@parindex-next@@"
_CSRF = "@@parindex-csrf@@"
_ASSESSMENT_ID = 2_147_483_646
_SOURCE = (
    '{% from "evidence/_macros.html" import upload_widget, picker %}'
    "{{ upload_widget(assessment, leaf_code, next_url) }}\n"
    "    {{ picker(assessment, leaf_code, next_url) }}"
)
_KEY = "parindex.leaf_evidence_forms"


@dataclass(frozen=True)
class _Placeholder:
    """What the macros read of an assessment: its id."""

    id: int


def _pattern() -> str:
    """The forms with placeholders, rendered in the first request that needs them."""
    pattern: str | None = current_app.extensions.get(_KEY)
    if pattern is None:
        rendered = current_app.jinja_env.from_string(_SOURCE).render(
            assessment=_Placeholder(_ASSESSMENT_ID), leaf_code=_LEAF, next_url=_NEXT
        )
        pattern = rendered.replace(str(generate_csrf()), _CSRF)
        current_app.extensions[_KEY] = pattern
    return pattern


def leaf_evidence_forms(
    assessment: Assessment, leaf_code: str, next_url: str
) -> Markup:
    """``upload_widget(…)`` and ``picker(…)`` of one leaf, as the macros write them."""
    return Markup(
        _pattern()
        .replace(_LEAF, str(escape(leaf_code)))
        .replace(_NEXT, str(escape(next_url)))
        .replace(_CSRF, str(escape(generate_csrf())))
        .replace(str(_ASSESSMENT_ID), str(assessment.id))
    )
