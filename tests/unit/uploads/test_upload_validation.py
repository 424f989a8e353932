"""Upload validation: real files accepted with their Vietnamese names, a hostile
corpus refused with its own message, and bounded cost whatever the file.

The corpora (`sample_uploads`, `bad_uploads`) are built in the conftest beside it.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
import tracemalloc
import unicodedata
import zipfile
from typing import Any

import pytest

from evidence_store import (
    LocalStore,
    UploadLimits,
    UploadRejected,
    ValidatedUpload,
    new_key,
    normalize_filename,
    validate_upload,
)

MIB = 1 << 20
ALL_KINDS = ["pdf", "docx", "xlsx", "odt", "ods", "doc", "xls", "jpeg", "png"]
BAD_CASES = [
    "html_as_pdf", "svg_as_png", "elf_as_pdf", "exe_as_pdf", "msi_as_doc",
    "double_extension", "script_as_pdf", "empty", "docx_as_pdf", "plain_zip_as_docx",
    "text_as_pdf", "gif_as_png", "zip_slip", "absolute_path", "symlink", "zip_bomb",
    "xlsx_entities", "docx_xxe_utf16", "macro_docx", "encrypted_docx",
    "png_pixel_flood", "jpeg_pixel_flood", "truncated_pdf",
]  # fmt: skip


@pytest.fixture
def spooled() -> Any:
    """Put bytes in the web layer's container for a request file."""
    with contextlib.ExitStack() as stack:

        def make(data: bytes) -> Any:
            f = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=MIB))
            f.write(data)
            f.seek(0)
            return f

        yield make


def reject(
    data: bytes, filename: str, limits: UploadLimits | None = None
) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        validate_upload(io.BytesIO(data), filename, limits or UploadLimits())
    return caught.value


# -- accepted --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_real_files_are_accepted_with_their_vietnamese_name(
    sample_uploads: dict[str, Any], kind: str, spooled: Any
) -> None:
    upload = sample_uploads[kind]
    f = spooled(upload.data)

    result = validate_upload(f, upload.filename)

    assert result.kind == kind
    assert result.filename == upload.filename
    assert result.extension == upload.filename.rsplit(".", 1)[1]
    assert f.tell() == 0  # ready for store.put


def test_mime_types_are_the_standard_ones(sample_uploads: dict[str, Any]) -> None:
    mime = {
        kind: validate_upload(io.BytesIO(u.data), u.filename).mime_type
        for kind, u in sample_uploads.items()
    }

    assert mime["pdf"] == "application/pdf"
    assert mime["docx"].endswith("wordprocessingml.document")
    assert mime["xlsx"].endswith("spreadsheetml.sheet")
    assert mime["odt"] == "application/vnd.oasis.opendocument.text"
    assert (mime["doc"], mime["xls"]) == (
        "application/msword",
        "application/vnd.ms-excel",
    )
    assert (mime["jpeg"], mime["png"]) == ("image/jpeg", "image/png")


def test_a_name_typed_on_a_mac_nfd_comes_back_nfc(
    sample_uploads: dict[str, Any],
) -> None:
    nfc = "Báo cáo tự đánh giá – Phường Trúc Lâm.docx"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc

    result = validate_upload(io.BytesIO(sample_uploads["docx"].data), nfd)

    assert result.filename == nfc


def test_vietnamese_name_and_bytes_round_trip_through_the_store(
    sample_uploads: dict[str, Any], local_store: LocalStore, spooled: Any
) -> None:
    upload = sample_uploads["xlsx"]
    f = spooled(upload.data)

    validated: ValidatedUpload = validate_upload(f, upload.filename)
    stored = local_store.put(
        new_key("PHUONG-TRUC-LAM"), f, content_type=validated.mime_type
    )

    assert validated.filename == "Bảng điểm chỉ số CCHC.xlsx"
    assert b"".join(local_store.iter_chunks(stored.key)) == upload.data
    assert upload.filename not in stored.key  # the key never carries the user's name


def test_extensions_are_matched_case_insensitively(
    sample_uploads: dict[str, Any],
) -> None:
    result = validate_upload(io.BytesIO(sample_uploads["jpeg"].data), "ẢNH CHỤP.JPEG")

    assert (result.kind, result.extension, result.filename) == (
        "jpeg",
        "jpeg",
        "ẢNH CHỤP.JPEG",
    )


# -- refused ---------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD_CASES)
def test_hostile_and_broken_files_are_refused_each_with_its_message(
    bad_uploads: dict[str, Any], case: str, spooled: Any
) -> None:
    upload = bad_uploads[case]
    f = spooled(upload.data)

    with pytest.raises(UploadRejected) as caught:
        validate_upload(f, upload.filename)

    assert caught.value.reason == upload.reason
    assert caught.value.message.startswith(f"Tệp “{upload.filename}” ")
    assert caught.value.message.endswith(".")
    assert str(caught.value) == caught.value.message
    assert f.tell() == 0


