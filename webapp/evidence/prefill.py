"""Propose a citation (loại văn bản, số/ký hiệu, ngày ban hành, cơ quan ban hành,
trích yếu) from the text of a document in the Nghị định 30/2020/NĐ-CP layout.

`propose_citation` is a pure function over text; `bounded_proposal` reads the first
pages of a PDF or the first paragraphs of a DOCX in a child process with time, memory,
page and byte bounds (`webapp.evidence.textread`), so a huge or hostile file costs the
web worker nothing and at most about a second. It runs once, at upload; the proposal
is stored with the document. A proposal is only a suggestion: the user confirms or
corrects it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from typing import IO, Any

from webapp.evidence import textread

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

    def stored(self) -> dict[str, str] | None:
        """The form kept in the database (ISO date); None when nothing was found."""
        if self.is_empty:
            return None
        out: dict[str, Any] = asdict(self)
        out["issued_on"] = self.issued_on.isoformat() if self.issued_on else ""
        return out

    @classmethod
    def from_stored(cls, data: dict[str, str] | None) -> CitationProposal:
        """Read back what `stored` gave; empty for None or a malformed value."""
        if not isinstance(data, dict):
            return cls()
        issued = data.get("issued_on") or ""
        try:
            issued_on = date.fromisoformat(issued) if issued else None
        except ValueError:
            issued_on = None
        return cls(
            doc_type=str(data.get("doc_type") or ""),
            doc_number=str(data.get("doc_number") or ""),
            issued_on=issued_on,
            issuer=str(data.get("issuer") or ""),
            summary=str(data.get("summary") or ""),
        )


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


#: Files larger than this get no proposal: a scan has no text layer anyway, and
#: copying it to the reader would be the biggest cost.
PREFILL_MAX_BYTES = 20 * 1024 * 1024
_PIPE_CHUNK = 1024 * 1024


def bounded_proposal(
    fileobj: IO[bytes], kind: str, *, timeout: float
) -> CitationProposal | None:
    """Propose a citation from a PDF or DOCX, or None when there is none to make
    (another kind, too large, unreadable, or past a bound of `textread`, or slower than
    ``timeout`` seconds). The file object must be seekable; it is rewound after."""
    if kind not in ("pdf", "docx"):
        return None
    try:
        text = _read_in_child(fileobj, kind, timeout)
    finally:
        with contextlib.suppress(OSError, ValueError):
            fileobj.seek(0)
    return propose_citation(text) if text else None


def _read_in_child(fileobj: IO[bytes], kind: str, timeout: float) -> str | None:
    size = fileobj.seek(0, 2)
    if size > PREFILL_MAX_BYTES:
        return None
    fileobj.seek(0)
    deadline = time.monotonic() + timeout
    # -I: no environment variables, user site or current directory steer the child.
    with subprocess.Popen(
        [sys.executable, "-I", textread.__file__, kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as child:
        assert child.stdin is not None
        try:
            # The child reads all of stdin before any work, so writing cannot block
            # on it for long; chunks keep the worker's memory flat.
            while chunk := fileobj.read(_PIPE_CHUNK):
                child.stdin.write(chunk)
            out, _ = child.communicate(timeout=max(deadline - time.monotonic(), 0))
        except (subprocess.TimeoutExpired, BrokenPipeError) as exc:
            child.kill()
            child.wait()
            logger.info("citation pre-fill of a %s file stopped: %r", kind, exc)
            return None
    try:
        answer = json.loads(out or b"{}")
    except ValueError:
        answer = {}
    text = answer.get("text") if isinstance(answer, dict) else None
    if not isinstance(text, str):
        logger.info(
            "no citation pre-fill for a %s file: %s",
            kind,
            answer.get("reason") if isinstance(answer, dict) else "no answer",
        )
        return None
    return text
