"""Read a plan's appendix tables from DOCX, XLSX or CSV into rows of tasks.

The three formats feed one engine: a stream of headings ("Phụ lục số 0N: …") and
table rows whose cells are lists of paragraphs. Rows with an empty STT continue the
task above (a row split by a page break); a cell merged into the row above is read
once; "- " bullets become list items.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from webapp.errors import ParIndexError

HEADING = re.compile(r"^\s*phụ lục\s+(?:số\s+)?0*(\d+)\s*[:.\-–]\s*(.+?)\s*$", re.I)
# Column keys and the header words that name them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("stt", "tt"),
    "content": ("nội dung",),
    "products": ("sản phẩm", "kết quả"),
    "lead": ("chủ trì",),
    "partners": ("phối hợp",),
    "deadline": ("thời gian", "thời hạn"),
}
COLUMN_LABELS = {
    "number": "STT",
    "content": "Nội dung thực hiện",
    "products": "Sản phẩm",
    "lead": "Cơ quan chủ trì",
    "partners": "Cơ quan phối hợp",
    "deadline": "Thời gian hoàn thành",
}
LIST_FIELDS = ("products", "lead", "partners")
_BULLET_SPLIT = re.compile(r"(?:^|(?<=[.;])\s+)[-–•]\s+")


class PlanFileError(ParIndexError):
    """The file cannot be read as a plan; the message names the table and row."""


@dataclass
class Cell:
    paragraphs: list[str]
    # The same object in two rows means one merged cell: read it once.
    ident: object | None = None


@dataclass
class Row:
    table: int  # 1-based table number in the file
    row: int  # 1-based row number in that table
    cells: list[Cell]


@dataclass
class Heading:
    text: str


@dataclass
class ParsedTask:
    appendix: int
    appendix_title: str
    number: str
    content: str
    products: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    deadline_text: str = ""
    where: str = ""  # "Phụ lục số 01, dòng 3" for messages

    def key(self) -> tuple[int, str]:
        return (self.appendix, self.number)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def to_list(paragraphs: Iterable[str]) -> list[str]:
    """Bulleted cell → items, without "- " and the trailing full stop."""
    items: list[str] = []
    for para in paragraphs:
        para = _clean(para)
        if not para:
            continue
        for piece in _BULLET_SPLIT.split(para):
            piece = piece.strip().rstrip(".;,").strip()
            if piece:
                items.append(piece)
    return items


def _header_map(cells: list[Cell]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        text = _clean(" ".join(cell.paragraphs)).lower()
        for key, words in COLUMNS.items():
            if key in found:
                continue
            if key == "number":
                if text.rstrip(".") in words:
                    found[key] = i
            elif any(w in text for w in words):
                found[key] = i
                break
    return found if "content" in found and len(found) >= 3 else None


def _is_blank(cells: list[Cell]) -> bool:
    text = "".join("".join(c.paragraphs) for c in cells)
    return not text.strip(" -\t\n")


class _Builder:
    def __init__(self) -> None:
        self.tasks: list[ParsedTask] = []
        self.appendix: tuple[int, str] | None = None
        self.columns: dict[str, int] | None = None
        self.last: ParsedTask | None = None
        self.last_idents: dict[str, object] = {}
        self.seen: set[tuple[int, str]] = set()

    def heading(self, text: str) -> None:
        if m := HEADING.match(_clean(text).strip("*")):
            self.appendix = (int(m.group(1)), m.group(2).strip(" *"))
            self.columns = None
            self.last = None

    def where(self, row: Row) -> str:
        name = f"Phụ lục số {self.appendix[0]:02d}" if self.appendix else "Bảng"
        return f"{name} (bảng {row.table}), dòng {row.row}"

    def row(self, row: Row) -> None:
        header = _header_map(row.cells)
        if header is not None:
            missing = [COLUMN_LABELS[k] for k in COLUMNS if k not in header]
            if missing:
                raise PlanFileError(
                    f"{self.where(row)}: thiếu cột "
                    + ", ".join(f"“{m}”" for m in missing)
                )
            self.columns = header
            return
        if _is_blank(row.cells):
            return
        if self.columns is None:
            if self.appendix is None:
                return  # a table outside the appendices (e.g. the signature block)
            raise PlanFileError(
                f"{self.where(row)}: bảng không có dòng tiêu đề cột "
                "(STT | Nội dung thực hiện | Sản phẩm | Cơ quan chủ trì | "
                "Cơ quan phối hợp | Thời gian hoàn thành)."
            )
        if self.appendix is None:
            raise PlanFileError(
                f"{self.where(row)}: bảng không nằm dưới tiêu đề “Phụ lục số 0N: …”."
            )
        cells = {k: self._cell(row, i) for k, i in self.columns.items()}
        number = _clean(" ".join(cells["number"].paragraphs)).rstrip(".")
        merged_up = cells["number"].ident is not None and (
            cells["number"].ident is self.last_idents.get("number")
        )
        if not number or merged_up:
            self._continue(row, cells)
            return
        if not re.fullmatch(r"\d+", number):
            raise PlanFileError(
                f"{self.where(row)}: STT “{number}” không phải là số thứ tự."
            )
        content = _clean(" ".join(cells["content"].paragraphs))
        if not content:
            raise PlanFileError(f"{self.where(row)}: nhiệm vụ {number} thiếu nội dung.")
        task = ParsedTask(
            appendix=self.appendix[0],
            appendix_title=self.appendix[1],
            number=number,
            content=content,
            products=to_list(cells["products"].paragraphs),
            lead=to_list(cells["lead"].paragraphs),
            partners=to_list(cells["partners"].paragraphs),
            deadline_text="\n".join(
                p for p in (_clean(x) for x in cells["deadline"].paragraphs) if p
            ),
            where=self.where(row),
        )
        if task.key() in self.seen:
            raise PlanFileError(f"{self.where(row)}: STT {number} bị trùng.")
        self.seen.add(task.key())
        self.tasks.append(task)
        self.last = task
        self.last_idents = {k: c.ident for k, c in cells.items()}

    def _cell(self, row: Row, index: int) -> Cell:
        return row.cells[index] if index < len(row.cells) else Cell([])

    def _continue(self, row: Row, cells: dict[str, Cell]) -> None:
        """A row split by a page break: its text belongs to the task above."""
        task = self.last
        if task is None:
            raise PlanFileError(
                f"{self.where(row)}: dòng không có STT nhưng không có nhiệm vụ ở trên."
            )
        for key, cell in cells.items():
            if cell.ident is not None and cell.ident is self.last_idents.get(key):
                continue  # merged with the row above: already read
            paragraphs = [p for p in (_clean(x) for x in cell.paragraphs) if p]
            if not paragraphs or key == "number":
                continue
            if key == "content":
                task.content = f"{task.content} {' '.join(paragraphs)}".strip()
            elif key == "deadline":
                task.deadline_text = _join_text(task.deadline_text, paragraphs)
            else:
                items: list[str] = getattr(task, key)
                first = paragraphs[0]
                if items and not re.match(r"[-–•]\s", first):
                    # The item itself was cut by the page break.
                    items[-1] = (items[-1] + " " + to_list([first])[0]).strip()
                    paragraphs = paragraphs[1:]
                items.extend(to_list(paragraphs))


def _join_text(before: str, paragraphs: list[str]) -> str:
    return (
        (before + " " + " ".join(paragraphs)).strip()
        if before
        else "\n".join(paragraphs)
    )


def build_tasks(blocks: Iterable[Heading | Row]) -> list[ParsedTask]:
    builder = _Builder()
    for block in blocks:
        if isinstance(block, Heading):
            builder.heading(block.text)
        else:
            builder.row(block)
    if not builder.tasks:
        raise PlanFileError(
            "Không tìm thấy nhiệm vụ nào: tệp cần các bảng phụ lục có tiêu đề "
            "“Phụ lục số 0N: …” và các cột STT | Nội dung thực hiện | Sản phẩm | "
            "Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành."
        )
    return builder.tasks


# --- DOCX -----------------------------------------------------------------------


def docx_blocks(data: bytes) -> Iterator[Heading | Row]:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a bad package
        raise PlanFileError(
            "Không đọc được tệp DOCX (tệp hỏng hoặc không phải Word .docx)."
        ) from exc
    table_no = 0
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            if item.text.strip():
                yield Heading(item.text)
        elif isinstance(item, Table):
            table_no += 1
            for r, row in enumerate(item.rows, start=1):
                cells: list[Cell] = []
                previous: object | None = None
                for cell in row.cells:
                    tc = cell._tc
                    if tc is previous:  # a horizontal merge repeats the cell
                        cells.append(Cell([]))
                        continue
                    previous = tc
                    cells.append(Cell([p.text for p in cell.paragraphs], tc))
                yield Row(table_no, r, cells)


# --- XLSX and CSV ---------------------------------------------------------------


def _grid_blocks(
    rows: Iterable[tuple[int, list[str]]], table: int
) -> Iterator[Heading | Row]:
    for r, values in rows:
        texts = [v for v in values if v.strip()]
        if len(texts) == 1 and HEADING.match(_clean(texts[0])):
            yield Heading(texts[0])
            continue
        yield Row(table, r, [Cell(v.splitlines()) for v in values])


def xlsx_blocks(data: bytes) -> Iterator[Heading | Row]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, KeyError, InvalidFileException…
        raise PlanFileError(
            "Không đọc được tệp XLSX (tệp hỏng hoặc không phải Excel)."
        ) from exc
    for t, ws in enumerate(wb.worksheets, start=1):
        rows = (
            (r, ["" if v is None else str(v) for v in values])
            for r, values in enumerate(ws.iter_rows(values_only=True), start=1)
        )
        yield from _grid_blocks(rows, t)


def csv_blocks(data: bytes) -> Iterator[Heading | Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanFileError("Tệp CSV phải được lưu với bảng mã UTF-8.") from exc
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    yield from _grid_blocks(((i, row) for i, row in enumerate(reader, start=1)), 1)


def parse_plan_file(filename: str, data: bytes) -> list[ParsedTask]:
    """The tasks of a plan file, by its extension; PlanFileError when unreadable."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    readers = {"docx": docx_blocks, "xlsx": xlsx_blocks, "csv": csv_blocks}
    if ext not in readers:
        raise PlanFileError(
            f"Tệp “{filename}”: chỉ nhận kế hoạch dạng DOCX, XLSX hoặc CSV.",
            field="file",
        )
    return build_tasks(readers[ext](data))
