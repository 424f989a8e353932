"""Dossier exports: score table, NĐ 30 report, evidence ZIP, the period's ranking.

Every export is audited (``dossier.export``); a ZIP whose evidence no longer matches its
hash is aborted and audited (``dossier.export_failed``) in a transaction of its own, so
the record survives whatever happens to the request.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from queue import Full, Queue
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from evidence_store import EvidenceStore, StorageError
from webapp import audit
from webapp.access import visible_assessments
from webapp.clock import now, to_vn
from webapp.dossier.builders.docx import build_appraisal_report, build_report
from webapp.dossier.builders.text import safe_name
from webapp.dossier.builders.types import Dossier, EvidenceFile, UnitInfo
from webapp.dossier.builders.xlsx import RankingRow, build_ranking, build_score_table
from webapp.dossier.builders.zip import (
    HashedChunks,
    IntegrityError,
    SignedPdf,
    document_names,
    manifest_digest,
    plan_layout,
    signed_documents,
    signed_name,
    signed_text,
    stream_dossier,
    verify_zip,
)
from webapp.dossier.contents import as_submitted, build_dossier, totals, uses_snapshot
from webapp.dossier.signed import latest_signed, missing_request_letter
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus
from webapp.models import (
    Assessment,
    AuditEvent,
    IssuedDossier,
    Period,
    SignedKind,
    User,
)
from webapp.results.ranking import period_results  # the one ranking the UI shows too

logger = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


FORMAT_LABELS = {
    "xlsx": "bảng điểm (Excel)",
    "docx": "báo cáo tự đánh giá (Word)",
    "zip": "hồ sơ tài liệu kiểm chứng (ZIP)",
    "ranking": "bảng xếp hạng kỳ đánh giá (Excel)",
    "appraisal": "thông báo kết quả thẩm định (Word)",
}


@dataclass(frozen=True)
class Export:
    """A built file ready to send."""

    data: bytes
    filename: str
    mimetype: str


@dataclass(frozen=True)
class ZipExport:
    """A ZIP being built: iterate ``chunks`` to stream it."""

    chunks: Iterator[bytes]
    filename: str
    files: int
    total_bytes: int


def exportable(user: User) -> tuple[list[Assessment], list[Period]]:
    """Assessments whose dossier the user may export; periods for the coordinator."""
    assessments = db.session.scalars(
        visible_assessments(user)
        .options(joinedload(Assessment.unit), joinedload(Assessment.period))
        .order_by(Assessment.period_id.desc(), Assessment.id)
    ).all()
    periods = (
        db.session.scalars(
            sa.select(Period).order_by(Period.year.desc(), Period.id.desc())
        ).all()
        if user.role == "admin"
        else []
    )
    return list(assessments), list(periods)


def _file_stem(assessment: Assessment) -> str:
    return f"{safe_name(assessment.unit.code, 30)} - {assessment.period.year}"


def _record_export(
    assessment: Assessment, fmt: str, user: User | None, extra: dict[str, Any]
) -> None:
    audit.record(
        "dossier.export",
        "assessment",
        assessment.id,
        after={
            "format": fmt,
            "source": "snapshot" if uses_snapshot(assessment) else "live",
            "status": assessment.status,
            **extra,
        },
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Xuất {FORMAT_LABELS[fmt]}: {assessment.unit.name}",
        actor=user,
    )
    db.session.commit()
    logger.info(
        "dossier %s of assessment %s exported by %s",
        fmt,
        assessment.id,
        user.username if user else "cli",
    )


def export_scores(assessment: Assessment, user: User | None) -> Export:
    """Build the score table and audit the export."""
    dossier = build_dossier(assessment, exported_by=user.full_name if user else "")
    data = build_score_table(dossier)
    _record_export(assessment, "xlsx", user, {"bytes": len(data)})
    return Export(data, document_names(dossier)[0], XLSX_MIME)


def export_report(assessment: Assessment, user: User | None) -> Export:
    """Build the NĐ 30 report and audit the export."""
    dossier = build_dossier(assessment, exported_by=user.full_name if user else "")
    data = build_report(as_submitted(dossier))
    _record_export(assessment, "docx", user, {"bytes": len(data)})
    return Export(data, document_names(dossier)[1], DOCX_MIME)


def export_appraisal(assessment: Assessment, user: User | None) -> Export:
    """The Sở's appraisal result for the unit (raises NotAppraised before that)."""
    if assessment.status != AssessmentStatus.APPRAISED:
        raise NotAppraised("Hồ sơ chưa được thẩm định: chưa có kết quả thẩm định.")
    dossier = build_dossier(assessment, exported_by=user.full_name if user else "")
    results = period_results(assessment.period)
    row = next((r for r in results.rows if r.assessment.id == assessment.id), None)
    ranked = sum(1 for r in results.rows if r.rank is not None)
    config = current_app.config
    issuer = UnitInfo(
        code="SNV",
        name=config["APPRAISAL_ISSUER_NAME"],
        kind="so_ban_nganh",
        parent_body=config["APPRAISAL_ISSUER_PARENT"],
        place_name=config["APPRAISAL_ISSUER_PLACE"],
        leader_title=config["APPRAISAL_SIGNER_TITLE"],
        report_number="/TB-SNV",
    )
    data = build_appraisal_report(
        replace(dossier, report_date=to_vn(now()).date()),
        issuer,
        row.rank if row else None,
        ranked,
    )
    _record_export(assessment, "appraisal", user, {"bytes": len(data)})
    tail = f"{safe_name(dossier.unit.code, 30)} - {dossier.year}"
    return Export(data, f"Kết quả thẩm định - {tail}.docx", DOCX_MIME)


