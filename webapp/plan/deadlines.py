"""Due dates from the words PAR plans use ("Quý I/2026", "Thường xuyên", …).

Pure: no Flask, no database. A cell may hold several parts ("- Kế hoạch: quý I hằng
năm. - Báo cáo kết quả: định kỳ quý, năm."); each part gets its own interpretation and
the task is due when its last dated part is.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Kind = Literal["date", "quarterly", "monthly", "continuous", "upstream", "unknown"]

KIND_LABELS: dict[str, str] = {
    "date": "Thời hạn",
    "quarterly": "Định kỳ hằng quý",
    "monthly": "Định kỳ hằng tháng",
    "continuous": "Thường xuyên",
    "upstream": "Theo cơ quan cấp trên",
    "unknown": "Chưa xác định",
}

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"(?:\s*[/-]\s*|\s+(?:năm\s+)?)(\d{4})"
_QUARTER = re.compile(r"quý\s+(iv|iii|ii|i|[1-4])\b(?:" + _YEAR + r")?")
_MONTH = re.compile(r"tháng\s+(\d{1,2})\b(?:" + _YEAR + r")?")
_DAY = re.compile(r"(?:ngày\s+)?(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_YEAR_ONLY = re.compile(r"\bnăm\s+(\d{4})\b")
# Phrases that hand the date to someone else: no due date of the unit's own.
_UPSTREAM = (
    "theo hướng dẫn",
    "hướng dẫn của",
    "theo yêu cầu",
    "theo lộ trình",
    "theo tiến độ",
    "theo kế hoạch",
    "sau khi",
    "ngay sau",
    "đột xuất",
)


_UPSTREAM_STARTS = ("theo ", "sau khi", "ngay sau", "thực hiện theo")


@dataclass(frozen=True)
class DeadlinePart:
    """One part of a deadline cell: its label ("Kế hoạch"), words and meaning."""

    text: str
    label: str
    kind: Kind
    due: date | None
    checkpoints: tuple[date, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Deadline:
    """A whole cell: the text as written, its parts and the task's due date."""

    text: str
    parts: tuple[DeadlinePart, ...] = field(default_factory=tuple)
    year: int | None = None  # the plan's year

    @property
    def due_date(self) -> date | None:
        """The last dated part; parts of the plan's own year win over a later one
        (a province's "Quý I/2027" summary does not move the unit's 2026 report)."""
        dues = [p.due for p in self.parts if p.due is not None]
        own = [d for d in dues if d.year == self.year]
        return max(own or dues) if dues else None

    @property
    def kind(self) -> Kind:
        kinds = {p.kind for p in self.parts}
        if not kinds:
            return "unknown"
        order: tuple[Kind, ...] = (
            "quarterly",
            "monthly",
            "date",
            "continuous",
            "upstream",
        )
        return next((k for k in order if k in kinds), "unknown")

    @property
    def checkpoints(self) -> tuple[date, ...]:
        return tuple(sorted({c for p in self.parts for c in p.checkpoints}))

    @property
    def interpretation(self) -> str:
        return "; ".join(
            (f"{p.label}: " if p.label else "") + p.note for p in self.parts
        )


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\xa0", " ")
    return re.sub(r"\s+", " ", text).strip().lower()


def split_parts(text: str) -> list[str]:
    """Split a cell on its "- " bullets (line starts or after a full stop)."""
    cleaned = unicodedata.normalize("NFC", text).replace("\xa0", " ")
    pieces = re.split(r"(?:^|\n|(?<=[.;:])\s+|\s{2,})[-–•]\s+", cleaned)
    parts = [re.sub(r"\s+", " ", p).strip(" .;") for p in pieces]
    return [p for p in parts if p]


def _label(part: str) -> tuple[str, str]:
    """ "Kế hoạch: quý I hằng năm" → ("Kế hoạch", "quý I hằng năm")."""
    if ":" in part:
        head, rest = part.split(":", 1)
        # A label is short words, not a date ("10:30") nor a whole sentence.
        if rest.strip() and len(head.split()) <= 16 and not re.search(r"\d$", head):
            return head.strip(), rest.strip()
    return "", part


def parse_part(text: str, year: int) -> DeadlinePart:
    label, body = _label(text)
    low = normalise(body)
    periodic = "định kỳ" in low or "hằng quý" in low or "hàng quý" in low
    annual = "hằng năm" in low or "hàng năm" in low
    if "hằng tháng" in low or "hàng tháng" in low:
        points = tuple(month_end(year, m) for m in range(1, 13))
        return DeadlinePart(
            text,
            label,
            "monthly",
            points[-1],
            points,
            "định kỳ cuối mỗi tháng, đến " + _fmt(points[-1]),
        )
    if periodic and ("quý" in low) and not _QUARTER.search(low):
        points = tuple(quarter_end(year, q) for q in range(1, 5))
        note = f"định kỳ cuối mỗi quý (31/03, 30/06, 30/09, 31/12/{year})"
        if re.search(r"quý\s*,\s*năm", low):
            note += " và báo cáo năm"
        return DeadlinePart(text, label, "quarterly", points[-1], points, note)
    # "Theo Kế hoạch số 101/KH-UBND ngày 25/5/2025": that date is the document's.
    if low.startswith(_UPSTREAM_STARTS) and not re.search(r"trước|chậm nhất", low):
        return DeadlinePart(
            text, label, "upstream", None, (), "theo văn bản của cơ quan cấp trên"
        )
    if m := _DAY.search(low):
        d = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        prefix = "trước ngày" if "trước" in low else "ngày"
        return DeadlinePart(text, label, "date", d, (), f"{prefix} {_fmt(d)}")
    if m := _QUARTER.search(low):
        q = _ROMAN[m.group(1)]
        y = int(m.group(2)) if m.group(2) else year
        d = quarter_end(y, q)
        return DeadlinePart(text, label, "date", d, (), f"hết quý {q}: {_fmt(d)}")
    if m := _MONTH.search(low):
        month = int(m.group(1))
        if 1 <= month <= 12:
            y = int(m.group(2)) if m.group(2) else year
            d = month_end(y, month)
            return DeadlinePart(
                text, label, "date", d, (), f"hết tháng {month:02d}: {_fmt(d)}"
            )
    if any(p in low for p in _UPSTREAM):
        return DeadlinePart(
            text, label, "upstream", None, (), "theo văn bản của cơ quan cấp trên"
        )
    if "thường xuyên" in low:
        d = date(year, 12, 31)
        return DeadlinePart(
            text, label, "continuous", d, (), f"thường xuyên, đánh giá đến {_fmt(d)}"
        )
    if m := _YEAR_ONLY.search(low):
        d = date(int(m.group(1)), 12, 31)
        return DeadlinePart(text, label, "date", d, (), f"trong năm: {_fmt(d)}")
    if annual or low in {"năm", "hằng năm"}:
        d = date(year, 12, 31)
        return DeadlinePart(text, label, "date", d, (), f"hằng năm: {_fmt(d)}")
    return DeadlinePart(text, label, "unknown", None, (), "chưa xác định được thời hạn")


def parse_deadline(text: str, year: int) -> Deadline:
    """Interpret a "Thời gian hoàn thành" cell for a plan of the given year."""
    return Deadline(
        text=text.strip(),
        parts=tuple(parse_part(p, year) for p in split_parts(text)),
        year=year,
    )
