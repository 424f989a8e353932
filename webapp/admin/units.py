"""Coordinator services for units: list, create, edit, (de)activate, CSV import."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.admin.errors import AdminError, FieldError, commit_or_field_error
from webapp.extensions import db
from webapp.fields import InvalidInput, clean_text
from webapp.formatting import fold
from webapp.models import (
    UNIT_KIND_LABELS,
    UNIT_KINDS,
    Unit,
)

logger = logging.getLogger(__name__)

UNIT_FIELDS = [
    "code",
    "name",
    "kind",
    "parent_body",
    "place_name",
    "leader_name",
    "leader_title",
    "report_number",
]
UNIT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]*$")
CSV_MAX_BYTES = 1024 * 1024
CSV_HEADER = ["code", "name", "kind"]


class CsvImportError(AdminError):
    """The CSV list was refused as a whole; each problem names its line (1 = header)."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        super().__init__(
            "; ".join(f"Dòng {n}: {m}" if n else m for n, m in problems), "file"
        )
        self.problems = problems


def list_units(query: str = "", *, include_inactive: bool = True) -> list[Unit]:
    """Units by name; `query` matches code or name without regard to accents."""
    stmt = sa.select(Unit)
    if not include_inactive:
        stmt = stmt.where(Unit.is_active.is_(True))
    # Sorted here: database collations put "Tĩnh" after "Trúc"; folded text does not.
    units = sorted(
        db.session.scalars(stmt), key=lambda u: (not u.is_active, fold(u.name))
    )
    if query.strip():
        needle = fold(query.strip())
        units = [u for u in units if needle in fold(f"{u.code} {u.name}")]
    return units


def active_unit_choices() -> list[tuple[int, str]]:
    return [(u.id, f"{u.name} ({u.code})") for u in list_units(include_inactive=False)]


def get_unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(Unit.id).where(sa.func.upper(Unit.code) == code.upper())
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _clean_unit_data(data: Mapping[str, Any]) -> dict[str, str]:
    out = {f: str(data.get(f) or "").strip() for f in UNIT_FIELDS}
    out["code"] = out["code"].upper()
    if out["kind"] not in UNIT_KINDS:
        raise FieldError("kind", "Vui lòng chọn loại đơn vị trong danh sách.")
    return out


