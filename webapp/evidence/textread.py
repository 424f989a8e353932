"""Read the first text of a PDF or DOCX, bounded, in a child process of its own.

Run as a script (``python -I textread.py pdf|docx``): the file comes on stdin, one JSON
line goes to stdout: ``{"text": "..."}``, or ``{"text": null, "reason": "..."}`` when
the document exceeds a bound or cannot be read. The parent (`webapp.evidence.prefill`)
adds a wall-clock timeout and kills the child past it.

The bounds, each of which makes "no proposal" the answer rather than more work:

* the child's own limits: CPU seconds and address space (its memory is never the
  web worker's, and is returned to the system when it exits);
* a PDF: the first ``MAX_PAGES`` pages, each page's content streams at most
  ``MAX_CONTENT_BYTES`` once decompressed (a 16 KB PDF can inflate to gigabytes);
* a DOCX: ``word/document.xml`` is streamed and parsed incrementally, never more than
  ``MAX_XML_BYTES`` of it and ``MAX_PARAGRAPHS`` paragraphs (python-docx would parse
  the whole part: +1 GB for a 6 MB file);
* at most ``MAX_CHARS`` characters of text are returned.

This file imports neither Flask nor the web app, so the child starts in a fraction of
a second, and it can be tested in-process.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import sys
import zipfile
from collections.abc import Iterator
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, XMLPullParser

MAX_PAGES = 2
MAX_CONTENT_BYTES = 512 * 1024
MAX_INFLATE_BYTES = 4 * 1024 * 1024  # any one stream, fonts and images included
MAX_XML_BYTES = 512 * 1024
MAX_PARAGRAPHS = 60
MAX_CHARS = 20_000
CPU_SECONDS = 2
MEMORY_HEADROOM = 64 * 1024 * 1024  # address space the child may add after startup

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class TooHeavy(Exception):
    """The document exceeds a reading bound: it gets no proposal."""


def read_text(fileobj: IO[bytes], kind: str) -> str:
    """The first text of a PDF or DOCX, bounded as the module says; raises
    :class:`TooHeavy` past a bound, and the parser's own error if unreadable."""
    if kind == "pdf":
        text = pdf_text(fileobj)
    elif kind == "docx":
        text = docx_text(fileobj)
    else:
        return ""
    return text[:MAX_CHARS]


def pdf_text(
    fileobj: IO[bytes],
    *,
    max_pages: int = MAX_PAGES,
    max_content_bytes: int = MAX_CONTENT_BYTES,
) -> str:
    """Text of the first pages; a page whose content exceeds the bound raises."""
    import pypdf

    # pypdf ≥ 7 can cap each decompression itself, so a bomb stops at a few MB
    # instead of inflating whole before the length check below.
    configure = getattr(pypdf, "apply_configuration", None)
    limit_reached = getattr(pypdf.errors, "LimitReachedError", ())
    try:
        with (
            configure(zlib_maximum_output_length=MAX_INFLATE_BYTES)
            if configure
            else contextlib.nullcontext()
        ):
            return _pdf_pages(pypdf.PdfReader(fileobj), max_pages, max_content_bytes)
    except limit_reached as exc:
        raise TooHeavy(f"pypdf limit: {exc}") from exc


def _pdf_pages(reader: Any, max_pages: int, max_content_bytes: int) -> str:
    if reader.is_encrypted and not reader.decrypt(""):
        return ""
    pages: list[str] = []
    for index, page in enumerate(reader.pages):
        if index >= max_pages:
            break
        contents = page.get_contents()
        if contents is not None and len(contents.get_data()) > max_content_bytes:
            raise TooHeavy(f"page {index + 1} content exceeds {max_content_bytes} B")
        pages.append(page.extract_text() or "")
    return "\n".join(pages)


def docx_text(
    fileobj: IO[bytes],
    *,
    max_xml_bytes: int = MAX_XML_BYTES,
    max_paragraphs: int = MAX_PARAGRAPHS,
) -> str:
    """Paragraphs in body order (header tables row by row, left cell then right),
    read incrementally from the start of the main document part."""
    with zipfile.ZipFile(fileobj) as archive:
        part = _main_part(archive)
        parser = _parser()
        lines: list[str] = []
        read = 0
        with archive.open(part) as stream:
            while len(lines) < max_paragraphs and read < max_xml_bytes:
                chunk = stream.read(min(64 * 1024, max_xml_bytes - read))
                if not chunk:
                    break
                read += len(chunk)
                parser.feed(chunk)
                for element in _ended(parser):
                    if element.tag == f"{_W}p":
                        lines.append(_paragraph_text(element))
                        element.clear()  # keep memory at one paragraph
    return "\n".join(lines[:max_paragraphs])


def _main_part(archive: zipfile.ZipFile) -> str:
    try:
        info = archive.getinfo("_rels/.rels")
    except KeyError:
        return "word/document.xml"
    if info.file_size > 64 * 1024:
        raise TooHeavy("package relationships too large")
    parser = _parser()
    parser.feed(archive.read(info))
    for element in _ended(parser):
        if element.tag == f"{_RELS}Relationship" and element.get("Type") == (
            _OFFICE_DOCUMENT
        ):
            return posixpath.normpath(element.get("Target", "").lstrip("/"))
    return "word/document.xml"


def _parser() -> XMLPullParser[Element]:
    return XMLPullParser(events=("end",))


def _ended(parser: XMLPullParser[Element]) -> Iterator[Element]:
    events = cast("Iterator[tuple[str, object]]", parser.read_events())
    for _event, element in events:
        if isinstance(element, Element):
            yield element


def _paragraph_text(element: Any) -> str:
    parts: list[str] = []
    for node in element.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}br":
            parts.append("\n")
        elif node.tag == f"{_W}tab":
            parts.append(" ")
    return "".join(parts)


def _limit_self() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[0])
    size = pages * resource.getpagesize() + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _peak_rss_kib() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str]) -> int:
    import tempfile

    kind = argv[1] if len(argv) > 1 else ""
    if kind == "pdf":
        # Imported before the limits, so that they bound the work, not the start-up.
        import pypdf  # noqa: F401

    with contextlib.suppress(OSError, ValueError):
        _limit_self()  # fails off Linux only: the parent's timeout still bounds time
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as copy:
        while chunk := sys.stdin.buffer.read(1024 * 1024):
            copy.write(chunk)
        copy.seek(0)
        try:
            answer: dict[str, Any] = {"text": read_text(copy, kind)}
        except TooHeavy as exc:
            answer = {"text": None, "reason": f"too heavy: {exc}"}
        except MemoryError:
            answer = {"text": None, "reason": "too heavy: memory limit"}
        except Exception as exc:  # a proposal is optional: unreadable means none
            answer = {"text": None, "reason": f"unreadable: {type(exc).__name__}"}
    answer["peak_rss_kib"] = _peak_rss_kib()  # for bench/prefill.py
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