def test_different_refusals_never_share_a_message(bad_uploads: dict[str, Any]) -> None:
    reasons_by_text: dict[str, set[str]] = {}
    for upload in bad_uploads.values():
        error = reject(upload.data, upload.filename)
        text = error.message.removeprefix(f"Tệp “{upload.filename}” ")
        reasons_by_text.setdefault(text, set()).add(error.reason)

    assert {text: r for text, r in reasons_by_text.items() if len(r) > 1} == {}


def test_corpus_zip_bomb_really_is_one(bad_uploads: dict[str, Any]) -> None:
    data = bad_uploads["zip_bomb"].data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        inflated = sum(info.file_size for info in archive.infolist())

    assert inflated / len(data) >= 1000


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "html_as_pdf",
            "thực chất là trang HTML, không phải PDF: không được chấp nhận.",
        ),
        (
            "elf_as_pdf",
            "thực chất là chương trình chạy được (tệp ELF của Linux), không phải PDF",
        ),
        ("exe_as_pdf", "thực chất là chương trình chạy được (tệp EXE/DLL của Windows)"),
        (
            "double_extension",
            "có đuôi .exe của tệp chạy được (tên có hai đuôi “.pdf.exe”",
        ),
        ("empty", "rỗng (0 byte)"),
        ("docx_as_pdf", "có đuôi .pdf nhưng nội dung là tài liệu Word (DOCX)"),
        (
            "zip_slip",
            "chứa đường dẫn không an toàn bên trong (“../../../etc/cron.d/evil.sh”)",
        ),
        ("zip_bomb", "nghi là “bom nén”"),
        (
            "xlsx_entities",
            "chứa khai báo DOCTYPE/ENTITY trong phần XML “xl/workbook.xml”",
        ),
        (
            "png_pixel_flood",
            "là ảnh 100.000 × 100.000 điểm ảnh, vượt giới hạn 50.000.000",
        ),
        ("macro_docx", "chứa macro"),
        ("encrypted_docx", "được đặt mật khẩu"),
        ("plain_zip_as_docx", "là tệp nén ZIP, không thuộc các loại được chấp nhận"),
        ("truncated_pdf", "bị hỏng"),
    ],
)
def test_messages_tell_the_user_what_is_wrong(
    bad_uploads: dict[str, Any], case: str, expected: str
) -> None:
    upload = bad_uploads[case]

    assert expected in reject(upload.data, upload.filename).message


def test_the_exact_message_for_html_disguised_as_pdf() -> None:
    error = reject(b"<html><body>hi</body></html>", "x.pdf")

    assert (
        error.message
        == "Tệp “x.pdf” thực chất là trang HTML, không phải PDF: không được chấp nhận."
    )