def create_unit(data: Mapping[str, Any]) -> Unit:
    """Create a unit; its code must be unused (case-insensitive)."""
    values = _clean_unit_data(data)
    if _code_taken(values["code"]):
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    unit = Unit(**values)
    db.session.add(unit)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.") from exc
    audit.record(
        "unit.create",
        "unit",
        unit.id,
        after=audit.changes(unit, UNIT_FIELDS),
        unit_id=unit.id,
    )
    commit_or_field_error("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    logger.info("unit %s created", unit.code)
    return unit


def update_unit(unit: Unit, data: Mapping[str, Any]) -> bool:
    """Change a unit's names, kind and report settings; False when nothing changed."""
    values = _clean_unit_data(data)
    if values["code"] != unit.code and _code_taken(values["code"], exclude_id=unit.id):
        raise FieldError("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    before, after = _apply(unit, values)
    if not after:
        return False
    audit.record(
        "unit.update", "unit", unit.id, before=before, after=after, unit_id=unit.id
    )
    commit_or_field_error("code", f"Mã đơn vị {values['code']} đã tồn tại.")
    logger.info("unit %s updated: %s", unit.code, sorted(after))
    return True


def _apply(
    obj: object, values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set attributes; return only the changed ones, as (before, after)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = old, value
            setattr(obj, name, value)
    return before, after


def set_unit_active(unit: Unit, active: bool) -> None:
    """Deactivate (or reactivate) a unit; inactive units are left out of new periods."""
    if unit.is_active == active:
        raise AdminError(
            "Đơn vị đang hoạt động."
            if active
            else "Đơn vị đã ngừng hoạt động từ trước."
        )
    unit.is_active = active
    audit.record(
        "unit.activate" if active else "unit.deactivate",
        "unit",
        unit.id,
        before={"is_active": not active},
        after={"is_active": active},
        unit_id=unit.id,
    )
    db.session.commit()
    logger.info("unit %s active=%s", unit.code, active)


def _kind_from_csv(text: str) -> str | None:
    wanted = fold(text.strip())
    for kind in UNIT_KINDS:
        if wanted in (kind, fold(UNIT_KIND_LABELS[kind])):
            return kind
    return None


def import_units_csv(raw: bytes) -> list[Unit]:
    """Import `code,name,kind` rows (UTF-8, BOM optional): all rows or none.

    Raises CsvImportError listing every bad line with its reason.
    """
    problems: list[tuple[int | None, str]] = []
    if len(raw) > CSV_MAX_BYTES:
        raise CsvImportError([(None, "Tệp quá lớn (tối đa 1 MB).")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            [
                (
                    None,
                    "Tệp không phải mã UTF-8. "
                    "Hãy lưu lại dạng “CSV UTF-8” rồi thử lại.",
                )
            ]
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                if header != CSV_HEADER:
                    raise CsvImportError(
                        [(line, "Dòng tiêu đề phải đúng là: code,name,kind")]
                    )
                continue
            row, problem = _check_csv_row(cells, line, seen)
            if problem:
                problems.append((line, problem))
            else:
                rows.append((line, row))
    except csv.Error as exc:
        problems.append((reader.line_num, f"Lỗi định dạng CSV ({exc})."))
    if header is None:
        raise CsvImportError([(None, "Tệp trống: cần dòng tiêu đề code,name,kind.")])
    if not rows and not problems:
        raise CsvImportError([(None, "Tệp không có dòng dữ liệu nào.")])
    existing = {
        c.upper()
        for c in db.session.scalars(
            sa.select(Unit.code).where(sa.func.upper(Unit.code).in_(list(seen)))
        )
    }
    for line, row in rows:
        if row["code"] in existing:
            problems.append((line, f"Mã đơn vị {row['code']} đã có trong hệ thống."))
    if problems:
        raise CsvImportError(sorted(problems, key=lambda p: p[0] or 0))
    units = [Unit(code=r["code"], name=r["name"], kind=r["kind"]) for _, r in rows]
    db.session.add_all(units)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise CsvImportError(
            [(None, "Có mã đơn vị vừa được tạo trùng; vui lòng thử lại.")]
        ) from exc
    audit.record(
        "unit.import",
        "unit",
        "",
        before=None,
        after={
            "created": [{"code": u.code, "name": u.name, "kind": u.kind} for u in units]
        },
        summary=f"Nhập danh sách đơn vị: {len(units)} đơn vị",
    )
    db.session.commit()
    logger.info("units imported: %s", [u.code for u in units])
    return units


def _check_csv_row(
    cells: list[str], line: int, seen: dict[str, int]
) -> tuple[dict[str, str], str | None]:
    if len(cells) != 3:
        return {}, f"Cần đúng 3 cột (code,name,kind), dòng này có {len(cells)} cột."
    try:
        code, name, kind_text = (clean_text(c, label="Ô dữ liệu") for c in cells)
    except InvalidInput as exc:
        return {}, exc.message
    code = code.upper()
    if not code:
        return {}, "Thiếu mã đơn vị (code)."
    if len(code) > 32:
        return {}, "Mã đơn vị dài quá 32 ký tự."
    if not UNIT_CODE_RE.match(code):
        return (
            {},
            f"Mã đơn vị “{code}” chỉ được gồm chữ in hoa không dấu, chữ số và _ . -",
        )
    if code in seen:
        return {}, f"Mã đơn vị {code} trùng với dòng {seen[code]}."
    seen[code] = line
    if not name:
        return {}, "Thiếu tên đơn vị (name)."
    if len(name) > 200:
        return {}, "Tên đơn vị dài quá 200 ký tự."
    kind = _kind_from_csv(kind_text)
    if kind is None:
        return {}, (
            f"Loại đơn vị “{kind_text}” không hợp lệ: dùng so_ban_nganh "
            "(Sở, ban, ngành) "
            "hoặc xa_phuong (UBND xã, phường)."
        )
    return {"code": code, "name": name, "kind": kind}, None
