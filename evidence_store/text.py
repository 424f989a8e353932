"""Vietnamese text reduced to ASCII: the one diacritic stripper, and the download header
that needs it (used by the web app's downloads and by S3's presigned URLs)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def strip_diacritics(text: str) -> str:
    """ "Đợt 1 – Biên bản" → "Dot 1 – Bien ban": marks dropped, "đ" read as "d"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """RFC 6266/5987 header: ASCII fallback plus the exact UTF-8 (Vietnamese) name."""
    name = unicodedata.normalize("NFC", filename)
    ascii_name = "".join(
        c
        for c in strip_diacritics(name)
        if c.isascii() and c.isprintable() and c not in '"\\'
    )
    ascii_name = " ".join(ascii_name.split()) or "tai-lieu"
    encoded = quote(name, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
