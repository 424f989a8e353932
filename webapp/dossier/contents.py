"""What a dossier holds (hồ sơ tự chấm điểm): ``build_dossier`` turns an assessment into
the plain :class:`Dossier` the builders read.

A submitted assessment is exported as submitted: answers, self-scores, notes and the
evidence list (with the hashes recorded then) come from ``Assessment.snapshot``; the
appraisal (``appraised_points``, ``appraiser_comment``) is read live, since it happens
after submission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from criteria import CriteriaSet, Node
from scoring import AssessmentScore, score_assessment
from webapp.appraisal.standings import ScoreSummary
from webapp.clock import now, to_vn
from webapp.criteria_sets import criteria_for
from webapp.dossier.builders.text import points as fmt_points
from webapp.dossier.builders.types import (
    DEFAULT_RECIPIENTS,
    SECTION_KEYS,
    Dossier,
    EvidenceFile,
    Row,
    SignatureInfo,
    Totals,
    UnitInfo,
)
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus
from webapp.models import Assessment, Evidence
from webapp.workflow import answers_of, final_score


def uses_snapshot(assessment: Assessment) -> bool:
    """Exports follow the submitted snapshot once the assessment has left draft."""
    return assessment.status.handed_in and bool(assessment.snapshot)


def build_dossier(
    assessment: Assessment, *, at: datetime | None = None, exported_by: str = ""
) -> Dossier:
    """Collect what the three exported files say, from the snapshot or the live rows."""
    at = at or now()
    cs = criteria_for(assessment)
    snapshot = assessment.snapshot if uses_snapshot(assessment) else None
    rows_by_code = {r.criterion_code: r for r in assessment.scores}
    notes = {code: row.note for code, row in rows_by_code.items()}
    if snapshot is not None:
        answers = snapshot.get("answers") or {}
        if "leaves" in snapshot:  # the explanations as submitted
            notes = {c: str(v.get("note") or "") for c, v in snapshot["leaves"].items()}
        evidence = _snapshot_evidence(assessment, snapshot, cs)
    else:
        answers = answers_of(assessment)
        evidence = _live_evidence(assessment, cs)
    own = score_assessment(cs, answers)
    appraised = assessment.status == AssessmentStatus.APPRAISED
    final = final_score(assessment) if appraised else None

    by_leaf: dict[str, list[EvidenceFile]] = {}
    for ev in evidence:
        for code in ev.codes:
            by_leaf.setdefault(code, []).append(ev)
    rows = tuple(
        _row(node, own, final, rows_by_code, notes, by_leaf)
        for node in cs.nodes().values()
    )
    unit = assessment.unit
    period = assessment.period
    taken = _snapshot_time(snapshot) if snapshot else None
    # The unit's text as submitted, once handed in; live while it is a draft.
    edited = (
        snapshot.get("report_sections") if snapshot is not None else None
    ) or report_sections(assessment)
    return Dossier(
        assessment_id=assessment.id,
        unit=UnitInfo(
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            parent_body=unit.parent_body or "",
            place_name=unit.place_name or "",
            leader_name=unit.leader_name or "",
            leader_title=unit.leader_title or "CHỦ TỊCH",
            report_number=unit.report_number or "",
            signer_authority=unit.signer_authority or "",
            recipients=recipient_lines(unit.report_recipients or "", unit.kind),
        ),
        period_name=period.name,
        year=cs.evaluation_year,
        criteria_set_id=cs.id,
        criteria_set_title=cs.title,
        status=assessment.status,
        status_label=assessment.status_label,
        # The latest (re)submission: the figures exported are that snapshot's.
        submitted_at=taken or assessment.submitted_at,
        from_snapshot=snapshot is not None,
        exported_at=at,
        report_date=to_vn(taken or at).date(),
        rows=rows,
        self_totals=totals(own),
        appraised_totals=totals(final) if final is not None else None,
        exported_by=exported_by,
        evidence=tuple(evidence),
        plan_rows=_plan_rows(unit.id, cs.evaluation_year),
        recipient=(period.report_recipient or "").strip() or "Sở Nội vụ",
        bases=tuple(lines_of(period.report_bases or "")),
        sections={k: str(edited.get(k) or "") for k in SECTION_KEYS},
        narratives=_narratives(rows, edited.get("narratives") or {}),
        signed_report=signed_report_info(assessment),
    )


def _plan_rows(unit_id: int, year: int) -> tuple[tuple[str, ...], ...]:
    from webapp.plan.reports import plan_annex_rows  # the plan package imports dossier

    return plan_annex_rows(unit_id, year)


def as_submitted(dossier: Dossier) -> Dossier:
    """The unit's own report: its figures as submitted, nothing of the appraisal.

    The appraisal is the Sở's document (``build_appraisal_report``); the unit's report
    stays what it signed, whatever happens later.
    """
    rows = tuple(
        replace(r, appraised_points=None, appraiser_comment="") for r in dossier.rows
    )
    return replace(dossier, rows=rows, appraised_totals=None)


def lines_of(text: str) -> list[str]:
    """Non-blank lines, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def recipient_lines(text: str, kind: str) -> tuple[str, ...]:
    """Nơi nhận as printed: the unit's lines (each "- …;"), or the usual defaults."""
    lines = lines_of(text)
    if not lines:
        return DEFAULT_RECIPIENTS.get(kind, DEFAULT_RECIPIENTS["xa_phuong"])
    return tuple(line if line.startswith("-") else f"- {line}" for line in lines)


