"""The criteria page's tree and leaves, rendered once per revision of the unit's data.

A warm leaf cache (leaf_cache.py) still loads every row to find its fragments: that
loading is most of what is left of a page. Here the whole rendered part below the
head (criteria tree and leaves) and its score are kept under the unit's page revision
(webapp/page_revision.py: it moves with every committed change to what the page shows)
and what the request itself decides: the assessment, its period and extensions (their
columns), the user, the area shown, the URL, and which leaves are editable now (it
moves with the clock at the deadline or a return request's due date). On a hit, no
row is loaded and nothing is rendered but the head. The CSRF token goes in after the
lookup. A page showing what a user typed (a refused save) never comes from here.

Bounded (LRU) and per process, in memory; instances never share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from scoring import AssessmentScore
from webapp.assessment.leaf_cache import _CSRF, _SCRIPT_FLAG, LeafCache, app_cache
from webapp.assessment.overview import AssessmentView, CriteriaPage, assessment_view
from webapp.clock import now
from webapp.criteria_sets import criteria_for
from webapp.lifecycle import editable_codes, pending_returns
from webapp.models import Assessment, ReturnRequest, User

_EXTENSION = "parindex.page_cache"
DEFAULT_SIZE = 128  # bodies of ~100-250 KB: up to ~30 MB per process


@dataclass(frozen=True, slots=True)
class CriteriaBody:
    """What the criteria page shows below its head, and what the head needs of it."""

    html: Markup
    score: AssessmentScore
    editable: set[str] | None  # None: every leaf editable
    open_returns: list[ReturnRequest]


def page_cache() -> LeafCache | None:
    """This app's cache (None when PAGE_CACHE_SIZE is 0)."""
    return app_cache(_EXTENSION, "PAGE_CACHE_SIZE", DEFAULT_SIZE)


def _loaded(obj: object) -> tuple[Any, ...]:
    """The row's columns that its query loads (a deferred one would cost a query)."""
    cls = type(obj)
    names = _NAMES.get(cls)
    if names is None:
        props = sa.inspect(cls).column_attrs
        names = _NAMES[cls] = tuple(p.key for p in props if not p.deferred)
    return tuple(getattr(obj, n) for n in names)


_NAMES: dict[type, tuple[str, ...]] = {}


def _key(
    assessment: Assessment, user: User, page: CriteriaPage, allowed: set[str] | None
) -> bytes:
    period = assessment.period
    parts = (
        request.path,
        request.script_root,
        page.current,
        assessment.unit.page_revision,
        _loaded(assessment),
        _loaded(assessment.unit),
        _loaded(period),
        sorted(repr(_loaded(e)) for e in period.extensions),
        sorted(repr(_loaded(r)) for r in assessment.return_requests),
        (user.id, user.role, user.unit_id),
        None if allowed is None else sorted(allowed),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()


def criteria_body(
    assessment: Assessment,
    user: User,
    page: CriteriaPage,
    render: Callable[[AssessmentView], str],
    *,
    cacheable: bool,
) -> CriteriaBody:
    """The page's body, from the cache when the unit's data and the request's state
    are as in an earlier render; else ``render(view)`` of a freshly loaded view."""
    cache = page_cache() if cacheable else None
    if cache is None:
        view = assessment_view(assessment, user, listed=page.leaf_codes)
        return CriteriaBody(
            Markup(render(view)), view.score, view.editable, view.open_returns
        )
    allowed = editable_codes(assessment, now())
    criteria = criteria_for(assessment)
    key = _key(assessment, user, page, allowed)
    token = str(generate_csrf())
    found = cache.get(key, criteria)
    if found is None:
        view = assessment_view(assessment, user, listed=page.leaf_codes)
        field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        setattr(g, field, _CSRF)
        try:
            html = render(view)
        finally:
            setattr(g, field, token)
        found = (html, view.score, bool(request.environ.get(_SCRIPT_FLAG)))
        # The clock may have passed a deadline between the key and the view: keep
        # only a body rendered for the editability its key says.
        if view.editable == allowed:
            cache.put(key, criteria, found)
        allowed = view.editable
    html, score, script = found
    if script:
        request.environ[_SCRIPT_FLAG] = True
    return CriteriaBody(
        Markup(html.replace(str(_CSRF), token)),
        score,
        allowed,
        pending_returns(assessment),
    )
