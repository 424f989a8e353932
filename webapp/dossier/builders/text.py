"""Wording shared by the builders: NĐ 30/2020 dates, citations, safe ZIP names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from scoring import format_decimal
from webapp.dossier.builders.types import EvidenceFile, UnitInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Characters Windows refuses in file names, plus the path separators.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")
# Device names Windows refuses as a file or folder name, whatever the extension
# ("CON.pdf", "nul.tar.gz"): a ZIP holding one fails to extract there.
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"}
)


def to_vn(value: datetime) -> datetime:
    """Convert an aware datetime to Asia/Ho_Chi_Minh (how every date is shown)."""
    return value.astimezone(VN_TZ)


def vn_date(value: date | None) -> str:
    """Format a date as dd/mm/yyyy ("" for none)."""
    return value.strftime("%d/%m/%Y") if value else ""


def vn_datetime(value: datetime | None) -> str:
    """Format an aware datetime as dd/mm/yyyy HH:MM in Vietnam time ("" for none)."""
    return to_vn(value).strftime("%d/%m/%Y %H:%M") if value else ""


def points(value: Decimal | None) -> str:
    """Points with a decimal comma and two places ("8,50"); "—" when not counted."""
    return "—" if value is None else format_decimal(value)


def nd30_date(value: date) -> str:
    """The date words of NĐ 30/2020: "ngày 05 tháng 01 năm 2026".

    Days below 10 and the months 1 and 2 take a leading zero; months 3 to 9 do not
    (so "tháng 3", "ngày 15 tháng 12"): "tháng 01" cannot be turned into "tháng 10".
    """
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def place_date_line(unit: UnitInfo, value: date) -> str:
    """ "Trúc Lâm, ngày 05 tháng 01 năm 2026" (place from the unit's settings)."""
    place = unit.place_name.strip() or short_place(unit.name)
    return f"{place}, {nd30_date(value)}"


def short_place(name: str) -> str:
    """Drop the administrative prefix: "Phường Trúc Lâm" → "Trúc Lâm"."""
    for prefix in ("Phường ", "Xã ", "Thị trấn ", "Đặc khu "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def lower_first(name: str) -> str:
    """ "Phường Trúc Lâm" → "phường Trúc Lâm", as it reads inside a sentence."""
    return name[:1].lower() + name[1:] if name else name


def body_name(unit: UnitInfo) -> str:
    """How the body text names the issuing body: "Ủy ban nhân dân phường Trúc Lâm"."""
    if unit.kind == "xa_phuong":
        return f"Ủy ban nhân dân {lower_first(unit.name)}"
    return unit.name


def header_lines(unit: UnitInfo) -> tuple[str, str]:
    """The left header's lines in capitals: (chủ quản or "ỦY BAN NHÂN DÂN", unit)."""
    if unit.kind == "xa_phuong":
        return "ỦY BAN NHÂN DÂN", unit.name.upper()
    return unit.parent_body.upper(), unit.name.upper()


def doc_symbol(unit: UnitInfo) -> str:
    """The report's ký hiệu: "BC-UBND" for a ward/commune, "BC-<unit code>" for a sở."""
    return "BC-UBND" if unit.kind == "xa_phuong" else f"BC-{unit.code.upper()}"


def number_line(unit: UnitInfo) -> str:
    """ "Số: 31/BC-UBND"; blank for the clerk ("Số:      /BC-UBND") when not set."""
    number = unit.report_number.strip()
    if number.startswith("/"):  # a symbol only ("/TB-SNV"): the clerk adds the number
        return f"Số:{' ' * 6}{number}"
    if "/" in number:
        return f"Số: {number}"
    if number:
        return f"Số: {number}/{doc_symbol(unit)}"
    return f"Số:{' ' * 6}/{doc_symbol(unit)}"


def signature_lines(unit: UnitInfo) -> list[str]:
    """ "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH" for a UBND; just the title for a sở's head.

    The title may hold several lines ("KT. CHỦ TỊCH" newline "PHÓ CHỦ TỊCH").
    """
    titles = [
        t.strip().upper()
        for t in (unit.leader_title or "CHỦ TỊCH").splitlines()
        if t.strip()
    ] or ["CHỦ TỊCH"]
    authority = [
        t.strip().upper() for t in unit.signer_authority.splitlines() if t.strip()
    ]
    if authority:
        return [*authority, *titles]
    if unit.kind == "xa_phuong" and not titles[0].startswith(
        ("KT.", "TM.", "Q.", "TL.")
    ):
        return ["TM. ỦY BAN NHÂN DÂN", *titles]
    return titles


def citation(ev: EvidenceFile) -> str:
    """NĐ 30 citation: "Kế hoạch số 125/KH-UBND ngày 15/01/2026 của UBND …: trích yếu".

    Falls back on the original file name when no citation field was filled in.
    """
    parts = []
    # "Khác" is the form's catch-all type: a real citation never names it.
    if ev.doc_type.strip() and ev.doc_type.strip().casefold() != "khác":
        parts.append(ev.doc_type.strip())
    if ev.doc_number.strip():
        parts.append(
            f"số {ev.doc_number.strip()}" if parts else f"Số {ev.doc_number.strip()}"
        )
    if ev.issued_on:
        parts.append(f"ngày {vn_date(ev.issued_on)}")
    if ev.issuer.strip():
        parts.append(f"của {ev.issuer.strip()}")
    text = " ".join(parts)
    summary = ev.summary.strip()
    if summary and text:
        # A trích yếu starting "về …" reads on from the citation, as NĐ 30 writes it.
        about = summary[:3].casefold() == "về "
        text = f"{text} {lower_first(summary)}" if about else f"{text}: {summary}"
    elif summary:
        text = summary
    text = text or ev.original_filename
    if ev.location.strip():
        text = f"{text} ({ev.location.strip()})"
    return text


def safe_name(text: str, max_chars: int = 80) -> str:
    """A file or folder name every OS and unzip tool accepts, Vietnamese letters kept.

    NFC (precomposed) so Windows shows "ế" as one letter; "/" and the other characters
    Windows refuses become "-"; whitespace collapses; no trailing dot or space; a name
    Windows reserves for a device ("CON", "NUL", "COM1"... before the first dot) gets
    a "_"; cut at a word boundary to keep extracted paths under Windows' 260-character
    limit.
    """
    name = unicodedata.normalize("NFC", text)
    name = _UNSAFE.sub("-", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if len(name) > max_chars:
        name = _shorten(name, max_chars)
    base, dot, rest = name.partition(".")
    if base.rstrip(" ").upper() in _RESERVED:
        name = f"{base.rstrip(' ')}_{dot}{rest}"
    return name or "_"


def _shorten(name: str, max_chars: int) -> str:
    """Cut at a word boundary, never inside a parenthesis; a lone long word is cut."""
    cut = name[: max_chars + 1]
    best = 0
    depth = 0
    for i, c in enumerate(cut):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(depth - 1, 0)
        elif c == " " and depth == 0 and i <= max_chars:
            best = i
    if best == 0:
        best = name.rfind(" ", 0, max_chars + 1)
        if "(" in name[:best]:
            best = name.index("(")
    out = name[:best] if best > 0 else name[:max_chars]
    return out.rstrip(" .-,;(")


def safe_filename(original: str, prefix: str = "", max_chars: int = 100) -> str:
    """ "125-KH-UBND - Kế hoạch CCHC.pdf": số/ký hiệu (sanitised), original name."""
    original = unicodedata.normalize("NFC", original)
    stem, dot, ext = original.rpartition(".")
    if not dot or not stem or len(ext) > 10 or not ext.isalnum():
        stem, ext = original, ""
    ext = ext.lower()
    head = f"{safe_name(prefix, 40)} - " if prefix.strip() else ""
    room = max(max_chars - len(head) - len(ext) - 1, 10)
    body = safe_name(stem, room)
    return f"{head}{body}.{ext}" if ext else f"{head}{body}"


def leaf_folder(code: str, title: str) -> str:
    """ "1.1.1 - Thời điểm ban hành Kế hoạch CCHC năm 2026 của UBND xã" (≤ 60 chars)."""
    return f"{code} - {safe_name(title, 60)}"
