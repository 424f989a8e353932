"""What every API view uses: the token's user, role checks, pagination, and the
plain representations of the app's objects (built from the same views the pages use).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from criteria import CriteriaSet, Node
from scoring import AssessmentScore, describe_rule
from webapp.api import schemas as s
from webapp.api.schemas import MAX_ID
from webapp.assessment.overview import AssessmentView, LeafView
from webapp.extensions import db
from webapp.lifecycle import effective_deadline
from webapp.models import Assessment, Evidence, Period, ReturnRequest, Unit, User

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

ALL_ROLES = ("admin", "unit_editor", "unit_head", "appraiser")
UNIT_ROLES = ("unit_editor", "unit_head")
STAFF = ("admin", "appraiser")


def api_user() -> User:
    user: User = current_user._get_current_object()
    return user


def roles(*names: str) -> Callable[[F], F]:
    """Only these roles (the token's user): others get 403, as on the pages."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            for value in kwargs.values():
                # Werkzeug's int converter takes any size; no id is that large.
                if isinstance(value, int) and value > MAX_ID:
                    abort(404)
            if api_user().role not in names:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(names)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def paginate(query: sa.Select[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return rows, int(total or 0)


def points(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(Decimal('0.01')):f}"


def unit_ref(unit: Unit) -> s.UnitRef:
    return s.UnitRef(id=unit.id, code=unit.code, name=unit.name)


def period_out(period: Period) -> s.PeriodOut:
    return s.PeriodOut(
        id=period.id,
        name=period.name,
        year=period.year,
        status=str(period.status),
        status_label=period.status.label,
        criteria_set_id=period.criteria_set_id,
        opens_at=period.opens_at,
        self_deadline=period.self_deadline,
        appraisal_deadline=period.appraisal_deadline,
        published_at=period.published_at,
        unit_ids=sorted(u.id for u in period.units),
    )


def totals(score: AssessmentScore) -> s.Totals:
    return s.Totals(
        points=points(score.points) or "0.00",
        max_points=points(score.max_points) or "0.00",
        index=points(score.index),
        band=score.band,
        pending=list(score.pending),
    )


def assessment_out(assessment: Assessment, score: AssessmentScore) -> s.AssessmentOut:
    return s.AssessmentOut(
        id=assessment.id,
        period_id=assessment.period_id,
        unit=unit_ref(assessment.unit),
        status=str(assessment.status),
        status_label=assessment.status.label,
        submitted_at=assessment.submitted_at,
        deadline=effective_deadline(assessment),
        totals=totals(score),
    )


def leaf_out(view: LeafView) -> s.LeafOut:
    row = view.row
    leaf = view.leaf
    answer = row.answer if row else None
    not_applicable = bool(row and row.is_not_applicable)
    return s.LeafOut(
        code=leaf.code,
        title=leaf.title,
        assessed_by=leaf.assessed_by or "",
        rule_type=leaf.rule.type if leaf.rule else "",
        max_points=points(leaf.max_points) or "0.00",
        inputs=None if not_applicable else answer,
        not_applicable=not_applicable,
        self_score=points(view.result.points),
        score_explanation=view.result.explanation,
        explanation=row.note if row else "",
        evidence_ids=sorted(e.id for e in view.evidence),
        survey_value=points(row.survey_value) if row else None,
        appraised_score=points(row.appraised_points) if row else None,
        appraiser_comment=row.appraiser_comment if row else "",
        version=row.version if row and row.id else 0,
        editable=view.editable,
        state=view.state,
    )


def return_out(request: ReturnRequest) -> s.ReturnOut:
    return s.ReturnOut(
        id=request.id,
        criteria=list(request.criterion_codes),
        message=request.message,
        due_at=request.due_at,
        status=str(request.status),
    )


def assessment_detail(
    view: AssessmentView, final: AssessmentScore
) -> s.AssessmentDetail:
    base = assessment_out(view.assessment, view.score)
    return s.AssessmentDetail(
        **base.model_dump(),
        final_totals=totals(final),
        leaves=[leaf_out(v) for v in view.leaves.values()],
        returns=[
            return_out(r)
            for r in sorted(view.assessment.return_requests, key=lambda r: r.id)
        ],
    )


def evidence_out(evidence: Evidence) -> s.EvidenceOut:
    return s.EvidenceOut(
        id=evidence.id,
        assessment_id=evidence.assessment_id,
        original_filename=evidence.original_filename,
        size=evidence.size,
        mime_type=evidence.mime_type,
        kind=evidence.kind,
        sha256=evidence.sha256,
        doc_type=evidence.doc_type,
        doc_number=evidence.doc_number,
        issued_on=evidence.issued_on,
        issuer=evidence.issuer,
        summary=evidence.summary,
        criteria=evidence.criterion_codes,
        uploaded_at=evidence.uploaded_at,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def node_out(node: Node) -> s.NodeOut:
    rule = None
    if node.rule is not None:
        raw = (
            dataclasses.asdict(node.rule) if dataclasses.is_dataclass(node.rule) else {}
        )
        raw.pop("type", None)
        rule = s.RuleOut(
            type=node.rule.type, text=describe_rule(node), parameters=_plain(raw)
        )
    return s.NodeOut(
        code=node.code,
        title=node.title,
        max_points=points(node.max_points) or "0.00",
        assessed_by=node.assessed_by,
        not_applicable=node.not_applicable,
        evidence=list(node.evidence),
        rule=rule,
        children=[node_out(c) for c in node.children],
    )


def criteria_set_out(cs: CriteriaSet) -> s.CriteriaSetOut:
    return s.CriteriaSetOut(
        id=cs.id,
        title=cs.title,
        evaluation_year=cs.evaluation_year,
        unit_type=cs.unit_type,
        total_max_points=points(cs.total_max_points) or "0.00",
        leaf_count=len(cs.leaves()),
        areas=[node_out(a) for a in cs.areas],
    )
