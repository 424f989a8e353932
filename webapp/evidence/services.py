"""Evidence services: upload, link, unlink, replace, cite, search (one transaction
each).

Write order for a file (DESIGN.md §7, "nothing is lost"): validate by content →
`store.put` (streamed, atomic) → every query, insert and audit event → commit. The
citation proposal (a bounded child process, ~0.5 s) is not on that path: it is read
from the stored file once, when the user first asks for it (`citation_proposal`).
Nothing touches the database between `put` and the compensation scope: if the store
fails there is no row; if anything fails after `put` the transaction is rolled back
and the object deleted again (compensation), and the user is told if that delete
failed too. What a killed worker leaves (an object without
its row, a `.tmp-*.part` file, an S3 multipart upload) is found and cleaned by
`flask evidence sweep`.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, BinaryIO, TypeVar, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload, undefer

from criteria import Node
from evidence_store import (
    EvidenceStore,
    StorageError,
    StorageFull,
    StoredObject,
    UploadLimits,
    UploadRejected,
    ValidatedUpload,
    new_key,
    validate_upload,
)
from webapp import audit
from webapp.clock import now, to_vn
from webapp.criteria_sets import criteria_for
from webapp.errors import ParIndexError
from webapp.evidence.intake import IntakeFile
from webapp.evidence.prefill import (
    PREFILL_MAX_BYTES,
    PROPOSAL_KINDS,
    CitationProposal,
    bounded_proposal,
)
from webapp.evidence.preview import HTML_PREVIEW_TYPES
from webapp.extensions import db
from webapp.formatting import fold
from webapp.lifecycle import NotEditable, PeriodStatus, editable_codes, ensure_editable
from webapp.models import Assessment, Evidence, EvidenceLink, Period, User
from webapp.signatures import is_good, signing_date, validate_pdf
from webapp.workflow import answers_of

logger = logging.getLogger(__name__)

CITATION_FIELDS = ("doc_type", "doc_number", "issued_on", "issuer", "summary")
PREVIEW_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", *HTML_PREVIEW_TYPES}
)
SEARCH_LIMIT = 50

STORE_FAILED = (
    "Không lưu được tệp vào kho lưu trữ. Tài liệu chưa được tải lên, vui lòng thử lại."
)
STORE_FULL = (
    "Kho lưu trữ tài liệu đã đầy: tài liệu chưa được tải lên. "
    "Vui lòng báo quản trị viên giải phóng dung lượng rồi thử lại."
)
DB_FAILED = (
    "Không ghi được tài liệu vào cơ sở dữ liệu. Tệp vừa tải đã được hủy; "
    "tài liệu chưa được tải lên, vui lòng thử lại."
)
# The truth when the compensating delete fails too: the bytes are still in the store
# (the sweep removes them), but the document was not uploaded.
DB_FAILED_FILE_KEPT = (
    "Không ghi được tài liệu vào cơ sở dữ liệu: tài liệu chưa được tải lên, vui lòng "
    "thử lại. Tệp vừa gửi chưa xóa được khỏi kho lưu trữ; tệp này không thuộc hồ sơ "
    "nào và sẽ được dọn khi quản trị viên kiểm tra kho."
)

T = TypeVar("T")


class EvidenceError(ParIndexError):
    """A refusal shown to the user (Vietnamese), with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status=status)


@dataclass
class UploadResult:
    """A stored document, the citation read from its text (None: not read yet, see
    `citation_proposal`), and non-blocking warnings."""

    evidence: Evidence
    prefill: CitationProposal | None = field(default_factory=CitationProposal)
    warnings: list[str] = field(default_factory=list)


# --- reads ----------------------------------------------------------------------------


#: What an upload reads of its assessment, loaded with it in one round trip: the unit
#: (storage key), the period with its criteria sets and extensions (editable leaves,
#: deadlines), instead of one lazy load each.
UPLOAD_LOADS = (
    joinedload(Assessment.unit),
    # Joined, not selectin: a handful of rows each, and one round trip, not three.
    joinedload(Assessment.period).joinedload(Period.family_sets),
    joinedload(Assessment.period).joinedload(Period.extensions),
    joinedload(Assessment.period).joinedload(Period.criteria_set),
    undefer(Assessment.snapshot),  # may a wrong upload be deleted (the item's button)
)


