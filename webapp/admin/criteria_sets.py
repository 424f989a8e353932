"""The coordinator's side of criteria sets: the imported sets and the shipped files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from criteria import CriteriaError, parse_criteria_set, shipped_set_paths
from webapp.admin.errors import AdminError, FieldError
from webapp.criteria_sets import criteria_for, import_criteria_set
from webapp.extensions import db
from webapp.models import (
    CriteriaSetRecord,
    Period,
)


@dataclass
class CriteriaSetRow:
    record: CriteriaSetRecord
    leaf_count: int | None
    periods: int


@dataclass
class ShippedFile:
    filename: str
    set_id: str | None
    title: str
    state: str  # "new", "imported", "differs", "invalid"
    problem: str = ""

    @property
    def state_label(self) -> str:
        return {
            "new": "Chưa nhập",
            "imported": "Đã nhập",
            "differs": "Khác bản đã nhập",
            "invalid": "Tệp không hợp lệ",
        }[self.state]


def list_criteria_sets() -> list[CriteriaSetRow]:
    records = db.session.scalars(
        sa.select(CriteriaSetRecord).order_by(
            CriteriaSetRecord.evaluation_year.desc(), CriteriaSetRecord.id
        )
    )
    used = dict(
        db.session.execute(
            sa.select(Period.criteria_set_id, sa.func.count()).group_by(
                Period.criteria_set_id
            )
        ).all()
    )
    out = []
    for r in records:
        try:
            leaves: int | None = len(criteria_for(r.id).leaves())
        except CriteriaError:
            leaves = None
        out.append(
            CriteriaSetRow(record=r, leaf_count=leaves, periods=used.get(r.id, 0))
        )
    return out


TEST_SET_PREFIX = "test-"  # test-mini.yaml: a fixture of the test suite, not a real set


def _shipped_paths() -> dict[str, Path]:
    testing = bool(current_app.config.get("TESTING"))
    return {
        p.name: p
        for p in shipped_set_paths()
        if testing or not p.name.startswith(TEST_SET_PREFIX)
    }


def shipped_files() -> list[ShippedFile]:
    """The criteria-set files shipped with the app and whether each is imported."""
    out = []
    for name, path in _shipped_paths().items():
        text = path.read_text(encoding="utf-8")
        try:
            cs = parse_criteria_set(text, name)
        except CriteriaError as exc:
            out.append(ShippedFile(name, None, "", "invalid", str(exc)))
            continue
        record = db.session.get(CriteriaSetRecord, cs.id)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        state = (
            "new"
            if record is None
            else ("imported" if record.sha256 == digest else "differs")
        )
        out.append(ShippedFile(name, cs.id, cs.title, state))
    return out


def shipped_file_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in _shipped_paths()]


def import_shipped_set(filename: str) -> tuple[CriteriaSetRecord, str]:
    """Import one shipped file by name (never a path from the request)."""
    path = _shipped_paths().get(filename)
    if path is None:
        raise FieldError("filename", "Tệp bộ tiêu chí không có trong danh sách.")
    try:
        return import_criteria_set(path)
    except CriteriaError as exc:
        db.session.rollback()
        raise AdminError(f"Tệp không hợp lệ: {exc}") from exc
