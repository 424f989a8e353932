"""Standings: each assessment's totals, kept until what they are computed from changes.

A page that lists a period's units (ranking, appraisal list) needs every unit's self
and final totals: at national scale 6,642 runs of the engine and 236,000 score rows per
view. The engine is pure, so a unit's standing stays valid while its criteria set (one
object per content in the registry) and its score rows are the same. Rows are
fingerprinted by (count, sum of versions, largest id) in one GROUP BY for the whole
page: every ORM update bumps a row's version (the optimistic lock), and a new row
changes the count and the largest id. The cache is per app and checked against the
database on every request, so instances side by side never serve a stale standing.
Only totals and areas are kept (about 1 KB a unit), not the 43 KB full score.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app

from criteria import CriteriaSet
from scoring import AssessmentScore, NodeScore, score_assessment
from webapp.appraisal.leaves import appraised_leaves
from webapp.appraisal.survey import survey_leaves
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import Assessment, CriterionScore
from webapp.workflow import answers_from, overrides_from

EXTENSION_KEY = "parindex.standings"
MAX_ENTRIES = 100_000  # about 100 MB at worst; far above the country's 3,321 units


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """An assessment score without its leaves: totals, band, pending, area nodes."""

    points: Decimal
    max_points: Decimal
    index: Decimal | None
    band: str | None
    pending: tuple[str, ...]
    nodes: Mapping[str, NodeScore]  # the areas only
    # Bonus and penalty points, already in ``points`` (docs/bonus-penalty.md).
    bonus: Decimal = Decimal(0)
    penalty: Decimal = Decimal(0)

    @classmethod
    def of(cls, score: AssessmentScore, cs: CriteriaSet) -> ScoreSummary:
        areas = {a.code: score.nodes[a.code] for a in cs.areas}
        return cls(
            score.points,
            score.max_points,
            score.index,
            score.band,
            score.pending,
            areas,
            score.bonus,
            score.penalty,
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """What a list needs of one assessment, from the engine and its score rows."""

    self_total: ScoreSummary
    final: ScoreSummary
    to_appraise: int  # leaves an appraiser scores
    appraised: int  # of those, appraised so far
    differing: int  # of those, appraised at other points than the self-score
    missing_survey: tuple[str, ...]  # survey leaves without a value yet


class _Entry(NamedTuple):
    fingerprint: tuple[int, int, int]
    criteria: CriteriaSet
    standing: Standing


def standings(assessments: Sequence[Assessment]) -> dict[int, Standing]:
    """The standing of each assessment (by id): two queries, whatever their number."""
    cache, lock = current_app.extensions.setdefault(
        EXTENSION_KEY, ({}, threading.Lock())
    )
    ids = [a.id for a in assessments]
    prints = _fingerprints(ids)
    # One lookup per period and unit family (a period may hold both), not per unit.
    sets: dict[tuple[int, str], CriteriaSet] = {}
    for a in assessments:
        if (a.period_id, a.unit.kind) not in sets:
            sets[(a.period_id, a.unit.kind)] = criteria_for(a)
    out: dict[int, Standing] = {}
    missing = []
    for a in assessments:
        entry = cache.get(a.id)
        cs = sets[(a.period_id, a.unit.kind)]
        if (
            entry is not None
            and entry.criteria is cs
            and entry.fingerprint == prints.get(a.id, (0, 0, 0))
        ):
            out[a.id] = entry.standing
        else:
            missing.append(a)
    if missing:
        rows = _rows([a.id for a in missing])
        with lock:
            if len(cache) + len(missing) > MAX_ENTRIES:
                cache.clear()
            for a in missing:
                own = rows.get(a.id, [])
                cs = sets[(a.period_id, a.unit.kind)]
                out[a.id] = _standing(cs, own)
                cache[a.id] = _Entry(_fingerprint(own), cs, out[a.id])
    return out


def _fingerprints(ids: list[int]) -> dict[int, tuple[int, int, int]]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            CriterionScore.assessment_id,
            sa.func.count(),
            sa.func.sum(CriterionScore.version),
            sa.func.max(CriterionScore.id),
        )
        .where(CriterionScore.assessment_id.in_(ids))
        .group_by(CriterionScore.assessment_id)
    )
    return {aid: (int(n), int(v), int(m)) for aid, n, v, m in rows}


def _rows(ids: list[int]) -> dict[int, list[Any]]:
    """The score rows of these assessments: only the columns scoring reads."""
    out: dict[int, list[Any]] = {}
    for row in db.session.execute(
        sa.select(
            CriterionScore.assessment_id,
            CriterionScore.id,
            CriterionScore.version,
            CriterionScore.criterion_code,
            CriterionScore.answer,
            CriterionScore.is_not_applicable,
            CriterionScore.survey_value,
            CriterionScore.appraised_points,
            CriterionScore.appraised_at,
        ).where(CriterionScore.assessment_id.in_(ids))
    ):
        out.setdefault(row.assessment_id, []).append(row)
    return out


def _fingerprint(rows: Iterable[Any]) -> tuple[int, int, int]:
    rows = list(rows)
    if not rows:
        return (0, 0, 0)
    return (len(rows), sum(r.version for r in rows), max(r.id for r in rows))


def _standing(cs: CriteriaSet, rows: list[Any]) -> Standing:
    answers = answers_from(rows)
    # The self-score never includes survey points (workflow.self_score).
    own = score_assessment(cs, answers_from(rows, survey=False))
    final = score_assessment(cs, answers, points_override=overrides_from(rows))
    by_code = {r.criterion_code: r for r in rows}
    to_appraise = [leaf.code for leaf in appraised_leaves(cs)]
    done = [
        by_code[c]
        for c in to_appraise
        if c in by_code and by_code[c].appraised_at is not None
    ]
    differing = sum(
        1 for r in done if r.appraised_points != own.leaves[r.criterion_code].points
    )
    missing = tuple(
        leaf.code
        for leaf in survey_leaves(cs)
        if leaf.code not in by_code or by_code[leaf.code].survey_value is None
    )
    return Standing(
        ScoreSummary.of(own, cs),
        ScoreSummary.of(final, cs),
        len(to_appraise),
        len(done),
        differing,
        missing,
    )