def link_choices(
    evidence: Evidence, assessment: Assessment, *, unit_user: bool
) -> tuple[set[str], list[Node]]:
    """The linked leaves the viewer may unlink, and the leaves they may still link.

    Only a unit user may change links, only on the current version, and only on the
    leaves still open for the unit (all of them while the assessment is a draft)."""
    allowed = editable_codes(assessment) if unit_user and evidence.is_current else set()

    def open_leaf(code: str) -> bool:
        return allowed is None or code in allowed

    unlinkable = {c for c in evidence.criterion_codes if open_leaf(c)}
    linkable = [
        leaf
        for leaf in criteria_for(assessment).leaves()
        if leaf.code not in evidence.criterion_codes
        and leaf.assessed_by != "survey"
        and open_leaf(leaf.code)
    ]
    return unlinkable, linkable


def is_previewable(evidence: Evidence) -> bool:
    return evidence.mime_type in PREVIEW_TYPES


def assessment_of(evidence: Evidence) -> Assessment:
    found = db.session.get(Assessment, evidence.assessment_id)
    assert found is not None  # foreign key
    return found


def current_evidence(assessment: Assessment) -> list[Evidence]:
    """The assessment's current documents (replaced versions left out), newest first."""
    return list(
        db.session.scalars(
            sa.select(Evidence)
            .where(
                Evidence.assessment_id == assessment.id,
                Evidence.is_current,
            )
            .options(selectinload(Evidence.links))
            .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())
        )
    )


# The criteria page's statements, built once: a render only binds its values (building
# ORM expressions per render costs CPU and leaves SQL elements in reference cycles).
_LISTED_EVIDENCE = (
    sa.select(Evidence)
    .where(
        Evidence.assessment_id == sa.bindparam("assessment_id"),
        Evidence.is_current,
        Evidence.id.in_(
            sa.select(EvidenceLink.evidence_id).where(
                EvidenceLink.criterion_code.in_(sa.bindparam("codes", expanding=True))
            )
        ),
    )
    # Links joined in: one statement whether or not the leaves have documents.
    .options(joinedload(Evidence.links))
    .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())
)


def evidence_counts_select(assessment_id: Any, *lead: Any) -> sa.Select[Any]:
    """(*lead, leaf code, current documents) per leaf: `evidence_counts`' statement,
    for a page that reads it together with other counts (one round trip)."""
    return (
        sa.select(*lead, EvidenceLink.criterion_code, sa.func.count())
        .join(Evidence, Evidence.id == EvidenceLink.evidence_id)
        .where(Evidence.assessment_id == assessment_id, Evidence.is_current)
        .group_by(EvidenceLink.criterion_code)
    )


_EVIDENCE_COUNTS = evidence_counts_select(sa.bindparam("assessment_id"))


def evidence_by_leaf(
    assessment: Assessment, codes: Collection[str] | None = None
) -> dict[str, list[Evidence]]:
    """Current documents per leaf code (assessment page, submission check); only the
    leaves of `codes` when given (the criteria page lists one area's documents)."""
    if codes is None:
        documents = current_evidence(assessment)
    else:
        params = {"assessment_id": assessment.id, "codes": sorted(codes)}
        documents = list(db.session.scalars(_LISTED_EVIDENCE, params).unique())
    out: dict[str, list[Evidence]] = {}
    for evidence in documents:
        for code in evidence.criterion_codes:
            if codes is None or code in codes:
                out.setdefault(code, []).append(evidence)
    return out


def evidence_counts(assessment: Assessment) -> dict[str, int]:
    """How many current documents each leaf has: one GROUP BY, no rows loaded (the
    criteria tree's states need only whether a leaf has documents)."""
    rows = db.session.execute(_EVIDENCE_COUNTS, {"assessment_id": assessment.id})
    return {code: count for code, count in rows}


