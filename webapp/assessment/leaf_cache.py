"""The criteria page's leaf markup, rendered once per distinct content (issue #16).

Rendering a leaf (templates/assessment/_leaf.html with its documents) is most of the
page's CPU. A leaf's markup is a function of what this request loaded for it, so each
fragment is cached under a digest of exactly that: the leaf's row (every column), its
score, its documents (every column, whether each may be deleted now), last year's
candidates, the thread count, the assessment's id and status, and the request-derived
state such as editability (which moves with the deadline) and the page URL. Nothing is
ever invalidated: new data gives a new key on the very next render, so a cached
fragment can never be stale. The per-request CSRF token is put in after the lookup.

The criteria tree beside the leaves is cached the same way, under its leaves' states
and its areas' scores.

Bounded (LRU) and per process, in memory: the app stays stateless on disk and
instances never share it. Leaves that show more than their own rows (the plan leaf,
a refused post, a notice) are always rendered.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from webapp.assessment.overview import LeafView
from webapp.evidence.services import can_delete

_EXTENSION = "parindex.leaf_cache"
# Stands for the request's CSRF token in a cached fragment. Markup, so it is written
# as it is; its "<" is escaped in any text a user typed, so only the token's own
# places hold it.
CSRF_PLACEHOLDER = Markup("<parindex-leaf-csrf>")
# The evidence partial writes its <script> tag on the first leaf of a request only.
SCRIPT_FLAG = "parindex.evidence_js"
DEFAULT_SIZE = 2048  # fragments of ~2-8 KB: a few MB per process


class LeafCache:
    """A thread-safe LRU of rendered markup (gthread workers share one per process).

    Each entry belongs to an owner (a leaf, a criteria set): it is found only for the
    very same object, so a reloaded criteria set (new objects) renders anew."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, tuple[object, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes, owner: object) -> Any:
        """The value put under ``key`` for ``owner``, or None."""
        with self._lock:
            item = self._items.get(key)
            # The entry keeps its owner alive, so the identity check is sound.
            if item is None or item[0] is not owner:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: bytes, owner: object, value: Any) -> None:
        with self._lock:
            self._items[key] = (owner, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def leaf_cache() -> LeafCache | None:
    """This app's cache (None when LEAF_CACHE_SIZE is 0)."""
    return app_cache(_EXTENSION, "LEAF_CACHE_SIZE", DEFAULT_SIZE)


def app_cache(extension: str, setting: str, default: int) -> LeafCache | None:
    """The app's cache under ``extension``, sized by ``setting`` (0: none)."""
    cache: LeafCache | None = current_app.extensions.get(extension)
    if cache is None:
        size = int(current_app.config.get(setting, default))
        if size <= 0:
            return None
        cache = current_app.extensions.setdefault(extension, LeafCache(size))
    return cache


_COLUMNS: dict[tuple[type, bool], tuple[str, ...]] = {}


def columns(obj: object, *, deferred: bool = True) -> tuple[Any, ...]:
    """Every column value of a row: deferred ones too (the template could read them),
    unless ``deferred`` is False (reading one would cost a query)."""
    cls = type(obj)
    names = _COLUMNS.get((cls, deferred))
    if names is None:
        props = sa.inspect(cls).column_attrs
        names = tuple(p.key for p in props if deferred or not p.deferred)
        _COLUMNS[cls, deferred] = names
    return tuple(getattr(obj, n) for n in names)


def render_cacheable(render: Callable[[], str], token: object) -> tuple[str, bool]:
    """``render()`` with the CSRF placeholder for the request's ``token``: the markup
    to keep, and whether it wrote the evidence script tag (see `from_cache`)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    setattr(g, field, CSRF_PLACEHOLDER)
    try:
        html = render()
    finally:
        setattr(g, field, token)
    return html, bool(request.environ.get(SCRIPT_FLAG))


def from_cache(html: str, script_after: bool, token: object) -> Markup:
    """Kept markup for this request: its token in, the script tag noted as written."""
    if script_after:
        request.environ[SCRIPT_FLAG] = True
    return Markup(html.replace(str(CSRF_PLACEHOLDER), str(token)))


def _key(context: Context, lv: LeafView, form: Any, script_before: bool) -> bytes:
    assessment = context["assessment"]
    row = lv.row
    counts = context.get("message_counts") or {}
    parts: tuple[Any, ...] = (
        lv.leaf.code,
        assessment.id,
        assessment.status,
        request.script_root,
        context.get("leaf_page_url"),
        script_before,
        lv.editable,
        lv.returned,
        lv.evidence_count,
        lv.state,
        lv.result,
        columns(row) if row is not None else None,
        # Who saved it shows under the form only.
        row.updated_by.full_name
        if form is not None and row is not None and row.updated_by
        else None,
        counts.get(lv.leaf.code, 0),
        tuple(
            (columns(e), lv.editable and can_delete(e, assessment)) for e in lv.evidence
        ),
        tuple(
            (
                columns(c.evidence),
                c.new_code,
                c.old_code,
                c.period_name,
                c.dated,
                c.out_of_year,
            )
            for c in lv.candidates
        )  # fmt: skip
        if lv.editable
        else (),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()


def _render(
    context: Context, lv: LeafView | None, name: str = "assessment/_leaf.html"
) -> str:
    # What `{% include name %}` did: the caller's context (plus lv for a leaf).
    template = context.environment.get_template(name)
    local = {"lv": lv} if lv is not None else {}
    return "".join(
        template.root_render_func(template.new_context(context.get_all(), True, local))
    )


@pass_context
def tree_html(context: Context) -> Markup:
    """The criteria tree (templates/assessment/_tree.html), from the cache when the
    leaves' states and the areas' scores are the same as in an earlier render."""
    name = "assessment/_tree.html"
    view = context["view"]
    cache = leaf_cache()
    if cache is None:
        return Markup(_render(context, None, name))
    nodes = view.score.nodes
    parts = (
        name,
        view.assessment.id,
        request.script_root,
        tuple(context["area_urls"].items()),
        tuple(context["filters"].items()),
        tuple(context["counts"].items()),
        tuple(
            (a.code, nodes[a.code].points, nodes[a.code].max_points)
            for a in view.criteria.areas
        ),
        tuple((code, v.state) for code, v in view.leaves.items()),
    )
    key = hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()
    found = cache.get(key, view.criteria)
    if found is None:
        html = _render(context, None, name)
        cache.put(key, view.criteria, html)
    else:
        html = found
    return Markup(html)


@pass_context
def leaf_html(context: Context, lv: LeafView) -> Markup:
    """One leaf's markup, from the cache when this request's data was seen before."""
    code = lv.leaf.code
    form = (context.get("forms") or {}).get(code)
    cache = leaf_cache()
    if (
        cache is None
        or lv.leaf.fact_source == "plan_completion"  # shows the unit's plan tasks
        or (context.get("notices") or {}).get(code)
        or getattr(form, "posted", False)  # what the user typed, not the row
    ):
        return Markup(_render(context, lv))
    # The token as it is: inside a cached page body it is the placeholder (Markup),
    # which must stay Markup for the forms rendered after this leaf.
    token = generate_csrf()
    key = _key(context, lv, form, bool(request.environ.get(SCRIPT_FLAG)))
    found = cache.get(key, lv.leaf)
    if found is None:
        found = render_cacheable(lambda: _render(context, lv), token)
        cache.put(key, lv.leaf, found)
    html, script_after = found
    return from_cache(html, script_after, token)