class NotAppraised(Exception):
    """The appraisal result is asked for before the appraisal is done."""


class DossierIncomplete(Exception):
    """The ZIP cannot be issued yet (a document the period requires is missing)."""


# How each kind of signed PDF is named in manifest.json.
MANIFEST_KINDS = {
    SignedKind.REPORT: "signed_report",
    SignedKind.REQUEST_LETTER: "request_letter",
}


def export_zip(
    assessment: Assessment,
    user: User | None,
    *,
    store: EvidenceStore,
    ip_address: str = "",
) -> ZipExport:
    """Prepare the streamed evidence ZIP; the export is audited before the first byte.

    The returned iterator re-checks every file's SHA-256 as it streams; on a mismatch
    (or a file gone from the store) it records ``dossier.export_failed`` and raises.
    Raises DossierIncomplete (nothing audited or issued) when the period asks for an
    appraisal request letter the unit has not uploaded.
    """
    missing = missing_request_letter(assessment)
    if missing:
        raise DossierIncomplete(missing)
    dossier = build_dossier(assessment, exported_by=user.full_name if user else "")
    total = sum(ev.size for ev in dossier.evidence)
    _record_export(
        assessment, "zip", user, {"files": len(dossier.evidence), "bytes": total}
    )
    failure = {
        "assessment_id": assessment.id,
        "unit_id": assessment.unit_id,
        "period_id": assessment.period_id,
        "unit_name": assessment.unit.name,
        "actor_id": user.id if user else None,
        "actor_name": user.full_name if user else "hệ thống",
        "ip_address": ip_address,
    }

    # Files are read in the order the ZIP writes them, by one helper thread running
    # ahead of the writer (so the next GET starts while the current file is sent).
    reader = ReadAhead(store, [p.evidence for p in plan_layout(dossier).files])

    # The signed PDFs are small (the upload limit bounds them): read before streaming.
    signed_pdfs = [
        SignedPdf(
            name=signed_name(dossier, MANIFEST_KINDS[kind]),
            data=b"".join(store.iter_chunks(row.storage_key)),
            kind=MANIFEST_KINDS[kind],
            original_filename=row.original_filename,
            signature=dict(row.signature or {}),
        )
        for kind, row in sorted(latest_signed(assessment).items())
    ]

    def issued(manifest: bytes) -> None:
        _record_issue(
            failure, hashlib.sha256(manifest).hexdigest(), len(dossier.evidence)
        )

    def chunks() -> Iterator[bytes]:
        try:
            # Word and Excel are built on a thread while the evidence streams.
            yield from stream_dossier(
                dossier,
                read=reader.chunks,
                xlsx=lambda: build_score_table(dossier),
                docx=lambda: build_report(as_submitted(dossier)),
                on_manifest=issued,
                signed_pdfs=signed_pdfs,
            )
        except Exception as exc:
            _record_failure(failure, exc)
            raise
        finally:
            reader.close()

    return ZipExport(
        chunks(),
        f"Hồ sơ tự đánh giá - {_file_stem(assessment)}.zip",
        len(dossier.evidence),
        total,
    )


READ_AHEAD_CHUNK = 4 << 20  # big reads: fewer trips through boto3 per byte
READ_AHEAD_CHUNKS = 4  # chunks kept ready: ~16 MiB of memory per download