def search_evidence(
    assessment: Assessment, query: str, *, limit: int = SEARCH_LIMIT
) -> list[Evidence]:
    """Current documents whose name or citation contains every word of the query,
    ignoring case and diacritics ("ke hoach" finds "Kế hoạch")."""
    stmt = (
        sa.select(Evidence)
        .where(Evidence.assessment_id == assessment.id, Evidence.is_current)
        .options(selectinload(Evidence.links))
        .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())
        .limit(limit)
    )
    for word in fold(query).split():
        stmt = stmt.where(Evidence.search_text.contains(word, autoescape=True))
    return list(db.session.scalars(stmt))


def library_assessment(user: User) -> Assessment | None:
    """The assessment the unit's library shows: the open period's, else the latest."""
    if user.unit_id is None:
        return None
    return db.session.scalar(
        sa.select(Assessment)
        .join(Period, Period.id == Assessment.period_id)
        .where(Assessment.unit_id == user.unit_id)
        .order_by(
            sa.case((Period.status == PeriodStatus.OPEN, 0), else_=1),
            Period.year.desc(),
            Period.id.desc(),
        )
        .limit(1)
    )


def versions(evidence: Evidence) -> list[Evidence]:
    """Every version of the document, newest first (old rows and objects are kept)."""
    newest = evidence
    seen = {newest.id}
    while newest.replaced_by_id is not None and newest.replaced_by_id not in seen:
        following = db.session.get(Evidence, newest.replaced_by_id)
        if following is None:
            break
        newest = following
        seen.add(newest.id)
    chain = [newest]
    while True:
        previous = db.session.scalar(
            sa.select(Evidence).where(Evidence.replaced_by_id == chain[-1].id)
        )
        if previous is None or previous.id in {e.id for e in chain}:
            break
        chain.append(previous)
    return chain


def editable_for(evidence: Evidence, assessment: Assessment | None = None) -> bool:
    """Whether the unit may change this document now (its citation, file and links)."""
    try:
        _ensure_document_editable(evidence, assessment or assessment_of(evidence))
    except NotEditable:
        return False
    return evidence.is_current


def date_warnings(issued_on: date | None, year: int) -> list[str]:
    """A document dated outside the assessed year, or in the future, is allowed with a
    warning (a typo in the year is the usual cause)."""
    if issued_on is None:
        return []
    shown = issued_on.strftime("%d/%m/%Y")
    warnings = []
    if issued_on > to_vn(now()).date():
        warnings.append(
            f"Ngày ban hành {shown} là ngày trong tương lai: "
            "vui lòng kiểm tra lại ngày ban hành."
        )
    if issued_on.year != year:
        warnings.append(
            f"Ngày ban hành {shown} không thuộc năm đánh giá {year}: "
            "vui lòng kiểm tra lại văn bản hoặc ngày ban hành."
        )
    return warnings


def proposal_pending(evidence: Evidence) -> bool:
    """Whether the file's citation proposal has not been read yet (PDF and DOCX only;
    it is read on first request and kept: {} means read, nothing found)."""
    return evidence.citation_proposal is None and evidence.kind in PROPOSAL_KINDS


def citation_proposal(
    evidence: Evidence, *, store: EvidenceStore, keep: bool = True
) -> CitationProposal:
    """The citation read from the file's text, read once and kept on the document
    (``keep=False``: read but not kept, for a GET).

    Empty when the file has none, is too large, or went past a reading bound. The
    reading runs in a bounded child process (`bounded_proposal`); two first requests
    at once may both read it, and both keep the same result."""
    if not proposal_pending(evidence):
        return CitationProposal.from_stored(evidence.citation_proposal)
    proposal = _read_proposal(evidence, store) or CitationProposal()
    if keep:
        # Derived from the file like search_text, not a change of the document: no
        # audit event.
        evidence.citation_proposal = proposal.stored() or {}
        db.session.commit()
    return proposal


