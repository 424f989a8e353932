"""User text in exported spreadsheets and CSV files: always text, never a formula.

A cell that starts with = + - @ (or a tab, CR, LF or NUL, which spreadsheet programs
strip before looking) is run as a formula when the file is opened: an appraiser's
comment "=HYPERLINK(...)" would become a live link in the coordinator's Excel. Every
export writes its cells through ``write_cell`` (XLSX) or ``csv_writer`` (CSV), as
OWASP's CSV Injection page and ASVS 5.0 1.2.10 ask; any other export reuses them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_cell(value: object) -> object:
    """A CSV field: text that a spreadsheet would read as a formula gets a leading '.

    Only strings change; numbers the app writes (sizes, points) stay numbers.
    """
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(value) for value in values]


class SafeCsvWriter:
    """``csv.writer`` whose rows pass through ``csv_row``."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(csv_row(row))


def csv_writer(out: IO[str], **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)


def write_cell(ws: Worksheet, row: int, column: int, value: object = None) -> Cell:
    """Set one XLSX cell; a string is stored as a string whatever it starts with.

    openpyxl turns any string starting with "=" into a formula; the cell keeps its text
    type instead, and the quote prefix keeps it text when someone edits it in Excel.
    """
    cell: Cell = ws.cell(row, column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if starts_like_formula(value):
            cell.quotePrefix = True
    return cell
