"""Propose a citation (loại văn bản, số/ký hiệu, ngày ban hành, cơ quan ban hành,
trích yếu) from the text of a document in the Nghị định 30/2020/NĐ-CP layout.

`propose_citation` is a pure function over text; `extract_text` reads the first pages
of a PDF (pypdf) or the first paragraphs of a DOCX (python-docx), bounded so a huge or
hostile file costs little. A proposal is only a suggestion: the user confirms or
corrects it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import IO, Any

logger = logging.getLogger(__name__)

#: Document types of Nghị định 30/2020 offered in the citation form (the select's
#: choices).
DOC_TYPES = (
    "Quyết định",
    "Kế hoạch",
    "Báo cáo",
    "Thông báo",
    "Hướng dẫn",
    "Tờ trình",
    "Công văn",
    "Biên bản",
    "Khác",
)

# Abbreviations used in ký hiệu (Phụ lục III, NĐ 30/2020) for the types we offer.
_ABBREVIATIONS = {
    "QĐ": "Quyết định",
    "KH": "Kế hoạch",
    "BC": "Báo cáo",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "TTR": "Tờ trình",
    "BB": "Biên bản",
    "CV": "Công văn",
}
# Other NĐ 30 types (nghị quyết, chỉ thị, quy chế...) are real documents but not in the
# select.
_OTHER_ABBREVIATIONS = {
    "NQ",
    "CT",
    "QC",
    "QYĐ",
    "TC",
    "CTR",
    "PA",
    "ĐA",
    "DA",
    "TT",
    "NĐ",
    "GM",
    "GGT",
}

_TITLES = {
    unicodedata.normalize("NFC", t.upper()): t
    for t in DOC_TYPES
    if t not in ("Khác", "Công văn")
}

_MOTTO = re.compile(
    r"C[ỘO]NG\s+H(?:ÒA|OÀ|OA)\s+X[ÃA]\s+H[ỘO]I\s+CH[ỦU]\s+NGH[ĨI]A\s+VI[ỆE]T\s+NAM"
    r"|Độc\s*lập\s*[-–—]\s*Tự\s*do\s*[-–—]\s*Hạnh\s*phúc",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^[\s\-–—_=*.·]+$")
# "Số: 125/KH-UBND", "Số: 12/2025/QĐ-UBND", "Số: /KH-UBND" (number left blank until
# signing).
_NUMBER = re.compile(r"(?:^|\s)Số\s*[:.]?\s*(\d*(?:/[^\W_][\w.\-–]*)+)")
_DATE = re.compile(
    r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE
)
# "Trúc Lâm, ngày 05 tháng": a place name is a few capitalised words before the comma.
_PLACE_DATE = re.compile(
    r"(?:[A-ZÀ-ÝĂĐĨŨƠƯẠ-Ỹ][^\s,]*\s?){1,4},\s*ngày\s+(?:\d{1,2}\s+|[.…]+\s*)?tháng"
)
_ABOUT = re.compile(r"V/v\s*[:.]?\s*(.*)$", re.IGNORECASE)
# Words that start an issuing body's name on its own header line (the lowest body
# issues).
_BODY_STARTS = (
    "ỦY BAN",
    "UỶ BAN",
    "UBND",
    "HỘI ĐỒNG",
    "HĐND",
    "SỞ ",
    "BỘ ",
    "BAN ",
    "PHÒNG ",
    "VĂN PHÒNG",
    "TRUNG TÂM",
    "CHI CỤC",
    "CỤC ",
    "ĐẢNG ỦY",
    "ĐẢNG UỶ",
    "THANH TRA",
    "BAN CHỈ ĐẠO",
    "TỔ ",
    "HỘI ",
    "TRƯỜNG ",
    "CÔNG AN",
    "BỘ CHỈ HUY",
)
# Body text starts: the trích yếu ends where one of these begins.
_BODY_TEXT = re.compile(
    r"^(Căn cứ|Thực hiện|Kính gửi|Theo|Để|Nhằm|Hôm nay|Vào hồi"
    r"|Điều\s+\d|[IVX]+\.|\d+\.|[a-zđ]\))"
)
_HEADER_LINES = 40  # the header and title sit at the top; never scan the body


@dataclass(frozen=True)
class CitationProposal:
    """Citation fields read from a document's text; "" where nothing was found."""

    doc_type: str = ""
    doc_number: str = ""
    issued_on: date | None = None
    issuer: str = ""
    summary: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON form: the date as dd/mm/yyyy, the way the form shows it."""
        out: dict[str, Any] = asdict(self)
        out["issued_on"] = self.issued_on.strftime("%d/%m/%Y") if self.issued_on else ""
        return out

    @property
    def is_empty(self) -> bool:
        return not any(asdict(self).values())


def propose_citation(text: str) -> CitationProposal:
    """Read the NĐ 30 header of a document's text and propose its citation."""
    lines = _clean_lines(text)[:_HEADER_LINES]
    number_at, doc_number, abbreviation = _find_number(lines)
    issued_on = _find_date(lines)
    issuer = _find_issuer(lines, number_at)
    title_at, title_type = _find_title(lines, number_at)
    doc_type = _ABBREVIATIONS.get(abbreviation.upper(), "") if abbreviation else ""
    if not doc_type and abbreviation and abbreviation.upper() in _OTHER_ABBREVIATIONS:
        doc_type = "Khác"
    summary = ""
    if title_at is not None:
        summary = _collect_summary(lines, title_at + 1)
        doc_type = doc_type or title_type
    else:
        summary = _find_about(lines, number_at)
        if summary and not doc_type:
            # A letter (công văn) has no title; its subject is the "V/v ..." line under
            # the number.
            doc_type = "Công văn"
    if doc_number.startswith("/"):
        doc_number = ""  # "Số: /KH-UBND" is an unsigned draft: no number to propose
    return CitationProposal(
        doc_type=doc_type,
        doc_number=doc_number,
        issued_on=issued_on,
        issuer=issuer,
        summary=summary,
    )


