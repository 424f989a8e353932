"""The demo's seed plan: phường Trúc Lâm's 2026 appendix tables, and a DOCX of them.

The tables ship as the Markdown they were converted to (data/…md); ``seed_tables``
reads them back into headings and rows of paragraphs exactly as the source splits
them (a row cut by a page break stays a row without STT), and ``build_docx`` writes
the Word document a ward would have issued: one table per page-split piece, with a
merged cell where neighbouring rows share a lead unit.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

SEED_PATH = Path(__file__).parent / "data" / "ke-hoach-cchc-2026-phuong-truc-lam.md"
SEED_YEAR = 2026
HEADER = [
    "TT",
    "Nội dung thực hiện",
    "Sản phẩm/Kết quả",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời gian hoàn thành",
]


@dataclass
class SeedTable:
    heading: str
    with_header: bool
    rows: list[list[list[str]]] = field(default_factory=list)  # row → cell → paragraphs


def _cell_paragraphs(raw: str) -> list[str]:
    raw = re.sub(r"</?(b|ul[^>]*)>", "", raw.strip())
    pieces = re.findall(r"<(?:li|p)>(.*?)</(?:li|p)>", raw, flags=re.S)
    if not pieces:
        pieces = [raw]
    return [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in pieces]


def seed_tables(path: Path = SEED_PATH) -> list[SeedTable]:
    tables: list[SeedTable] = []
    heading = ""
    current: SeedTable | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"\*\*(Phụ lục số \d+: .+?)\*\*", line.strip()):
            heading = m.group(1)
            current = None
            continue
        if "\t" not in line:
            if not line.strip():
                current = None  # a blank line in the source is a page break
            continue
        cells = line.split("\t")
        if all(re.fullmatch(r"-*", c.strip()) for c in cells):
            continue  # Markdown table rule, not a row
        if "Nội dung thực hiện" in line:
            current = SeedTable(heading, True)
            tables.append(current)
            continue
        if current is None:
            current = SeedTable(heading, False)
            tables.append(current)
        current.rows.append([_cell_paragraphs(c) for c in (cells + [""] * 6)[:6]])
    return tables


def build_docx(tables: list[SeedTable] | None = None) -> bytes:
    """The seed plan as a DOCX: headings, page-split tables, merged lead cells."""
    from docx import Document

    tables = seed_tables() if tables is None else tables
    document = Document()
    document.add_paragraph(
        "PHỤ LỤC CÁC NHIỆM VỤ TRỌNG TÂM CẢI CÁCH HÀNH CHÍNH NĂM 2026"
    )
    last_heading = ""
    for seed in tables:
        if seed.heading != last_heading:
            document.add_paragraph(seed.heading)
            last_heading = seed.heading
        header = 1 if seed.with_header else 0
        table = document.add_table(rows=len(seed.rows) + header, cols=6)
        table.style = "Table Grid"
        if header:
            for i, text in enumerate(HEADER):
                table.cell(0, i).text = text
        for r, row in enumerate(seed.rows, start=header):
            for c, paragraphs in enumerate(row):
                cell = table.cell(r, c)
                cell.text = paragraphs[0] if paragraphs else ""
                for extra in paragraphs[1:]:
                    cell.add_paragraph(extra)
        _merge(table, seed, header)
        document.add_page_break()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _merge(table: object, seed: SeedTable, header: int) -> None:
    """Merge like Word users do: equal lead cells of neighbouring rows, and the
    empty cells of a row cut by a page break with the cells above them."""
    rows = seed.rows
    for r in range(len(rows)):
        here = rows[r]
        if not "".join(here[0]).strip():  # a row cut by a page break
            if not "".join(here[4]).strip() and not "".join(here[5]).strip():
                table.cell(r + header, 4).merge(table.cell(r + header, 5))  # type: ignore[attr-defined]
            if r > 0:  # its STT cell merged upward
                top = table.cell(r - 1 + header, 0)  # type: ignore[attr-defined]
                top.merge(table.cell(r + header, 0))  # type: ignore[attr-defined]
            continue
        if r == 0:
            continue
        above = rows[r - 1]
        if here[3] == above[3] and "".join(above[0]).strip():
            lower = table.cell(r + header, 3)  # type: ignore[attr-defined]
            for p in list(lower.paragraphs)[1:]:
                p._element.getparent().remove(p._element)
            lower.paragraphs[0].text = ""
            table.cell(r - 1 + header, 3).merge(lower)  # type: ignore[attr-defined]
