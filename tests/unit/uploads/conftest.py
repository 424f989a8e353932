"""The upload corpora of the validation tests: one valid file per accepted kind and
the hostile files `validate_upload` must refuse, built in memory by real libraries."""

from __future__ import annotations

from typing import Any

import pytest

_EV_MIB = 1 << 20


class _EvUpload:
    """A generated upload: Vietnamese `filename`, `data` bytes and, for hostile
    files, the `reason` code `validate_upload` must refuse it with."""

    def __init__(self, filename: str, data: bytes, reason: str = "") -> None:
        self.filename = filename
        self.data = data
        self.reason = reason

    def __repr__(self) -> str:
        return f"<upload {self.filename!r} {len(self.data)} B {self.reason}>"


def _ev_zip(parts: dict[str, bytes], *, extra: list[Any] | None = None) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            # ODF wants "mimetype" first and stored, as office suites write it.
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
        for info, data in extra or []:
            archive.writestr(info, data)
    return buffer.getvalue()


def _ev_unzip(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _ev_docx() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_heading("Báo cáo tự đánh giá chỉ số CCHC năm 2026", level=1)
    document.add_paragraph("Đơn vị: Phường Trúc Lâm. Tiêu chí 1.1.2: Kế hoạch CCHC.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _ev_xlsx() -> bytes:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Bảng điểm"
    sheet.append(["Mã", "Tiêu chí", "Điểm tối đa", "Tự chấm"])
    sheet.append(["1.1", "Ban hành kế hoạch CCHC năm", 1, 1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _ev_pdf() -> bytes:
    import io

    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)  # A4
    writer.add_metadata({"/Title": "Quyết định số 12/QĐ-UBND"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _ev_image(fmt: str) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


_EV_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2"'
)


def _ev_odf(kind: str) -> bytes:
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    if kind == "text":
        body = "<office:text><text:p>Biên bản họp đánh giá</text:p></office:text>"
    else:
        body = (
            '<office:spreadsheet><table:table table:name="Điểm"><table:table-row>'
            "<table:table-cell><text:p>Tự chấm</text:p></table:table-cell>"
            "</table:table-row></table:table></office:spreadsheet>"
        )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-content {_EV_ODF_NS}><office:body>{body}"
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{mimetype}"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _ev_zip(
        {
            "mimetype": mimetype.encode(),
            "content.xml": content.encode(),
            "META-INF/manifest.xml": manifest.encode(),
        }
    )


def _ev_cfb(
    streams: list[str], *, storages: tuple[str, ...] = (), clsid: bytes = b""
) -> bytes:
    """A minimal OLE compound file ([MS-CFB] v3) whose directory holds the
    given 4 KiB streams and empty storages: the container of DOC/XLS/MSI."""
    import struct

    free, end, fat_sect, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    entries = [("Root Entry", 5, end, 0, clsid.ljust(16, b"\0"))]
    fat = [fat_sect, end]  # sector 0: the FAT, sector 1: the directory
    for name in streams:
        first = len(fat)
        fat += list(range(first + 1, first + 8)) + [end]  # 8 × 512 B = 4 KiB
        entries.append((name, 2, first, 4096, b"\0" * 16))
    entries += [(name, 1, 0, 0, b"\0" * 16) for name in storages]
    assert len(entries) <= 4 and len(fat) <= 128
    directory = b""
    for index, (name, kind, start, size, entry_clsid) in enumerate(entries):
        raw_name = name.encode("utf-16-le") + b"\0\0"
        child = 1 if index == 0 and len(entries) > 1 else no_stream
        right = index + 1 if 0 < index < len(entries) - 1 else no_stream
        directory += (
            raw_name.ljust(64, b"\0")
            + struct.pack("<HBBLLL", len(raw_name), kind, 1, no_stream, right, child)
            + entry_clsid
            + b"\0" * 20
            + struct.pack("<LQ", start, size)
        )
    directory = directory.ljust(512, b"\0")
    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<LLLLLLLLL", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<109L", 0, *([free] * 108))
    )
    fat_sector = struct.pack(f"<{len(fat)}L", *fat).ljust(512, b"\xff")
    data = b"".join(b"\x11" * 4096 for _ in streams)
    return header + fat_sector + directory + data


def _ev_png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def _ev_jpeg_header(width: int, height: int) -> bytes:
    import struct

    app0 = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = (
        struct.pack(">BHHB", 8, height, width, 3)
        + b"\x01\x11\0\x02\x11\x01\x03\x11\x01"
    )
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xc0" + struct.pack(">H", len(sof0) + 2) + sof0
        + b"\xff\xd9"
    )  # fmt: skip


