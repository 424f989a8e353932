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

from flask import request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from scoring import AssessmentScore
from webapp.assessment.leaf_cache import (
    LeafCache,
    app_cache,
    columns,
    from_cache,
    render_cacheable,
)
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


def _key(
    assessment: Assessment, user: User, page: CriteriaPage, allowed: set[str] | None
) -> bytes:
    period = assessment.period
    parts = (
        request.path,
        request.script_root,
        page.current,
        assessment.unit.page_revision,
        columns(assessment, deferred=False),
        columns(assessment.unit, deferred=False),
        columns(period, deferred=False),
        sorted(repr(columns(e, deferred=False)) for e in period.extensions),
        sorted(repr(columns(r, deferred=False)) for r in assessment.return_requests),
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
    token = generate_csrf()
    found = cache.get(key, criteria)
    if found is None:
        view = assessment_view(assessment, user, listed=page.leaf_codes)
        html, script = render_cacheable(lambda: render(view), token)
        found = (html, script, view.score)
        # The clock may have passed a deadline between the key and the view: keep
        # only a body rendered for the editability its key says.
        if view.editable == allowed:
            cache.put(key, criteria, found)
        allowed = view.editable
    html, script, score = found
    return CriteriaBody(
        from_cache(html, script, token), score, allowed, pending_returns(assessment)
    )