def proposal_warnings(evidence: Evidence, proposal: CitationProposal) -> list[str]:
    """The date warnings of the citation as the form shows it (typed, else proposed)."""
    assessment = assessment_of(evidence)
    return date_warnings(
        evidence.issued_on or proposal.issued_on, assessment.period.year
    )


def _read_proposal(evidence: Evidence, store: EvidenceStore) -> CitationProposal | None:
    if evidence.size > PREFILL_MAX_BYTES:
        return None  # a scan has no text layer anyway: never copy it to the reader
    try:
        # A seekable copy for the reader (the S3 body is a stream); memory stays small,
        # the rest spills to a temporary file.
        with (
            store.open(evidence.storage_key) as source,
            tempfile.SpooledTemporaryFile(max_size=4 << 20) as copy,
        ):
            shutil.copyfileobj(source, copy, 1 << 20)
            copy.seek(0)
            return bounded_proposal(
                cast(IO[bytes], copy),
                evidence.kind,
                timeout=float(current_app.config["PREFILL_TIMEOUT"]),
            )
    except StorageError:
        logger.warning(
            "citation proposal of evidence %s: file unreadable",
            evidence.id,
            exc_info=True,
        )
        return None


def signature_warnings(evidence: Evidence, assessment: Assessment) -> list[str]:
    """What the PDF's digital signature says against the year and date-measured leaves.

    The signing date is proposed for each linked leaf whose rule measures a date; a
    leaf whose entered date differs from it is named.
    """
    record = evidence.signature
    if not record or not record.get("signed"):
        return []
    if not is_good(record):
        return [f"Chữ ký số của tài liệu: {record.get('problem') or 'không hợp lệ'}"]
    signed_on = signing_date(record)
    if signed_on is None:
        return []
    out = []
    shown = signed_on.strftime("%d/%m/%Y")
    if signed_on.year != assessment.period.year:
        out.append(
            f"Tài liệu được ký số ngày {shown}, ngoài năm đánh giá "
            f"{assessment.period.year}."
        )
    leaves = criteria_for(assessment).nodes()
    answers = answers_of(assessment)
    for code in evidence.criterion_codes:
        rule = getattr(leaves.get(code), "rule", None)
        measure = getattr(rule, "measure", None)
        if getattr(measure, "unit", None) != "date":
            continue
        entered = (answers.get(code) or {}).get("value")
        if entered and entered != signed_on.isoformat():
            out.append(
                f"Tiêu chí {code}: ngày đã nhập "
                f"{date.fromisoformat(entered).strftime('%d/%m/%Y')} khác ngày ký số "
                f"{shown} của tài liệu; đề xuất dùng ngày ký số."
            )
        elif not entered:
            out.append(f"Tiêu chí {code}: đề xuất nhập ngày ký số {shown}.")
    return out


# --- writes ---------------------------------------------------------------------------


def upload_evidence(
    assessment: Assessment,
    fileobj: BinaryIO,
    filename: str,
    *,
    codes: Iterable[str],
    citation: dict[str, Any] | None,
    store: EvidenceStore,
    limits: UploadLimits,
    user: User,
) -> UploadResult:
    """Store one file for the assessment, cite it and link it to leaves (maybe none)."""
    codes = _clean_codes(assessment, codes)
    _ensure_codes_editable(assessment, codes)
    citation = _clean_citation(citation)
    validated = _check_file(fileobj, filename, limits=limits)
    stored = _put(fileobj, validated, store=store, unit_code=assessment.unit.code)
    original = validated.filename  # NFC, as typed: kept for display and download
    signature = None
    if validated.kind == "pdf":
        fileobj.seek(0)
        signature = validate_pdf(fileobj)

    def write() -> tuple[Evidence, list[Evidence]]:
        duplicates = _same_content(assessment, stored.sha256)
        evidence = _new_row(assessment, validated, stored, user, now())
        evidence.signature = signature
        for name, value in citation.items():
            setattr(evidence, name, value)
        evidence.search_text = _search_text(evidence)
        for code in codes:
            evidence.links.append(
                EvidenceLink(criterion_code=code, linked_by_id=user.id, linked_at=now())
            )
        db.session.add(evidence)
        db.session.flush()
        audit.record(
            "evidence.upload",
            "evidence",
            evidence.id,
            after=_audit_view(evidence),
            unit_id=assessment.unit_id,
            period_id=assessment.period_id,
            summary=f"Tải lên tài liệu “{original}”",
            actor=user,
        )
        return evidence, duplicates

    evidence, duplicates = _commit_or_compensate(write, store, stored.key, fileobj)
    logger.info(
        "evidence %s uploaded by %s to assessment %s (%s bytes, leaves %s)",
        evidence.id,
        user.id,
        assessment.id,
        stored.size,
        ",".join(codes) or "-",
    )
    prefill = None if proposal_pending(evidence) else CitationProposal()
    warnings = date_warnings(evidence.issued_on, assessment.period.year)
    warnings += signature_warnings(evidence, assessment)
    warnings += [
        f"Tệp này trùng nội dung với tài liệu “{d.original_filename}” "
        "đã tải lên trước đó; "
        "lần sau có thể gắn tài liệu đó thay vì tải lại."
        for d in duplicates[:1]
    ]
    return UploadResult(evidence=evidence, prefill=prefill, warnings=warnings)