def report_sections(assessment: Assessment) -> dict[str, Any]:
    """The unit-edited report text kept with the assessment (empty dict if none)."""
    return dict(assessment.report_sections or {})


def signed_report_info(assessment: Assessment) -> SignatureInfo | None:
    """The validated signature of the latest signed report uploaded, if any."""
    from webapp.dossier.signed import latest_signed_report, signature_info

    report = latest_signed_report(assessment)
    return signature_info(report.signature) if report is not None else None


def _narratives(rows: tuple[Row, ...], edited: dict[str, Any]) -> dict[str, str]:
    """Per area: the unit's edited text, or the one generated from the figures."""
    out = {}
    for area in (r for r in rows if r.kind == "area"):
        text = str(edited.get(area.code) or "").strip()
        out[area.code] = text or area_narrative(area, rows)
    return out


def area_narrative(area: Row, rows: Iterable[Row]) -> str:
    """A short account of one area from its figures: points, index, lost points."""
    leaves = [r for r in rows if r.is_leaf and r.code.startswith(f"{area.code}.")]
    text = (
        f"Tự đánh giá đạt {fmt_points(area.self_points)}/"
        f"{fmt_points(area.counted_max)} điểm"
    )
    if area.index is not None:
        text += f", chỉ số thành phần {fmt_points(area.index)}%"
    pending = [r for r in leaves if r.status == "pending"]
    if pending:
        total = sum((r.max_points for r in pending), Decimal(0))
        text += (
            f"; chưa tính {fmt_points(total)} điểm của {len(pending)} tiêu chí "
            "đánh giá qua điều tra xã hội học"
        )
    lost = [
        r
        for r in leaves
        if r.self_points is not None
        and r.counted_max is not None
        and r.self_points < r.counted_max
    ]
    if not lost:
        return text + (
            ". Các tiêu chí tự đánh giá đều đạt điểm tối đa." if leaves else "."
        )
    details = "; ".join(
        f"{r.code} ({fmt_points(r.self_points)}/{fmt_points(r.max_points)} điểm"
        + (f": {_reason(r)}" if _reason(r) else "")
        + ")"
        for r in lost
    )
    return f"{text}. Các tiêu chí chưa đạt điểm tối đa: {details}."


def _reason(row: Row) -> str:
    """Why a leaf lost points: the unit's explanation, else the engine's."""
    text = (row.note.strip() or row.explanation.strip()).rstrip(".")
    return text[:1].lower() + text[1:] if text else ""


def _snapshot_time(snapshot: dict[str, Any]) -> datetime | None:
    """When the snapshot was taken (last submission): the date on the report."""
    for key in ("resubmitted_at", "taken_at"):
        raw = snapshot.get(key)
        if raw:
            try:
                return datetime.fromisoformat(raw)
            except ValueError:
                continue
    return None


def totals(score: AssessmentScore | ScoreSummary) -> Totals:
    return Totals(
        score.points, score.max_points, score.index, score.band, tuple(score.pending)
    )


