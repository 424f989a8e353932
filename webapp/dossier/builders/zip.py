"""The evidence ZIP, streamed: built chunk by chunk as the client downloads it.

Layout (names keep their Vietnamese letters; stream-zip sets the UTF-8 flag on every
entry, which 7-Zip, WinRAR, Windows Explorer and macOS/Linux unzip all honour)::

    1.1.1 - Thời điểm ban hành Kế hoạch CCHC năm 2026 của UBND xã/
        125-KH-UBND - Kế hoạch CCHC 2026.pdf
    1.1.2 - Nội dung Kế hoạch CCHC năm/
        Tài liệu dùng chung (xem thư mục khác).txt
    Bảng điểm tự đánh giá - TRUCLAM - 2026.xlsx
    Báo cáo tự đánh giá - TRUCLAM - 2026.docx
    manifest.csv
    manifest.json

A file proving several leaves is stored once, in the folder of the first leaf it proves
(criteria order); each other leaf's folder gets a short text note pointing at it,
and the manifest lists every leaf code of the file. Copying it into every folder would
multiply the download (a plan often proves five leaves) for no information.

Every evidence file is hashed while it streams; at its end the SHA-256 and size must
match the recorded ones, otherwise :class:`IntegrityError` is raised and the stream
stops: the client gets a broken download, never a silently wrong dossier. The manifests
come last, once every hash has been checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from stream_zip import NO_COMPRESSION_64, ZIP_AUTO, stream_zip

from webapp.dossier.builders.cells import csv_writer
from webapp.dossier.builders.text import (
    citation,
    leaf_folder,
    safe_filename,
    safe_name,
    to_vn,
    vn_date,
    vn_datetime,
)
from webapp.dossier.builders.types import Dossier, EvidenceFile

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
POINTER_NAME = "Tài liệu dùng chung (xem thư mục khác).txt"
FORMAT = "parindex-dossier/1"
# Output blocks of 4 MiB, the store's read size: a stored file's chunks then pass
# through stream-zip's re-blocking whole (no copy); the headers flush on their own, so
# the first byte does not wait for a full block.
CHUNK_SIZE = 4 << 20
FILE_MODE = stat.S_IFREG | 0o644
DEFLATE_PIECE = 64 * 1024
HASH_AHEAD = 2  # chunks queued for hashing while the writer works on the next
# Formats that are already compressed (PDF streams, OOXML/ODF zips, images): deflating
# them again costs CPU for nothing.
# fmt: off
COMPRESSED_KINDS = frozenset({
    "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "zip", "rar", "7z",
    "png", "jpg", "jpeg", "gif", "webp", "heic", "mp4", "mp3",
})
# fmt: on

ChunkReader = Callable[[EvidenceFile], Iterable[bytes]]


class HashedChunks:
    """A file's chunks from a reader that hashes them itself as it reads (on its own
    thread): ``sha256`` and ``size`` are set once the last chunk has been taken."""

    def __init__(self) -> None:
        self.source: Iterable[bytes] = ()  # set by the reader
        self.sha256: str | None = None
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.source)


class IntegrityError(Exception):
    """A stored evidence file no longer matches its recorded hash (or is missing)."""

    def __init__(self, evidence: EvidenceFile, message: str) -> None:
        super().__init__(message)
        self.evidence = evidence
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """A signed PDF the unit filed (its report, its request letter), for the ZIP."""

    name: str  # path in the ZIP
    data: bytes
    kind: str  # manifest kind: "signed_report" | "request_letter"
    original_filename: str
    signature: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """Where one evidence file goes in the ZIP."""

    path: str
    evidence: EvidenceFile


@dataclass(slots=True)
class Layout:
    """The ZIP's evidence part: files, pointer notes per folder, leaves with nothing."""

    files: list[PlannedFile] = field(default_factory=list)
    pointers: dict[str, list[tuple[str, PlannedFile]]] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)
    # Files and pointer notes (by folder) in criteria order, as they go into the ZIP.
    order: list[PlannedFile | str] = field(default_factory=list)


