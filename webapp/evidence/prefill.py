"""Propose a citation (loại văn bản, số/ký hiệu, ngày ban hành, cơ quan ban hành,
trích yếu) from the text of a document in the Nghị định 30/2020/NĐ-CP layout.

`propose_citation` is a pure function over text; `bounded_proposal` reads the first
pages of a PDF or the first paragraphs of a DOCX in a child process with time, memory,
page and byte bounds (`webapp.evidence.textread`), so a huge or hostile file costs the
web worker nothing and at most about a second. It runs once, when the proposal is
first asked for (not on the upload's path); the proposal is stored with the
document. A proposal is only a suggestion: the user confirms or corrects it.
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


def fold(text: str) -> str:
    """Drop Vietnamese diacritics character by character ("Số" → "So", "Đ" → "D").

    Unlike a general stripper, one character gives one character: a match found in the
    folded line is cut from the original line at the same positions, so a document
    typed without diacritics is read with the same patterns as one typed with them.
    """
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    if c == "đ":
        return "d"
    if c == "Đ":
        return "D"
    return unicodedata.normalize("NFD", c)[0] if ord(c) > 127 else c


_TITLES = {fold(t).upper(): t for t in DOC_TYPES if t not in ("Khác", "Công văn")}
_ABBREVIATIONS_FOLDED = {fold(k): v for k, v in _ABBREVIATIONS.items()}
_OTHER_FOLDED = {fold(k) for k in _OTHER_ABBREVIATIONS}

# Every pattern below runs on folded text (no diacritics).
_MOTTO = re.compile(
    r"CONG\s+HOA\s+XA\s+HOI\s+CHU\s+NGHIA\s+VIET\s+NAM"
    r"|Doc\s*lap\s*[-–—]\s*Tu\s*do\s*[-–—]\s*Hanh\s*phuc",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^[\s\-–—_=*.·]+$")
# "Số: 125/KH-UBND", "Số: 12/2025/QĐ-UBND", "Số: /KH-UBND" (number left blank until
# signing).
_NUMBER = re.compile(r"(?:^|\s)So\s*[:.]?\s*(\d*(?:/[^\W_][\w.\-–]*)+)")
_DATE = re.compile(
    r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})", re.IGNORECASE
)
# "Trúc Lâm, ngày 05 tháng": a place name is a few capitalised words before the comma.
_PLACE_DATE = re.compile(
    r"(?:[A-Z][^\s,]*\s?){1,4},\s*ngay\s+(?:\d{1,2}\s+|[.…]+\s*)?thang"
)
_ABOUT = re.compile(r"V/v\s*[:.]?\s*(.*)$", re.IGNORECASE)
# Words that start an issuing body's name on its own header line (the lowest body
# issues).
_BODY_STARTS = (
    "UY BAN",
    "UBND",
    "HOI DONG",
    "HDND",
    "SO ",
    "BO ",
    "BAN ",
    "PHONG ",
    "VAN PHONG",
    "TRUNG TAM",
    "CHI CUC",
    "CUC ",
    "DANG UY",
    "THANH TRA",
    "BAN CHI DAO",
    "TO ",
    "HOI ",
    "TRUONG ",
    "CONG AN",
    "BO CHI HUY",
)
# Body text starts: the trích yếu ends where one of these begins.
_BODY_TEXT = re.compile(
    r"^(Can cu|Thuc hien|Kinh gui|Theo|De|Nham|Hom nay|Vao hoi"
    r"|Dieu\s+\d|[IVX]+\.|\d+\.|[a-z]\))"
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


@dataclass(frozen=True)
class _Line:
    text: str
    folded: str


def propose_citation(text: str) -> CitationProposal:
    """Read the NĐ 30 header of a document's text and propose its citation."""
    lines = _clean_lines(text)[:_HEADER_LINES]
    number_at, doc_number, abbreviation = _find_number(lines)
    issued_on = _find_date(lines)
    issuer = _find_issuer(lines, number_at)
    title_at, title_type = _find_title(lines, number_at)
    key = fold(abbreviation).upper()
    doc_type = _ABBREVIATIONS_FOLDED.get(key, "") if abbreviation else ""
    if not doc_type and abbreviation and key in _OTHER_FOLDED:
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
        issuer=issuer_case(issuer),
        summary=summary,
    )


