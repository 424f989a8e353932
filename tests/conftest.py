"""Shared fixtures. Integration tests get a fresh database per test: SQLite by default,
PostgreSQL when PARINDEX_TEST_DATABASE_URL is set (CI runs the suite on both)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import g, request_started

TEST_DB_URL = os.environ.get("PARINDEX_TEST_DATABASE_URL")


class Clock:
    """A settable clock for deadline tests; None means real time."""

    def __init__(self) -> None:
        self.value: datetime | None = None

    def __call__(self) -> datetime:
        from webapp.models import utcnow

        return self.value or utcnow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app_config(tmp_path: Path, clock: Clock) -> dict[str, Any]:
    """Test configuration; tests may change it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": TEST_DB_URL
        or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "EVIDENCE_BACKEND": "local",
        "EVIDENCE_LOCAL_ROOT": str(tmp_path / "evidence"),
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        "RATELIMIT_STORAGE_URI": "memory://",
        "CLOCK": clock,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    from webapp import create_app
    from webapp.extensions import db

    app = create_app(app_config)
    # The test body keeps one app context pushed, and test requests reuse it; without a
    # reset, `g` (Flask-Login's cached user, Flask-WTF's token) would leak from one
    # request and one client to the next, unlike production.
    request_started.connect(_fresh_g, app)
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    request_started.disconnect(_fresh_g, app)


def _fresh_g(_sender: Any, **_extra: Any) -> None:
    for key in list(g):
        g.pop(key)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def demo(app: Any) -> dict[str, Any]:
    """The run command's demo data: 2026 set, open period, units, a user per role."""
    import sqlalchemy as sa

    from webapp.demo import DEMO_PASSWORD, load_demo
    from webapp.extensions import db
    from webapp.models import Assessment, Period, Unit, User

    load_demo()
    units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    period = db.session.scalar(sa.select(Period))
    assessments = {a.unit.code: a for a in db.session.scalars(sa.select(Assessment))}
    return {
        "units": units,
        "users": users,
        "period": period,
        "assessments": assessments,
        "password": DEMO_PASSWORD,
    }


@pytest.fixture
def login_as(client: Any) -> Callable[[str], Any]:
    """Log the test client in as a user (demo password by default)."""
    from webapp.demo import DEMO_PASSWORD

    def login(username: str, password: str = DEMO_PASSWORD) -> Any:
        client.post("/auth/logout")
        response = client.post(
            "/auth/login", data={"username": username, "password": password}
        )
        assert response.status_code == 302, f"login as {username} failed"
        return client

    return login


# ---- assessment feature (self-assessment) -------------------------------------------
# Helpers for tests/integration/test_assessment_*.py and tests/browser/.


@pytest.fixture
def save_leaf(client: Any) -> Callable[..., Any]:
    """POST one leaf's form as the page does (field names are "<code>-<field>")."""

    def post(
        assessment_id: int,
        code: str,
        version: int = 0,
        *,
        as_client: Any = None,
        **fields: Any,
    ) -> Any:
        data = {f"{code}-{name}": value for name, value in fields.items()}
        data[f"{code}-version"] = str(version)
        return (as_client or client).post(
            f"/assessments/{assessment_id}/criteria/{code}", data=data
        )

    return post


# --- evidence store fixtures ---
# S3 runs over real HTTP against moto's server mode on 127.0.0.1: one server per
# session (free port chosen by the OS), a fresh bucket per test. The sample and
# hostile upload files are generated here so that web tests can post the same
# corpus through the upload routes. Imports are local: moto is slow to import
# and most runs never need it.