def pdf_of_size(size: int) -> bytes:
    """A PDF (header, padding, end marker) of exactly `size` bytes."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + b" " * (size - len(head) - len(tail)) + tail


def test_over_size_files_are_refused_with_both_sizes() -> None:
    limits = UploadLimits(max_bytes=MIB)

    error = reject(pdf_of_size(3 * MIB // 2), "Quyết định.pdf", limits)

    assert error.reason == "too_large"
    assert error.message == (
        "Tệp “Quyết định.pdf” có dung lượng 1,5 MB, vượt giới hạn 1 MB cho mỗi tệp."
    )
    assert validate_upload(io.BytesIO(pdf_of_size(MIB)), "a.pdf", limits).kind == "pdf"


def test_just_over_the_limit_is_said_in_bytes_not_as_equal_sizes() -> None:
    error = reject(pdf_of_size(MIB + 1), "a.pdf", UploadLimits(max_bytes=MIB))

    assert "có dung lượng 1.048.577 byte, vượt giới hạn 1.048.576 byte" in error.message


def test_default_limits_match_the_policy() -> None:
    limits = UploadLimits()

    assert limits.max_bytes == 100 * MIB
    assert limits.allowed_kinds == frozenset(ALL_KINDS)
    assert limits.allowed_list() == "PDF, DOCX, XLSX, ODT, ODS, DOC, XLS, JPEG, PNG"
    assert (limits.max_uncompressed, limits.max_ratio) == (200 * MIB, 100)
    assert (limits.max_entries, limits.max_image_pixels) == (10_000, 50_000_000)
    assert ".docx" in limits.accept_attribute() and ".jpg" in limits.accept_attribute()


def test_the_allow_list_is_configurable(sample_uploads: dict[str, Any]) -> None:
    only_pdf = UploadLimits(allowed_kinds=frozenset({"pdf"}))
    docx = sample_uploads["docx"]

    error = reject(docx.data, docx.filename, only_pdf)

    assert error.reason == "not_allowed"
    assert error.message.endswith("Chỉ nhận: PDF.")
    with pytest.raises(ValueError):
        UploadLimits(allowed_kinds=frozenset({"exe"}))


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("Báo cáo.zip", "not_allowed"),
        ("Báo cáo", "not_allowed"),
        ("Báo cáo.docm", "macro"),
        ("Báo cáo.pdf.js", "executable"),
        ("Báo cáo.html", "executable"),
    ],
)
def test_extensions_outside_the_allow_list_are_refused_whatever_the_content(
    sample_uploads: dict[str, Any], filename: str, reason: str
) -> None:
    assert reject(sample_uploads["docx"].data, filename).reason == reason


def test_archive_limits_are_configurable(sample_uploads: dict[str, Any]) -> None:
    xlsx = sample_uploads["xlsx"]
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(xlsx.data)) as original:
            for info in original.infolist():
                archive.writestr(info, original.read(info))
        for i in range(60):
            archive.writestr(f"xl/media/image{i}.png", b"x")

    assert (
        reject(many.getvalue(), "a.xlsx", UploadLimits(max_entries=50)).reason
        == "zip_bomb"
    )
    assert (
        reject(xlsx.data, "a.xlsx", UploadLimits(max_uncompressed=1000)).reason
        == "zip_bomb"
    )
    assert reject(xlsx.data, "a.xlsx", UploadLimits(max_ratio=1)).reason == "zip_bomb"


def test_image_pixel_limit_is_configurable(sample_uploads: dict[str, Any]) -> None:
    jpeg = sample_uploads["jpeg"]  # 320 × 240 = 76 800 pixels

    error = reject(jpeg.data, jpeg.filename, UploadLimits(max_image_pixels=76_799))

    assert error.reason == "image_too_large"
    assert "là ảnh 320 × 240 điểm ảnh" in error.message


# -- bounded cost ----------------------------------------------------------------


@pytest.mark.parametrize("case", ["zip_bomb", "xlsx_entities", "png_pixel_flood"])
def test_validation_runs_in_bounded_time_and_memory(
    bad_uploads: dict[str, Any], case: str
) -> None:
    upload = bad_uploads[case]
    f = io.BytesIO(upload.data)

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UploadRejected):
            validate_upload(f, upload.filename)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert elapsed < 0.5, f"{elapsed:.2f} s"
    assert peak < 4 * MIB, f"{peak / MIB:.1f} MiB"


def test_a_zip_whose_directory_lies_about_its_size_is_refused_at_once(
    sample_uploads: dict[str, Any],
) -> None:
    data = bytearray(sample_uploads["docx"].data)
    eocd = data.rfind(b"PK\x05\x06")
    lies = (65535).to_bytes(2, "little") + (500 * MIB).to_bytes(4, "little")
    data[eocd + 10 : eocd + 16] = lies  # entry count and directory size

    started = time.perf_counter()
    error = reject(bytes(data), "a.docx")

    assert error.reason == "corrupt"
    assert "mục lục của tệp nén sai" in error.message
    assert time.perf_counter() - started < 0.1


def test_a_large_valid_file_is_checked_by_reading_only_its_ends(tmp_path: Any) -> None:
    path = tmp_path / "big.pdf"
    with path.open("wb") as out:  # sparse: 90 MiB without writing them
        out.write(b"%PDF-1.7\n")
        out.seek(90 * MIB)
        out.write(b"\n%%EOF\n")

    started = time.perf_counter()
    with path.open("rb") as f:
        result = validate_upload(f, "Hồ sơ quét.pdf")

    assert result.kind == "pdf"
    assert time.perf_counter() - started < 0.05


# -- file names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Báo cáo.pdf", "Báo cáo.pdf"),
        ("C:\\fakepath\\Tờ trình số 5.docx", "Tờ trình số 5.docx"),
        ("../../etc/Biên bản.pdf", "Biên bản.pdf"),
        ("  Kế hoạch .pdf.  ", "Kế hoạch .pdf"),
        ("a\x00.php.pdf", "a.php.pdf"),
        ("Báo cáo\u202efdp.exe", "Báo cáofdp.exe"),  # right-to-left override dropped
        ("Dòng\nmới\t.pdf", "Dòngmới.pdf"),
    ],
)
def test_normalize_filename_keeps_vietnamese_and_drops_what_misleads(
    raw: str, clean: str
) -> None:
    assert normalize_filename(raw) == clean


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = normalize_filename("Quyết định " * 40 + ".docx")

    assert len(name) <= 255 and name.endswith(".docx")


@pytest.mark.parametrize("raw", ["", "   ", "..", "C:\\fakepath\\", "\x00\x01"])
def test_names_with_nothing_left_are_refused(raw: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        normalize_filename(raw)

    assert caught.value.reason == "bad_filename"
    assert caught.value.message == "Tên tệp trống hoặc không hợp lệ."


def test_validation_needs_a_seekable_file(sample_uploads: dict[str, Any]) -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

    with pytest.raises(TypeError):
        validate_upload(Pipe(), "a.pdf")  # type: ignore[arg-type]