def document_names(dossier: Dossier) -> tuple[str, str]:
    """Names of the score table and the report inside the ZIP (and as downloads)."""
    tail = f"{safe_name(dossier.unit.code, 30)} - {dossier.year}"
    return f"Bảng điểm tự đánh giá - {tail}.xlsx", f"Báo cáo tự đánh giá - {tail}.docx"


SIGNED_NAMES = {
    "signed_report": "Báo cáo tự đánh giá",
    "request_letter": "Công văn đề nghị thẩm định",
}


def signed_name(dossier: Dossier, kind: str) -> str:
    """Name in the ZIP of a signed PDF the unit filed (manifest kind)."""
    tail = f"{safe_name(dossier.unit.code, 30)} - {dossier.year}"
    return f"{SIGNED_NAMES[kind]} - {tail} (đã ký số).pdf"


def plan_layout(dossier: Dossier) -> Layout:
    """Decide each evidence file's path: first leaf's folder, collision-free name."""
    layout = Layout()
    placed: dict[int, PlannedFile] = {}
    taken: set[str] = set()
    for row in dossier.leaves():
        folder = leaf_folder(row.code, row.title)
        for ev in row.evidence:
            if ev.id in placed:
                layout.pointers.setdefault(folder, []).append((row.code, placed[ev.id]))
                continue
            path = _unique(
                f"{folder}/{safe_filename(ev.original_filename, ev.doc_number)}", taken
            )
            placed[ev.id] = PlannedFile(path, ev)
            layout.files.append(placed[ev.id])
            layout.order.append(placed[ev.id])
        if folder in layout.pointers:
            layout.order.append(folder)
        if row.missing_evidence:
            layout.missing.append(
                {
                    "code": row.code,
                    "title": row.title,
                    "expected_evidence": list(row.expected_evidence),
                    "note": row.note,
                }
            )
    return layout


def _unique(path: str, taken: set[str]) -> str:
    """ "a/b.pdf", then "a/b (2).pdf"…, case-insensitively as Windows compares names."""
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = path, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{folder}/{stem} ({n}).{ext}" if ext else f"{folder}/{stem} ({n})"
    taken.add(candidate.casefold())
    return candidate


def stream_dossier(
    dossier: Dossier,
    *,
    read: ChunkReader,
    xlsx: Callable[[], bytes],
    docx: Callable[[], bytes],
    chunk_size: int = CHUNK_SIZE,
    on_manifest: Callable[[bytes], None] | None = None,
    signed_pdfs: Sequence[SignedPdf] = (),
) -> Iterator[bytes]:
    """Yield the ZIP's bytes; raise :class:`IntegrityError` if a file fails its hash.

    The evidence comes first and the generated Word and Excel files (built on a
    thread meanwhile) and the manifests last, so building them never delays the
    first byte. Already-compressed files are stored as they are when their CRC-32 is
    known from the upload; others are deflated. ``on_manifest`` gets manifest.json's
    bytes once every file has passed its hash, before they are written (the app
    records the digest of what it issues). ``signed_pdfs`` (the signed report, the
    request letter) go in as uploaded, listed with their validated signature.
    """
    layout = plan_layout(dossier)
    exported = to_vn(dossier.exported_at)
    xlsx_name, docx_name = document_names(dossier)
    documents: list[dict[str, Any]] = []
    checked: dict[str, tuple[str, int]] = {}  # path -> (sha256, size) as streamed
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-sha256")
    # The Word and Excel files are built on their own thread while the evidence streams
    # (the writer spends its time in zlib, hashlib and the socket, which release the
    # GIL): they go last, and are ready by then.
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-documents")
    built = [builder.submit(xlsx), builder.submit(docx)]

    def in_memory(
        name: str, data: bytes, kind: str, level: int, **extra: Any
    ) -> tuple[Any, ...]:
        sha256 = hashlib.sha256(data).hexdigest()
        documents.append(
            {"path": name, "kind": kind, "size": len(data), "sha256": sha256, **extra}
        )
        method = (
            NO_COMPRESSION_64(len(data), zlib.crc32(data))
            if level == 0
            else ZIP_AUTO(len(data), level=level)
        )
        return (name, exported, FILE_MODE, method, (data,))

    def members() -> Iterator[tuple[Any, ...]]:
        for item in layout.order:
            if isinstance(item, str):
                text = _pointer_text(layout.pointers[item])
                yield in_memory(f"{item}/{POINTER_NAME}", text, "pointer", 6)
                continue
            ev = item.evidence
            modified = to_vn(ev.uploaded_at) if ev.uploaded_at else exported
            method, stored = _method(ev)
            yield (
                item.path,
                _zip_time(modified),
                FILE_MODE,
                method,
                _verified(ev, read(ev), item.path, checked, hasher, whole=stored),
            )
        # The .xlsx and .docx are zips already: stored without a second compression.
        yield in_memory(xlsx_name, built[0].result(), "score_table", 0)
        yield in_memory(docx_name, built[1].result(), "report", 0)
        for pdf in signed_pdfs:  # as the unit signed them (ký số)
            yield in_memory(
                pdf.name,
                pdf.data,
                pdf.kind,
                0,
                original_filename=pdf.original_filename,
                signature=pdf.signature,
            )
        csv_data = manifest_csv(dossier, layout)
        yield (
            MANIFEST_CSV,
            exported,
            FILE_MODE,
            ZIP_AUTO(len(csv_data), level=6),
            (csv_data,),
        )
        data = manifest_json(dossier, layout, documents, checked, csv_data)
        if on_manifest is not None:
            on_manifest(data)
        yield (
            MANIFEST_JSON,
            exported,
            FILE_MODE,
            ZIP_AUTO(len(data), level=6),
            (data,),
        )

    try:
        yield from stream_zip(members(), chunk_size=chunk_size)
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)
        builder.shutdown(wait=False, cancel_futures=True)


