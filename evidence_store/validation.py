"""Upload validation: every upload path calls :func:`validate_upload` first.

The type is decided by content, never by the name or the browser's
Content-Type, and the extension must agree with it. Archives (DOCX, XLSX,
ODT, ODS) are inspected without extracting anything. Each refusal is an
:class:`UploadRejected` with a short ``reason`` code and a Vietnamese
``message`` to show as is. Validation reads a bounded number of bytes
whatever the file, so it costs milliseconds and a few megabytes at most.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

from . import _formats
from ._formats import Refusal, Sniffed, format_size
from .core import is_seekable

MIB = 1 << 20


@dataclass(frozen=True)
class _Kind:
    code: str  # as listed to users
    label: str  # in sentences: "không phải {label}"
    mime_type: str
    extensions: tuple[str, ...]  # first is the usual one


#: The accepted document kinds, in the order they are listed to users.
KINDS: dict[str, _Kind] = {
    "pdf": _Kind("PDF", "PDF", "application/pdf", ("pdf",)),
    "docx": _Kind(
        "DOCX",
        "tài liệu Word (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
    ),
    "xlsx": _Kind(
        "XLSX",
        "bảng tính Excel (XLSX)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
    ),
    "odt": _Kind(
        "ODT",
        "văn bản OpenDocument (ODT)",
        "application/vnd.oasis.opendocument.text",
        ("odt",),
    ),
    "ods": _Kind(
        "ODS",
        "bảng tính OpenDocument (ODS)",
        "application/vnd.oasis.opendocument.spreadsheet",
        ("ods",),
    ),
    "doc": _Kind("DOC", "tài liệu Word 97-2003 (DOC)", "application/msword", ("doc",)),
    "xls": _Kind(
        "XLS", "bảng tính Excel 97-2003 (XLS)", "application/vnd.ms-excel", ("xls",)
    ),
    "jpeg": _Kind("JPEG", "ảnh JPEG", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif")),
    "png": _Kind("PNG", "ảnh PNG", "image/png", ("png",)),
}
_KIND_BY_EXTENSION = {
    ext: kind for kind, info in KINDS.items() for ext in info.extensions
}

#: Extensions of things that run when opened: refused whatever the content,
#: which also catches double extensions such as "bao-cao.pdf.exe".
EXECUTABLE_EXTENSIONS = frozenset(
    {
        "exe", "com", "scr", "pif", "bat", "cmd", "msi", "msp", "dll", "cpl", "sys",
        "jar", "js", "jse", "mjs", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "psd1",
        "hta", "html", "htm", "xhtml", "shtml", "svg", "sh", "bash", "zsh", "csh",
        "py", "pyw", "pl", "rb", "php", "phtml", "phar", "asp", "aspx", "jsp", "cgi",
        "lnk", "reg", "inf", "apk", "app", "appimage", "deb", "rpm", "dmg", "run",
        "elf", "iqy", "url", "settingcontent-ms",
    }
)  # fmt: skip
#: Macro-enabled Office formats: refused as macros, whatever the content.
MACRO_EXTENSIONS = frozenset(
    {"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm"}
)

_DEFAULT_KINDS = frozenset(KINDS)


@dataclass(frozen=True)
class UploadLimits:
    """Limits applied by :func:`validate_upload`; all configurable.

    ``max_ratio`` bounds total uncompressed size ÷ archive size: honest office
    files stay far below 100:1, zip bombs reach 1000:1.
    """

    max_bytes: int = 100 * MIB
    allowed_kinds: frozenset[str] = field(default=_DEFAULT_KINDS)
    max_uncompressed: int = 200 * MIB
    max_ratio: int = 100
    max_entries: int = 10_000
    max_image_pixels: int = 50_000_000

    def __post_init__(self) -> None:
        unknown = set(self.allowed_kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds in allowed_kinds: {sorted(unknown)}")
        if not self.allowed_kinds:
            raise ValueError("allowed_kinds must not be empty")
        for name in ("max_bytes", "max_uncompressed", "max_ratio", "max_entries"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_image_pixels <= 0:
            raise ValueError("max_image_pixels must be positive")

    def allowed_list(self) -> str:
        """The accepted kinds as shown to users: "PDF, DOCX, …, PNG"."""
        return ", ".join(
            info.code for kind, info in KINDS.items() if kind in self.allowed_kinds
        )

    def accept_attribute(self) -> str:
        """The extensions for an HTML ``<input accept=…>``: ".pdf,.docx,…"."""
        return ",".join(
            f".{ext}"
            for kind in KINDS
            if kind in self.allowed_kinds
            for ext in KINDS[kind].extensions
        )


DEFAULT_LIMITS = UploadLimits()


@dataclass(frozen=True)
class ValidatedUpload:
    """An accepted upload: its ``kind`` (a key of :data:`KINDS`), the MIME
    type to store and serve it with, its extension (lower case, no dot) and
    the NFC-normalised original ``filename`` for display and download."""

    kind: str
    mime_type: str
    extension: str
    filename: str


class UploadRejected(ValueError):
    """A refused upload: ``reason`` is a short code for programs and tests,
    ``message`` a complete Vietnamese sentence for the user.

    Reasons: ``bad_filename``, ``empty``, ``too_large``, ``disguised_html``,
    ``executable``, ``script``, ``not_allowed``, ``extension_mismatch``,
    ``zip_slip``, ``zip_bomb``, ``xml_entities``, ``macro``, ``encrypted``,
    ``image_too_large``, ``corrupt``.
    """

    def __init__(self, reason: str, message: str, filename: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.filename = filename


_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
MAX_FILENAME_LENGTH = 255


def normalize_filename(name: str) -> str:
    """Return the display name to keep for an uploaded file.

    NFC-normalises (macOS sends NFD: "Báo cáo" must compare equal however it
    was typed), keeps only the last path component (old browsers send
    "C:\\fakepath\\x.pdf"), drops control and format characters (NUL, and the
    right-to-left override that disguises "fdp.exe" as "exe.pdf"), trims
    spaces and trailing dots (ignored by Windows), and caps the length at 255
    characters, keeping the extension. Vietnamese letters are kept as they are.
    Raises :class:`UploadRejected` (``bad_filename``) when nothing is left.
    """
    if not isinstance(name, str):
        raise UploadRejected("bad_filename", "Tên tệp trống hoặc không hợp lệ.")
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = text.strip().rstrip(". ").strip()
    if text in ("", ".", ".."):
        raise UploadRejected("bad_filename", "Tên tệp trống hoặc không hợp lệ.")
    if len(text) > MAX_FILENAME_LENGTH:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and len(ext) <= 16:
            text = f"{stem[: MAX_FILENAME_LENGTH - len(ext) - 1].rstrip()}.{ext}"
        else:
            text = text[:MAX_FILENAME_LENGTH]
    return text


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def validate_upload(
    fileobj: BinaryIO, filename: str, limits: UploadLimits = DEFAULT_LIMITS
) -> ValidatedUpload:
    """Accept or refuse an upload; see the module docstring.

    ``fileobj`` must be seekable (the web layer's spooled temporary file); it
    is read from the start and left at position 0. Raises
    :class:`UploadRejected`; returns the kind, MIME type and clean filename.

    Order of checks, so that the most useful message wins: the name, the size,
    dangerous content (executables, scripts, HTML), a dangerous extension, an
    unaccepted extension, then the content's own structure (archive safety,
    image dimensions, truncation) and last the extension/content agreement.
    """
    name = normalize_filename(filename)
    if not is_seekable(fileobj):
        raise TypeError("validate_upload needs a seekable file object")
    try:
        return _validate(fileobj, name, limits)
    except Refusal as refusal:
        raise UploadRejected(
            refusal.reason, f"Tệp “{name}” {refusal.tail}", name
        ) from None
    finally:
        fileobj.seek(0)


def _validate(f: BinaryIO, name: str, limits: UploadLimits) -> ValidatedUpload:
    size = f.seek(0, io.SEEK_END)
    if size == 0:
        raise Refusal("empty", "rỗng (0 byte): không có nội dung để lưu.")
    _check_size(size, limits)
    ext = _extension(name)
    f.seek(0)
    sniffed = _formats.sniff(f.read(_formats.HEAD_SIZE))
    claimed = _check_head(name, sniffed, limits)
    content = _inspect(f, size, sniffed, limits)
    _refuse_dangerous(content, claimed)
    if content.category not in KINDS:
        if content.category == "unknown":
            raise Refusal(
                "not_allowed",
                f"không phải {claimed.label} hợp lệ (không nhận ra được nội dung): "
                "không được chấp nhận.",
            )
        raise Refusal(
            "not_allowed",
            f"là {content.label}, không thuộc các loại được chấp nhận. "
            f"Chỉ nhận: {limits.allowed_list()}.",
        )
    kind = KINDS[content.category]
    if content.category not in limits.allowed_kinds:
        raise Refusal(
            "not_allowed",
            f"là {kind.label}, không thuộc các loại được chấp nhận. "
            f"Chỉ nhận: {limits.allowed_list()}.",
        )
    if kind is not claimed:
        raise Refusal(
            "extension_mismatch",
            f"có đuôi .{ext} nhưng nội dung là {kind.label}: "
            "đuôi tệp phải khớp với nội dung. Hãy kiểm tra lại tệp.",
        )
    return ValidatedUpload(
        kind=content.category, mime_type=kind.mime_type, extension=ext, filename=name
    )


def _check_size(size: int, limits: UploadLimits) -> None:
    if size > limits.max_bytes:
        shown, limit = format_size(size), format_size(limits.max_bytes)
        if shown == limit:  # "1 MB, vượt giới hạn 1 MB" would read as nonsense
            shown, limit = (
                f"{_thousands(size)} byte",
                f"{_thousands(limits.max_bytes)} byte",
            )
        raise Refusal(
            "too_large", f"có dung lượng {shown}, vượt giới hạn {limit} cho mỗi tệp."
        )


def check_head(
    head: bytes,
    filename: str,
    limits: UploadLimits = DEFAULT_LIMITS,
    *,
    size: int = 0,
) -> None:
    """Refuse an upload from its name, first bytes and size so far, while it is still
    arriving: too large, dangerous content, a dangerous or unaccepted extension.
    Raises :class:`UploadRejected`; :func:`validate_upload` still checks the whole
    file."""
    name = normalize_filename(filename)
    try:
        _check_size(size, limits)
        _check_head(name, _formats.sniff(head[: _formats.HEAD_SIZE]), limits)
    except Refusal as refusal:
        raise UploadRejected(
            refusal.reason, f"Tệp “{name}” {refusal.tail}", name
        ) from None


#: How many leading bytes :func:`check_head` looks at.
HEAD_SIZE = _formats.HEAD_SIZE


def _check_head(name: str, sniffed: Sniffed, limits: UploadLimits) -> _Kind:
    ext = _extension(name)
    claimed = KINDS.get(_KIND_BY_EXTENSION.get(ext, ""))
    _refuse_dangerous(sniffed, claimed)
    if ext in EXECUTABLE_EXTENSIONS:
        double = name[: -len(ext) - 1].rpartition(".")[2].lower()
        note = ""
        if double in _KIND_BY_EXTENSION:
            note = (
                f" (tên có hai đuôi “.{double}.{ext}”, "
                "thường dùng để giả dạng tài liệu)"
            )
        raise Refusal(
            "executable",
            f"có đuôi .{ext} của tệp chạy được{note}: không được chấp nhận.",
        )
    if ext in MACRO_EXTENSIONS:
        raise Refusal("macro", _formats.MACRO_REFUSAL)
    if claimed is None or _KIND_BY_EXTENSION[ext] not in limits.allowed_kinds:
        what = f"có đuôi .{ext}" if ext else "không có đuôi tệp"
        raise Refusal(
            "not_allowed",
            f"{what}, không thuộc các loại được chấp nhận. "
            f"Chỉ nhận: {limits.allowed_list()}.",
        )
    return claimed


def _refuse_dangerous(sniffed: Sniffed, claimed: _Kind | None) -> None:
    if sniffed.category == "executable":
        what = f"chương trình chạy được ({sniffed.label})"
    elif sniffed.category == "script":
        what = "mã lệnh (script)"
    elif sniffed.category == "html":
        what = "trang HTML"
    else:
        return
    reason = "disguised_html" if sniffed.category == "html" else sniffed.category
    if claimed is None:
        if reason == "disguised_html":
            reason = "not_allowed"  # an .html named as such hides nothing
        raise Refusal(reason, f"là {what}: không được chấp nhận.")
    raise Refusal(
        reason,
        f"thực chất là {what}, không phải {claimed.label}: không được chấp nhận.",
    )


def _inspect(f: BinaryIO, size: int, sniffed: Sniffed, limits: UploadLimits) -> Sniffed:
    """Look past the first bytes; return the content's final classification."""
    category = sniffed.category
    if category == "pdf":
        _formats.check_pdf(f, size)
    elif category in ("png", "jpeg"):
        if category == "png":
            width, height = _formats.image_size_png(f)
        else:
            width, height = _formats.image_size_jpeg(f, size)
        if width * height > limits.max_image_pixels:
            raise Refusal(
                "image_too_large",
                f"là ảnh {_thousands(width)} × {_thousands(height)} điểm ảnh, "
                f"vượt giới hạn {_thousands(limits.max_image_pixels)} điểm ảnh: "
                "không được chấp nhận.",
            )
    elif category == "zip":
        return _formats.inspect_zip(
            f,
            size,
            _formats.ZipLimits(
                max_uncompressed=limits.max_uncompressed,
                max_ratio=limits.max_ratio,
                max_entries=limits.max_entries,
            ),
        )
    elif category == "cfb":
        return _formats.inspect_cfb(f, size)
    return sniffed


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")