def _clean_lines(text: str) -> list[_Line]:
    text = unicodedata.normalize("NFC", text)
    out: list[_Line] = []
    for raw in text.splitlines():
        # Two-column headers often extract as one line: drop the national motto part.
        folded = fold(raw)
        for match in reversed(list(_MOTTO.finditer(folded))):
            raw = raw[: match.start()] + " " + raw[match.end() :]
            folded = folded[: match.start()] + " " + folded[match.end() :]
        line = re.sub(r"\s+", " ", raw).strip().lstrip("#").strip()
        if not line:
            continue
        # The short rule drawn under a header or a trích yếu ends a block: keep it as
        # "".
        line = "" if _SEPARATOR.match(line) else line
        out.append(_Line(line, fold(line)))
    return out


def _find_number(lines: list[_Line]) -> tuple[int | None, str, str]:
    for i, line in enumerate(lines):
        match = _NUMBER.search(line.folded)
        if match:
            number = line.text[match.start(1) : match.end(1)].rstrip(".-–")
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


def _find_date(lines: list[_Line]) -> date | None:
    for line in lines:
        match = _DATE.search(line.folded)
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


def _header_part(line: _Line) -> _Line:
    """The left-column part of a header line (before "Số:" or a place-date)."""
    cut = len(line.text)
    for pattern in (_NUMBER, _PLACE_DATE):
        match = pattern.search(line.folded[:cut])
        if match:
            cut = match.start()
    return _Line(line.text[:cut].strip(), line.folded[:cut].strip())


def _find_issuer(lines: list[_Line], number_at: int | None) -> str:
    if number_at is None:
        return ""
    above = [_header_part(line) for line in lines[: number_at + 1]]
    block: list[_Line] = []
    for part in reversed(above):
        if not part.text:
            if block:
                break
            continue
        if not _is_upper(part.text):
            break
        block.insert(0, part)
    # A parent body (cơ quan chủ quản) may head the block: keep the lowest body that
    # issues.
    starts = [
        i
        for i, part in enumerate(block)
        if part.folded.upper().startswith(_BODY_STARTS)
    ]
    if starts:
        block = block[starts[-1] :]
    return " ".join(part.text for part in block[-3:])


def _find_title(lines: list[_Line], number_at: int | None) -> tuple[int | None, str]:
    start = (number_at + 1) if number_at is not None else 0
    for i in range(start, len(lines)):
        line = lines[i]
        title = (
            _TITLES.get(line.folded.upper().strip(" :"))
            if _is_upper(line.text)
            else None
        )
        if title:
            return i, title
    return None, ""


def _collect_summary(lines: list[_Line], start: int) -> str:
    parts: list[str] = []
    for line in lines[start : start + 4]:
        if (
            not line.text
            or _BODY_TEXT.match(line.folded)
            or (parts and _is_upper(line.text))
        ):
            break
        parts.append(line.text)
        if line.text.endswith((".", ";", ":")):
            break
    return _tidy(" ".join(parts))


def _find_about(lines: list[_Line], number_at: int | None) -> str:
    if number_at is None:
        return ""
    for i in range(number_at, min(number_at + 4, len(lines))):
        line = _strip_date(lines[i])
        match = _ABOUT.search(line.folded)
        if match:
            parts = [line.text[match.start(1) : match.end(1)]]
            for following in lines[i + 1 : i + 3]:
                if (
                    not following.text
                    or _BODY_TEXT.match(following.folded)
                    or _DATE.search(following.folded)
                    or _is_upper(following.text)
                ):
                    break
                parts.append(following.text)
            return _tidy(" ".join(parts))
    return ""