def _zip_time(value: datetime) -> datetime:
    # DOS timestamps cannot go before 1980.
    return value if value.year >= 1980 else value.replace(year=1980)


def _method(ev: EvidenceFile) -> tuple[Any, bool]:
    """The member's method, and whether its bytes are stored as they come."""
    if not _is_compressed(ev):
        return ZIP_AUTO(ev.size, level=6), False
    if ev.crc32 is not None:
        return NO_COMPRESSION_64(ev.size, ev.crc32), True
    return ZIP_AUTO(ev.size, level=0), False  # uploaded before the CRC was recorded


def _is_compressed(ev: EvidenceFile) -> bool:
    ext = ev.original_filename.rpartition(".")[2].lower()
    return (ev.kind or ext).lower() in COMPRESSED_KINDS or ext in COMPRESSED_KINDS


def _verified(
    ev: EvidenceFile,
    chunks: Iterable[bytes],
    path: str,
    checked: dict[str, tuple[str, int]],
    hasher: ThreadPoolExecutor,
    *,
    whole: bool = False,
) -> Iterator[bytes | memoryview]:
    """Pass the chunks through, hashing them; at the end compare with the recorded hash.

    A reader that hashes as it reads (:class:`HashedChunks`, the app's read-ahead
    thread) gives its digest at the end. Otherwise each chunk is hashed on ``hasher``
    (one thread) while the ZIP writer computes its CRC-32 and sends it: hashlib and
    zlib release the GIL, so the two overlap. At most ``HASH_AHEAD`` chunks wait for
    the hash (memory stays flat); one thread keeps order. ``whole``: stored members
    pass each chunk as it is; deflated ones in pieces (see ``DEFLATE_PIECE``).
    """
    digest = hashlib.sha256()
    size = 0
    pending: deque[Future[None]] = deque()
    prehashed = isinstance(chunks, HashedChunks)
    for chunk in chunks:
        if not prehashed:
            if len(pending) >= HASH_AHEAD:
                pending.popleft().result()
            pending.append(hasher.submit(digest.update, chunk))
            size += len(chunk)
        if whole:  # stored: the chunk goes out as it is, no copy
            yield chunk
            continue
        # zlib stores level-0 input ten times faster in pieces of 64 KiB than of 1 MiB.
        view = memoryview(chunk)
        for start in range(0, len(view), DEFLATE_PIECE):
            yield view[start : start + DEFLATE_PIECE]
    while pending:
        pending.popleft().result()
    if isinstance(chunks, HashedChunks):
        actual, size = chunks.sha256 or "", chunks.size
    else:
        actual = digest.hexdigest()
    if actual != ev.sha256 or size != ev.size:
        raise IntegrityError(
            ev,
            f"Tệp “{ev.original_filename}” (tài liệu #{ev.id}) không khớp mã băm "
            "SHA-256 đã "
            f"ghi nhận: ghi nhận {ev.sha256[:12]}… ({ev.size} byte), đọc được "
            f"{actual[:12]}… ({size} byte). Hồ sơ không được xuất.",
        )
    checked[path] = (actual, size)


