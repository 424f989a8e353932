"""Integration fixtures: a fresh database per test (SQLite by default, PostgreSQL when
PARINDEX_TEST_DATABASE_URL is set: CI runs the suite on both), the app, its client,
demo data, and helpers that drive an assessment through its year."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import g, request_started

TEST_DB_URL = os.environ.get("PARINDEX_TEST_DATABASE_URL")


@pytest.fixture
def app_config(tmp_path: Path, clock: Any) -> dict[str, Any]:
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
        # Generous on a loaded test machine: the pre-fill bound tests check the page
        # and byte bounds, which hold whatever the load (bench/prefill.py times it).
        "PREFILL_TIMEOUT": 10.0,
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
def live_server(app: Any, demo: dict[str, Any]) -> Iterator[str]:
    """The app served on 127.0.0.1 at a free port, in a thread stopped afterwards."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


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
def cacson_appraiser(demo: dict[str, Any]) -> Any:
    """An appraiser assigned to CACSON only: a stranger to TRUCLAM and NGHISON."""
    from webapp.auth.services import hash_password
    from webapp.extensions import db
    from webapp.models import AppraiserAssignment, User

    user = User(
        username="thamdinh.cacson",
        full_name="Trịnh Văn Khoa",
        role="appraiser",
        password_hash=hash_password(demo["password"]),
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        AppraiserAssignment(
            period_id=demo["period"].id,
            unit_id=demo["units"]["CACSON"].id,
            user_id=user.id,
        )
    )
    db.session.commit()
    return user


@pytest.fixture
def nghison_secrets(
    demo: dict[str, Any], add_evidence: Callable[..., Any]
) -> dict[str, Any]:
    """NGHISON data no other unit may see: an evidence file, score rows with a note.

    Returns the ids to probe with and the marker strings that must never leak.
    """
    from webapp.criteria_sets import criteria_for
    from webapp.extensions import db
    from webapp.models import CriterionScore

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


