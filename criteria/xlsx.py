"""Criteria sets as spreadsheets, in the layout provinces publish their annex in.

Contract: :func:`read_workbook` turns an XLSX into the YAML of DESIGN.md §4 and checks
it with the loader; it either returns that text with the checked set or raises
:class:`SpreadsheetError`, whose ``cells`` name every problem by sheet, row and column
with a Vietnamese message (the loader's findings are mapped back to their cells).
:func:`write_workbook` exports any set to the same layout, so that a set goes YAML →
XLSX → YAML unchanged; :func:`template_workbook` is the empty template.

Layout (sheet "Bộ tiêu chí", one row per node, header row found by its "STT" cell):
STT | Lĩnh vực / Tiêu chí / Tiêu chí thành phần | Điểm tối đa | Phương pháp / cách tính
điểm | Tài liệu kiểm chứng, then the plain rule columns a coordinator fills: Điểm
thưởng / điểm trừ | Người chấm | Khi không phát sinh | Cách tính | Thước đo / điều
kiện | Đơn vị đo | Tham số (one line each: "từ 80% đến dưới 100%: 0,5", "Đủ nhiệm
vụ: 0,2", "mỗi báo cáo chậm: trừ 0,25") | Ghi chú. Sheets "Thông tin" (meta) and
"Xếp loại" (classification bands) hold the rest. Pure: openpyxl and PyYAML, no Flask.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

# openpyxl ships no type information (pyproject's mypy section ignores its imports).
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import (
    DataValidation,
)
from openpyxl.worksheet.worksheet import Worksheet

from criteria.loader import CriteriaError, parse_criteria_set
from criteria.schema import (
    BinaryRule,
    ChecklistRule,
    CriteriaSet,
    DeductionRule,
    ManualRule,
    Measure,
    Node,
    RatioRule,
    Rule,
    SurveyRule,
    TierBand,
    TiersRule,
)
from criteria.text import fold as _fold

TEMPLATE_DIR: Path = Path(__file__).resolve().parent / "templates"
# The empty template and the draft ward set as a filled example, both shipped.
TEMPLATE_PATH: Path = TEMPLATE_DIR / "bo-tieu-chi-mau.xlsx"
EXAMPLE_PATH: Path = TEMPLATE_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.xlsx"

SHEET_GUIDE = "Hướng dẫn"
SHEET_META = "Thông tin"
SHEET_BANDS = "Xếp loại"
SHEET_TREE = "Bộ tiêu chí"

# (field, header); the first three are required, the others may be left out.
TREE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "STT"),
    ("title", "Lĩnh vực / Tiêu chí / Tiêu chí thành phần"),
    ("max_points", "Điểm tối đa"),
    ("method", "Phương pháp / cách tính điểm"),
    ("evidence", "Tài liệu kiểm chứng"),
    ("kind", "Điểm thưởng / điểm trừ"),
    ("assessed_by", "Người chấm"),
    ("not_applicable", "Khi không phát sinh"),
    ("rule", "Cách tính"),
    ("measure", "Thước đo / điều kiện"),
    ("unit", "Đơn vị đo"),
    ("params", "Tham số cách tính (mỗi dòng một mục)"),
    ("notes", "Ghi chú"),
)
_HEADER = dict(TREE_COLUMNS)
_REQUIRED = ("code", "title", "max_points")
# Headers seen in published annexes that mean the same column.
_ALIASES = {
    "tai lieu kiem chung cung cap": "evidence",
    "huong dan tu danh gia": "method",
    "cach tinh diem": "method",
    "tieu chi, tieu chi thanh phan": "title",
    "noi dung": "title",
}

RULE_LABELS = {
    "binary": "Đạt / không đạt",
    "tiers": "Theo khoảng",
    "ratio": "Tỷ lệ so với mục tiêu",
    "checklist": "Cộng điểm theo nội dung",
    "deduction": "Trừ điểm theo số lần",
    "manual": "Chọn mức",
    "survey": "Điều tra xã hội học",
}
ASSESSED_LABELS = {"self": "Tự chấm", "system": "Hệ thống", "survey": "Điều tra XHH"}
NA_LABELS = {
    "not_allowed": "Không được khai",
    "exclude_from_max": "Loại khỏi điểm tối đa",
    "full_points": "Tính điểm tối đa",
}
KIND_LABELS = {"bonus": "Điểm thưởng", "penalty": "Điểm trừ"}
UNIT_LABELS = {"percent": "Tỷ lệ (%)", "date": "Ngày"}

# (key, label) of the "Thông tin" sheet; other meta keys follow as YAML text.
META_ROWS: tuple[tuple[str, str], ...] = (
    ("id", "Mã bộ tiêu chí (không dấu, không trùng, ví dụ thanhhoa-xa-2027)"),
    ("title", "Tên bộ tiêu chí"),
    ("evaluation_year", "Năm đánh giá"),
    ("unit_type", "Loại đơn vị (ubnd_xa_phuong hoặc so_ban_nganh)"),
    ("total_max_points", "Tổng điểm tối đa (không kể điểm thưởng, điểm trừ)"),
    ("index_may_exceed_100", "Chỉ số được vượt 100 nhờ điểm thưởng (có / không)"),
)
_META_KEYS = {key for key, _ in META_ROWS} | {"classification_bands"}
_YAML_MARK = "YAML"
# Documentation keys a node may carry in YAML and the column that holds them.
_NODE_DOCS = {"method": "method", "source": "notes"}

_NUMBER = r"\d+(?:[.,]\d+)*"
_DATE = r"\d{1,2}/\d{1,2}/\d{4}"
_PERCENT_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(rf"^tu ({_NUMBER}) ?% den duoi ({_NUMBER}) ?%$"), ("min", "max_lt")),
    (re.compile(rf"^tu ({_NUMBER}) ?%(?: tro len)?$"), ("min",)),
    (re.compile(rf"^duoi ({_NUMBER}) ?%$"), ("max_lt",)),
)
_DATE_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(rf"^tu ({_DATE}) den ({_DATE})$"), ("from", "until")),
    (re.compile(rf"^den ({_DATE})$"), ("until",)),
    (re.compile(rf"^tu ({_DATE})(?: tro di)?$"), ("from",)),
)
_RATIO_OUTCOME = re.compile(rf"^ty le ?[/÷:] ?({_NUMBER})$")


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One problem of a spreadsheet, at its cell (``row``/``column`` may be unknown)."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Trang '{self.sheet}'"
        if self.row is not None:
            where += f", dòng {self.row}"
        if self.column is not None:
            where += f", cột {self.column}"
        return f"{where}: {self.message}"


class SpreadsheetError(CriteriaError):
    """The spreadsheet cannot become a valid set; ``cells`` lists every problem."""

    def __init__(self, cells: Sequence[CellProblem]) -> None:
        self.cells: list[CellProblem] = list(cells)
        super().__init__([str(cell) for cell in self.cells])


@dataclass(frozen=True, slots=True)
class ImportedSet:
    """A spreadsheet read and checked: the YAML text and the set it loads to."""

    yaml_text: str
    criteria_set: CriteriaSet


# -- numbers, dates, folding -------------------------------------------------------


def _number(text: str) -> Decimal | None:
    """Read "0,5", "1.215" (thousands), "92.5" or "1.234,5"; ``None``: not a number."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[1-9]\d{0,2}(\.\d{3})+", raw):
        raw = raw.replace(".", "")  # Vietnamese thousands: "1.215" is 1215
    if not re.fullmatch(r"\d+(\.\d+)?", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        return None


def _cell_number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        return _number(value)
    return None


def _vn(number: Decimal) -> str:
    """Write a number without trailing zeros and with a decimal comma: 0.50 → "0,5"."""
    text = format(number.normalize(), "f")
    return text.replace(".", ",")


def _yaml_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _vn_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _parse_date(text: str) -> date | None:
    day, month, year = (int(part) for part in text.split("/"))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _vn_date(value.date())
    if isinstance(value, date):
        return _vn_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _lines(value: object) -> list[str]:
    return [line.strip() for line in _text(value).splitlines() if line.strip()]


def _choice(value: object, labels: Mapping[str, str]) -> str | None:
    """Match a cell with a code or its Vietnamese label (any case, any accents)."""
    folded = _fold(_text(value))
    for code, label in labels.items():
        if folded in (_fold(code), _fold(label)):
            return code
    return None


# -- reading --------------------------------------------------------------------------


def read_workbook(data: bytes, source: str) -> ImportedSet:
    """Read a set from XLSX bytes, check it, and return its YAML and the loaded set."""
    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise SpreadsheetError(
            [CellProblem(source, None, None, "không phải tệp Excel .xlsx đọc được")]
        ) from None
    reader = _Reader()
    document = reader.read(book)
    if reader.problems:
        raise SpreadsheetError(reader.problems)
    text = f"# Tạo từ tệp {source} (bảng tính bộ tiêu chí)\n" + yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000
    )
    try:
        criteria_set = parse_criteria_set(text, source)
    except CriteriaError as exc:
        raise SpreadsheetError(
            [reader.locate(problem, source) for problem in exc.problems]
        ) from None
    return ImportedSet(text, criteria_set)