_EV_MIB = 1 << 20
_EV_PART = 5 * _EV_MIB  # S3's minimum part size, so multipart tests stay small


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Any:
    """Yield the URL of a moto S3 server on 127.0.0.1, stopped after the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(moto_s3_endpoint: str) -> dict[str, Any]:
    """Settings for `store_from_settings` (or the app config): S3 on the moto
    server, a fresh bucket created on first use, 5 MiB parts."""
    import uuid

    return {
        "EVIDENCE_BACKEND": "s3",
        "S3_ENDPOINT_URL": moto_s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_BUCKET": f"evidence-{uuid.uuid4().hex[:16]}",
        "S3_ACCESS_KEY": "testing",
        "S3_SECRET_KEY": "testing",
        "S3_PATH_STYLE": True,
        "S3_CREATE_BUCKET": True,
        "S3_PRESIGNED": False,
        "S3_PART_SIZE": _EV_PART,
        "S3_MULTIPART_THRESHOLD": _EV_PART,
    }


@pytest.fixture
def s3_client(moto_s3_endpoint: str) -> Any:
    """A boto3 S3 client for the moto server, configured as in production."""
    from evidence_store import make_client

    return make_client(
        endpoint_url=moto_s3_endpoint, access_key="testing", secret_key="testing"
    )


@pytest.fixture
def s3_store(s3_client: Any, s3_settings: dict[str, Any]) -> Any:
    """An `S3Store` on a fresh bucket of the moto server (5 MiB parts/threshold)."""
    from evidence_store import S3Store

    return S3Store(
        s3_client,
        s3_settings["S3_BUCKET"],
        part_size=_EV_PART,
        multipart_threshold=_EV_PART,
        create_bucket=True,
    )


@pytest.fixture
def local_store(tmp_path: Any) -> Any:
    """A `LocalStore` in a fresh temporary directory."""
    from evidence_store import LocalStore

    return LocalStore(tmp_path / "evidence")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest) -> Any:
    """Each backend in turn: the evidence-store contract suite runs on both."""
    return request.getfixturevalue(f"{request.param}_store")


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


@pytest.fixture(scope="session")
def bad_uploads(sample_uploads: dict[str, Any]) -> dict[str, Any]:
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


@pytest.fixture
def db_state(app: Any) -> Callable[[], dict[str, list[tuple[str, ...]]]]:
    """Committed contents of every table, read on a fresh connection (rows sorted).

    Comparing two snapshots proves that a request changed nothing, whatever the table.
    """
    import sqlalchemy as sa

    from webapp.extensions import db

    def snapshot() -> dict[str, list[tuple[str, ...]]]:
        out: dict[str, list[tuple[str, ...]]] = {}
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = conn.execute(sa.select(table)).all()
                out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
        return out

    return snapshot


@pytest.fixture
def form_errors() -> Callable[[str | bytes], dict[str, list[str]]]:
    """Errors shown next to the fields of a rendered page: {field name: [messages]}."""
    import lxml.html

    def parse(html: str | bytes) -> dict[str, list[str]]:
        doc = lxml.html.fromstring(html)
        out: dict[str, list[str]] = {}
        has_error = '//div[contains(concat(" ", @class, " "), " has-error ")]'
        error = './/*[contains(concat(" ", @class, " "), " error ")]'
        for div in doc.xpath(has_error):
            names = div.xpath(".//*[@name]/@name")
            messages = [e.text_content().strip() for e in div.xpath(error)]
            out.setdefault(names[0] if names else "", []).extend(messages)
        return out

    return parse


@pytest.fixture
def csrf_token_in() -> Callable[[str | bytes], str]:
    """The CSRF token of the first form on a page."""
    import re

    def find(html: str | bytes) -> str:
        text = html.decode() if isinstance(html, bytes) else html
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        assert match, "no CSRF token on the page"
        return match.group(1)

    return find


@pytest.fixture
def nghison_secrets(
    demo: dict[str, Any], add_evidence: Callable[..., Any]
) -> dict[str, Any]:
    """NGHISON data no other unit may see: an evidence file, score rows with a note.

    Returns the ids to probe with and the marker strings that must never leak.
    """
    from webapp.extensions import db
    from webapp.models import CriterionScore
    from webapp.workflow import criteria_for

    assessment = demo["assessments"]["NGHISON"]
    leaves = [
        leaf for leaf in criteria_for(assessment).leaves() if leaf.assessed_by == "self"
    ]
    marker = "NGHISON-BI-MAT-7731"
    evidence = add_evidence(
        assessment,
        [leaves[0].code],
        filename=f"Báo cáo mật {marker}.pdf",
        summary=f"Trích yếu {marker}",
        doc_number=f"99/{marker}",
    )
    scores = [
        CriterionScore(
            assessment_id=assessment.id,
            criterion_code=leaf.code,
            note=f"Thuyết minh {marker} {leaf.code}",
        )
        for leaf in leaves[:2]
    ]
    db.session.add_all(scores)
    db.session.commit()
    return {
        "unit_id": assessment.unit_id,
        "assessment_id": assessment.id,
        "evidence_id": evidence.id,
        "score_ids": [s.id for s in scores],
        "code": leaves[0].code,
        "markers": [marker],
    }


# ---- evidence feature (upload, link, download, pre-fill, sweep) ---------------------
# ---- tests/integration/test_evidence_*.py


class EvidenceFiles:
    """Real files built in memory: a PDF with Vietnamese text, a DOCX, a PNG, and an
    HTML page to disguise."""

    @staticmethod
    def pdf(lines: list[str]) -> bytes:
        """A minimal valid PDF whose text (with a ToUnicode map) extracts as `lines`."""
        chars = sorted({c for line in lines for c in line})
        assert len(chars) < 200, "one-byte codes only"
        code = {c: 0x21 + i for i, c in enumerate(chars)}
        ops = ["BT", "/F1 10 Tf", "14 TL", "40 800 Td"]
        for line in lines:
            ops.append("<" + "".join(f"{code[c]:02X}" for c in line) + "> Tj T*")
        ops.append("ET")
        content = "\n".join(ops).encode("ascii")
        pairs = [f"<{code[c]:02X}> <{ord(c):04X}>" for c in chars]
        blocks = []
        for i in range(0, len(pairs), 100):
            chunk = pairs[i : i + 100]
            body = "\n".join(chunk)
            blocks.append(f"{len(chunk)} beginbfchar\n{body}\nendbfchar")
        cmap = (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")

        def stream(data: bytes) -> bytes:
            return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            stream(content),
            stream(cmap),
        ]
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            xref,
        )
        return bytes(out)

    @staticmethod
    def docx(header: list[tuple[str, str]], body: list[str]) -> bytes:
        """A DOCX with the NĐ 30 two-column header table (left, right per row), then
        paragraphs."""
        import io

        from docx import Document

        document = Document()
        table = document.add_table(rows=len(header), cols=2)
        for row, (left, right) in zip(table.rows, header, strict=True):
            row.cells[0].text = left
            row.cells[1].text = right
        for text in body:
            document.add_paragraph(text)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def png() -> bytes:
        """A real 1×1 PNG."""
        import struct
        import zlib

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            crc = struct.pack(">I", zlib.crc32(body))
            return struct.pack(">I", len(data)) + body + crc

        ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
        raw = zlib.compress(b"\x00\xff\x00\x00")
        chunks = chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
        return b"\x89PNG\r\n\x1a\n" + chunks

    @staticmethod
    def html() -> bytes:
        return (
            b"<!DOCTYPE html><html><head><title>x</title></head>"
            b"<body><script>alert(document.cookie)</script></body></html>"
        )


@pytest.fixture
def evidence_files() -> EvidenceFiles:
    return EvidenceFiles()


@pytest.fixture(params=["local", "s3"])
def evidence_backend(request: Any, app: Any) -> str:
    """Run a test on the local directory store, then on S3 (the moto server of
    `s3_settings`). The app builds its store lazily from app.config, so switching the
    config here is enough."""
    if request.param == "s3":
        app.config.update(request.getfixturevalue("s3_settings"))
        app.extensions["evidence_store"] = None
    return str(request.param)


@pytest.fixture
def evidence_store(app: Any) -> Any:
    """The app's evidence store (whatever backend the test configured)."""
    from webapp.storage import get_store

    return get_store()