def update_citation(
    evidence: Evidence, citation: dict[str, Any], *, user: User
) -> list[str]:
    """Confirm or correct a citation; return warnings (date outside the year)."""
    assessment = assessment_of(evidence)
    _ensure_current(evidence)
    _ensure_document_editable(evidence, assessment)
    citation = _clean_citation(citation)
    before = audit.changes(evidence, list(CITATION_FIELDS))
    for name, value in citation.items():
        setattr(evidence, name, value)
    evidence.search_text = _search_text(evidence)
    after = audit.changes(evidence, list(CITATION_FIELDS))
    if before != after:
        audit.record(
            "evidence.update",
            "evidence",
            evidence.id,
            before=before,
            after=after,
            unit_id=assessment.unit_id,
            period_id=assessment.period_id,
            summary=f"Sửa trích dẫn tài liệu “{evidence.original_filename}”",
            actor=user,
        )
        db.session.commit()
        logger.info("evidence %s citation updated by %s", evidence.id, user.id)
    return date_warnings(evidence.issued_on, assessment.period.year)


def link_evidence(evidence: Evidence, code: str, *, user: User) -> None:
    """Let an already uploaded document prove one more leaf (no second upload)."""
    assessment = assessment_of(evidence)
    _ensure_current(evidence)
    cleaned = _clean_codes(assessment, [code])
    if not cleaned:  # a blank code (the page's form refuses it before; the API here)
        raise EvidenceError("Vui lòng chọn tiêu chí cần gắn tài liệu.", 400)
    (code,) = cleaned
    ensure_editable(assessment, code)
    before = evidence.criterion_codes
    if code in before:
        raise EvidenceError(f"Tài liệu đã được gắn với tiêu chí {code}.", 409)
    evidence.links.append(
        EvidenceLink(criterion_code=code, linked_by_id=user.id, linked_at=now())
    )
    audit.record(
        "evidence.link",
        "evidence",
        evidence.id,
        before={"criterion_codes": before},
        after={"criterion_codes": evidence.criterion_codes},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Gắn tài liệu “{evidence.original_filename}” với tiêu chí {code}",
        actor=user,
    )
    db.session.commit()
    logger.info("evidence %s linked to %s by %s", evidence.id, code, user.id)


def unlink_evidence(evidence: Evidence, code: str, *, user: User) -> None:
    """Stop a document proving a leaf; the document stays in the unit's library."""
    assessment = assessment_of(evidence)
    _ensure_current(evidence)
    link = next((lk for lk in evidence.links if lk.criterion_code == code), None)
    if link is None:
        raise EvidenceError(f"Tài liệu không gắn với tiêu chí {code}.", 409)
    ensure_editable(assessment, code)
    before = evidence.criterion_codes
    evidence.links.remove(link)
    audit.record(
        "evidence.unlink",
        "evidence",
        evidence.id,
        before={"criterion_codes": before},
        after={"criterion_codes": evidence.criterion_codes},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Gỡ tài liệu “{evidence.original_filename}” khỏi tiêu chí {code}",
        actor=user,
    )
    db.session.commit()
    logger.info("evidence %s unlinked from %s by %s", evidence.id, code, user.id)