def _row(
    node: Node,
    own: AssessmentScore,
    final: AssessmentScore | None,
    rows_by_code: dict[str, Any],
    notes: dict[str, str],
    by_leaf: dict[str, list[EvidenceFile]],
) -> Row:
    kind = "area" if node.depth == 1 else "criterion" if not node.is_leaf else "leaf"
    if not node.is_leaf:
        score = own.nodes[node.code]
        return Row(
            kind=kind,  # type: ignore[arg-type]
            code=node.code,
            title=node.title,
            depth=node.depth,
            max_points=node.max_points,
            counted_max=score.max_points,
            self_points=score.points,
            is_leaf=False,
            index=score.index,
            appraised_points=final.nodes[node.code].points
            if final is not None
            else None,
        )
    leaf = own.leaves[node.code]
    db_row = rows_by_code.get(node.code)
    appraised_points = db_row.appraised_points if db_row is not None else None
    explanation = leaf.explanation
    if appraised_points is None and final is not None:
        # Survey leaves and leaves the appraiser kept as self-scored: the final points.
        appraised_points = final.leaves[node.code].points
        if leaf.status == "pending" and appraised_points is not None:
            # The survey result is in: say how it was counted, not "chờ kết quả".
            explanation = final.leaves[node.code].explanation
    return Row(
        kind="leaf",
        code=node.code,
        title=node.title,
        depth=node.depth,
        max_points=node.max_points,
        counted_max=leaf.counted_max if leaf.points is not None else None,
        self_points=leaf.points,
        is_leaf=True,
        status=leaf.status,
        assessed_by=node.assessed_by or "",
        explanation=explanation,
        note=notes.get(node.code, ""),
        expected_evidence=tuple(node.evidence),
        evidence=tuple(by_leaf.get(node.code, ())),
        appraised_points=appraised_points,
        appraiser_comment=db_row.appraiser_comment if db_row is not None else "",
    )


def _in_order(codes: Iterable[str], cs: CriteriaSet) -> tuple[str, ...]:
    """The leaf codes among ``codes``, in criteria order (1.2 before 1.10)."""
    order = {leaf.code: i for i, leaf in enumerate(cs.leaves())}
    return tuple(sorted({c for c in codes if c in order}, key=order.__getitem__))


def _evidence_file(
    ev: Evidence,
    codes: Iterable[str],
    cs: CriteriaSet,
    *,
    sha256: str | None = None,
    size: int | None = None,
    original_filename: str | None = None,
) -> EvidenceFile:
    return EvidenceFile(
        id=ev.id,
        storage_key=ev.storage_key,
        sha256=sha256 or ev.sha256,
        size=ev.size if size is None else int(size),
        # The CRC belongs to the bytes uploaded: only valid if the snapshot's hash is.
        crc32=ev.crc32 if (sha256 or ev.sha256) == ev.sha256 else None,
        original_filename=original_filename or ev.original_filename,
        mime_type=ev.mime_type,
        kind=ev.kind,
        doc_type=ev.doc_type or "",
        doc_number=ev.doc_number or "",
        issued_on=ev.issued_on,
        issuer=ev.issuer or "",
        summary=ev.summary or "",
        location=ev.location or "",
        codes=_in_order(codes, cs),
        uploaded_by=ev.uploaded_by.full_name if ev.uploaded_by else "",
        uploaded_at=ev.uploaded_at,
    )


def _live_evidence(assessment: Assessment, cs: CriteriaSet) -> list[EvidenceFile]:
    rows = db.session.scalars(
        sa.select(Evidence)
        .where(Evidence.assessment_id == assessment.id, Evidence.is_current)
        .options(selectinload(Evidence.links), selectinload(Evidence.uploaded_by))
        .order_by(Evidence.id)
    )
    out = [_evidence_file(ev, ev.criterion_codes, cs) for ev in rows]
    return [ev for ev in out if ev.codes]


def _snapshot_evidence(
    assessment: Assessment, snapshot: dict[str, Any], cs: CriteriaSet
) -> list[EvidenceFile]:
    """The evidence list as submitted; citation and storage key from the rows."""
    items = snapshot.get("evidence") or []
    ids = [int(item["id"]) for item in items]
    rows = {
        ev.id: ev
        for ev in db.session.scalars(
            sa.select(Evidence)
            .where(Evidence.id.in_(ids), Evidence.assessment_id == assessment.id)
            .options(selectinload(Evidence.uploaded_by))
        )
    }
    out = []
    for item in items:
        codes = item.get("codes") or []
        ev = rows.get(int(item["id"]))
        if ev is None:
            # A row that vanished cannot be read back; keep it so the ZIP fails loudly.
            out.append(
                EvidenceFile(
                    id=int(item["id"]),
                    storage_key="",
                    sha256=item["sha256"],
                    size=int(item["size"]),
                    original_filename=item.get("original_filename", ""),
                    codes=_in_order(codes, cs),
                )
            )
            continue
        out.append(
            _evidence_file(
                ev,
                codes,
                cs,
                sha256=item["sha256"],
                size=item.get("size"),
                original_filename=item.get("original_filename"),
            )
        )
    return [ev for ev in out if ev.codes]