def _strip_date(line: _Line) -> _Line:
    match = _PLACE_DATE.search(line.folded)
    if not match:
        return line
    return _Line(line.text[: match.start()], line.folded[: match.start()])


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .;:-–")


# Acronyms written in capitals inside a body's name.
_ACRONYMS = {"UBND", "HĐND", "MTTQ", "CCHC", "TP", "VP", "KT-XH", "VH-XH", "TN&MT"}
# Words (folded, lower case) after which a place name follows: "phường Trúc Lâm".
_PLACE_WORDS = (
    "phuong",
    "xa",
    "thi tran",
    "huyen",
    "quan",
    "thi xa",
    "tinh",
    "thanh pho",
)
# Bodies whose next word starts a field name: "Sở Nội vụ", "Phòng Văn hóa - Xã hội".
_FIELD_BODIES = ("so", "bo", "phong", "ban", "van phong", "trung tam", "chi cuc", "cuc")


def issuer_case(name: str) -> str:
    """An issuer's name as written in running text, not as a header in capitals.

    "UBND PHƯỜNG TRÚC LÂM" → "UBND phường Trúc Lâm"; "ỦY BAN NHÂN DÂN XÃ CÁC SƠN" →
    "Ủy ban nhân dân xã Các Sơn"; "SỞ NỘI VỤ" → "Sở Nội vụ". A name not all in
    capitals was typed by a person and is kept as it is.
    """
    if not _is_upper(name):
        return name
    words = name.split()
    out: list[str] = []
    i = 0
    in_place = False
    while i < len(words):
        word = words[i]
        pair = fold(" ".join(words[i : i + 2])).lower()
        head = fold(word).lower()
        size = 2 if pair in _PLACE_WORDS or pair in _FIELD_BODIES else 1
        if size == 2:
            head = pair
        if i == 0:
            if head not in _FIELD_BODIES:
                size = 1
            text = " ".join(w.lower() for w in words[:size])
            out.append(word if word in _ACRONYMS else text[:1].upper() + text[1:])
            i = size
            if head in _FIELD_BODIES and i < len(words):
                out.append(_keep_or_capitalise(words[i]))  # "Sở Nội vụ"
                i += 1
            continue
        if word in _ACRONYMS:
            out.append(word)
        elif head in _PLACE_WORDS:
            out.extend(w.lower() for w in words[i : i + size])
            in_place = True
            i += size
            continue
        elif in_place:
            out.append(_capitalised(word))
        elif word in ("-", "–") and i + 1 < len(words):
            out.extend([word, _keep_or_capitalise(words[i + 1])])  # "Văn hóa - Xã hội"
            i += 2
            continue
        else:
            out.append(word.lower())
        i += 1
    return " ".join(out)


def _keep_or_capitalise(word: str) -> str:
    return word if word in _ACRONYMS else _capitalised(word)


def _capitalised(word: str) -> str:
    lower = word.lower()
    return lower[:1].upper() + lower[1:]


#: Files larger than this get no proposal: a scan has no text layer anyway, and
#: copying it to the reader would be the biggest cost.
PREFILL_MAX_BYTES = 20 * 1024 * 1024
#: The kinds whose text is read for a proposal.
PROPOSAL_KINDS = ("pdf", "docx")
_PIPE_CHUNK = 1024 * 1024


def bounded_proposal(
    fileobj: IO[bytes], kind: str, *, timeout: float
) -> CitationProposal | None:
    """Propose a citation from a PDF or DOCX, or None when there is none to make
    (another kind, too large, unreadable, or past a bound of `textread`, or slower than
    ``timeout`` seconds). The file object must be seekable; it is rewound after."""
    if kind not in PROPOSAL_KINDS:
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
