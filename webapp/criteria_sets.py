"""Criteria sets in the database: import from YAML files and parse back (cached)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from criteria import CriteriaSet, parse_criteria_set
from webapp import audit
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import CriteriaSetRecord, Period


class CriteriaSetInUse(ParIndexError):
    """The set is used by a period: it is immutable."""

    status = 409


def import_criteria_set(
    path: Path, *, replace: bool = False
) -> tuple[CriteriaSetRecord, str]:
    """Load, check and store a set (idempotent): created, unchanged or replaced."""
    text = path.read_text(encoding="utf-8")
    cs = parse_criteria_set(text, path.name)  # raises CriteriaError with every problem
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    record = db.session.get(CriteriaSetRecord, cs.id)
    if record is not None:
        if record.sha256 == digest:
            return record, "unchanged"
        used = db.session.scalar(
            sa.select(sa.exists().where(Period.criteria_set_id == cs.id))
        )
        if used:
            raise CriteriaSetInUse(
                f"Bộ tiêu chí {cs.id} đã được dùng cho một kỳ đánh giá: "
                "không được thay đổi. "
                "Hãy tạo tệp mới với meta.id mới."
            )
        if not replace:
            raise CriteriaSetInUse(
                f"Bộ tiêu chí {cs.id} đã có với nội dung khác; "
                "dùng --replace để thay thế."
            )
        before = {"sha256": record.sha256}
        _fill(record, cs, text, digest)
        audit.record(
            "criteria.import",
            "criteria_set",
            cs.id,
            before=before,
            after={"sha256": digest},
        )
        db.session.commit()
        return record, "replaced"
    record = CriteriaSetRecord(id=cs.id)
    _fill(record, cs, text, digest)
    db.session.add(record)
    audit.record(
        "criteria.import",
        "criteria_set",
        cs.id,
        after={"sha256": digest, "title": cs.title},
    )
    db.session.commit()
    return record, "created"


def _fill(record: CriteriaSetRecord, cs: CriteriaSet, text: str, digest: str) -> None:
    record.title = cs.title
    record.evaluation_year = cs.evaluation_year
    record.unit_type = cs.unit_type
    record.source_yaml = text
    record.sha256 = digest


def get_criteria_set(set_id: str) -> CriteriaSet:
    """Parse a stored set (cached by content hash: a used set never changes)."""
    record = db.session.get(CriteriaSetRecord, set_id)
    if record is None:
        raise KeyError(set_id)
    return _parse_cached(record.sha256, record.source_yaml, record.id)


@lru_cache(maxsize=16)
def _parse_cached(_digest: str, text: str, name: str) -> CriteriaSet:
    return parse_criteria_set(text, name)
