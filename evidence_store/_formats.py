"""Bounded, stdlib-only inspection of the file formats evidence may take.

Every function here reads a fixed or limit-bounded number of bytes, never the
whole file, and never extracts anything: a hostile upload costs the same few
milliseconds and megabytes as an honest one. Refusals are raised as
:class:`Refusal` carrying the reason code and the Vietnamese message tail that
:mod:`evidence_store.validation` prefixes with the file's name.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, BinaryIO

HEAD_SIZE = 8192
#: A PDF must end with "%%EOF" within its last KiB (PDF 32000-1 §7.5.5,
#: relaxed as readers do); a missing one means a truncated upload.
PDF_TAIL_SIZE = 1024
#: Per-entry cap when reading an XML part's prolog (XML declaration, comments,
#: DOCTYPE): real prologs are under 200 bytes.
XML_PROLOG_CAP = 64 * 1024
#: Total decompressed bytes read from one archive while scanning prologs.
XML_SCAN_BUDGET = 64 * 1024 * 1024
#: Metadata parts read whole ([Content_Types].xml, mimetype, manifest).
SMALL_PART_CAP = 1024 * 1024
#: Central directory bytes allowed per permitted entry (names up to ~1 KiB).
CD_BYTES_PER_ENTRY = 1024
MAX_JPEG_SEGMENTS = 1024
MAX_CFB_DIR_SECTORS = 256


class Refusal(Exception):
    """Internal: the file is refused for ``reason``; ``tail`` completes the
    sentence "Tệp “<name>” …"."""

    def __init__(self, reason: str, tail: str) -> None:
        super().__init__(reason, tail)
        self.reason = reason
        self.tail = tail


def corrupt(detail: str) -> Refusal:
    """Build the refusal for a structurally broken file."""
    return Refusal(
        "corrupt",
        f"bị hỏng hoặc có cấu trúc bất thường ({detail}): không được chấp nhận.",
    )


ENCRYPTED_REFUSAL = (
    "được đặt mật khẩu nên không kiểm tra được nội dung: "
    "hãy gỡ mật khẩu rồi tải lên lại."
)
MACRO_REFUSAL = (
    "chứa macro (mã lệnh VBA/Basic): không được chấp nhận. "
    "Hãy lưu lại thành tài liệu không có macro rồi tải lên."
)


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes say: a ``category`` and a Vietnamese ``label``.

    Categories: ``pdf``, ``png``, ``jpeg``, ``zip``, ``cfb`` (inspected
    further), ``executable``, ``script``, ``html`` (refused), ``other`` (a
    recognised but unaccepted type) and ``unknown``.
    """

    category: str
    label: str = ""


_EXECUTABLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "tệp EXE/DLL của Windows"),
    (b"\x7fELF", "tệp ELF của Linux"),
    (b"\xfe\xed\xfa\xce", "tệp Mach-O của macOS"),
    (b"\xfe\xed\xfa\xcf", "tệp Mach-O của macOS"),
    (b"\xce\xfa\xed\xfe", "tệp Mach-O của macOS"),
    (b"\xcf\xfa\xed\xfe", "tệp Mach-O của macOS"),
    (b"\xca\xfe\xba\xbe", "tệp Mach-O/Java"),
    (b"\x00asm", "mô-đun WebAssembly"),
    (b"dex\n", "ứng dụng Android"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "lối tắt Windows (LNK)"),
)

_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"Rar!\x1a\x07", "tệp nén RAR"),
    (b"7z\xbc\xaf\x27\x1c", "tệp nén 7z"),
    (b"\x1f\x8b", "tệp nén GZIP"),
    (b"BZh", "tệp nén BZIP2"),
    (b"\xfd7zXZ\x00", "tệp nén XZ"),
    (b"GIF87a", "ảnh GIF"),
    (b"GIF89a", "ảnh GIF"),
    (b"II*\x00", "ảnh TIFF"),
    (b"MM\x00*", "ảnh TIFF"),
    (b"{\\rtf", "văn bản RTF"),
    (b"8BPS", "ảnh Photoshop (PSD)"),
)

# Markers that make a text file HTML wherever they appear in its head.
_STRONG_HTML_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<body", b"<iframe")
# Markers that do so when the text starts with a tag, as browsers sniff.
_HTML_MARKERS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<object",
    b"<embed",
    b"<meta",
    b"<title",
    b"<style",
    b"<form",
    b"<img",
    b"<div",
    b"<a href",
    b"<table",
    b"<h1",
    b"<p>",
    b"<br",
)