def _pointer_text(refs: Sequence[tuple[str, PlannedFile]]) -> bytes:
    lines = [
        "Các tài liệu kiểm chứng của tiêu chí này được lưu một lần ở thư mục khác:",
        "",
    ]
    for code, planned in refs:
        lines.append(f"- {citation(planned.evidence)}")
        lines.append(f"  Tệp: {planned.path} (chứng minh cho tiêu chí {code})")
    # BOM and CRLF so Windows Notepad shows the Vietnamese text correctly.
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _file_record(planned: PlannedFile, sha256: str) -> dict[str, Any]:
    ev = planned.evidence
    return {
        "evidence_id": ev.id,
        "codes": list(ev.codes),
        "path": planned.path,
        "original_filename": ev.original_filename,
        "size": ev.size,
        "sha256": sha256,
        "mime_type": ev.mime_type,
        "doc_type": ev.doc_type,
        "doc_number": ev.doc_number,
        "issued_on": ev.issued_on.isoformat() if ev.issued_on else None,
        "issuer": ev.issuer,
        "summary": ev.summary,
        "citation": citation(ev),
        "uploaded_by": ev.uploaded_by,
        "uploaded_at": ev.uploaded_at.isoformat() if ev.uploaded_at else None,
    }


def manifest_json(
    dossier: Dossier,
    layout: Layout,
    documents: list[dict[str, Any]],
    checked: dict[str, tuple[str, int]],
    csv_data: bytes,
) -> bytes:
    """The machine-readable manifest, which ``flask dossier verify`` checks against."""

    def totals(t: Any) -> dict[str, Any] | None:
        if t is None:
            return None
        return {
            "points": f"{t.points:.2f}",
            "max": f"{t.max_points:.2f}",
            "index": None if t.index is None else f"{t.index:.2f}",
            "band": t.band,
            "pending": list(t.pending),
        }

    data = {
        "format": FORMAT,
        "generated_at": dossier.exported_at.isoformat(),
        "generated_by": dossier.exported_by,
        "assessment": {
            "id": dossier.assessment_id,
            "unit_code": dossier.unit.code,
            "unit_name": dossier.unit.name,
            "period": dossier.period_name,
            "year": dossier.year,
            "criteria_set": dossier.criteria_set_id,
            "status": dossier.status,
            "submitted_at": dossier.submitted_at.isoformat()
            if dossier.submitted_at
            else None,
            "source": "snapshot" if dossier.from_snapshot else "live",
        },
        "totals": {
            "self": totals(dossier.self_totals),
            "appraised": totals(dossier.appraised_totals),
        },
        "documents": [
            *documents,
            {
                "path": MANIFEST_CSV,
                "kind": "manifest",
                "size": len(csv_data),
                "sha256": hashlib.sha256(csv_data).hexdigest(),
            },
        ],
        "files": [
            _file_record(p, checked.get(p.path, (p.evidence.sha256, 0))[0])
            for p in layout.files
        ],
        "missing": layout.missing,
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


CSV_HEADERS = (
    "Mã tiêu chí",
    "Tình trạng",
    "Đường dẫn trong tệp ZIP",
    "Tên tệp gốc",
    "Dung lượng (byte)",
    "SHA-256",
    "Loại văn bản",
    "Số/ký hiệu",
    "Ngày ban hành",
    "Cơ quan ban hành",
    "Trích yếu",
    "Người tải lên",
    "Thời điểm tải lên",
)


def manifest_csv(dossier: Dossier, layout: Layout) -> bytes:
    """The same list for people: UTF-8 with a BOM so Excel opens the Vietnamese text."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for planned in layout.files:
        ev = planned.evidence
        writer.writerow(
            [
                ", ".join(ev.codes),
                "Có tài liệu",
                planned.path,
                ev.original_filename,
                ev.size,
                ev.sha256,
                ev.doc_type,
                ev.doc_number,
                vn_date(ev.issued_on),
                ev.issuer,
                ev.summary,
                ev.uploaded_by,
                vn_datetime(ev.uploaded_at),
            ]
        )
    for item in layout.missing:
        writer.writerow(
            [
                item["code"],
                "Chưa có tài liệu kiểm chứng",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                item["title"],
                "",
                "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- verification ----------------------------------------------------------------------


def manifest_digest(source: str | Path | IO[bytes]) -> str | None:
    """SHA-256 of the ZIP's manifest.json as stored (None: no readable manifest)."""
    try:
        with zipfile.ZipFile(source) as zf:
            return hashlib.sha256(zf.read(MANIFEST_JSON)).hexdigest()
    except (KeyError, zipfile.BadZipFile, OSError):
        return None


def signed_documents(source: str | Path | IO[bytes]) -> list[dict[str, Any]]:
    """The signed PDFs a dossier ZIP's manifest lists (report, request letter)."""
    try:
        with zipfile.ZipFile(source) as zf:
            manifest = json.loads(zf.read(MANIFEST_JSON).decode("utf-8"))
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, OSError):
        return []
    return [
        doc
        for doc in manifest.get("documents", [])
        if isinstance(doc, dict) and doc.get("kind") in SIGNED_NAMES
    ]


