"""Dossier forms: shape only (length); whether the unit may edit is for the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import Length

from webapp.dossier.settings import DIFFICULTIES_MAX
from webapp.fields import TextAreaField


class DifficultiesForm(FlaskForm):
    """Section III of the report: khó khăn, vướng mắc và đề xuất, kiến nghị."""

    difficulties = TextAreaField(
        "Khó khăn, vướng mắc và đề xuất, kiến nghị",
        validators=[
            Length(
                max=DIFFICULTIES_MAX,
                message=f"Nội dung không được dài quá {DIFFICULTIES_MAX} ký tự.",
            )
        ],
    )
