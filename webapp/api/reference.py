"""Who am I, which periods, which criteria set (the tree)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, g
from spectree import Response

from webapp.api import schemas as s
from webapp.api.blueprint import bp, spec
from webapp.api.common import (
    ALL_ROLES,
    api_user,
    criteria_set_out,
    paginate,
    period_out,
    roles,
    unit_ref,
)
from webapp.appraisal.assignments import assigned_period_ids
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import Assessment, CriteriaSetRecord, Period, User

ERRORS = {"HTTP_401": s.ErrorBody, "HTTP_403": s.ErrorBody, "HTTP_404": s.ErrorBody}
TAG = "Tham chiếu"


def visible_periods(user: User) -> sa.Select[Period]:
    """All (coordinator), assigned (appraiser), those with the unit's assessment."""
    q = sa.select(Period).order_by(Period.year.desc(), Period.id.desc())
    if user.role == "admin":
        return q
    if user.role == "appraiser":
        return q.where(Period.id.in_(assigned_period_ids(user)))
    return q.where(
        Period.id.in_(
            sa.select(Assessment.period_id).where(Assessment.unit_id == user.unit_id)
        )
    )


@bp.get("/me")
@roles(*ALL_ROLES)
@spec.validate(resp=Response(HTTP_200=s.MeOut, **ERRORS), tags=[TAG])
def me() -> Any:
    """Người dùng của mã truy cập: vai trò, đơn vị."""
    user = api_user()
    token = g.api_token
    return s.MeOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        role_label=user.role_label,
        unit=unit_ref(user.unit) if user.unit else None,
        token=s.TokenRef(id=token.id, name=token.name, expires_at=token.expires_at),
    )


@bp.get("/periods")
@roles(*ALL_ROLES)
@spec.validate(
    query=s.PageQuery, resp=Response(HTTP_200=s.PeriodPage, **ERRORS), tags=[TAG]
)
def periods(query: s.PageQuery) -> Any:
    """Các kỳ đánh giá người dùng tham gia, mới nhất trước."""
    rows, total = paginate(visible_periods(api_user()), query.page, query.per_page)
    return s.PeriodPage(
        items=[period_out(p) for p in rows],
        page=query.page,
        per_page=query.per_page,
        total=total,
    )


@bp.get("/criteria-sets/<code>")
@roles(*ALL_ROLES)
@spec.validate(resp=Response(HTTP_200=s.CriteriaSetOut, **ERRORS), tags=[TAG])
def criteria_set(code: str) -> Any:
    """Cây bộ tiêu chí: lĩnh vực, tiêu chí, tiêu chí thành phần và cách tính điểm."""
    if db.session.get(CriteriaSetRecord, code) is None:
        abort(404)
    return criteria_set_out(criteria_for(code))