def _ev_pad_docx(docx: bytes, filler_bytes: int, *, first: bool) -> bytes:
    import io
    import random
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    # Many small random paragraphs: what costs a whole-document parser the most
    # (about 10 B of DOCX and 50 B of XML each).
    words = random.Random(filler_bytes).randbytes(filler_bytes // 10 * 8).hex()
    filler = "".join(
        f"<w:p><w:r><w:t>{words[i : i + 16]}</w:t></w:r></w:p>"
        for i in range(0, len(words), 16)
    ).encode()
    xml = parts["word/document.xml"]
    at = re.search(rb"<w:body>", xml).end() if first else xml.rindex(b"<w:sectPr")  # type: ignore[union-attr]
    parts["word/document.xml"] = xml[:at] + filler + xml[at:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class EvidenceFiles:
    """Real files built in memory: a PDF with Vietnamese text, a DOCX, a PNG, and an
    HTML page to disguise."""

    @staticmethod
    def pdf(lines: list[str], *, filler_ops: int = 0) -> bytes:
        """A minimal valid PDF whose text (with a ToUnicode map) extracts as `lines`.

        `filler_ops` appends that many no-op text moves to the page and compresses its
        content (FlateDecode): 1.5 million make a 16 KB file that inflates to
        10 MB, the kind that cost the unbounded reader hundreds of MB and many seconds.
        """
        import zlib

        chars = sorted({c for line in lines for c in line})
        assert len(chars) < 200, "one-byte codes only"
        code = {c: 0x21 + i for i, c in enumerate(chars)}
        ops = ["BT", "/F1 10 Tf", "14 TL", "40 800 Td"]
        for line in lines:
            ops.append("<" + "".join(f"{code[c]:02X}" for c in line) + "> Tj T*")
        content = "\n".join(ops).encode("ascii") + b"\n0 0 Td" * filler_ops + b"\nET"
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

        def stream(data: bytes, *, deflate: bool = False) -> bytes:
            if deflate:
                data = zlib.compress(data, 9)
            head = b"<< /Length %d%s >>\n" % (
                len(data),
                b" /Filter /FlateDecode" if deflate else b"",
            )
            return head + b"stream\n" + data + b"\nendstream"

        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            stream(content, deflate=filler_ops > 0),
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
    def docx(
        header: list[tuple[str, str]],
        body: list[str],
        *,
        filler_bytes: int = 0,
        filler_first: bool = False,
    ) -> bytes:
        """A DOCX with the NĐ 30 two-column header table (left, right per row), then
        paragraphs.

        `filler_bytes` adds short paragraphs of random hex, about that many bytes of
        DOCX, after the body or, with `filler_first`, before the header: 6 MB make
        600,000 paragraphs, 29 MB of XML.
        """
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
        if filler_bytes:
            return _ev_pad_docx(buffer.getvalue(), filler_bytes, first=filler_first)
        return buffer.getvalue()

    @staticmethod
    def padded_pdf(size: int) -> bytes:
        """A PDF that passes validation, padded with a comment to `size` bytes."""
        head = b"%PDF-1.4\n"
        tail = b"\ntrailer\n<< >>\n%%EOF\n"
        return head + b"%" + b"0" * (size - len(head) - len(tail) - 1) + tail

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


def _store_on(app: Any, settings: dict[str, Any]) -> None:
    """Point the app's store at other settings: it is built lazily from app.config."""
    app.config.update(settings)
    app.extensions["evidence_store"] = None


@pytest.fixture(params=["local", "s3"])
def evidence_backend(request: Any, app: Any) -> str:
    """Run a test on the local directory store, then on S3 (the moto server of
    `s3_settings`)."""
    if request.param == "s3":
        _store_on(app, request.getfixturevalue("s3_settings"))
    return str(request.param)


@pytest.fixture
def s3_store_of_app(app: Any, s3_settings: dict[str, Any]) -> Any:
    """The app's store on S3 (the moto server of `s3_settings`)."""
    from webapp.storage import get_store

    _store_on(app, s3_settings)
    return get_store()


@pytest.fixture
def evidence_store(app: Any) -> Any:
    """The app's evidence store (whatever backend the test configured)."""
    from webapp.storage import get_store

    return get_store()


@pytest.fixture
def s3_behind_proxy(app: Any, fault_proxy: Any, s3_settings: Any) -> Any:
    """The app's store on S3, every request through a `FaultProxy` (returned)."""
    _store_on(app, {**s3_settings, "S3_ENDPOINT_URL": fault_proxy.url})
    return fault_proxy


@pytest.fixture(params=["local", "s3"])
def faulty_backend(request: Any, app: Any) -> Any:
    """The app's store on each backend: the local directory (None), then S3 behind a
    `FaultProxy` (returned)."""
    if request.param == "local":
        return None
    return request.getfixturevalue("s3_behind_proxy")


@pytest.fixture
def upload_file(client: Any) -> Callable[..., Any]:
    """POST a file to the upload endpoint as the widget's XHR does (xhr=False: a plain
    form post, as without JavaScript)."""
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    def post(
        assessment_id: int,
        filename: str,
        data: bytes,
        codes: tuple[str, ...] = ("1.1.1",),
        *,
        xhr: bool = True,
        declared: int | str | None = -1,
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
        # The widget declares its file's size (-1: the true one, None: no header).
        if xhr and declared is not None:
            headers["X-Upload-Size"] = str(len(data) if declared == -1 else declared)
        # Encoded in memory: for a big body the test client would spool to a temporary
        # file it never closes (a ResourceWarning in a later test).
        boundary, body = encode_multipart(
            {**form, "file": FileStorage(io.BytesIO(data), filename)}
        )
        return client.post(
            f"/evidence/assessments/{assessment_id}/upload",
            data=body,
            headers=headers,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    return post


@pytest.fixture
def read_proposal(client: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What the upload widget does right after an upload: ask the proposal_url of the
    upload's answer for the citation read from the file; its JSON answer."""

    def ask(uploaded: dict[str, Any]) -> dict[str, Any]:
        url = uploaded["proposal_url"]
        assert url, "no proposal to read for this upload"
        headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        response = client.post(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        answer: dict[str, Any] = response.get_json()
        return answer

    return ask


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
    from webapp.criteria_sets import criteria_for
    from webapp.extensions import db
    from webapp.workflow import score_row

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

    from webapp import lifecycle
    from webapp.assessment.overview import assessment_view
    from webapp.assessment.submission import build_snapshot
    from webapp.clock import now
    from webapp.extensions import db
    from webapp.models import User

    def submit(assessment: Any, user: Any = None, at: Any = None) -> None:
        user = user or db.session.scalar(
            sa.select(User)
            .where(User.role.in_(["unit_head", "admin"]))
            .where(sa.or_(User.unit_id == assessment.unit_id, User.unit_id.is_(None)))
            .order_by(User.unit_id.is_(None))
        )
        at = at or now()
        view = assessment_view(assessment, user)
        assessment.snapshot = build_snapshot(assessment, view, at, user)
        lifecycle.submit(assessment, by=user, at=at)
        db.session.commit()

    return submit


@pytest.fixture
def return_directly(app: Any) -> Callable[..., Any]:
    """Send leaves back to the unit through the lifecycle, as an appraiser would."""
    from webapp import lifecycle
    from webapp.extensions import db
    from webapp.models import ReturnRequest

    def send_back(
        assessment: Any,
        codes: list[str],
        *,
        due_at: Any,
        message: str = "Đề nghị giải trình, bổ sung.",
        by: Any = None,
    ) -> Any:
        request = ReturnRequest(
            assessment=assessment,
            criterion_codes=codes,
            message=message,
            due_at=due_at,
            created_by_id=by.id if by else None,
        )
        db.session.add(request)
        lifecycle.return_to_unit(assessment, request)
        db.session.commit()
        return request

    return send_back


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

    from webapp import lifecycle
    from webapp.clock import now
    from webapp.criteria_sets import criteria_for
    from webapp.extensions import db
    from webapp.workflow import score_row, self_score

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
        lifecycle.finish_appraisal(assessment)
        db.session.commit()

    return appraise


@pytest.fixture
def enter_survey(app: Any) -> Callable[[Any, str], None]:
    """Give every survey leaf of an assessment the same percentage, via DB rows."""
    from decimal import Decimal

    from webapp.criteria_sets import criteria_for
    from webapp.extensions import db
    from webapp.workflow import score_row

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


# ---- SQL statement recording (criteria registry, page query counts) ---------------


@pytest.fixture
def sql_statements(app: Any) -> Callable[[], Any]:
    """`with sql_statements() as seen:` lists every SQL statement run in the block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    from webapp.extensions import db

    @contextmanager
    def record() -> Iterator[list[str]]:
        seen: list[str] = []

        def on_execute(*args: Any) -> None:
            seen.append(args[2])  # (conn, cursor, statement, parameters, ...)

        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)

    return record


@pytest.fixture
def sign_pdf() -> Callable[..., bytes]:
    """Sign a PDF (ký số) with a key certified by a CA generated on the spot: no
    private key is ever committed. ``sign_pdf(pdf, signer_name=...)``."""
    return _sign


def _sign(pdf: bytes, signer_name: str = "Lê Văn Minh") -> bytes:
    """Sign ``pdf`` with a key certified by a CA generated for this call."""
    import io
    from datetime import UTC, datetime, timedelta

    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.now(UTC)

    def cert(subject: str, key: Any, issuer: x509.Name, sign_key: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
        )
        return builder.sign(sign_key, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = cert("CA thử nghiệm", ca_key, name("CA thử nghiệm"), ca_key, True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = cert(signer_name, key, ca.subject, ca_key, False)

    def der(c: Any) -> Any:
        return ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    signer = signers.SimpleSigner(
        signing_cert=der(leaf),
        signing_key=akeys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([der(ca)]),
    )
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="KySo"),
        signer=signer,
        output=out,
    )
    return out.getvalue()
