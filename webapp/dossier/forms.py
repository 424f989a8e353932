"""Dossier forms: shape only (CSRF, files); whether the unit may edit is for services.

The report's text fields are many and follow the criteria set (one narrative per
area), so the page posts them as ``section-<key>`` and ``narrative-<area code>``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ReportTextForm(FlaskForm):
    """The report's unit-written text (fields read by name in the view)."""


class SignedReportForm(FlaskForm):
    """The signed PDF of the unit's report."""

    file = FileField(
        "Báo cáo đã ký số (PDF)",
        validators=[FileRequired("Vui lòng chọn tệp PDF đã ký số.")],
    )