@pytest.fixture
def upload_file(client: Any) -> Callable[..., Any]:
    """POST a file to the upload endpoint as the widget's XHR does (xhr=False: a plain
    form post, as without JavaScript)."""
    import io

    def post(
        assessment_id: int,
        filename: str,
        data: bytes,
        codes: tuple[str, ...] = ("1.1.1",),
        *,
        xhr: bool = True,
        **citation: str,
    ) -> Any:
        form: dict[str, Any] = {
            "file": (io.BytesIO(data), filename),
            "criterion_code": list(codes),
            **citation,
        }
        headers = (
            {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
            if xhr
            else {}
        )
        return client.post(
            f"/evidence/assessments/{assessment_id}/upload",
            data=form,
            headers=headers,
            content_type="multipart/form-data",
        )

    return post


# ---- appraisal and results (thẩm định, kết quả) -------------------------------------


@pytest.fixture
def full_answer() -> Callable[[Any], dict[str, Any]]:
    """An answer that earns a leaf its maximum (the appraisal tests' simple scheme)."""
    from scoring import score_leaf

    def answer_for(leaf: Any) -> dict[str, Any]:
        rule = leaf.rule
        candidates: list[dict[str, Any]] = []
        if rule.type == "binary":
            candidates = [{"value": True}, {"value": False}]
        elif rule.type == "tiers" and rule.measure.unit == "date":
            days = [
                d for band in rule.bands for d in (band.until_date, band.from_date) if d
            ]
            candidates = [{"value": d.isoformat()} for d in days]
        elif rule.type in ("tiers", "ratio"):
            candidates = [{"value": v} for v in ("100", "0", "99", "50")]
        elif rule.type == "checklist":
            candidates = [{"checked": list(range(len(rule.items)))}]
        elif rule.type == "deduction":
            candidates = [{"counts": [0] * len(rule.events)}]
        elif rule.type == "manual":
            best = max(range(len(rule.levels)), key=lambda i: rule.levels[i].points)
            candidates = [{"level": best}]
        for candidate in candidates:
            if score_leaf(leaf, candidate).points == leaf.max_points:
                return candidate
        raise AssertionError(f"no full-points answer for {leaf.code}")

    return answer_for


@pytest.fixture
def fill_assessment(
    app: Any, full_answer: Callable[[Any], dict[str, Any]]
) -> Callable[..., None]:
    """Answer each self/system leaf, engine-scored, with a note (one commit).

    Full points unless `overrides` gives another answer; `skip`: codes left unanswered;
    `note`: the explanation on every answered leaf (default: one naming the leaf).
    Saving through the page is tested on its own; this only sets the scene, fast.
    """
    from scoring import normalize_answer, score_leaf
    from webapp.extensions import db
    from webapp.workflow import criteria_for, score_row

    def fill(
        assessment: Any,
        overrides: dict[str, dict[str, Any]] | None = None,
        *,
        user: Any = None,
        skip: tuple[str, ...] = (),
        note: str | None = None,
    ) -> None:
        for leaf in criteria_for(assessment).leaves():
            if leaf.assessed_by == "survey" or leaf.code in skip:
                continue
            given = (overrides or {}).get(leaf.code) or full_answer(leaf)
            answer = normalize_answer(leaf, given)
            result = score_leaf(leaf, answer)
            row = score_row(assessment, leaf.code)
            row.answer = answer
            row.is_not_applicable = bool(answer and answer.get("not_applicable"))
            row.self_points = result.points
            row.score_explanation = result.explanation
            row.note = f"Thuyết minh tiêu chí {leaf.code}" if note is None else note
            row.updated_by_id = user.id if user else None
        db.session.commit()

    return fill


@pytest.fixture
def submit_directly(app: Any) -> Callable[..., None]:
    """Freeze an assessment with the assessment feature's own snapshot (no gate).

    `user` defaults to the unit's head, who submits in real life (or, for demo units
    without one, the coordinator).
    """
    import sqlalchemy as sa

    from webapp.assessment.services import assessment_view, build_snapshot
    from webapp.clock import now
    from webapp.extensions import db
    from webapp.models import User

    def submit(assessment: Any, user: Any = None) -> None:
        user = user or db.session.scalar(
            sa.select(User)
            .where(User.role.in_(["unit_head", "admin"]))
            .where(sa.or_(User.unit_id == assessment.unit_id, User.unit_id.is_(None)))
            .order_by(User.unit_id.is_(None))
        )
        at = now()
        view = assessment_view(assessment, user)
        assessment.snapshot = build_snapshot(assessment, view, at, user)
        assessment.status = "submitted"
        assessment.submitted_at = at
        assessment.submitted_by_id = user.id
        db.session.commit()

    return submit


@pytest.fixture
def add_evidence(app: Any) -> Callable[..., Any]:
    """Store a file in the evidence store and link it to leaves, as an upload would."""
    import io

    from evidence_store import new_key
    from webapp.extensions import db
    from webapp.formatting import fold
    from webapp.models import Evidence, EvidenceLink
    from webapp.storage import get_store

    def add(
        assessment: Any,
        codes: list[str],
        *,
        filename: str = "Kế hoạch CCHC 2026.pdf",
        data: bytes | None = None,
        uploaded_by: Any = None,
        **citation: Any,
    ) -> Any:
        # Distinct bytes per name, so two documents never share a hash by accident.
        body = data if data is not None else b"%PDF-1.4 minh chung " + filename.encode()
        stored = get_store().put(new_key(assessment.unit.code), io.BytesIO(body))
        text = " ".join([filename, *(str(v) for v in citation.values())])
        evidence = Evidence(
            unit_id=assessment.unit_id,
            assessment_id=assessment.id,
            storage_key=stored.key,
            sha256=stored.sha256,
            size=stored.size,
            mime_type="application/pdf",
            kind="pdf",
            original_filename=filename,
            uploaded_by_id=uploaded_by.id if uploaded_by else None,
            search_text=fold(text),
            **citation,
        )
        evidence.links = [EvidenceLink(criterion_code=code) for code in codes]
        db.session.add(evidence)
        db.session.commit()
        return evidence

    return add


@pytest.fixture
def appraise_directly(app: Any) -> Callable[..., None]:
    """Appraise each self/system leaf at its self-score unless told otherwise."""
    from decimal import Decimal

    from webapp.clock import now
    from webapp.extensions import db
    from webapp.workflow import criteria_for, score_row, self_score

    def appraise(assessment: Any, points: dict[str, str] | None = None) -> None:
        own = self_score(assessment)
        for leaf in criteria_for(assessment).leaves():
            if leaf.assessed_by == "survey":
                continue
            row = score_row(assessment, leaf.code)
            given = (points or {}).get(leaf.code)
            row.appraised_points = (
                Decimal(given) if given else own.leaves[leaf.code].points
            )
            row.appraiser_comment = "Điều chỉnh" if given else ""
            row.appraised_at = now()
        assessment.status = "appraised"
        db.session.commit()

    return appraise


@pytest.fixture
def enter_survey(app: Any) -> Callable[[Any, str], None]:
    """Give every survey leaf of an assessment the same percentage, via DB rows."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.workflow import criteria_for, score_row

    def enter(assessment: Any, percent: str) -> None:
        for leaf in criteria_for(assessment).leaves():
            if leaf.assessed_by == "survey":
                score_row(assessment, leaf.code).survey_value = Decimal(percent)
        db.session.commit()

    return enter


# ---- dossier export (webapp/dossier): tests/integration/test_dossier_*.py ------


@pytest.fixture
def dossier_case(
    demo: dict[str, Any], add_evidence: Callable[..., Any]
) -> dict[str, Any]:
    """Phường Trúc Lâm's draft with a few answers, notes and evidence:

    - "Kế hoạch CCHC năm 2026.pdf" (125/KH-UBND, fully cited) proves 1.1.1, 1.1.2;
    - a second file, same name and số/ký hiệu, also proves 1.1.1 (name collision);
    - "Báo cáo kết quả.pdf" without citation proves 1.1.3 (incomplete evidence);
    - 1.2 expects evidence, has none but has an explanation; 1.3.2 "không phát sinh".
    """
    from datetime import date

    from webapp.extensions import db
    from webapp.workflow import score_row

    assessment = demo["assessments"]["TRUCLAM"]
    editor = demo["users"]["truclam.chuyenvien"]
    answers = {
        "1.1.1": {"value": "2026-01-15"},
        "1.1.2": {"checked": [0, 1]},
        "1.1.3": {"value": "85"},
        "1.2": {"counts": [1]},
    }
    for code, answer in answers.items():
        score_row(assessment, code).answer = answer
    score_row(assessment, "1.3.2").is_not_applicable = True
    score_row(assessment, "1.2").note = "Chậm 01 báo cáo quý I do sự cố đường truyền."
    score_row(assessment, "1.1.1").note = "Kế hoạch ban hành trong tháng 01."
    db.session.commit()
    plan = add_evidence(
        assessment,
        ["1.1.1", "1.1.2"],
        data=b"%PDF-1.4 ke hoach " * 500,
        filename="Kế hoạch CCHC năm 2026.pdf",
        uploaded_by=editor,
        doc_type="Kế hoạch",
        doc_number="125/KH-UBND",
        issued_on=date(2026, 1, 15),
        issuer="UBND phường Trúc Lâm",
        summary="Kế hoạch cải cách hành chính năm 2026",
    )
    twin = add_evidence(
        assessment,
        ["1.1.1"],
        data=b"%PDF-1.4 ban ky so",
        filename="Kế hoạch CCHC năm 2026.pdf",
        uploaded_by=editor,
        doc_number="125/KH-UBND",
        issued_on=date(2026, 1, 16),
        issuer="UBND phường Trúc Lâm",
    )
    report = add_evidence(
        assessment,
        ["1.1.3"],
        data=b"%PDF-1.4 bao cao",
        filename="Báo cáo kết quả.pdf",
        uploaded_by=editor,
    )
    return {
        "assessment": assessment,
        "plan": plan,
        "twin": twin,
        "report": report,
        "editor": editor,
        **demo,
    }


# --- end of dossier export fixtures ---
