"""Last year's documents offered again (issue 18): candidates, never attached by itself.

A leaf of this year's set gets as candidates the unit's documents that proved the
leaves of an earlier set the coordinator mapped to it (``CriteriaCodeMap``). Each shows
its date, so a document from another year stands out; reusing one stores a copy in this
year's assessment (the old assessment stays frozen, its file untouched).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, cast

import sqlalchemy as sa

from evidence_store import EvidenceStore, StorageError, UploadLimits
from webapp.criteria_sets import criteria_for
from webapp.evidence.services import EvidenceError, UploadResult, upload_evidence
from webapp.extensions import db
from webapp.models import (
    Assessment,
    CriteriaCodeMap,
    Evidence,
    EvidenceLink,
    Period,
    User,
)
from webapp.period_rules import set_id_for


@dataclass(frozen=True)
class Candidate:
    """One of last year's documents offered for a leaf."""

    evidence: Evidence
    new_code: str
    old_code: str
    period_name: str
    dated: date  # ngày ban hành, else the upload date
    out_of_year: bool  # dated outside this set's evaluation year


def candidates_by_leaf(assessment: Assessment) -> dict[str, list[Candidate]]:
    """Every leaf's candidates in one query (the assessment page shows them all)."""
    set_id = set_id_for(assessment.period, assessment.unit.kind)
    year = criteria_for(set_id).evaluation_year
    rows = db.session.execute(
        sa.select(
            Evidence, CriteriaCodeMap.new_code, CriteriaCodeMap.old_code, Period.name
        )
        .join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .join(Assessment, Assessment.id == Evidence.assessment_id)
        .join(Period, Period.id == Assessment.period_id)
        .join(
            CriteriaCodeMap,
            sa.and_(
                CriteriaCodeMap.new_set_id == set_id,
                CriteriaCodeMap.old_set_id == Period.criteria_set_id,
                CriteriaCodeMap.old_code == EvidenceLink.criterion_code,
            ),
        )
        .where(
            Evidence.unit_id == assessment.unit_id,
            Evidence.assessment_id != assessment.id,
            Evidence.replaced_by_id.is_(None),
        )
        .order_by(Evidence.issued_on.desc(), Evidence.id.desc())
    ).all()
    out: dict[str, list[Candidate]] = {}
    for evidence, new_code, old_code, period_name in rows:
        dated = evidence.issued_on or evidence.uploaded_at.date()
        out.setdefault(new_code, []).append(
            Candidate(
                evidence,
                new_code,
                old_code,
                period_name,
                dated,
                dated.year != year,
            )
        )
    return out


def reuse_candidate(
    assessment: Assessment,
    code: str,
    evidence_id: int,
    *,
    store: EvidenceStore,
    limits: UploadLimits,
    user: User,
) -> UploadResult:
    """Copy an offered document into this assessment for the leaf (one upload)."""
    offered = {c.evidence.id: c for c in candidates_by_leaf(assessment).get(code, [])}
    candidate = offered.get(evidence_id)
    if candidate is None:
        raise EvidenceError(
            "Tài liệu này không nằm trong các tài liệu được gợi ý.", 404
        )
    old = candidate.evidence
    citation = {
        "doc_type": old.doc_type,
        "doc_number": old.doc_number,
        "issued_on": old.issued_on,
        "issuer": old.issuer,
        "summary": old.summary,
    }
    # Validation reads the file more than once: spool it (to disk when large).
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as copy:
        try:
            with store.open(old.storage_key) as source:
                shutil.copyfileobj(source, copy)
        except StorageError as exc:
            raise EvidenceError(
                "Không đọc được tệp của tài liệu năm trước.", 503
            ) from exc
        copy.seek(0)
        return upload_evidence(
            assessment,
            cast(BinaryIO, copy),
            old.original_filename,
            codes=[code],
            citation=citation,
            store=store,
            limits=limits,
            user=user,
        )