def signed_text(doc: dict[str, Any]) -> str:
    """One line on a signed PDF of the dossier, as validated when it was uploaded."""
    sig = doc.get("signature") or {}
    what = SIGNED_NAMES.get(str(doc.get("kind")), "Văn bản")
    if not sig.get("signed"):
        state = "không có chữ ký số"
    elif sig.get("intact"):
        when = sig.get("signed_at")
        at = vn_datetime(datetime.fromisoformat(when)) if when else "—"
        state = (
            f"ký số bởi {sig.get('signer') or '—'} (chứng thư do "
            f"{sig.get('issuer') or '—'} cấp) lúc {at}, không bị thay đổi sau khi ký"
        )
    else:
        state = str(sig.get("problem") or "chữ ký số không hợp lệ")
    return f"{what} ({doc.get('path')}): {state}."


def verify_zip(source: str | Path | IO[bytes]) -> list[str]:
    """Re-hash every entry of a dossier ZIP against its manifest.json; list problems.

    An empty list means the ZIP is intact: every listed file is present with the listed
    size and SHA-256, and nothing unlisted was added.
    """
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"Không đọc được tệp ZIP: {exc}"]
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST_JSON).decode("utf-8"))
        except KeyError:
            return ["Thiếu manifest.json trong tệp ZIP."]
        except (ValueError, zipfile.BadZipFile, zlib.error) as exc:
            return [f"manifest.json không đọc được: {exc}"]
        expected: dict[str, tuple[str, int]] = {}
        for item in [*manifest.get("documents", []), *manifest.get("files", [])]:
            expected[item["path"]] = (item["sha256"], int(item["size"]))
        present = {i.filename for i in zf.infolist() if not i.is_dir()}
        for name in sorted(present - {MANIFEST_JSON}):
            if name not in expected:
                problems.append(
                    f"{name}: có trong ZIP nhưng không có trong manifest.json"
                )
                continue
            sha, size = expected[name]
            try:
                actual_sha, actual_size = _hash_member(zf, name)
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:
                problems.append(f"{name}: dữ liệu hỏng ({exc})")
                continue
            if actual_sha != sha:
                problems.append(f"{name}: SHA-256 {actual_sha} khác manifest {sha}")
            elif actual_size != size:
                problems.append(
                    f"{name}: dung lượng {actual_size} byte khác manifest {size}"
                )
        for name in sorted(set(expected) - present):
            problems.append(f"{name}: có trong manifest.json nhưng không có trong ZIP")
    return problems


def _hash_member(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with zf.open(name) as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