def in_submitted_snapshot(evidence: Evidence, assessment: Assessment) -> bool:
    """Whether a submission froze this document (its hash is part of the record)."""
    frozen = (assessment.snapshot or {}).get("evidence") or []
    return any(item.get("id") == evidence.id for item in frozen)


def can_delete(evidence: Evidence, assessment: Assessment | None = None) -> bool:
    """A wrong upload may go while its leaves are editable and no submission has it."""
    assessment = assessment or assessment_of(evidence)
    return editable_for(evidence, assessment) and not in_submitted_snapshot(
        evidence, assessment
    )


def delete_evidence(evidence: Evidence, *, user: User) -> None:
    """Soft-delete a wrongly uploaded document (audited).

    The row is marked and leaves every list; its object stays in the store until
    `flask evidence sweep --delete-orphans` removes it, so a mistaken delete can still
    be recovered by an administrator. A document in a submitted snapshot is never
    deleted: the submission's record must keep proving what was sent.
    """
    assessment = assessment_of(evidence)
    _ensure_current(evidence)
    if in_submitted_snapshot(evidence, assessment):
        raise EvidenceError(
            "Tài liệu này thuộc hồ sơ đã gửi: không thể xóa "
            "(có thể gỡ khỏi tiêu chí được trả lại hoặc thay bằng tệp mới).",
            409,
        )
    _ensure_document_editable(evidence, assessment)
    before = _audit_view(evidence)
    evidence.deleted_at = now()
    evidence.deleted_by_id = user.id
    audit.record(
        "evidence.delete",
        "evidence",
        evidence.id,
        before=before,
        after={"deleted_at": evidence.deleted_at},
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Xóa tài liệu “{evidence.original_filename}”",
        actor=user,
    )
    db.session.commit()
    logger.info("evidence %s deleted by %s", evidence.id, user.id)


def replace_evidence(
    evidence: Evidence,
    fileobj: BinaryIO,
    filename: str,
    *,
    store: EvidenceStore,
    limits: UploadLimits,
    user: User,
) -> UploadResult:
    """Replace the file: a new row with the same citation and links; the old row and its
    object stay (replaced_by_id/replaced_at) so the history can still be downloaded."""
    assessment = assessment_of(evidence)
    _ensure_current(evidence)
    _ensure_document_editable(evidence, assessment)
    validated = _check_file(fileobj, filename, limits=limits)
    stored = _put(fileobj, validated, store=store, unit_code=assessment.unit.code)
    original = validated.filename

    def write() -> Evidence:
        at = now()
        new = _new_row(assessment, validated, stored, user, at)
        for name in CITATION_FIELDS:
            setattr(new, name, getattr(evidence, name))
        new.search_text = _search_text(new)
        # The links move to the new version: every reader of "current evidence" sees
        # one row.
        for link in list(evidence.links):
            new.links.append(
                EvidenceLink(
                    criterion_code=link.criterion_code,
                    linked_by_id=link.linked_by_id,
                    linked_at=link.linked_at,
                )
            )
        before = _audit_view(evidence)
        evidence.links.clear()
        db.session.add(new)
        db.session.flush()
        evidence.replaced_by_id = new.id
        evidence.replaced_at = at
        audit.record(
            "evidence.replace",
            "evidence",
            evidence.id,
            before=before,
            after={"replaced_by_id": new.id, **_audit_view(new)},
            unit_id=assessment.unit_id,
            period_id=assessment.period_id,
            summary=f"Thay tệp “{evidence.original_filename}” bằng “{original}”",
            actor=user,
        )
        return new

    new = _commit_or_compensate(write, store, stored.key, fileobj)
    logger.info("evidence %s replaced by %s (user %s)", evidence.id, new.id, user.id)
    return UploadResult(
        evidence=new,
        prefill=None if proposal_pending(new) else CitationProposal(),
        warnings=date_warnings(new.issued_on, assessment.period.year),
    )


