"""Criteria sets: import from YAML files into the database, and the app's registry.

The registry keeps each parsed set (an immutable ``CriteriaSet``) for the app's
lifetime, so pages never re-read or re-parse the 52 KB YAML; ``criteria_for`` is the one
lookup. A set used by a period that has opened can never change again (periods never
return to draft, the set of an opened period is fixed, and import refuses to replace a
used set), so once seen it is served with no query at all. Any other set may still be
replaced, perhaps by another instance behind the load balancer: its content hash (64
bytes) is checked once per request, and import or replace drops this instance's copy.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app, g

from criteria import CriteriaSet, parse_criteria_set
from webapp import audit
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.lifecycle import PeriodStatus
from webapp.models import Assessment, CriteriaSetRecord, Period
from webapp.period_rules import apply_rules, set_id_for

EXTENSION_KEY = "parindex.criteria"


class CriteriaSetInUse(ParIndexError):
    """The set is used by a period: it is immutable."""

    status = 409


class _Entry(NamedTuple):
    digest: str
    criteria: CriteriaSet
    final: bool  # used by an opened period: immutable for good


class CriteriaRegistry:
    """Parsed sets by id, each with the hash of the text it was parsed from."""

    def __init__(self) -> None:
        self._sets: dict[str, _Entry] = {}
        self._lock = threading.Lock()  # gthread workers share one registry

    def final(self, set_id: str) -> CriteriaSet | None:
        entry = self._sets.get(set_id)
        return entry.criteria if entry is not None and entry.final else None

    def get(self, set_id: str, digest: str) -> CriteriaSet | None:
        entry = self._sets.get(set_id)
        return entry.criteria if entry is not None and entry.digest == digest else None

    def put(self, set_id: str, digest: str, cs: CriteriaSet, *, final: bool) -> None:
        with self._lock:
            self._sets[set_id] = _Entry(digest, cs, final)

    def forget(self, set_id: str) -> None:
        with self._lock:
            self._sets.pop(set_id, None)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = CriteriaRegistry()


def registry() -> CriteriaRegistry:
    reg: CriteriaRegistry = current_app.extensions[EXTENSION_KEY]
    return reg


def criteria_for(
    owner: Assessment | Period | str, unit_kind: str | None = None
) -> CriteriaSet:
    """The parsed set of an assessment, a period or a set id; KeyError if none.

    An assessment gets its unit family's set and a period (with ``unit_kind``) that
    family's, both as the period applies them: its bands, its survey choice
    (webapp.period_rules, issue 18). A set id gets the set as imported.
    """
    if isinstance(owner, Assessment):
        return criteria_for(owner.period, owner.unit.kind)
    if isinstance(owner, Period):
        return apply_rules(_stored(set_id_for(owner, unit_kind)), owner)
    return _stored(owner)


def _stored(set_id: str) -> CriteriaSet:
    cs = registry().final(set_id)
    if cs is not None:
        return cs
    seen: dict[str, CriteriaSet] = g.setdefault("parindex_criteria", {})
    cs = seen.get(set_id)
    if cs is None:
        cs = seen[set_id] = _load(set_id)
    return cs


def _load(set_id: str) -> CriteriaSet:
    opened = sa.exists().where(
        Period.criteria_set_id == CriteriaSetRecord.id,
        Period.status != PeriodStatus.DRAFT,
    )
    row = db.session.execute(
        sa.select(CriteriaSetRecord.sha256, opened).where(
            CriteriaSetRecord.id == set_id
        )
    ).first()
    if row is None:
        raise KeyError(set_id)
    digest, final = row
    cs = registry().get(set_id, digest)
    if cs is None:
        text = db.session.scalar(
            sa.select(CriteriaSetRecord.source_yaml).where(
                CriteriaSetRecord.id == set_id
            )
        )
        cs = parse_criteria_set(text or "", set_id)
    registry().put(set_id, digest, cs, final=bool(final))
    return cs


def _forget(set_id: str) -> None:
    registry().forget(set_id)
    g.get("parindex_criteria", {}).pop(set_id, None)


def import_criteria_set(
    path: Path, *, replace: bool = False
) -> tuple[CriteriaSetRecord, str]:
    """Load, check and store a set (idempotent): created, unchanged or replaced."""
    return import_criteria_text(
        path.read_text(encoding="utf-8"), path.name, replace=replace
    )


def import_criteria_text(
    text: str, source: str, *, replace: bool = False
) -> tuple[CriteriaSetRecord, str]:
    """Check and store a set's YAML text; ``source`` names it in messages."""
    cs = parse_criteria_set(text, source)  # raises CriteriaError with every problem
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
    _forget(cs.id)
