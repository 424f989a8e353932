"""Safe previews of Word and Excel documents as HTML (PDF and images preview natively).

A DOCX becomes HTML through mammoth (headings, paragraphs, lists, tables), an XLSX's
first sheets become HTML tables (openpyxl, read-only). Both are bounded, and what comes
out goes through an allow-list sanitiser: only plain structural tags survive, without
attributes but for the few listed (a link's http(s) target, an embedded image's data:
source). The page is then served with a sandboxing Content-Security-Policy, so even a
tag the sanitiser missed could run nothing.
"""

from __future__ import annotations

import html
import logging
from html.parser import HTMLParser
from typing import IO

logger = logging.getLogger(__name__)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML_PREVIEW_TYPES = frozenset({DOCX_MIME, XLSX_MIME})

MAX_SHEETS = 3
MAX_ROWS = 200
MAX_COLS = 30
MAX_HTML_CHARS = 2_000_000

_ALLOWED_TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u",
    "s", "sub", "sup", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "caption", "blockquote", "a", "img", "section", "span",
}  # fmt: skip
_VOID_TAGS = {"br", "img"}
# Content of these is dropped with the tag: a script's text must not become text.
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template"}


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skipping += 1
            return
        if self.skipping or tag not in _ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            value = value or ""
            if tag == "a" and name == "href" and value.startswith(("http:", "https:")):
                kept.append(f' href="{html.escape(value)}" rel="noopener noreferrer"')
            elif tag == "img" and name == "src" and value.startswith("data:image/"):
                kept.append(f' src="{html.escape(value)}"')
            elif tag == "img" and name == "alt":
                kept.append(f' alt="{html.escape(value)}"')
            elif (
                tag in ("td", "th")
                and name in ("colspan", "rowspan")
                and value.isdigit()
            ):
                kept.append(f' {name}="{value}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping or tag not in _ALLOWED_TAGS or tag in _VOID_TAGS:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(html.escape(data))


def sanitise(markup: str) -> str:
    """Keep only structural tags and safe attributes; every text is escaped."""
    parser = _Sanitiser()
    parser.feed(markup[:MAX_HTML_CHARS])
    parser.close()
    return "".join(parser.out)


def docx_html(fileobj: IO[bytes]) -> str:
    """The document's body as sanitised HTML."""
    import mammoth

    result = mammoth.convert_to_html(fileobj)
    return sanitise(result.value)


def xlsx_html(fileobj: IO[bytes]) -> str:
    """The first sheets as HTML tables (bounded rows and columns), values as shown."""
    from openpyxl import load_workbook

    wb = load_workbook(fileobj, read_only=True, data_only=True)
    parts: list[str] = []
    try:
        for ws in wb.worksheets[:MAX_SHEETS]:
            parts.append(f"<section><h2>{html.escape(ws.title)}</h2><table>")
            rows = 0
            for row in ws.iter_rows(
                max_row=MAX_ROWS, max_col=MAX_COLS, values_only=True
            ):
                rows += 1
                cells = "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in row)
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
            if rows >= MAX_ROWS:
                parts.append(f"<p>Chỉ hiển thị {MAX_ROWS} dòng đầu.</p>")
            parts.append("</section>")
        if len(wb.worksheets) > MAX_SHEETS:
            parts.append(
                f"<p>Chỉ hiển thị {MAX_SHEETS}/{len(wb.worksheets)} trang tính đầu; "
                "tải tệp về để xem đầy đủ.</p>"
            )
    finally:
        wb.close()
    return "".join(parts)


def _cell_text(value: object) -> str:
    from datetime import date, datetime
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.strftime("%d/%m/%Y %H:%M")
            if value.time()
            else value.strftime("%d/%m/%Y")
        )
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "Đúng" if value else "Sai"
    if isinstance(value, int | float | Decimal):
        from scoring import format_points

        return format_points(Decimal(str(value)))
    return str(value)


def render_preview(fileobj: IO[bytes], mime_type: str) -> str:
    """The sanitised HTML body for a DOCX or XLSX; a Vietnamese note if unreadable."""
    try:
        if mime_type == DOCX_MIME:
            return docx_html(fileobj)
        if mime_type == XLSX_MIME:
            return xlsx_html(fileobj)
    except Exception:  # a damaged file must give a message, not a 500
        logger.warning("preview failed for a %s document", mime_type, exc_info=True)
        return "<p>Không đọc được nội dung tệp để xem trước; hãy tải tệp về.</p>"
    raise ValueError(mime_type)
