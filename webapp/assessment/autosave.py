"""A leaf save answers JSON to the autosave, and keeps a refused plain form as a draft.

The server stays the judge: both ways go through the same form, `save_answer` and its
optimistic lock. A plain form refused (bad figures, stale version) is kept in the
session and shown again after a redirect, so reloading never asks to resend a form.
"""

from __future__ import annotations

import json
from typing import Any

from flask import session
from werkzeug.datastructures import MultiDict

from criteria import Node
from scoring import AssessmentScore, format_decimal
from webapp.assessment.answers import SaveOutcome
from webapp.assessment.forms import LeafForm, build_leaf_form, initial_data
from webapp.assessment.overview import answer_text
from webapp.clock import to_vn
from webapp.models import Assessment, CriterionScore

_DRAFTS = "leaf_drafts"
# A signed cookie holds at most ~4 KB: a larger draft is answered in place (422/409)
# rather than dropped by the browser.
DRAFT_MAX_BYTES = 2500


def _points(value: Any) -> str:
    return "—" if value is None else format_decimal(value)


def totals_payload(score: AssessmentScore, leaf: Node) -> dict[str, Any]:
    """The figures the page shows around a leaf: its area and the assessment's total."""
    area_code = leaf.code.split(".")[0]
    criterion_code = ".".join(leaf.code.split(".")[:2])
    out: dict[str, Any] = {
        "total": {
            "points": _points(score.points),
            "max": _points(score.max_points),
            "index": _points(score.index),
        },
        "nodes": {},
    }
    for code in {area_code, criterion_code}:
        node = score.nodes.get(code)
        if node is not None:
            out["nodes"][code] = {
                "points": _points(node.points),
                "max": _points(node.max_points),
                "index": _points(node.index),
            }
    return out


def saved_payload(
    leaf: Node, outcome: SaveOutcome, score: AssessmentScore
) -> dict[str, Any]:
    """A save accepted: new version, points, explanation and the time it was saved."""
    row = outcome.row
    return {
        "ok": True,
        "changed": outcome.changed,
        "version": row.version,
        "saved_at": to_vn(row.updated_at).strftime("%H:%M") if row.updated_at else "",
        "points": _points(outcome.result.points),
        "max": _points(leaf.max_points),
        "status": outcome.result.status,
        "explanation": outcome.result.explanation,
        "has_note": bool(row.note.strip()),
        "updated": "Cập nhật "
        + (to_vn(row.updated_at).strftime("%d/%m/%Y %H:%M") if row.updated_at else "")
        + (f" · {row.updated_by.full_name}" if row.updated_by else ""),
        **totals_payload(score, leaf),
    }


def errors_payload(form: LeafForm) -> dict[str, Any]:
    """A save refused at a field: messages by input name (as the page names them)."""
    return {
        "ok": False,
        "errors": {
            form[name].name: list(form[name].errors)
            for name in form._fields
            if form[name].errors
        },
        "form_errors": list(form.form_errors),
    }


def conflict_payload(
    leaf: Node, row: CriterionScore | None, message: str
) -> dict[str, Any]:
    """A stale save: the value someone else saved, to set beside the user's own."""
    version = row.version if row else 0
    fields = initial_data(
        leaf, row.answer if row else None, row.note if row else "", version
    )
    prefix = f"{leaf.code}-"
    return {
        "ok": False,
        "conflict": True,
        "message": message,
        "version": version,
        "current": {
            "answer": answer_text(leaf, row.answer if row else None),
            "note": row.note if row else "",
            "points": _points(row.self_points if row else None),
            "by": row.updated_by.full_name if row and row.updated_by else "",
            "fields": {prefix + k: v for k, v in fields.items() if k != "version"},
        },
    }


def stash_draft(
    assessment: Assessment,
    form: LeafForm,
    formdata: MultiDict[str, str],
    notice: str | None = None,
) -> bool:
    """Keep a refused plain form for the next page view; False when it is too big."""
    leaf = form.leaf
    prefix = f"{leaf.code}-"
    draft = {
        "formdata": [
            [k, v]
            for k, v in formdata.items(multi=True)
            if k.startswith(prefix) and not k.endswith("csrf_token")
        ],
        "errors": {
            name: list(form[name].errors) for name in form._fields if form[name].errors
        },
        "form_errors": list(form.form_errors),
        "notice": notice,
    }
    if len(json.dumps(draft)) > DRAFT_MAX_BYTES:
        return False
    drafts = dict(session.get(_DRAFTS) or {})
    drafts[f"{assessment.id}/{leaf.code}"] = draft
    session[_DRAFTS] = drafts
    return True


def take_drafts(
    assessment: Assessment, leaves: dict[str, Node]
) -> tuple[dict[str, LeafForm], dict[str, str]]:
    """The refused forms kept for this assessment (shown once), and their notices."""
    drafts = dict(session.get(_DRAFTS) or {})
    prefix = f"{assessment.id}/"
    mine = {k: drafts.pop(k) for k in list(drafts) if k.startswith(prefix)}
    if not mine:
        return {}, {}
    session[_DRAFTS] = drafts
    bound: dict[str, LeafForm] = {}
    notices: dict[str, str] = {}
    for key, draft in mine.items():
        leaf = leaves.get(key.removeprefix(prefix))
        if leaf is None or not leaf.is_leaf:
            continue
        form = build_leaf_form(leaf, formdata=MultiDict(draft["formdata"]))
        for name, messages in draft["errors"].items():
            if name in form._fields:
                form[name].errors = list(messages)
        form.form_errors.extend(draft["form_errors"])
        bound[leaf.code] = form
        if draft.get("notice"):
            notices[leaf.code] = draft["notice"]
    return bound, notices
