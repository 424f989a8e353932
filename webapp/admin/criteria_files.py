"""Criteria sets as spreadsheets, and year over year (issue 18), for the coordinator.

Checking an uploaded XLSX stores nothing; importing stores the YAML it converts to,
through the same import as a YAML file (one audit event). Exports are built from the
stored YAML, so any imported set downloads back as the spreadsheet it came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from criteria import CriteriaError, CriteriaSet
from criteria.diff import SetDiff, check_mapping, diff_sets, suggest_mapping
from criteria.xlsx import (
    EXAMPLE_PATH,
    TEMPLATE_PATH,
    CellProblem,
    ImportedSet,
    SpreadsheetError,
    read_workbook,
    write_workbook,
)
from scoring import describe_rule
from webapp import audit
from webapp.admin.errors import AdminError
from webapp.criteria_sets import (
    CriteriaSetInUse,
    criteria_for,
    import_criteria_text,
)
from webapp.extensions import db
from webapp.models import CriteriaCodeMap, CriteriaSetRecord, User

logger = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024


@dataclass
class WorkbookCheck:
    """What the coordinator sees after uploading: the set, or every problem."""

    filename: str
    imported: ImportedSet | None = None
    problems: list[CellProblem] = field(default_factory=list)

    @property
    def criteria_set(self) -> CriteriaSet | None:
        return self.imported.criteria_set if self.imported else None


def check_workbook(data: bytes, filename: str) -> WorkbookCheck:
    """Read and check an uploaded spreadsheet; nothing is stored."""
    if len(data) > MAX_WORKBOOK_BYTES:
        return WorkbookCheck(
            filename,
            problems=[CellProblem(filename, None, None, "tệp lớn hơn 5 MB")],
        )
    try:
        return WorkbookCheck(filename, imported=read_workbook(data, filename))
    except SpreadsheetError as exc:
        return WorkbookCheck(filename, problems=exc.cells)


def import_workbook(
    data: bytes, filename: str
) -> tuple[WorkbookCheck, CriteriaSetRecord | None, str]:
    """Check a spreadsheet and, when it is valid, store its set (one audit event)."""
    check = check_workbook(data, filename)
    if check.imported is None:
        return check, None, "invalid"
    try:
        record, outcome = import_criteria_text(check.imported.yaml_text, filename)
    except (CriteriaError, CriteriaSetInUse) as exc:
        db.session.rollback()
        raise AdminError(str(exc)) from exc
    logger.info("criteria set %s imported from %s (%s)", record.id, filename, outcome)
    return check, record, outcome


def set_workbook(set_id: str) -> tuple[bytes, str]:
    """The XLSX of an imported set and its download name."""
    record = db.session.get(CriteriaSetRecord, set_id)
    if record is None:
        raise KeyError(set_id)
    data = write_workbook(record.source_yaml, record.id, describe=describe_rule)
    return data, f"{record.id}.xlsx"


def template_bytes(example: bool = False) -> tuple[bytes, str]:
    """The shipped empty template, or the draft ward set filled in as an example."""
    path = EXAMPLE_PATH if example else TEMPLATE_PATH
    return path.read_bytes(), path.name


# -- year over year -------------------------------------------------------------------


def predecessor_choices(set_id: str) -> list[tuple[str, str]]:
    """Earlier sets of the same unit family: the sets this one may replace."""
    record = db.session.get(CriteriaSetRecord, set_id)
    if record is None:
        return []
    rows = db.session.scalars(
        sa.select(CriteriaSetRecord)
        .where(
            CriteriaSetRecord.unit_type == record.unit_type,
            CriteriaSetRecord.id != set_id,
            CriteriaSetRecord.evaluation_year <= record.evaluation_year,
        )
        .order_by(CriteriaSetRecord.evaluation_year.desc(), CriteriaSetRecord.id)
    )
    return [(r.id, f"{r.title} ({r.id})") for r in rows]


def saved_mapping(new_id: str, old_id: str) -> dict[str, str]:
    rows = db.session.scalars(
        sa.select(CriteriaCodeMap).where(
            CriteriaCodeMap.new_set_id == new_id, CriteriaCodeMap.old_set_id == old_id
        )
    )
    return {row.old_code: row.new_code for row in rows}


@dataclass
class YearOverYear:
    old: CriteriaSet
    new: CriteriaSet
    diff: SetDiff
    saved: bool  # the mapping was confirmed by the coordinator (else: a suggestion)


def year_over_year(new_id: str, old_id: str) -> YearOverYear:
    """The diff of a set against the one it replaces, through the saved mapping."""
    new, old = criteria_for(new_id), criteria_for(old_id)
    mapping = saved_mapping(new_id, old_id)
    saved = bool(mapping)
    if not saved:
        mapping = suggest_mapping(old, new)
    return YearOverYear(old, new, diff_sets(old, new, mapping), saved)


def save_mapping(
    new_id: str, old_id: str, mapping: dict[str, str], *, actor: User
) -> dict[str, str]:
    """Replace the old→new code mapping of two sets (one audit event)."""
    new, old = criteria_for(new_id), criteria_for(old_id)
    problems = check_mapping(old, new, mapping)
    if problems:
        raise AdminError("; ".join(problems))
    before = saved_mapping(new_id, old_id)
    db.session.execute(
        sa.delete(CriteriaCodeMap).where(
            CriteriaCodeMap.new_set_id == new_id, CriteriaCodeMap.old_set_id == old_id
        )
    )
    for old_code, new_code in sorted(mapping.items()):
        db.session.add(
            CriteriaCodeMap(
                new_set_id=new_id,
                old_set_id=old_id,
                old_code=old_code,
                new_code=new_code,
                created_by_id=actor.id,
            )
        )
    audit.record(
        "criteria.mapping",
        "criteria_set",
        new_id,
        summary=f"Ghép mã tiêu chí {old_id} → {new_id}",
        before={"old_set": old_id, "mapping": before},
        after={"old_set": old_id, "mapping": mapping},
    )
    db.session.commit()
    logger.info("code mapping %s -> %s saved by %s", old_id, new_id, actor.id)
    return mapping