# --- helpers --------------------------------------------------------------------------


def _clean_codes(assessment: Assessment, codes: Iterable[str]) -> list[str]:
    cs = criteria_for(assessment)
    out: list[str] = []
    for raw in codes:
        code = (raw or "").strip()
        if not code or code in out:
            continue
        try:
            node = cs.node(code)
        except KeyError:
            raise EvidenceError(
                f"Không có tiêu chí mã {code} trong bộ tiêu chí.", 400
            ) from None
        if not node.is_leaf:
            raise EvidenceError(
                f"Tiêu chí {code} có tiêu chí thành phần: "
                "hãy gắn tài liệu vào tiêu chí thành phần.",
                400,
            )
        if node.assessed_by == "survey":
            raise EvidenceError(
                f"Tiêu chí {code} do điều tra xã hội học chấm: "
                "đơn vị không nộp tài liệu kiểm chứng.",
                400,
            )
        out.append(code)
    return out


def _ensure_codes_editable(assessment: Assessment, codes: list[str]) -> None:
    if not codes:
        ensure_editable(assessment, None)
    for code in codes:
        ensure_editable(assessment, code)


def _ensure_document_editable(evidence: Evidence, assessment: Assessment) -> None:
    # A document's file and citation prove every leaf it is linked to: changing them
    # changes each of those leaves, so each must be open (a returned assessment reopens
    # few).
    _ensure_codes_editable(assessment, evidence.criterion_codes)


def _ensure_current(evidence: Evidence) -> None:
    if evidence.deleted_at is not None:
        raise EvidenceError("Tài liệu này đã bị xóa.", 409)
    if not evidence.is_current:
        raise EvidenceError(
            "Tài liệu này đã được thay bằng phiên bản mới; "
            "hãy thao tác trên phiên bản mới nhất.",
            409,
        )


def _clean_citation(citation: dict[str, Any] | None) -> dict[str, Any]:
    citation = citation or {}
    out: dict[str, Any] = {}
    for name in CITATION_FIELDS:
        value = citation.get(name)
        if name == "issued_on":
            out[name] = value if isinstance(value, date) else None
        else:
            out[name] = (
                " ".join(str(value or "").split())
                if name != "summary"
                else str(value or "").strip()
            )
    return out


def _search_text(evidence: Evidence) -> str:
    parts = [
        evidence.original_filename,
        evidence.doc_type,
        evidence.doc_number,
        evidence.issuer,
        evidence.summary,
    ]
    if evidence.issued_on:
        parts.append(evidence.issued_on.strftime("%d/%m/%Y"))
    return fold(" ".join(p for p in parts if p))


def _storage_failure(exc: StorageError) -> EvidenceError:
    """What the user is told when the store fails: full (507) or unavailable (503)."""
    if isinstance(exc, StorageFull):
        return EvidenceError(STORE_FULL, 507)
    return EvidenceError(STORE_FAILED, 503)


def _refused(exc: UploadRejected) -> EvidenceError:
    return EvidenceError(exc.message, 413 if exc.reason == "too_large" else 400)


def _check_file(
    fileobj: BinaryIO, filename: str, *, limits: UploadLimits
) -> ValidatedUpload:
    """Validate by content, before any byte is stored. A file streamed into its stage
    while the request arrived (intake) is validated there."""
    try:
        if isinstance(fileobj, IntakeFile):
            fileobj.finish()  # a refusal met on the way, or a failed stage write
        validated = validate_upload(fileobj, filename, limits)
    except UploadRejected as exc:
        raise _refused(exc) from exc
    except StorageError as exc:
        logger.error("evidence stage failed: %s", exc, exc_info=True)
        raise _storage_failure(exc) from exc
    fileobj.seek(0)
    return validated


