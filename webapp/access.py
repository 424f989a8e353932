"""Who may see and do what (DESIGN.md §5), enforced in one place for every query.

Objects of another unit are answered with 404, so ids cannot be probed; a role that may
never use a route gets 403.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus
from webapp.models import AppraiserAssignment, Assessment, Evidence, User

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Require login and one of the roles; other roles get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        # Read by scripts/isolation_suite.py to know whom each route must refuse.
        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def assigned_unit_ids(user: User, period_id: int | None = None) -> sa.Select[int]:
    q = sa.select(AppraiserAssignment.unit_id).where(
        AppraiserAssignment.user_id == user.id
    )
    if period_id is not None:
        q = q.where(AppraiserAssignment.period_id == period_id)
    return q


def visible_assessments(user: User) -> sa.Select[Assessment]:
    """Assessments the user may read: all (admin), own unit, or assigned + submitted."""
    return _visible(_reader_kind(user), user.id, user.unit_id)


def _reader_kind(user: User) -> str:
    if user.role == "admin":
        return "admin"
    if user.is_unit_user:
        return "unit"
    return "appraiser" if user.role == "appraiser" else "none"


def _visible(kind: str, user_id: Any, unit_id: Any) -> sa.Select[Assessment]:
    # user_id, unit_id: values, or bind parameters for a statement built once.
    q = sa.select(Assessment)
    if kind == "admin":
        return q
    if kind == "unit":
        return q.where(Assessment.unit_id == unit_id)
    if kind == "appraiser":
        assigned = sa.select(AppraiserAssignment.id).where(
            AppraiserAssignment.user_id == user_id,
            AppraiserAssignment.unit_id == Assessment.unit_id,
            AppraiserAssignment.period_id == Assessment.period_id,
        )
        return q.where(sa.exists(assigned), Assessment.status != AssessmentStatus.DRAFT)
    return q.where(sa.false())


# get_assessment_or_404's statement per reader kind and loader options, built once:
# nearly every request runs one, and building it (and its cache key) costs more than
# running it. Keyed by the options' identity (routes pass module constants); the
# entry keeps them, so the identity stays theirs; bounded, should a caller build them.
_ONE_VISIBLE: dict[tuple[str, int], tuple[Sequence[Any], sa.Select[Assessment]]] = {}
_ONE_VISIBLE_MAX = 64


def _one_visible(kind: str, options: Sequence[Any]) -> sa.Select[Assessment]:
    key = (kind, id(options))
    found = _ONE_VISIBLE.get(key)
    if found is not None and found[0] is options:
        return found[1]
    statement = (
        _visible(
            kind,
            sa.bindparam("user_id", type_=sa.Integer),
            sa.bindparam("unit_id", type_=sa.Integer),
        )
        .where(Assessment.id == sa.bindparam("assessment_id", type_=sa.Integer))
        .options(*options)
    )
    if len(_ONE_VISIBLE) >= _ONE_VISIBLE_MAX:
        _ONE_VISIBLE.clear()
    _ONE_VISIBLE[key] = (options, statement)
    return statement


def get_assessment_or_404(
    assessment_id: int, user: User | None = None, *, options: Sequence[Any] = ()
) -> Assessment:
    """Load an assessment the user may read, or 404 whatever the id (``options``:
    loader options, so a route gets what it reads in one round trip)."""
    user = user or current_user._get_current_object()
    params = {
        "assessment_id": assessment_id,
        "user_id": user.id,
        "unit_id": user.unit_id,
    }
    # unique(): options may join collections (several rows for one assessment).
    found: Assessment | None = (
        db.session.execute(_one_visible(_reader_kind(user), options), params)
        .unique()
        .scalar_one_or_none()
    )
    if found is None:
        abort(404)
    return found


def get_evidence_or_404(evidence_id: int, user: User | None = None) -> Evidence:
    """Load an evidence row whose assessment the user may read, or 404."""
    user = user or current_user._get_current_object()
    visible_ids = visible_assessments(user).with_only_columns(Assessment.id)
    found: Evidence | None = db.session.scalar(
        sa.select(Evidence).where(
            Evidence.id == evidence_id, Evidence.assessment_id.in_(visible_ids)
        )
    )
    if found is None:
        abort(404)
    return found
