"""Survey results (kết quả điều tra xã hội học): entered or imported by the coordinator.

Units never score survey leaves; the coordinator enters each unit's percentage per
survey leaf into ``CriterionScore.survey_value``. An import is all or nothing: every row
is checked first, and one bad row means nothing is saved and every bad row is reported.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, subqueryload

from criteria import CriteriaSet, Node
from webapp import audit
from webapp.appraisal.leaves import AppraisalError
from webapp.criteria_sets import criteria_for
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.fields import InvalidInput, parse_number
from webapp.formatting import points
from webapp.lifecycle import PeriodStatus
from webapp.models import Assessment, Period, Unit, User, period_units
from webapp.workflow import score_row

logger = logging.getLogger(__name__)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class RowError:
    """One rejected row of an import: its number in the file and why (Vietnamese)."""

    row: int
    message: str


class SurveyImportRejected(ParIndexError):
    """The import saved nothing; ``errors`` lists every bad row."""

    status = 422

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            "Không nhập dòng nào: tệp có dòng không hợp lệ (xem danh sách).", "file"
        )
        self.errors = errors


class SurveyValuesRejected(ParIndexError):
    """The typed grid saved nothing; ``errors``: (assessment id, code) → message."""

    status = 422

    def __init__(self, errors: dict[tuple[int, str], str]) -> None:
        super().__init__("Chưa lưu: có ô kết quả không hợp lệ (xem các ô tô đỏ).")
        self.errors = errors


def survey_leaves(cs: CriteriaSet) -> list[Node]:
    return [leaf for leaf in cs.leaves() if leaf.assessed_by == "survey"]


def period_assessments(period: Period, *, scores: bool = True) -> list[Assessment]:
    """The assessments of the units taking part in the period, by unit name.

    One query for the assessments and their units, plus one for their score rows
    (``subqueryload``: a single query however many units, unlike ``selectinload``,
    which sends one per 500) unless the caller does not read them.
    """
    q = (
        sa.select(Assessment)
        .join(Unit, Unit.id == Assessment.unit_id)
        .join(
            period_units,
            sa.and_(
                period_units.c.period_id == Assessment.period_id,
                period_units.c.unit_id == Assessment.unit_id,
            ),
        )
        .where(Assessment.period_id == period.id)
        .options(contains_eager(Assessment.unit))
        .order_by(Unit.name)
    )
    if scores:
        q = q.options(subqueryload(Assessment.scores))
    return list(db.session.scalars(q))


@dataclass
class SurveyGrid:
    leaves: list[Node]
    assessments: list[Assessment]
    values: dict[tuple[int, str], Decimal | None]


def survey_grid(period: Period) -> SurveyGrid:
    """Every unit × survey leaf with the value entered so far.

    In a period holding both unit families the columns are the survey leaves of both
    sets; a unit has a cell only under its own set's survey leaves (``values`` keys).
    """
    assessments = period_assessments(period)
    leaves: dict[str, Node] = {}
    values: dict[tuple[int, str], Decimal | None] = {}
    for assessment in assessments:
        rows = {r.criterion_code: r for r in assessment.scores}
        for leaf in survey_leaves(criteria_for(assessment)):
            leaves.setdefault(leaf.code, leaf)
            row = rows.get(leaf.code)
            values[(assessment.id, leaf.code)] = row.survey_value if row else None
    if not assessments:
        leaves = {leaf.code: leaf for leaf in survey_leaves(criteria_for(period))}
    return SurveyGrid(list(leaves.values()), assessments, values)


def _check_open(period: Period) -> None:
    if period.status == PeriodStatus.PUBLISHED:
        raise AppraisalError(
            "Kết quả đã công bố: không thể thay đổi kết quả điều tra XHH.", status=409
        )


def _percent(text: str) -> Decimal:
    """A percentage 0..100 typed the Vietnamese way; ValueError with the reason."""
    value = parse_number(text, percent=True, label="Kết quả")
    _check_percent(value)
    return value


def _check_percent(value: Decimal) -> None:
    if value < 0 or value > HUNDRED:
        raise ValueError(f"kết quả {points(value)}% phải từ 0 đến 100%")


def save_survey_values(
    period: Period, typed: Mapping[tuple[int, str], str], *, actor: User
) -> int:
    """Save the typed grid (empty cell: no result yet); return the cells changed."""
    _check_open(period)
    grid = survey_grid(period)
    by_id = {a.id: a for a in grid.assessments}
    errors: dict[tuple[int, str], str] = {}
    wanted: dict[tuple[int, str], Decimal | None] = {}
    for (assessment_id, code), text in typed.items():
        if (assessment_id, code) not in grid.values:
            continue  # a cell the grid never showed: ignore rather than guess
        text = text.strip()
        if not text:
            wanted[(assessment_id, code)] = None
            continue
        try:
            wanted[(assessment_id, code)] = _percent(text)
        except ValueError as exc:
            errors[(assessment_id, code)] = _sentence(str(exc))
    if errors:
        raise SurveyValuesRejected(errors)
    changed = _apply(
        period,
        {k: v for k, v in wanted.items() if v != grid.values.get(k)},
        by_id,
        action="survey.save",
        source="nhập trực tiếp",
        actor=actor,
    )
    db.session.commit()
    return changed


def import_survey(period: Period, filename: str, data: bytes, *, actor: User) -> int:
    """Import a CSV or XLSX file (unit code, leaf code, percent); all rows or none."""
    _check_open(period)
    raw_rows = _read_table(filename, data)
    units = {u.code.upper(): u for u in db.session.scalars(sa.select(Unit))}
    in_period = {u.id for u in period.units}
    by_unit = {a.unit_id: a for a in period_assessments(period)}
    # Each unit's own set: in a period of both families the codes differ by family.
    first_nodes = criteria_for(period).nodes()
    nodes_of = {a.unit_id: criteria_for(a).nodes() for a in by_unit.values()}
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    wanted: dict[tuple[int, str], Decimal] = {}
    data_rows = 0
    for number, cells, formats in raw_rows:
        texts = [_cell_text(c) for c in cells]
        if not any(texts):
            continue
        first = data_rows == 0 and not wanted and not errors
        if first and texts[0].upper() not in units and _looks_like_header(cells):
            continue
        data_rows += 1
        problems: list[str] = []
        unit_code = texts[0].upper() if texts else ""
        code = texts[1] if len(texts) > 1 else ""
        unit = units.get(unit_code)
        if not unit_code:
            problems.append("thiếu mã đơn vị")
        elif unit is None:
            problems.append(f"không có đơn vị mã “{texts[0]}”")
        elif unit.id not in in_period:
            problems.append(f"đơn vị {unit.code} không tham gia kỳ đánh giá này")
        elif unit.id not in by_unit:
            problems.append(f"đơn vị {unit.code} chưa có hồ sơ đánh giá trong kỳ này")
        nodes = nodes_of.get(unit.id, first_nodes) if unit else first_nodes
        leaf = nodes.get(code)
        if not code:
            problems.append("thiếu mã tiêu chí")
        elif leaf is None:
            problems.append(f"không có tiêu chí mã “{code}” trong bộ tiêu chí")
        elif not leaf.is_leaf or leaf.assessed_by != "survey":
            problems.append(f"tiêu chí {code} không đánh giá qua điều tra xã hội học")
        value: Decimal | None = None
        if len(cells) < 3 or texts[2] == "":
            problems.append("thiếu kết quả (%)")
        else:
            try:
                value = _cell_percent(cells[2], formats[2] if len(formats) > 2 else "")
            except ValueError as exc:
                problems.append(str(exc))
        key = (unit_code, code)
        if unit_code and code and key in seen:
            problems.append(f"trùng đơn vị và tiêu chí với dòng {seen[key]}")
        elif unit_code and code:
            seen[key] = number
        if problems:
            errors.append(RowError(number, _sentence("; ".join(problems))))
        elif unit is not None and value is not None:
            wanted[(by_unit[unit.id].id, code)] = value
    if data_rows == 0 and not errors:
        errors.append(RowError(0, "Tệp không có dòng dữ liệu nào."))
    if errors:
        raise SurveyImportRejected(errors)
    by_id = {a.id: a for a in by_unit.values()}
    _apply(
        period,
        wanted,
        by_id,
        action="survey.import",
        source=f"tệp {filename}",
        actor=actor,
    )
    db.session.commit()
    logger.info("survey import %s: %s values by %s", filename, len(wanted), actor.id)
    return len(wanted)


def _sentence(text: str) -> str:
    text = text.rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _apply(
    period: Period,
    values: Mapping[tuple[int, str], Decimal | None],
    by_id: Mapping[int, Assessment],
    *,
    action: str,
    source: str,
    actor: User,
) -> int:
    """Write the values and one audit event per unit (before → after by leaf code)."""
    per_assessment: dict[int, dict[str, Decimal | None]] = {}
    for (assessment_id, code), value in values.items():
        per_assessment.setdefault(assessment_id, {})[code] = value
    for assessment_id, changes in per_assessment.items():
        assessment = by_id[assessment_id]
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for code, value in sorted(changes.items()):
            if value is not None:
                value = value.quantize(CENT, ROUND_HALF_UP)  # as stored: two decimals
            row = score_row(assessment, code)
            before[code] = row.survey_value
            row.survey_value = value
            after[code] = value
        audit.record(
            action,
            "assessment",
            assessment.id,
            before=before,
            after=after,
            unit_id=assessment.unit_id,
            period_id=period.id,
            summary=f"Kết quả điều tra XHH của {assessment.unit.name} ({source}): "
            f"{len(changes)} tiêu chí",
            actor=actor,
        )
    return len(values)


# -- reading CSV and XLSX ------------------------------------------------------------


def _read_table(filename: str, data: bytes) -> list[tuple[int, list[Any], list[str]]]:
    """Rows as (row number, cell values, number formats); the format is sniffed."""
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise SurveyImportRejected(
            [RowError(0, "Tệp Excel bị hỏng hoặc không đúng định dạng .xlsx.")]
        )
    return _read_csv(data)


def _read_xlsx(data: bytes) -> list[tuple[int, list[Any], list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a broken file
        logger.info("unreadable xlsx upload", exc_info=True)
        raise SurveyImportRejected(
            [
                RowError(
                    0,
                    "Không đọc được tệp Excel (.xlsx): tệp bị hỏng hoặc sai định dạng.",
                )
            ]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, row in enumerate(sheet.iter_rows(max_col=3), start=1):
            cells = [cell.value for cell in row]
            formats = [str(getattr(cell, "number_format", "") or "") for cell in row]
            rows.append((number, cells, formats))
        return rows
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[tuple[int, list[Any], list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SurveyImportRejected(
            [RowError(0, "Tệp CSV phải được lưu với bảng mã UTF-8.")]
        ) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel in a Vietnamese locale writes ";" because "," is the decimal separator.
    delimiter = ";" if ";" in first else ("\t" if "\t" in first else ",")
    rows = []
    for number, cells in enumerate(
        csv.reader(io.StringIO(text), delimiter=delimiter), 1
    ):
        if (
            delimiter == ","
            and len(cells) == 4
            and all(c.strip().isdigit() for c in cells[2:])
        ):
            # "TRUCLAM,1.8,85,5": an unquoted decimal comma split the percentage in two.
            cells = [cells[0], cells[1], f"{cells[2].strip()},{cells[3].strip()}"]
        rows.append((number, cells, [""] * len(cells)))
    return rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _looks_like_header(cells: list[Any]) -> bool:
    """A first row whose third cell is not a number is a header (e.g. "Kết quả (%)")."""
    if len(cells) < 3:
        return False
    try:
        _cell_percent(cells[2], "")
    except InvalidInput:
        return True
    except ValueError:
        return False
    return False


def _cell_percent(value: Any, number_format: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"kết quả “{value}” không phải là số")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"kết quả “{value}” không phải là số")
        if "%" in number_format:
            number *= HUNDRED  # a cell formatted as 85,5% holds 0.855
        _check_percent(number)
        return number
    return _percent(str(value))