def _put(
    fileobj: BinaryIO,
    validated: ValidatedUpload,
    *,
    store: EvidenceStore,
    unit_code: str,
) -> StoredObject:
    """Stream into the store; no row exists yet. The caller's next step must be
    `_commit_or_compensate`: nothing in between may fail. A streamed file is already
    in its stage: made visible, not copied again; that begins here and ends in
    `_commit_or_compensate`, before the rows are committed (while they are written)."""
    key = fileobj.staged.key if isinstance(fileobj, IntakeFile) else new_key(unit_code)
    try:
        if isinstance(fileobj, IntakeFile):
            fileobj.start_commit()
            return fileobj.staged.finish()
        return store.put(key, fileobj, content_type=validated.mime_type)
    except StorageError as exc:
        # put is atomic (store contract): nothing is left under the key.
        logger.error("evidence store put failed for %s: %s", key, exc, exc_info=True)
        raise _storage_failure(exc) from exc


def _new_row(
    assessment: Assessment,
    validated: ValidatedUpload,
    stored: StoredObject,
    user: User,
    at: datetime,
) -> Evidence:
    return Evidence(
        unit_id=assessment.unit_id,
        assessment_id=assessment.id,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        crc32=stored.crc32,
        mime_type=validated.mime_type,
        kind=validated.kind,
        original_filename=validated.filename,
        uploaded_by_id=user.id,
        uploaded_at=at,
        # None: to be read on first request; {}: nothing to read in this kind.
        citation_proposal=None if validated.kind in PROPOSAL_KINDS else {},
    )


def _commit_or_compensate(
    write: Callable[[], T],
    store: EvidenceStore,
    key: str,
    streamed: BinaryIO | None = None,
) -> T:
    """Run the database part and commit; on any failure roll back and delete the
    object, and say truthfully whether that delete worked. A ``streamed`` file's
    commit, begun by `_put`, ends before the rows are committed."""
    intake = streamed if isinstance(streamed, IntakeFile) else None
    try:
        try:
            result = write()
        finally:
            if intake is not None:
                # Ends here, even after a failed write(): the delete below must not
                # race a store write still going on.
                intake.commit()
        # What was just written is what the answer shows: no reload of each row and
        # relation after the commit (the next request has a session of its own).
        session = db.session()
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
        return result
    except BaseException as exc:
        try:
            db.session.rollback()
        except Exception:  # a dead connection must not skip the delete below
            logger.exception("rollback after a failed evidence insert failed")
        deleted = True
        try:
            store.delete(key)
        except StorageError:
            deleted = False  # the sweep reports and removes it as an orphan
            logger.error(
                "could not delete object %s after a failed insert", key, exc_info=True
            )
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, worker timeout: compensated, not wrapped
        if isinstance(exc, StorageError):  # the store's half failed: nothing stored
            logger.error(
                "evidence store put failed for %s: %s", key, exc, exc_info=True
            )
            raise _storage_failure(exc) from exc
        logger.error(
            "evidence insert failed; object %s %s",
            key,
            "deleted" if deleted else "left for the sweep",
            exc_info=True,
        )
        raise EvidenceError(DB_FAILED if deleted else DB_FAILED_FILE_KEPT, 500) from exc


def _same_content(assessment: Assessment, sha256: str) -> list[Evidence]:
    params = {"assessment_id": assessment.id, "sha256": sha256}
    return list(db.session.scalars(_same_content_statement(), params))


@functools.cache
def _same_content_statement() -> sa.Select[tuple[Evidence]]:
    # Built once (every upload runs it), on first use: the mappers are set up by then.
    return sa.select(Evidence).where(
        Evidence.assessment_id == sa.bindparam("assessment_id", type_=sa.Integer),
        Evidence.sha256 == sa.bindparam("sha256", type_=sa.String),
        Evidence.is_current,
    )


def _audit_view(evidence: Evidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "original_filename": evidence.original_filename,
        "sha256": evidence.sha256,
        "size": evidence.size,
        "mime_type": evidence.mime_type,
        "storage_key": evidence.storage_key,
        "criterion_codes": evidence.criterion_codes,
        **{name: getattr(evidence, name) for name in CITATION_FIELDS},
    }