def _clean_lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for raw in text.splitlines():
        # Two-column headers often extract as one line: drop the national motto part.
        line = _MOTTO.sub(" ", raw)
        line = re.sub(r"\s+", " ", line).strip().lstrip("#").strip()
        if not line:
            continue
        # The short rule drawn under a header or a trích yếu ends a block: keep it as
        # "".
        out.append("" if _SEPARATOR.match(line) else line)
    return out


def _find_number(lines: list[str]) -> tuple[int | None, str, str]:
    for i, line in enumerate(lines):
        match = _NUMBER.search(line)
        if match:
            number = match.group(1).rstrip(".-–")
            # The type abbreviation is the last segment's part before the first dash:
            # 125/KH-UBND → KH; 12/2025/QĐ-UBND → QĐ; 125/UBND-VP (công văn) → UBND.
            last = number.rsplit("/", 1)[-1]
            abbreviation = (
                re.split(r"[-–]", last, maxsplit=1)[0]
                if re.search(r"[-–]", last)
                else ""
            )
            return i, number, abbreviation
    return None, "", ""


def _find_date(lines: list[str]) -> date | None:
    for line in lines:
        match = _DATE.search(line)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _is_upper(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _header_part(line: str) -> str:
    """The left-column part of a header line (before "Số:" or a place-date)."""
    for pattern in (_NUMBER, _PLACE_DATE):
        match = pattern.search(line)
        if match:
            line = line[: match.start()]
    return line.strip()


def _find_issuer(lines: list[str], number_at: int | None) -> str:
    if number_at is None:
        return ""
    above = [_header_part(line) for line in lines[: number_at + 1]]
    block: list[str] = []
    for part in reversed(above):
        if not part:
            if block:
                break
            continue
        if not _is_upper(part):
            break
        block.insert(0, part)
    # A parent body (cơ quan chủ quản) may head the block: keep the lowest body that
    # issues.
    starts = [
        i for i, part in enumerate(block) if part.upper().startswith(_BODY_STARTS)
    ]
    if starts:
        block = block[starts[-1] :]
    return " ".join(block[-3:])


def _find_title(lines: list[str], number_at: int | None) -> tuple[int | None, str]:
    start = (number_at + 1) if number_at is not None else 0
    for i in range(start, len(lines)):
        title = (
            _TITLES.get(lines[i].upper().strip(" :")) if _is_upper(lines[i]) else None
        )
        if title:
            return i, title
    return None, ""


def _collect_summary(lines: list[str], start: int) -> str:
    parts: list[str] = []
    for line in lines[start : start + 4]:
        if not line or _BODY_TEXT.match(line) or (parts and _is_upper(line)):
            break
        parts.append(line)
        if line.endswith((".", ";", ":")):
            break
    return _tidy(" ".join(parts))


def _find_about(lines: list[str], number_at: int | None) -> str:
    if number_at is None:
        return ""
    for i in range(number_at, min(number_at + 4, len(lines))):
        match = _ABOUT.search(_strip_date(lines[i]))
        if match:
            parts = [match.group(1)]
            for line in lines[i + 1 : i + 3]:
                if (
                    not line
                    or _BODY_TEXT.match(line)
                    or _DATE.search(line)
                    or _is_upper(line)
                ):
                    break
                parts.append(line)
            return _tidy(" ".join(parts))
    return ""


def _strip_date(line: str) -> str:
    match = _PLACE_DATE.search(line)
    return line[: match.start()] if match else line


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .;:-–")


def extract_text(
    fileobj: IO[bytes],
    kind: str,
    *,
    max_pages: int = 2,
    max_paragraphs: int = 60,
    max_chars: int = 20_000,
) -> str:
    """Text of the first pages (PDF) or paragraphs (DOCX); "" if none can be read.

    The file object must be seekable; it is rewound before and after reading.
    """
    try:
        fileobj.seek(0)
        if kind == "pdf":
            text = _pdf_text(fileobj, max_pages)
        elif kind == "docx":
            text = _docx_text(fileobj, max_paragraphs)
        else:
            return ""
    except Exception:  # a proposal is optional: any parser failure means "none"
        logger.info(
            "citation pre-fill: could not read text of a %s file", kind, exc_info=True
        )
        return ""
    finally:
        with contextlib.suppress(OSError, ValueError):
            fileobj.seek(0)
    return text[:max_chars]


def _pdf_text(fileobj: IO[bytes], max_pages: int) -> str:
    from pypdf import PdfReader

    reader = PdfReader(fileobj)
    if reader.is_encrypted and not reader.decrypt(""):
        return ""
    pages = []
    for index, page in enumerate(reader.pages):
        if index >= max_pages:
            break
        pages.append(page.extract_text() or "")
    return "\n".join(pages)


def _docx_text(fileobj: IO[bytes], max_paragraphs: int) -> str:
    from docx import Document
    from docx.oxml.ns import qn

    document = Document(fileobj)
    lines: list[str] = []
    # Walk the body in order: NĐ 30 headers are usually a two-column table before the
    # title,
    # which `document.paragraphs` would skip.
    for child in document.element.body.iterchildren():
        if len(lines) >= max_paragraphs:
            break
        if child.tag == qn("w:p"):
            lines.append(_paragraph_text(child))
        elif child.tag == qn("w:tbl"):
            # Row by row, left cell then right; a header table holds no nested tables.
            for row in child.iterchildren(qn("w:tr")):
                for cell in row.iterchildren(qn("w:tc")):
                    for paragraph in cell.iterchildren(qn("w:p")):
                        lines.append(_paragraph_text(paragraph))
    return "\n".join(lines[:max_paragraphs])


def _paragraph_text(element: Any) -> str:
    from docx.oxml.ns import qn

    parts: list[str] = []
    for node in element.iter(qn("w:t"), qn("w:br"), qn("w:tab")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:br"):
            parts.append("\n")
        else:
            parts.append(" ")
    return "".join(parts)