def _text_view(head: bytes) -> bytes | None:
    """Return ``head`` as lower-case ASCII-compatible bytes if it looks like
    text (UTF-8, Latin-1 or UTF-16 with BOM), else ``None``."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head[2:].decode(
            "utf-16-le" if head[0] == 0xFF else "utf-16-be", "ignore"
        )
        return text.encode("utf-8", "ignore").lower().lstrip()
    body = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in body:
        return None
    return body.lower().lstrip()


def sniff(head: bytes) -> Sniffed:
    """Classify a file by its first bytes (``HEAD_SIZE`` of them)."""
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c")
    # PDF readers accept a few bytes of junk before the header; allow only a
    # BOM or whitespace, never markup that a browser might render first.
    if stripped.startswith(b"%PDF-") and len(head) - len(stripped) <= 16:
        return Sniffed("pdf", "PDF")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png", "ảnh PNG")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpeg", "ảnh JPEG")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed("zip", "tệp nén ZIP")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed("cfb", "tệp Office 97-2003")
    for magic, label in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            return Sniffed("executable", label)
    for magic, label in _OTHER_MAGIC:
        if head.startswith(magic):
            return Sniffed("other", label)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("other", "ảnh WebP")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return Sniffed("other", "ảnh HEIC (hãy chuyển sang JPEG)")
        return Sniffed("other", "tệp video/âm thanh")
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return Sniffed("other", "ảnh BMP")
    text = _text_view(head)
    if text is None:
        return Sniffed("unknown")
    if text.startswith(b"#!"):
        return Sniffed("script", "mã lệnh (script)")
    if b"<?php" in text or text.startswith((b"<%", b"@echo off", b"<job", b"<package")):
        return Sniffed("script", "mã lệnh (script)")
    if any(marker in text for marker in _STRONG_HTML_MARKERS) or (
        text.startswith(b"<") and any(marker in text for marker in _HTML_MARKERS)
    ):
        return Sniffed("html", "trang HTML")
    if text.startswith(b"<?xml"):
        return Sniffed("other", "tệp XML")
    return Sniffed("unknown")


# -- PDF ---------------------------------------------------------------------


def check_pdf(f: BinaryIO, size: int) -> None:
    """Refuse a PDF cut short (no ``%%EOF`` near its end)."""
    f.seek(max(0, size - PDF_TAIL_SIZE))
    if b"%%EOF" not in f.read(PDF_TAIL_SIZE):
        raise corrupt("tệp PDF thiếu phần kết thúc, có thể tải lên bị gián đoạn")


# -- images ------------------------------------------------------------------


def image_size_png(f: BinaryIO) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR chunk."""
    f.seek(8)
    chunk = f.read(16)
    if len(chunk) < 16 or chunk[4:8] != b"IHDR":
        raise corrupt("ảnh PNG thiếu phần đầu IHDR")
    width, height = struct.unpack(">II", chunk[8:16])
    if width == 0 or height == 0:
        raise corrupt("ảnh PNG có kích thước 0")
    return width, height


# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def image_size_jpeg(f: BinaryIO, size: int) -> tuple[int, int]:
    """Return (width, height) from a JPEG's first SOF segment.

    Walks segment headers by their lengths (reading 4 bytes each, at most
    ``MAX_JPEG_SEGMENTS``), so EXIF blocks are skipped, not read.
    """
    pos = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        f.seek(pos)
        header = f.read(4)
        if len(header) < 2 or header[0] != 0xFF:
            raise corrupt("ảnh JPEG có phân đoạn sai định dạng")
        marker = header[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker in (0xD9, 0xDA) or len(header) < 4:
            raise corrupt("ảnh JPEG không có thông tin kích thước")
        (length,) = struct.unpack(">H", header[2:4])
        if length < 2:
            raise corrupt("ảnh JPEG có phân đoạn sai định dạng")
        if marker in _JPEG_SOF:
            frame = f.read(5)
            if len(frame) < 5:
                raise corrupt("ảnh JPEG bị cắt cụt")
            height, width = struct.unpack(">HH", frame[1:5])
            if width == 0 or height == 0:
                raise corrupt("ảnh JPEG có kích thước 0")
            return width, height
        pos += 2 + length
        if pos >= size:
            break
    raise corrupt("ảnh JPEG không có thông tin kích thước")


# -- ZIP containers (DOCX, XLSX, ODT, ODS) --------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CD_HEADER_SIZE = 46
_S_IFMT = 0o170000
_S_IFLNK = 0o120000

_OOXML_KINDS: tuple[tuple[str, str], ...] = (
    ("wordprocessingml.document.main+xml", "docx"),
    ("spreadsheetml.sheet.main+xml", "xlsx"),
)
_OOXML_OTHER: tuple[tuple[str, str], ...] = (
    ("presentationml.presentation.main+xml", "bài trình chiếu PowerPoint (PPTX)"),
    ("presentationml.slideshow.main+xml", "bài trình chiếu PowerPoint (PPSX)"),
    ("wordprocessingml.template.main+xml", "mẫu Word (DOTX)"),
    ("spreadsheetml.template.main+xml", "mẫu Excel (XLTX)"),
)
_ODF_KINDS = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
_ODF_MACRO = re.compile(r"(?:Basic|Scripts)/[^/]+/[^/]+")


@dataclass(frozen=True)
class ZipLimits:
    """The archive limits, copied from ``UploadLimits``."""

    max_uncompressed: int
    max_ratio: int
    max_entries: int


def _entries_refusal(max_entries: int) -> Refusal:
    return Refusal(
        "zip_bomb",
        f"chứa quá nhiều thành phần bên trong (hơn {max_entries:,}".replace(",", ".")
        + "): nghi là “bom nén”, không được chấp nhận.",
    )


def _central_directory(f: BinaryIO, size: int) -> tuple[int, int]:
    """Locate the central directory as :mod:`zipfile` does: (start, size)."""
    tail_len = min(size, _EOCD.size + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + _EOCD.size > len(tail):
        raise corrupt("không tìm thấy mục lục của tệp nén")
    _sig, disk, cd_disk, _n_disk, _n_total, cd_size, _cd_offset, _comment = (
        _EOCD.unpack_from(tail, pos)
    )
    if disk or cd_disk:
        raise corrupt("tệp nén nhiều phần")
    eocd_at = size - tail_len + pos
    cd_end = eocd_at
    if eocd_at >= _ZIP64_LOCATOR.size:
        f.seek(eocd_at - _ZIP64_LOCATOR.size)
        locator = f.read(_ZIP64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            record_at = eocd_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
            if record_at < 0:
                raise corrupt("mục lục ZIP64 sai")
            f.seek(record_at)
            record = f.read(_ZIP64_EOCD.size)
            if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
                raise corrupt("mục lục ZIP64 sai")
            cd_size = _ZIP64_EOCD.unpack(record)[8]
            cd_end = record_at
    start = cd_end - cd_size
    if start < 0:
        raise corrupt("mục lục của tệp nén sai")
    return start, cd_size


def count_entries(f: BinaryIO, size: int, max_entries: int) -> int:
    """Count central-directory records, refusing beyond ``max_entries``.

    Runs before :class:`zipfile.ZipFile`, which would otherwise build one
    object per record of an arbitrarily large directory in memory.
    """
    start, cd_size = _central_directory(f, size)
    if cd_size > max(SMALL_PART_CAP, max_entries * CD_BYTES_PER_ENTRY):
        raise _entries_refusal(max_entries)
    f.seek(start)
    directory = f.read(cd_size)
    if len(directory) < cd_size:
        raise corrupt("mục lục của tệp nén bị cắt cụt")
    offset = 0
    count = 0
    while offset < cd_size:
        if (
            directory[offset : offset + 4] != b"PK\x01\x02"
            or offset + _CD_HEADER_SIZE > cd_size
        ):
            raise corrupt("mục lục của tệp nén sai")
        name_len, extra_len, comment_len = struct.unpack_from(
            "<3H", directory, offset + 28
        )
        offset += _CD_HEADER_SIZE + name_len + extra_len + comment_len
        count += 1
        if count > max_entries:
            raise _entries_refusal(max_entries)
    return count


def _safe_label(name: str) -> str:
    """Shorten an archive entry name for a message; drop control characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= 80 else clean[:77] + "…"


def _is_unsafe_path(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[\\/]", name)


def decode_xml_head(data: bytes) -> str:
    """Decode the start of an XML part well enough to read its markup.

    UTF-16 is recognised by BOM or by NUL bytes next to ASCII characters;
    anything else is read as Latin-1, which keeps ASCII markup intact whatever
    the real single-byte or UTF-8 encoding.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith(b"\xff\xfe") or (
        len(data) >= 2 and data[1] == 0 and data[0] != 0
    ):
        body = data[2:] if data.startswith(b"\xff\xfe") else data
        return body[: len(body) // 2 * 2].decode("utf-16-le", "replace")
    if data.startswith(b"\xfe\xff") or (
        len(data) >= 2 and data[0] == 0 and data[1] != 0
    ):
        body = data[2:] if data.startswith(b"\xfe\xff") else data
        return body[: len(body) // 2 * 2].decode("utf-16-be", "replace")
    return data.decode("latin-1")


_SAFE_XML_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be", "us-ascii", "ascii"}
    | {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
)
_ENCODING_DECL = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


# Encodings libxml2 detects by themselves (UCS-4 in any byte order, EBCDIC):
# an XML part in one of them could carry a DOCTYPE our decoder cannot see,
# and office suites never write them.
_ODD_XML_STARTS = (
    b"\x00\x00\x00<",
    b"<\x00\x00\x00",
    b"\x00\x00<\x00",
    b"\x00<\x00\x00",
    b"\xff\xfe\x00\x00",
    b"\x00\x00\xfe\xff",
    b"\x4c\x6f\xa7\x94",
)


def _prolog_verdict(text: str, complete: bool) -> str:
    """Scan an XML prolog: "ok" (root element reached, or not XML at all),
    "entities" (a ``<!DOCTYPE``/``<!ENTITY``, or an encoding a parser could be
    tricked with), or "more" (need more bytes to decide)."""
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        if i >= n:
            return "ok" if complete else "more"
        if text[i] != "<":
            return "ok"  # not XML: no parser will read a DTD from it
        if n - i < 4 and not complete:
            return "more"
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return "ok" if complete else "more"
            declaration = text[i : end + 2]
            match = _ENCODING_DECL.search(declaration)
            if match and match.group(1).lower() not in _SAFE_XML_ENCODINGS:
                return "entities"
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return "ok" if complete else "more"
            i = end + 3
        elif text.startswith("<!", i):
            return "entities"  # <!DOCTYPE, <!ENTITY, or worse, before the root
        else:
            return "ok"  # the root element: a DTD can no longer follow


def scan_prolog(stream: IO[bytes]) -> tuple[str, int]:
    """Read the start of an XML part until its prolog is judged; return the
    verdict of :func:`_prolog_verdict` and the bytes read."""
    data = b""
    while True:
        more = stream.read(4096)
        data += more
        if data.startswith(_ODD_XML_STARTS):
            return "entities", len(data)
        verdict = _prolog_verdict(decode_xml_head(data), complete=not more)
        if verdict != "more":
            return verdict, len(data)
        if len(data) >= XML_PROLOG_CAP:
            # A prolog this long is not something an office suite writes.
            return "entities", len(data)


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with archive.open(info) as stream:
        return stream.read(cap)


def inspect_zip(f: BinaryIO, size: int, limits: ZipLimits) -> Sniffed:
    """Check an archive for zip slip, zip bombs, encryption, macros and XML
    entity declarations; return what kind of document it is.

    Only the central directory, the small metadata parts and the first bytes
    of each part are read; declared sizes are trusted only as upper bounds
    (zipfile stops decompressing at the declared size).
    """
    count_entries(f, size, limits.max_entries)
    try:
        archive = zipfile.ZipFile(f)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        raise corrupt("tệp nén không đọc được") from exc
    with archive:
        infos = archive.infolist()
        names: set[str] = set()
        total = 0
        for info in infos:
            if _is_unsafe_path(info.filename):
                raise Refusal(
                    "zip_slip",
                    "chứa đường dẫn không an toàn bên trong "
                    f"(“{_safe_label(info.filename)}”): không được chấp nhận.",
                )
            if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
                raise Refusal(
                    "zip_slip",
                    "chứa liên kết tượng trưng (symlink) bên trong "
                    f"(“{_safe_label(info.filename)}”): không được chấp nhận.",
                )
            if info.filename in names:
                raise corrupt(
                    f"thành phần “{_safe_label(info.filename)}” xuất hiện hai lần"
                )
            names.add(info.filename)
            total += info.file_size
        if total > limits.max_uncompressed:
            raise Refusal(
                "zip_bomb",
                f"khi giải nén lên tới {format_size(total)}, vượt giới hạn "
                f"{format_size(limits.max_uncompressed)}: nghi là “bom nén”, "
                "không được chấp nhận.",
            )
        ratio = total / size
        if ratio > limits.max_ratio:
            raise Refusal(
                "zip_bomb",
                f"có tỷ lệ nén {ratio:,.0f}:1".replace(",", ".")
                + f", vượt giới hạn {limits.max_ratio}:1: nghi là “bom nén”, "
                "không được chấp nhận.",
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise Refusal("encrypted", ENCRYPTED_REFUSAL)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # Office suites only write these two; zipfile decompresses the
                # others (bzip2, LZMA) without an output bound.
                raise corrupt("phương thức nén không được hỗ trợ")
        try:
            _scan_parts(archive, infos)
            return _document_kind(archive, names)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise corrupt("tệp nén không đọc được") from exc


def _scan_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    # Every part is scanned, whatever its name: a part's content type, not its
    # extension, decides whether an XML parser reads it.
    budget = XML_SCAN_BUDGET
    for info in infos:
        if info.is_dir() or info.file_size == 0:
            continue
        if budget <= 0:
            raise Refusal(
                "zip_bomb",
                "chứa quá nhiều dữ liệu cần kiểm tra: nghi là “bom nén”, "
                "không được chấp nhận.",
            )
        with archive.open(info) as stream:
            verdict, consumed = scan_prolog(stream)
        budget -= consumed
        if verdict == "entities":
            raise Refusal(
                "xml_entities",
                "chứa khai báo DOCTYPE/ENTITY trong phần XML "
                f"“{_safe_label(info.filename)}”, có thể dùng để tấn công máy chủ: "
                "không được chấp nhận.",
            )


def _document_kind(archive: zipfile.ZipFile, names: set[str]) -> Sniffed:
    lower = {name.lower(): name for name in names}
    if any(name.endswith("vbaproject.bin") for name in lower):
        raise Refusal("macro", MACRO_REFUSAL)
    if "[content_types].xml" in lower:
        info = archive.getinfo(lower["[content_types].xml"])
        types = decode_xml_head(_read_part(archive, info, SMALL_PART_CAP))
        if "macroenabled" in types.lower():
            raise Refusal("macro", MACRO_REFUSAL)
        for marker, kind in _OOXML_KINDS:
            if marker in types:
                return Sniffed(kind)
        for marker, label in _OOXML_OTHER:
            if marker in types:
                return Sniffed("other", label)
        return Sniffed("other", "tệp Office (OOXML) không rõ loại")
    if "mimetype" in names:
        mimetype = _read_part(archive, archive.getinfo("mimetype"), 256)
        if "META-INF/manifest.xml" in names:
            manifest = _read_part(
                archive, archive.getinfo("META-INF/manifest.xml"), SMALL_PART_CAP
            )
            if b"encryption-data" in manifest:
                raise Refusal("encrypted", ENCRYPTED_REFUSAL)
        if any(_ODF_MACRO.fullmatch(name) for name in names):
            raise Refusal("macro", MACRO_REFUSAL)
        odf_kind = _ODF_KINDS.get(mimetype.decode("ascii", "replace").strip())
        if odf_kind:
            return Sniffed(odf_kind)
        return Sniffed("other", "tài liệu OpenDocument không phải văn bản/bảng tính")
    return Sniffed("other", "tệp nén ZIP")


# -- OLE compound files (DOC, XLS) ---------------------------------------------

_END_OF_CHAIN = 0xFFFFFFFE
_MAX_REGULAR_SECTOR = 0xFFFFFFFA
# Root CLSID of Windows Installer packages ({000C1084-0000-0000-C000-000000000046}).
_MSI_CLSID = bytes.fromhex("84100c0000000000c000000000000046")


class _CompoundFile:
    """Just enough of [MS-CFB] to list the directory, with bounded reads."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._size = size
        f.seek(0)
        header = f.read(512)
        if len(header) < 512:
            raise corrupt("tệp Office 97-2003 bị cắt cụt")
        (major,) = struct.unpack_from("<H", header, 0x1A)
        (shift,) = struct.unpack_from("<H", header, 0x1E)
        if (major, shift) not in ((3, 9), (4, 12)):
            raise corrupt("tệp Office 97-2003 có phần đầu sai")
        self.sector_size = 1 << shift
        self._per_sector = self.sector_size // 4
        (self.dir_start,) = struct.unpack_from("<L", header, 0x30)
        self._difat_start, self._difat_count = struct.unpack_from("<LL", header, 0x44)
        self._difat_head = struct.unpack_from("<109L", header, 0x4C)

    def _read_u32(self, sector: int, index: int) -> int:
        offset = (sector + 1) * self.sector_size + index * 4
        if sector > _MAX_REGULAR_SECTOR or offset + 4 > self._size:
            raise corrupt("tệp Office 97-2003 có bảng cấp phát sai")
        self._f.seek(offset)
        (value,) = struct.unpack("<L", self._f.read(4))
        return int(value)

    def _fat_sector(self, index: int) -> int:
        if index < len(self._difat_head):
            return int(self._difat_head[index])
        index -= len(self._difat_head)
        hop, slot = divmod(index, self._per_sector - 1)
        if hop >= self._difat_count:
            raise corrupt("tệp Office 97-2003 có bảng cấp phát sai")
        sector = self._difat_start
        for _ in range(hop):
            sector = self._read_u32(sector, self._per_sector - 1)
        return self._read_u32(sector, slot)

    def next_sector(self, sector: int) -> int:
        fat_index, slot = divmod(sector, self._per_sector)
        return self._read_u32(self._fat_sector(fat_index), slot)

    def directory(self) -> list[tuple[str, int, bytes]]:
        """Return (name, object type, CLSID) of every directory entry."""
        entries: list[tuple[str, int, bytes]] = []
        sector = self.dir_start
        seen: set[int] = set()
        while sector != _END_OF_CHAIN:
            if (
                sector in seen
                or len(seen) >= MAX_CFB_DIR_SECTORS
                or sector > _MAX_REGULAR_SECTOR
            ):
                raise corrupt("tệp Office 97-2003 có thư mục sai")
            seen.add(sector)
            offset = (sector + 1) * self.sector_size
            if offset + self.sector_size > self._size:
                raise corrupt("tệp Office 97-2003 bị cắt cụt")
            self._f.seek(offset)
            block = self._f.read(self.sector_size)
            for start in range(0, self.sector_size, 128):
                raw = block[start : start + 128]
                name_len, kind = struct.unpack_from("<HB", raw, 64)
                if kind == 0 or not 2 <= name_len <= 64:
                    continue
                name = raw[: name_len - 2].decode("utf-16-le", "replace")
                entries.append((name, kind, raw[80:96]))
            sector = self.next_sector(sector)
        return entries


def inspect_cfb(f: BinaryIO, size: int) -> Sniffed:
    """Tell a Word or Excel 97-2003 file from other OLE files (installers,
    PowerPoint, password-protected OOXML) by its directory entry names."""
    entries = _CompoundFile(f, size).directory()
    if not entries:
        raise corrupt("tệp Office 97-2003 không có thư mục")
    names = {name for name, _kind, _clsid in entries}
    root_clsid = entries[0][2] if entries[0][1] == 5 else b""
    if root_clsid == _MSI_CLSID:
        return Sniffed("executable", "gói cài đặt Windows (MSI)")
    if "EncryptedPackage" in names:
        raise Refusal("encrypted", ENCRYPTED_REFUSAL)
    if "WordDocument" in names:
        if "Macros" in names or "VBA" in names:
            raise Refusal("macro", MACRO_REFUSAL)
        return Sniffed("doc")
    if "Workbook" in names or "Book" in names:
        if "_VBA_PROJECT_CUR" in names or "VBA" in names:
            raise Refusal("macro", MACRO_REFUSAL)
        return Sniffed("xls")
    if "PowerPoint Document" in names:
        return Sniffed("other", "bài trình chiếu PowerPoint 97-2003 (PPT)")
    return Sniffed("other", "tệp OLE không phải Word/Excel")


def format_size(n: int) -> str:
    """Format a byte count for Vietnamese users: "1,5 MB", "100 MB", "820 byte"."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            text = f"{n / scale:.1f}".rstrip("0").rstrip(".")
            return f"{text.replace('.', ',')} {unit}"
    return f"{n} byte"