class ReadAhead:
    """Read evidence files one after another on a helper thread, ahead of the writer.

    While one chunk is hashed, zipped and written to the client, the next ones (and,
    at the end of a file, the next file's GET) are already under way: hashlib, zlib and
    sockets release the GIL, so reading overlaps with the CPU work. The queue is
    bounded, so memory stays flat whatever the dossier's size. ``chunks(ev)`` must be
    asked in the order given; a read error is raised there as :class:`IntegrityError`;
    ``close()`` (the download ended or the client went away) stops the reader.
    """

    def __init__(
        self,
        store: EvidenceStore,
        files: list[EvidenceFile],
        depth: int = READ_AHEAD_CHUNKS,
    ) -> None:
        self._store = store
        self._files = files
        self._queue: Queue[tuple[int, object]] = Queue(maxsize=depth)
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def _put(self, item: tuple[int, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def _produce(self) -> None:
        following = [*self._files[1:], None]
        for ev, after in zip(self._files, following, strict=True):
            if not ev.storage_key:
                continue  # refused by chunks() before anything is read
            if after is not None and after.storage_key:
                # The disk fetches the next file while this one is hashed and sent.
                self._store.prefetch(after.storage_key)
            # Hashed here, as read: the writer's thread is left the CRC and the
            # socket, and no chunk goes through a third thread.
            digest = hashlib.sha256()
            size = 0
            try:
                for chunk in self._store.iter_chunks(ev.storage_key, READ_AHEAD_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    if not self._put((ev.id, chunk)):
                        return
            except BaseException as exc:  # handed to the writer, raised there
                self._put((ev.id, exc))
                return
            if not self._put((ev.id, (digest.hexdigest(), size))):
                return

    def chunks(self, ev: EvidenceFile) -> HashedChunks:
        """One file's bytes, as read (and hashed) ahead by the helper thread."""
        hashed = HashedChunks()
        hashed.source = self._take(ev, hashed)
        return hashed

    def _take(self, ev: EvidenceFile, hashed: HashedChunks) -> Iterator[bytes]:
        if not ev.storage_key:
            raise IntegrityError(
                ev,
                f"Tài liệu #{ev.id} của hồ sơ đã gửi không còn trong "
                "cơ sở dữ liệu. Hồ sơ không được xuất.",
            )
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._produce, name="dossier-read-ahead", daemon=True
            )
            self._worker.start()
        while True:
            evidence_id, item = self._queue.get()
            if evidence_id != ev.id:
                raise RuntimeError(f"read-ahead out of order: {evidence_id} != {ev.id}")
            if isinstance(item, tuple):  # the end: what was read, hashed
                hashed.sha256, hashed.size = item
                return
            if isinstance(item, StorageError):
                raise IntegrityError(
                    ev,
                    f"Không đọc được tệp “{ev.original_filename}” (tài liệu #{ev.id}): "
                    f"{item.message} Hồ sơ không được xuất.",
                ) from item
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the helper thread (it may be blocked on a full queue or a slow read)."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=5)


def _record_issue(context: dict[str, Any], digest: str, files: int) -> None:
    """Record the issued manifest's digest in its own session (the stream may outlive
    the request's), so ``flask dossier verify`` can tell this ZIP came from the app."""
    with Session(db.engine) as session:
        session.add(
            IssuedDossier(
                assessment_id=context["assessment_id"],
                manifest_sha256=digest,
                issued_at=now(),
                issued_by_id=context["actor_id"],
                issued_by_name=context["actor_name"],
                files=files,
            )
        )
        session.commit()


def issued_record(digest: str) -> IssuedDossier | None:
    """The app's record of the dossier whose manifest has this SHA-256, if issued."""
    return db.session.scalars(
        sa.select(IssuedDossier)
        .where(IssuedDossier.manifest_sha256 == digest.strip().lower())
        .order_by(IssuedDossier.id)
        .limit(1)
    ).first()


def issue_check(
    source: str | Path | IO[bytes],
) -> tuple[list[str], IssuedDossier | None]:
    """Check a dossier ZIP against its manifest and against the app's issue record."""
    problems = verify_zip(source)
    if hasattr(source, "seek"):
        source.seek(0)
    digest = manifest_digest(source)
    record = issued_record(digest) if digest else None
    return problems, record


def signed_lines(source: str | Path | IO[bytes]) -> list[str]:
    """What the ZIP's signed PDFs (report, request letter) say about their signature;
    their bytes are checked with every other file against manifest.json."""
    if hasattr(source, "seek"):
        source.seek(0)
    return [signed_text(doc) for doc in signed_documents(source)]


def _record_failure(context: dict[str, Any], exc: Exception) -> None:
    """Write ``dossier.export_failed`` in its own session and transaction.

    The request's session may be mid-way through anything (or gone, if the client is
    streaming after the view returned); the failure must be recorded regardless.
    """
    message = (
        exc.message
        if isinstance(exc, IntegrityError)
        else f"{type(exc).__name__}: {exc}"
    )
    after: dict[str, Any] = {"error": message}
    if isinstance(exc, IntegrityError):
        after.update(
            evidence_id=exc.evidence.id,
            sha256=exc.evidence.sha256,
            original_filename=exc.evidence.original_filename,
        )
    logger.error(
        "dossier export of assessment %s failed: %s", context["assessment_id"], message
    )
    with Session(db.engine) as session:
        session.add(
            AuditEvent(
                action="dossier.export_failed",
                object_type="assessment",
                object_id=str(context["assessment_id"]),
                unit_id=context["unit_id"],
                period_id=context["period_id"],
                summary=f"Xuất hồ sơ thất bại ({context['unit_name']}): {message}"[
                    :2000
                ],
                after=audit.jsonable(after),
                actor_id=context["actor_id"],
                actor_name=context["actor_name"],
                ip_address=context["ip_address"],
            )
        )
        session.commit()


def export_ranking(period: Period, user: User | None) -> Export:
    """The period's ranking (final scores, index, band, rank) plus each score table."""
    at = now()
    results = period_results(period)
    rows: list[RankingRow] = []
    dossiers: list[Dossier] = []
    for r in results.rows:
        appraised = r.assessment.status == AssessmentStatus.APPRAISED
        score = r.final if appraised else r.self_total
        rows.append(
            RankingRow(
                unit_code=r.unit.code,
                unit_name=r.unit.name,
                status_label=r.assessment.status_label,
                basis="Điểm thẩm định" if appraised else "Điểm tự đánh giá",
                totals=totals(score),
                rank=r.rank,
            )
        )
        dossiers.append(
            build_dossier(
                r.assessment, at=at, exported_by=user.full_name if user else ""
            )
        )
    for r in results.absent:
        rows.append(
            RankingRow(
                r.unit.code,
                r.unit.name,
                "Chưa gửi hồ sơ",
                "",
                totals(r.self_total),
                None,
            )
        )
    data = build_ranking(
        f"KẾT QUẢ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {period.year}",
        f"Kỳ đánh giá: {period.name} · Trạng thái: {period.status_label}",
        to_vn(at).strftime("%d/%m/%Y %H:%M"),
        rows,
        dossiers,
    )
    audit.record(
        "dossier.export",
        "period",
        period.id,
        after={"format": "ranking", "units": len(rows), "bytes": len(data)},
        period_id=period.id,
        summary=f"Xuất {FORMAT_LABELS['ranking']}: {period.name}",
        actor=user,
    )
    db.session.commit()
    return Export(
        data, f"Xếp hạng Chỉ số CCHC - {period.year} - kỳ {period.id}.xlsx", XLSX_MIME
    )


def issued_text(record: IssuedDossier | None) -> str:
    """One sentence on whether (and when, by whom) the app issued the dossier."""
    if record is None:
        return (
            "KHÔNG khớp hồ sơ nào do hệ thống xuất: manifest.json đã bị sửa hoặc tệp "
            "không do hệ thống này xuất."
        )
    unit = record.assessment.unit.name
    return (
        "Hồ sơ do hệ thống xuất lúc "
        f"{to_vn(record.issued_at).strftime('%d/%m/%Y %H:%M')}"
        f" ({record.issued_by_name}), hồ sơ #{record.assessment_id} của {unit}."
    )


@dataclass(frozen=True)
class VerifyResult:
    """What the verify page says: problems against the manifest, the issue record."""

    problems: list[str]
    record: IssuedDossier | None
    digest: str
    message: str
    signed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and self.record is not None


def verify_upload(stream: IO[bytes] | None, digest: str) -> VerifyResult:
    """Check an uploaded ZIP, or a typed manifest digest, against the app's record."""
    if stream is not None:
        try:
            problems, record = issue_check(stream)
            stream.seek(0)
            found = manifest_digest(stream) or ""
            signed = tuple(signed_lines(stream))
        except zipfile.BadZipFile:
            return VerifyResult(
                ["Tệp tải lên không phải tệp ZIP hợp lệ."], None, "", ""
            )
        return VerifyResult(problems, record, found, issued_text(record), signed)
    digest = digest.lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return VerifyResult(
            [
                "Vui lòng chọn tệp ZIP hoặc nhập mã SHA-256 (64 ký tự) "
                "của manifest.json."
            ],
            None,
            digest,
            "",
        )
    record = issued_record(digest)
    return VerifyResult([], record, digest, issued_text(record))