def _ev_zip_bomb() -> bytes:
    """A DOCX whose extra part inflates 100 MiB of zeros from ~100 KiB (≈1000:1)."""
    import io
    import zipfile

    minimal = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"><Override PartName="/word/'
            b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.document.main+xml"/></Types>'
        ),
        "word/document.xml": b'<?xml version="1.0"?><w:document xmlns:w="urn:w"/>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in minimal.items():
            archive.writestr(name, data)
        with archive.open("word/media/image1.bin", "w") as bomb:
            zeros = bytes(_EV_MIB)
            for _ in range(100):
                bomb.write(zeros)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def sample_uploads() -> dict[str, Any]:
    """One valid file per accepted kind (see sample_upload_corpus)."""
    return sample_upload_corpus()


@pytest.fixture(scope="session")
def bad_uploads(sample_uploads: dict[str, Any]) -> dict[str, Any]:
    """Hostile or broken uploads, each with its refusal reason (bad_upload_corpus)."""
    return bad_upload_corpus(sample_uploads)


# Plain functions, not only fixtures: scripts/isolation_suite.py replays the same
# corpus against a live server.
def sample_upload_corpus() -> dict[str, Any]:
    """One valid file per accepted kind, made by real libraries where one
    exists (python-docx, openpyxl, pypdf, Pillow), with Vietnamese names.
    Maps kind ("pdf", "docx", …) to an upload with `.filename` and `.data`."""
    return {
        "pdf": _EvUpload("Quyết định số 12-QĐ-UBND.pdf", _ev_pdf()),
        "docx": _EvUpload("Báo cáo tự đánh giá CCHC năm 2026.docx", _ev_docx()),
        "xlsx": _EvUpload("Bảng điểm chỉ số CCHC.xlsx", _ev_xlsx()),
        "odt": _EvUpload("Biên bản họp đánh giá.odt", _ev_odf("text")),
        "ods": _EvUpload("Tổng hợp điểm đơn vị.ods", _ev_odf("spreadsheet")),
        "doc": _EvUpload("Tờ trình cũ.doc", _ev_cfb(["WordDocument", "1Table"])),
        "xls": _EvUpload("Số liệu thống kê.xls", _ev_cfb(["Workbook"])),
        "jpeg": _EvUpload("Ảnh bộ phận một cửa.jpg", _ev_image("JPEG")),
        "png": _EvUpload("Sơ đồ quy trình đặc thù.png", _ev_image("PNG")),
    }