class _Code(str):
    """A node code: always written quoted, as the loader requires ("1.10" ≠ 1.1)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Code,
    lambda dumper, code: dumper.represent_scalar(
        "tag:yaml.org,2002:str", str(code), style='"'
    ),
)


class _Reader:
    """Collect the document and every problem, remembering which cell made what."""

    def __init__(self) -> None:
        self.problems: list[CellProblem] = []
        self.code_rows: dict[str, int] = {}
        self.columns: dict[str, int] = {}
        self.meta_rows: dict[str, int] = {}
        self.band_rows: list[int] = []

    def add(self, sheet: str, row: int | None, column: str | None, text: str) -> None:
        self.problems.append(CellProblem(sheet, row, column, text))

    def column_name(self, field: str) -> str | None:
        index = self.columns.get(field)
        if index is None:
            return None
        return f"{get_column_letter(index)} ({_HEADER[field]})"

    def add_cell(self, row: int, field: str, text: str) -> None:
        self.add(SHEET_TREE, row, self.column_name(field), text)

    def read(self, book: Any) -> dict[str, Any]:
        meta = self.meta(book)
        meta["classification_bands"] = self.bands(book)
        return {"meta": meta, "areas": self.tree(book)}

    # -- meta and bands --------------------------------------------------------------

    def meta(self, book: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if SHEET_META not in book.sheetnames:
            self.add(SHEET_META, None, None, "thiếu trang thông tin bộ tiêu chí")
            return meta
        sheet = book[SHEET_META]
        labels = {_fold(label): key for key, label in META_ROWS}
        for row in range(2, sheet.max_row + 1):
            label = _text(sheet.cell(row, 1).value)
            key = _text(sheet.cell(row, 3).value) or labels.get(_fold(label), "")
            value = sheet.cell(row, 2).value
            if not key:
                if label or value is not None:
                    self.add(SHEET_META, row, "C", "thiếu khóa của dòng thông tin")
                continue
            self.meta_rows[key] = row
            if _text(sheet.cell(row, 4).value) == _YAML_MARK:
                try:
                    meta[key] = yaml.safe_load(_text(value))
                except yaml.YAMLError:
                    self.add(SHEET_META, row, "B", "nội dung YAML không đọc được")
                continue
            found = self.meta_value(key, value, row)
            if found is not None or key != "index_may_exceed_100":
                meta[key] = found
        return meta

    def meta_value(self, key: str, value: object, row: int) -> object:
        if key in ("total_max_points", "evaluation_year"):
            number = _cell_number(value)
            if value is None or _text(value) == "":
                return None  # the loader names the missing value
            if number is None:
                self.add(SHEET_META, row, "B", f"'{_text(value)}' không phải là số")
                return None
            return int(number) if key == "evaluation_year" else _yaml_number(number)
        if key == "index_may_exceed_100":
            folded = _fold(_text(value))
            if folded in ("", "khong", "false", "no"):
                return None  # the default: left out of the YAML
            if folded in ("co", "true", "yes"):
                return True
            self.add(SHEET_META, row, "B", "chỉ nhận 'có' hoặc 'không'")
            return False
        if isinstance(value, str) and value.strip():
            return value  # verbatim: folded YAML text keeps its line breaks
        return _text(value) or None

    def bands(self, book: Any) -> list[dict[str, Any]]:
        bands: list[dict[str, Any]] = []
        if SHEET_BANDS not in book.sheetnames:
            self.add(SHEET_BANDS, None, None, "thiếu trang mức xếp loại")
            return bands
        sheet = book[SHEET_BANDS]
        for row in range(2, sheet.max_row + 1):
            label = _text(sheet.cell(row, 1).value)
            low, high = sheet.cell(row, 2).value, sheet.cell(row, 3).value
            if not label and low is None and high is None:
                continue
            band: dict[str, Any] = {"label": label}
            for column, key, value in (("B", "min", low), ("C", "max_lt", high)):
                if value is None or _text(value) == "":
                    continue
                number = _cell_number(_text(value).rstrip("%").strip())
                if number is None:
                    self.add(
                        SHEET_BANDS, row, column, f"'{_text(value)}' không phải là số"
                    )
                    continue
                band[key] = _yaml_number(number)
            self.band_rows.append(row)
            bands.append(band)
        return bands

    # -- the tree ---------------------------------------------------------------------

    def tree(self, book: Any) -> list[dict[str, Any]]:
        if SHEET_TREE not in book.sheetnames:
            self.add(SHEET_TREE, None, None, "thiếu trang bộ tiêu chí")
            return []
        sheet = book[SHEET_TREE]
        header = self.header(sheet)
        if header is None:
            return []
        self.merged(sheet, header)
        nodes: dict[str, dict[str, Any]] = {}
        areas: list[dict[str, Any]] = []
        for row in range(header + 1, sheet.max_row + 1):
            cells = {
                field: sheet.cell(row, index).value
                for field, index in self.columns.items()
            }
            if all(_text(v) == "" for v in cells.values()):
                continue
            code = self.code(cells["code"], row)
            if code is None:
                continue
            node = self.node(cells, row, code)
            parent_code = code.rpartition(".")[0]
            if not parent_code:
                areas.append(node)
            elif parent_code in nodes:
                parent = nodes[parent_code]
                key = "criteria" if "." not in parent_code else "children"
                parent.setdefault(key, []).append(node)
            else:
                self.add_cell(
                    row, "code", f"mã '{code}' không có dòng cha '{parent_code}' ở trên"
                )
                continue
            nodes[code] = node
            self.code_rows[code] = row
        for code, node in nodes.items():
            self.finish(node, self.code_rows[code])
        if not areas and not self.problems:
            self.add(SHEET_TREE, header + 1, None, "chưa có lĩnh vực nào")
        return areas

    def header(self, sheet: Worksheet) -> int | None:
        for row in range(1, min(sheet.max_row, 15) + 1):
            if _fold(_text(sheet.cell(row, 1).value)) == "stt":
                break
        else:
            self.add(SHEET_TREE, None, "A", "không tìm thấy dòng tiêu đề có ô 'STT'")
            return None
        known = {_fold(label): field for field, label in TREE_COLUMNS}
        for index in range(1, sheet.max_column + 1):
            folded = _fold(_text(sheet.cell(row, index).value))
            field = known.get(folded) or next(
                (f for alias, f in _ALIASES.items() if folded.startswith(alias)), None
            )
            if field is None:
                field = next(
                    (
                        f
                        for label, f in known.items()
                        if folded and label.startswith(folded)
                    ),
                    None,
                )
            if field is not None and field not in self.columns:
                self.columns[field] = index
        for field in _REQUIRED:
            if field not in self.columns:
                self.add(SHEET_TREE, row, None, f"thiếu cột '{_HEADER[field]}'")
        return None if any(f not in self.columns for f in _REQUIRED) else row

    def merged(self, sheet: Worksheet, header: int) -> None:
        column = self.columns["code"]
        for merged in sheet.merged_cells.ranges:
            if merged.min_col <= column <= merged.max_col and merged.max_row > header:
                self.add_cell(
                    merged.min_row,
                    "code",
                    f"ô gộp {merged.coord} ở cột STT: mỗi dòng cần một mã riêng, "
                    "hãy bỏ gộp ô",
                )

    def code(self, value: object, row: int) -> str | None:
        code = _text(value).rstrip(".")
        if not code:
            self.add_cell(row, "code", "thiếu mã (STT) của dòng")
            return None
        if not re.fullmatch(r"\d+(\.\d+){0,2}", code):
            self.add_cell(
                row, "code", f"mã '{code}' phải có dạng 1, 1.1 hoặc 1.1.1 (chữ số)"
            )
            return None
        if code in self.code_rows:
            self.add_cell(
                row,
                "code",
                f"mã '{code}' bị trùng với dòng {self.code_rows[code]}",
            )
            return None
        return code

    def node(self, cells: Mapping[str, object], row: int, code: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "code": _Code(code),
            "title": _text(cells["title"]) or None,
        }
        kind_cell = cells.get("kind")
        if _text(kind_cell):
            kind = _choice(kind_cell, KIND_LABELS)
            if kind is None:
                self.add_cell(
                    row, "kind", f"'{_text(kind_cell)}': chọn Điểm thưởng hoặc Điểm trừ"
                )
            else:
                node["kind"] = kind
        raw_max = cells["max_points"]
        if _text(raw_max):
            number = _cell_number(raw_max)
            if number is None:
                self.add_cell(row, "max_points", f"'{_text(raw_max)}' không phải là số")
            else:
                node["max_points"] = _yaml_number(number)
        for doc, field in _NODE_DOCS.items():
            if _text(cells.get(field)):
                node[doc] = _text(cells.get(field))
        # Kept aside until we know whether the row has children.
        node["_cells"] = cells
        return node

    def finish(self, node: dict[str, Any], row: int) -> None:
        cells = node.pop("_cells")
        has_children = "criteria" in node or "children" in node
        rule_fields = ("assessed_by", "not_applicable", "rule", "measure", "unit")
        filled = [
            f for f in (*rule_fields, "params", "evidence") if _text(cells.get(f))
        ]
        if has_children:
            for field in filled:
                self.add_cell(
                    row, field, "dòng có tiêu chí con không ghi cách tính điểm"
                )
            # Children go after the node's own keys, as in hand-written files.
            for key in ("criteria", "children"):
                if key in node:
                    node[key] = node.pop(key)
            return
        if "." not in node["code"]:
            self.add_cell(row, "code", "lĩnh vực phải có ít nhất một tiêu chí")
            return
        rule = self.rule(cells, row)
        kind = rule.get("type") if rule else None
        node["assessed_by"] = self.assessed_by(cells, row, kind)
        if rule is not None:
            node["rule"] = rule
        node["not_applicable"] = self.policy(cells, row)
        node["evidence"] = _lines(cells.get("evidence"))
        # Documentation keys go last, after what the loader checks.
        for doc in _NODE_DOCS:
            if doc in node:
                node[doc] = node.pop(doc)

    def assessed_by(
        self, cells: Mapping[str, object], row: int, rule_type: object
    ) -> str:
        value = cells.get("assessed_by")
        if not _text(value):
            return "survey" if rule_type == "survey" else "self"
        found = _choice(value, ASSESSED_LABELS)
        if found is None:
            self.add_cell(
                row,
                "assessed_by",
                f"'{_text(value)}': chọn " + ", ".join(ASSESSED_LABELS.values()),
            )
            return "self"
        return found

    def policy(self, cells: Mapping[str, object], row: int) -> str:
        value = cells.get("not_applicable")
        if not _text(value):
            return "not_allowed"
        found = _choice(value, NA_LABELS)
        if found is None:
            self.add_cell(
                row,
                "not_applicable",
                f"'{_text(value)}': chọn " + ", ".join(NA_LABELS.values()),
            )
            return "not_allowed"
        return found

    # -- rules -------------------------------------------------------------------------

    def rule(self, cells: Mapping[str, object], row: int) -> dict[str, Any] | None:
        value = cells.get("rule")
        if not _text(value):
            self.add_cell(row, "rule", "tiêu chí lá phải có cách tính điểm")
            return None
        kind = _choice(value, RULE_LABELS)
        if kind is None:
            self.add_cell(
                row,
                "rule",
                f"cách tính '{_text(value)}' không có; chọn một trong: "
                + ", ".join(RULE_LABELS.values()),
            )
            return None
        before = len(self.problems)
        params = _RuleParams(self, row, _lines(cells.get("params")))
        measure = _text(cells.get("measure"))
        rule: dict[str, Any] = {"type": kind}
        if kind == "binary":
            rule["condition"] = measure or None
            rule["points_true"] = params.number("đạt")
            rule["points_false"] = params.number("không đạt")
        elif kind in ("tiers", "ratio"):
            unit = self.unit(cells, row, kind)
            rule["measure"] = {"name": measure or None, "unit": unit}
            top = params.optional("giá trị tối đa")
            if top is not None:
                limit = params.limit(top)
                if limit != "default":
                    rule["measure"]["max_value"] = limit
            if kind == "ratio":
                rule["target"] = params.number("mục tiêu", percent=True)
                rule["floor"] = params.number("mức sàn", percent=True)
            else:
                rule["bands"] = params.bands(unit)
        elif kind == "checklist":
            rule["items"] = params.pairs("text")
        elif kind == "deduction":
            rule["start"] = params.number("điểm khởi đầu")
            rule["events"] = params.events()
            rule["floor"] = params.number("mức sàn")
        elif kind == "manual":
            rule["levels"] = params.pairs("text")
        else:
            rule["instrument"] = measure or None
            rule["formula"] = params.text("công thức")
        params.leftovers()
        return rule if len(self.problems) == before else None

    def unit(self, cells: Mapping[str, object], row: int, kind: str) -> str:
        value = cells.get("unit")
        if not _text(value) or kind == "ratio":
            return "percent"
        folded = _fold(_text(value))
        if folded in ("%", "phan tram"):
            return "percent"
        found = _choice(value, UNIT_LABELS)
        if found is None:
            self.add_cell(row, "unit", f"'{_text(value)}': chọn Tỷ lệ (%) hoặc Ngày")
            return "percent"
        return found

    # -- mapping the loader's findings back to cells ---------------------------------

    def locate(self, problem: str, source: str) -> CellProblem:
        """Turn "file: code: text (field)" from the loader into a cell problem."""
        rest = problem.removeprefix(f"{source}: ")
        where, _, text = rest.partition(": ")
        match = re.search(r" \(([^()]*)\)$", text)
        field = match.group(1) if match else ""
        message = text[: match.start()] if match else text
        if where == "meta":
            if field.startswith("classification_bands"):
                index = re.search(r"\[(\d+)\]", field)
                row = (
                    self.band_rows[int(index.group(1))]
                    if index and int(index.group(1)) < len(self.band_rows)
                    else None
                )
                column = {"min": "B", "max_lt": "C", "label": "A"}.get(
                    field.rpartition(".")[2]
                )
                return CellProblem(SHEET_BANDS, row, column, message)
            return CellProblem(
                SHEET_META, self.meta_rows.get(field), "B", f"{field}: {message}"
            )
        row = self.code_rows.get(where)
        if row is None:
            return CellProblem(SHEET_TREE, None, None, rest)
        return CellProblem(
            SHEET_TREE, row, self.column_name(_field_column(field)), message
        )


def _field_column(field: str) -> str:
    """The spreadsheet column a loader field lives in."""
    head = field.split(",")[0].strip()
    if head in ("rule.type",):
        return "rule"
    if head in ("rule.measure.name", "rule.condition", "rule.instrument"):
        return "measure"
    if head == "rule.measure.unit":
        return "unit"
    if head.startswith("rule"):
        return "params"
    if head.startswith("evidence"):
        return "evidence"
    if head in ("criteria", "children"):
        return "code"
    return head if head in _HEADER else "code"


class _RuleParams:
    """The parameter lines of one rule ("Mục tiêu: 80%"), consumed as they are read."""

    def __init__(self, reader: _Reader, row: int, lines: list[str]) -> None:
        self.reader = reader
        self.row = row
        self.lines = lines
        self.used: set[int] = set()

    def fail(self, text: str) -> None:
        self.reader.add_cell(self.row, "params", text)

    def find(self, label: str) -> tuple[int, str] | None:
        folded = _fold(label)
        for i, line in enumerate(self.lines):
            name, sep, value = line.partition(":")
            if sep and _fold(name) == folded and i not in self.used:
                self.used.add(i)
                return i, value.strip()
        return None

    def optional(self, label: str) -> str | None:
        found = self.find(label)
        return None if found is None else found[1]

    def text(self, label: str) -> str | None:
        found = self.find(label)
        if found is None:
            self.fail(f"thiếu dòng '{label.capitalize()}: …'")
            return None
        return found[1] or None

    def number(self, label: str, *, percent: bool = False) -> int | float | None:
        value = self.text(label)
        if value is None:
            return None
        raw = value.rstrip("%").strip() if percent else value
        number = _number(raw)
        if number is None:
            self.fail(f"'{label.capitalize()}: {value}': '{value}' không phải là số")
            return None
        return _yaml_number(number)

    def limit(self, value: str) -> int | float | None | str:
        if _fold(value) in ("khong gioi han", "khong"):
            return None
        number = _number(value.rstrip("%").strip())
        if number is None:
            self.fail(
                f"'Giá trị tối đa: {value}': ghi một tỷ lệ (ví dụ 150%) "
                "hoặc 'không giới hạn'"
            )
            return "default"
        return _yaml_number(number)

    def rest(self) -> list[tuple[int, str]]:
        return [(i, line) for i, line in enumerate(self.lines) if i not in self.used]

    def pairs(self, key: str) -> list[dict[str, Any]]:
        """Lines "<text>: <points>" (checklist items, manual levels)."""
        pairs = []
        for i, line in self.rest():
            self.used.add(i)
            text, sep, value = line.rpartition(":")
            number = _number(value) if sep else None
            if not sep or number is None or not text.strip():
                self.fail(f"dòng '{line}' cần dạng '<nội dung>: <điểm>'")
                continue
            pairs.append({key: text.strip(), "points": _yaml_number(number)})
        if not pairs and not self.rest():
            self.fail("cần ít nhất một dòng '<nội dung>: <điểm>'")
        return pairs

    def events(self) -> list[dict[str, Any]]:
        """Lines "<event>: trừ <points>"."""
        events = []
        for i, line in self.rest():
            text, sep, value = line.rpartition(":")
            folded = _fold(value)
            if not sep or not folded.startswith("tru "):
                continue
            self.used.add(i)
            number = _number(folded.removeprefix("tru ").strip())
            if number is None or not text.strip():
                self.fail(f"dòng '{line}' cần dạng '<trường hợp>: trừ <điểm>'")
                continue
            events.append({"event": text.strip(), "minus": _yaml_number(number)})
        if not events:
            self.fail("cần ít nhất một dòng '<trường hợp>: trừ <điểm>'")
        return events

    def bands(self, unit: str) -> list[dict[str, Any]]:
        """Lines "<khoảng>: <điểm>" or "<khoảng>: tỷ lệ ÷ 100"."""
        bands = []
        phrases = _DATE_PHRASES if unit == "date" else _PERCENT_PHRASES
        for i, line in self.rest():
            self.used.add(i)
            phrase, sep, outcome = line.rpartition(":")
            band = self.bounds(_fold(phrase), phrases, unit) if sep else None
            if band is None:
                example = (
                    "'từ 01/02/2026 đến 28/02/2026: 0,25'"
                    if unit == "date"
                    else "'từ 80% đến dưới 100%: 0,5'"
                )
                self.fail(f"không đọc được khoảng '{line}'; viết như {example}")
                continue
            folded = _fold(outcome)
            ratio = _RATIO_OUTCOME.fullmatch(folded)
            number = _number(outcome)
            if ratio is not None and _number(ratio.group(1)) is not None:
                band["points"] = "ratio"
                band["ratio_base"] = _yaml_number(_number(ratio.group(1)) or Decimal(1))
            elif number is not None:
                band["points"] = _yaml_number(number)
            else:
                self.fail(
                    f"điểm '{outcome.strip()}' của khoảng '{phrase.strip()}' phải là "
                    "số hoặc 'tỷ lệ ÷ <số>'"
                )
                continue
            bands.append(band)
        if not bands and not self.reader.problems:
            self.fail("cần ít nhất một dòng khoảng điểm")
        return bands

    def bounds(
        self,
        folded: str,
        phrases: Iterable[tuple[re.Pattern[str], tuple[str, ...]]],
        unit: str,
    ) -> dict[str, Any] | None:
        if folded == "con lai":
            return {"otherwise": True}
        for pattern, keys in phrases:
            match = pattern.fullmatch(folded)
            if match is None:
                continue
            band: dict[str, Any] = {}
            for key, raw in zip(keys, match.groups(), strict=True):
                if unit == "date":
                    day = _parse_date(raw)
                    if day is None:
                        return None
                    band[key] = day.isoformat()
                else:
                    number = _number(raw)
                    if number is None:
                        return None
                    band[key] = _yaml_number(number)
            return band
        return None

    def leftovers(self) -> None:
        for _, line in self.rest():
            self.fail(f"dòng tham số '{line}' không dùng cho cách tính này")


# -- writing --------------------------------------------------------------------------

Describe = Callable[[Node], str]


def template_workbook() -> bytes:
    """Return the empty template: every sheet and header, no criteria."""
    return _Writer(None, {}, None).save()


def write_workbook(
    yaml_text: str, source: str, *, describe: Describe | None = None
) -> bytes:
    """Export a set's YAML to the spreadsheet layout (raises ``CriteriaError``).

    ``describe`` writes the "Phương pháp" column of leaves whose YAML has no ``method``
    text (callers pass ``scoring.describe_rule``; this package cannot import it).
    """
    criteria_set = parse_criteria_set(yaml_text, source)
    raw = yaml.load(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    docs: dict[str, dict[str, Any]] = {}

    def collect(node: Mapping[str, Any]) -> None:
        docs[str(node["code"])] = {k: node[k] for k in _NODE_DOCS if k in node}
        for child in (*node.get("criteria", ()), *node.get("children", ())):
            collect(child)

    for area in raw["areas"]:
        collect(area)
    return _Writer(criteria_set, docs, describe).save()


_HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")
_AREA_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_WIDTHS = (9, 60, 10, 45, 45, 15, 14, 20, 22, 40, 11, 45, 30)

GUIDE_LINES = (
    "BẢNG TÍNH BỘ TIÊU CHÍ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH",
    "",
    "Trang 'Thông tin': mã, tên, năm đánh giá, loại đơn vị và tổng điểm tối đa của bộ.",
    "Trang 'Xếp loại': mỗi dòng một mức (Từ % và/hoặc Dưới %), mức cao nhất ở trên;"
    " mức thấp nhất có thể xuống dưới 55%.",
    "Trang 'Bộ tiêu chí': mỗi dòng một lĩnh vực (mã 1), tiêu chí (1.1) hoặc tiêu chí"
    " thành phần (1.1.1); không gộp ô ở cột STT; điểm tiêu chí con cộng lại bằng"
    " điểm tiêu chí cha.",
    "Chỉ dòng không có tiêu chí con mới ghi cách tính điểm; 'Tài liệu kiểm chứng':"
    " mỗi tài liệu một dòng trong ô (Alt+Enter).",
    "Người chấm để trống: Tự chấm; Khi không phát sinh để trống: Không được khai.",
    "",
    "Cột 'Tham số cách tính', mỗi dòng một mục:",
    "  Đạt / không đạt: 'Đạt: 1' và 'Không đạt: 0'; điều kiện ghi ở cột Thước đo.",
    "  Theo khoảng (tỷ lệ): 'từ 100% trở lên: 1', 'từ 80% đến dưới 100%: 0,5',"
    " 'dưới 80%: 0', 'còn lại: 0', hoặc điểm theo tỷ lệ 'từ 80% đến dưới 100%:"
    " tỷ lệ ÷ 100'.",
    "  Theo khoảng (ngày): 'đến 31/01/2026: 0,5', 'từ 01/02/2026 đến 28/02/2026:"
    " 0,25', 'từ 01/03/2026 trở đi: 0'.",
    "  Tỷ lệ so với mục tiêu: 'Mục tiêu: 80%' và 'Mức sàn: 0%'.",
    "  Thước đo có thể vượt 100% (thu ngân sách so với dự toán): thêm dòng"
    " 'Giá trị tối đa: 150%' hoặc 'Giá trị tối đa: không giới hạn'.",
    "  Cộng điểm theo nội dung / Chọn mức: '<nội dung>: <điểm>' mỗi dòng.",
    "  Trừ điểm theo số lần: 'Điểm khởi đầu: 1', 'Mức sàn: 0', '<trường hợp>:"
    " trừ 0,25'.",
    "  Điều tra xã hội học: tên phiếu ở cột Thước đo; 'Công thức: …'.",
    "",
    "Điểm thưởng, điểm trừ: ghi 'Điểm thưởng' hoặc 'Điểm trừ' ở dòng lĩnh vực hoặc"
    " tiêu chí; 'Điểm tối đa' của dòng đó là mức trần; không tính vào tổng điểm tối"
    " đa. Điểm trừ ghi số dương (số điểm bị trừ).",
    "Số thập phân viết dấu phẩy (0,25).",
)


class _Writer:
    def __init__(
        self,
        criteria_set: CriteriaSet | None,
        docs: Mapping[str, Mapping[str, Any]],
        describe: Describe | None,
    ) -> None:
        self.cs = criteria_set
        self.docs = docs
        self.describe = describe
        self.book = Workbook()

    def save(self) -> bytes:
        guide = self.book.active
        assert guide is not None
        guide.title = SHEET_GUIDE
        for row, line in enumerate(GUIDE_LINES, start=1):
            guide.cell(row, 1, line)
        guide["A1"].font = Font(bold=True, size=13)
        guide.column_dimensions["A"].width = 140
        self.meta(self.book.create_sheet(SHEET_META))
        self.bands(self.book.create_sheet(SHEET_BANDS))
        self.tree(self.book.create_sheet(SHEET_TREE))
        self.book.active = self.book.index(self.book[SHEET_TREE])
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()

    def heading(self, sheet: Worksheet, titles: Sequence[str]) -> None:
        for column, title in enumerate(titles, start=1):
            cell = sheet.cell(1, column, title)
            cell.font = Font(bold=True)
            cell.fill = _HEAD_FILL
            cell.alignment = _WRAP
        sheet.freeze_panes = "A2"

    def meta(self, sheet: Worksheet) -> None:
        self.heading(sheet, ("Thông tin", "Giá trị", "Khóa", "Định dạng"))
        cs = self.cs
        values: dict[str, object] = {}
        if cs is not None:
            values = {
                "id": cs.id,
                "title": cs.title,
                "evaluation_year": cs.evaluation_year,
                "unit_type": cs.unit_type,
                "total_max_points": _yaml_number(cs.total_max_points),
                "index_may_exceed_100": "có" if cs.index_may_exceed_100 else "không",
            }
        row = 2
        for key, label in META_ROWS:
            sheet.cell(row, 1, label)
            _put(sheet, row, 2, values.get(key))
            sheet.cell(row, 3, key)
            row += 1
        if cs is not None:
            for key, value in cs.meta.items():
                if key in _META_KEYS:
                    continue
                sheet.cell(row, 1, key)
                if isinstance(value, str):
                    _put(sheet, row, 2, value)
                else:
                    dumped = yaml.safe_dump(
                        _plain(value), allow_unicode=True, sort_keys=False
                    )
                    _put(sheet, row, 2, dumped.strip())
                    sheet.cell(row, 4, _YAML_MARK)
                sheet.cell(row, 3, key)
                row += 1
        for column, width in zip("ABCD", (55, 70, 24, 10), strict=True):
            sheet.column_dimensions[column].width = width

    def bands(self, sheet: Worksheet) -> None:
        self.heading(sheet, ("Xếp loại", "Từ (%)", "Dưới (%)"))
        for row, band in enumerate(self.cs.bands if self.cs else (), start=2):
            _put(sheet, row, 1, band.label)
            if band.min is not None:
                sheet.cell(row, 2, _yaml_number(band.min))
            if band.max_lt is not None:
                sheet.cell(row, 3, _yaml_number(band.max_lt))
        for column, width in zip("ABC", (30, 12, 12), strict=True):
            sheet.column_dimensions[column].width = width

    def tree(self, sheet: Worksheet) -> None:
        self.heading(sheet, [label for _, label in TREE_COLUMNS])
        for index, width in enumerate(_WIDTHS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        self.choices(sheet)
        if self.cs is None:
            return
        row = 2
        for area in self.cs.areas:
            for node in area.walk():
                self.row(sheet, row, node)
                row += 1

    def choices(self, sheet: Worksheet) -> None:
        fields = [field for field, _ in TREE_COLUMNS]
        for field, labels in (
            ("kind", KIND_LABELS),
            ("assessed_by", ASSESSED_LABELS),
            ("not_applicable", NA_LABELS),
            ("rule", RULE_LABELS),
            ("unit", UNIT_LABELS),
        ):
            letter = get_column_letter(fields.index(field) + 1)
            options = ",".join(labels.values())
            check = DataValidation(
                type="list", formula1=f'"{options}"', allow_blank=True
            )
            check.error = "Chọn một giá trị trong danh sách."
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}2000")

    def row(self, sheet: Worksheet, row: int, node: Node) -> None:
        assert self.cs is not None
        parent = self.cs.parent_code(node.code)
        parent_kind = self.cs.node(parent).kind if parent else "standard"
        docs = self.docs.get(node.code, {})
        values: dict[str, object] = {
            "code": node.code,
            "title": node.title,
            "max_points": _yaml_number(node.max_points),
            "notes": docs.get("source"),
        }
        if node.kind in KIND_LABELS and parent_kind != node.kind:
            values["kind"] = KIND_LABELS[node.kind]
        if node.is_leaf:
            assert node.rule is not None and node.assessed_by is not None
            values["method"] = docs.get("method") or (
                self.describe(node) if self.describe else None
            )
            values["evidence"] = "\n".join(node.evidence) or None
            values["assessed_by"] = ASSESSED_LABELS[node.assessed_by]
            values["not_applicable"] = NA_LABELS[node.not_applicable or "not_allowed"]
            values["rule"] = RULE_LABELS[node.rule.type]
            measure, unit, params = _rule_cells(node.rule)
            values["measure"] = measure
            values["unit"] = unit
            values["params"] = "\n".join(params) or None
        elif "method" in docs:
            values["method"] = docs["method"]
        for column, (field, _) in enumerate(TREE_COLUMNS, start=1):
            cell = _put(sheet, row, column, values.get(field))
            cell.alignment = _WRAP
            if field == "code":
                cell.number_format = "@"  # text: Excel would read 1.10 as 1.1
            if node.depth == 1:
                cell.font = Font(bold=True)
                cell.fill = _AREA_FILL


def _put(sheet: Worksheet, row: int, column: int, value: object) -> Any:
    """Write a cell; text is never turned into a formula ("=…" stays text)."""
    cell = sheet.cell(row, column, value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True  # stays text when someone edits it in Excel
    return cell


def _plain(value: object) -> object:
    """Meta values as plain YAML types (the loader keeps dates and Decimals as read)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rule_cells(rule: Rule) -> tuple[str | None, str | None, list[str]]:
    """The measure/condition cell, the unit cell and the parameter lines of a rule."""
    if isinstance(rule, BinaryRule):
        return (
            rule.condition,
            None,
            [f"Đạt: {_vn(rule.points_true)}", f"Không đạt: {_vn(rule.points_false)}"],
        )
    if isinstance(rule, TiersRule):
        lines = _limit_line(rule.measure) + [
            f"{_band_phrase(band, rule.measure.unit)}: {_band_outcome(band)}"
            for band in rule.bands
        ]
        return rule.measure.name, UNIT_LABELS[rule.measure.unit], lines
    if isinstance(rule, RatioRule):
        return (
            rule.measure.name,
            UNIT_LABELS["percent"],
            _limit_line(rule.measure)
            + [f"Mục tiêu: {_vn(rule.target)}%", f"Mức sàn: {_vn(rule.floor)}%"],
        )
    if isinstance(rule, ChecklistRule | ManualRule):
        entries = rule.items if isinstance(rule, ChecklistRule) else rule.levels
        return None, None, [f"{e.text}: {_vn(e.points)}" for e in entries]
    if isinstance(rule, DeductionRule):
        return (
            None,
            None,
            [f"Điểm khởi đầu: {_vn(rule.start)}", f"Mức sàn: {_vn(rule.floor)}"]
            + [f"{e.event}: trừ {_vn(e.minus)}" for e in rule.events],
        )
    assert isinstance(rule, SurveyRule)
    return rule.instrument, None, [f"Công thức: {rule.formula}"]


def _limit_line(measure: Measure) -> list[str]:
    if measure.unit != "percent" or measure.max_value == 100:
        return []
    if measure.max_value is None:
        return ["Giá trị tối đa: không giới hạn"]
    return [f"Giá trị tối đa: {_vn(measure.max_value)}%"]


def _band_outcome(band: TierBand) -> str:
    if band.points == "ratio":
        assert band.ratio_base is not None
        return f"tỷ lệ ÷ {_vn(band.ratio_base)}"
    return _vn(band.points)


def _band_phrase(band: TierBand, unit: str) -> str:
    if band.otherwise:
        return "còn lại"
    if unit == "date":
        start = _vn_date(band.from_date) if band.from_date else None
        end = _vn_date(band.until_date) if band.until_date else None
        if start and end:
            return f"từ {start} đến {end}"
        return f"đến {end}" if end else f"từ {start} trở đi"
    low = f"{_vn(band.min)}%" if band.min is not None else None
    high = f"{_vn(band.max_lt)}%" if band.max_lt is not None else None
    if low and high:
        return f"từ {low} đến dưới {high}"
    return f"dưới {high}" if high else f"từ {low} trở lên"