def bad_upload_corpus(sample_uploads: dict[str, Any]) -> dict[str, Any]:
    """Hostile or broken uploads, each with the refusal `reason` expected.
    Maps a case name to an upload with `.filename`, `.data` and `.reason`."""
    import zipfile

    pdf = sample_uploads["pdf"].data
    docx = sample_uploads["docx"].data
    docx_parts = _ev_unzip(docx)
    xlsx_parts = _ev_unzip(sample_uploads["xlsx"].data)

    def with_doctype(xml: bytes, doctype: bytes) -> bytes:
        if xml.startswith(b"<?xml"):
            end = xml.index(b"?>") + 2
            return xml[:end] + doctype + xml[end:]
        return doctype + xml

    billion_laughs = b'<!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    xxe_utf16 = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/x.dtd">'
        '<w:document xmlns:w="urn:w"/>'
    ).encode("utf-16")
    symlink = zipfile.ZipInfo("word/link.xml")
    symlink.create_system = 3
    symlink.external_attr = 0o120777 << 16
    macro_types = docx_parts["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )
    return {
        "html_as_pdf": _EvUpload(
            "Báo cáo kết quả.pdf",
            b"<!DOCTYPE html>\n<html><head><title>Bao cao</title></head>"
            b"<body><script>document.location='http://127.0.0.1:9/'</script></body></html>",
            "disguised_html",
        ),
        "svg_as_png": _EvUpload(
            "Biểu đồ.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(1)</script></svg>",
            "disguised_html",
        ),
        "elf_as_pdf": _EvUpload(
            "Quyết định.pdf",
            b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\0>\0" + bytes(200),
            "executable",
        ),
        "exe_as_pdf": _EvUpload(
            "Kế hoạch.pdf",
            b"MZ\x90\0\x03"
            + bytes(59)
            + b"This program cannot be run in DOS mode.\r\n",
            "executable",
        ),
        "msi_as_doc": _EvUpload(
            "Hướng dẫn.doc",
            _ev_cfb(
                ["SummaryInformation"],
                clsid=bytes.fromhex("84100c0000000000c000000000000046"),
            ),
            "executable",
        ),
        "double_extension": _EvUpload("Báo cáo.pdf.exe", pdf, "executable"),
        "script_as_pdf": _EvUpload("Công văn.pdf", b"#!/bin/sh\nrm -rf ~\n", "script"),
        "empty": _EvUpload("Trống.pdf", b"", "empty"),
        "docx_as_pdf": _EvUpload("Tờ trình.pdf", docx, "extension_mismatch"),
        "plain_zip_as_docx": _EvUpload(
            "Hồ sơ.docx", _ev_zip({"ghi-chu.txt": "Ghi chú".encode()}), "not_allowed"
        ),
        "text_as_pdf": _EvUpload(
            "Ghi chú.pdf", "Chỉ là văn bản thuần".encode(), "not_allowed"
        ),
        "gif_as_png": _EvUpload("Ảnh động.png", b"GIF89a" + bytes(64), "not_allowed"),
        "zip_slip": _EvUpload(
            "Biên bản.docx",
            _ev_zip(
                {**docx_parts, "../../../etc/cron.d/evil.sh": b"* * * * * root id"}
            ),
            "zip_slip",
        ),
        "absolute_path": _EvUpload(
            "Biên bản 2.docx",
            _ev_zip({**docx_parts, "/tmp/evil.sh": b"id"}),
            "zip_slip",
        ),
        "symlink": _EvUpload(
            "Biên bản 3.docx",
            _ev_zip(docx_parts, extra=[(symlink, b"/etc/passwd")]),
            "zip_slip",
        ),
        "zip_bomb": _EvUpload("Tờ trình bom.docx", _ev_zip_bomb(), "zip_bomb"),
        "xlsx_entities": _EvUpload(
            "Bảng điểm.xlsx",
            _ev_zip(
                {
                    **xlsx_parts,
                    "xl/workbook.xml": with_doctype(
                        xlsx_parts["xl/workbook.xml"], billion_laughs
                    ),
                }
            ),
            "xml_entities",
        ),
        "docx_xxe_utf16": _EvUpload(
            "Báo cáo XXE.docx",
            _ev_zip({**docx_parts, "word/document.xml": xxe_utf16}),
            "xml_entities",
        ),
        "macro_docx": _EvUpload(
            "Báo cáo macro.docx",
            _ev_zip(
                {
                    **docx_parts,
                    "[Content_Types].xml": macro_types,
                    "word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(60),
                }
            ),
            "macro",
        ),
        "encrypted_docx": _EvUpload(
            "Báo cáo có mật khẩu.docx",
            _ev_cfb(["EncryptionInfo", "EncryptedPackage"]),
            "encrypted",
        ),
        "png_pixel_flood": _EvUpload(
            "Ảnh chụp hiện trường.png",
            _ev_png_header(100_000, 100_000),
            "image_too_large",
        ),
        "jpeg_pixel_flood": _EvUpload(
            "Ảnh quét.jpg", _ev_jpeg_header(65_000, 65_000), "image_too_large"
        ),
        "truncated_pdf": _EvUpload(
            "Quyết định bị cắt.pdf", pdf[: len(pdf) // 2], "corrupt"
        ),
    }


# --- end of evidence store fixtures ---


# ---- admin screens and security (issue 4) --------------------------------------------
# Helpers for tests/integration/test_admin_*.py, test_auth_*.py, test_access_matrix.py
# and test_security_*.py.
