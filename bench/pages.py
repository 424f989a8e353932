"""Benchmark the pages that list every unit: ranking, appraisal list, dossier index.

For each N (24 units; 166, Thanh Hóa's wards and communes; 3,321, the whole country) it
builds a fresh SQLite database with the 2026 draft set, one closed period and N units,
each with a submitted and appraised assessment (seeded answers from bench/scoring.py,
the appraiser's points, survey results and the real submission snapshot, copied to
every unit with bulk inserts), then requests each page as the coordinator through the
app (one warm-up request, then 20 timed ones) and prints one line per page and N:

    ranking N=3321: queries 12, p50 0.41 s, p95 0.52 s, criteria bytes 0

queries: SQL statements per request (SQLAlchemy's before_cursor_execute), the same for
every N when no page loads per unit; criteria bytes: bytes a request reads from the
criteria-set table (the statements that touched it are run again afterwards to count
what they returned). Target: flat query counts, ranking for 3,321 units under 1 s p50.

Usage: python bench/pages.py [--units 24 166 3321] [--requests 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and would shadow packages.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bench.scoring import SET_FILE, make_answer  # noqa: E402

SIZES = (24, 166, 3321)
PASSWORD = "ParIndex@2026"
TARGET_RANKING_P50 = 1.0
# Page name → (endpoint, whether it takes the period id).
PAGES = {
    "ranking": ("results.ranking", True),
    "appraisal-list": ("appraisal.index", False),
    "dossier-index": ("dossier.index", False),
}


def config(folder: Path) -> dict[str, Any]:
    return {
        "SECRET_KEY": "bench-secret",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
        "EVIDENCE_BACKEND": "local",
        "EVIDENCE_LOCAL_ROOT": str(folder / "evidence"),
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def build(units: int, seed: int = 2026) -> int:
    """Fill the empty database; return the period id."""
    import sqlalchemy as sa

    from scoring import normalize_answer, score_assessment
    from webapp.assessment.overview import assessment_view
    from webapp.assessment.submission import build_snapshot
    from webapp.auth.services import hash_password
    from webapp.criteria_sets import criteria_for, import_criteria_set
    from webapp.extensions import db
    from webapp.lifecycle import AssessmentStatus, PeriodStatus
    from webapp.models import (
        Assessment,
        CriterionScore,
        Period,
        Unit,
        User,
        period_units,
    )

    import_criteria_set(SET_FILE)
    cs = criteria_for(SET_FILE.stem)
    admin = User(
        username="admin",
        full_name="Điều phối viên (Sở Nội vụ)",
        role="admin",
        password_hash=hash_password(PASSWORD),
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    period = Period(
        name="Đánh giá Chỉ số CCHC năm 2026 (cấp xã)",
        year=2026,
        criteria_set_id=cs.id,
        opens_at=start,
        self_deadline=start + timedelta(days=44),
        appraisal_deadline=start + timedelta(days=75),
        status=PeriodStatus.CLOSED,
    )
    db.session.add_all([admin, period])
    db.session.flush()
    db.session.execute(
        sa.insert(Unit),
        [
            {
                "code": f"U{i:05d}",
                "name": f"Phường Số {i:05d}",
                "kind": "xa_phuong",
                "place_name": f"Số {i:05d}",
                "leader_name": "Nguyễn Văn An",
                "parent_body": "",
                "report_number": "",
            }
            for i in range(units)
        ],
    )
    unit_ids = list(db.session.scalars(sa.select(Unit.id).order_by(Unit.id)))
    db.session.execute(
        sa.insert(period_units),
        [{"period_id": period.id, "unit_id": u} for u in unit_ids],
    )
    submitted = start + timedelta(days=40)
    db.session.execute(
        sa.insert(Assessment),
        [
            {
                "period_id": period.id,
                "unit_id": u,
                "status": AssessmentStatus.APPRAISED,
                "submitted_at": submitted,
                "submitted_by_id": admin.id,
            }
            for u in unit_ids
        ],
    )
    ids = {
        u: a
        for u, a in db.session.execute(sa.select(Assessment.unit_id, Assessment.id))
    }
    rng = random.Random(seed)
    leaves = cs.leaves()
    rows = []
    for unit_id in unit_ids:
        answers = {}
        for leaf in leaves:
            given = make_answer(leaf, rng)
            if leaf.assessed_by == "survey" or given is None:
                answers[leaf.code] = given
            else:
                answers[leaf.code] = normalize_answer(leaf, given)
        own = score_assessment(cs, {c: a for c, a in answers.items() if a})
        for leaf in leaves:
            answer = answers[leaf.code]
            survey = leaf.assessed_by == "survey"
            points = own.leaves[leaf.code].points
            rows.append(
                {
                    "assessment_id": ids[unit_id],
                    "criterion_code": leaf.code,
                    "answer": None if survey else answer,
                    "is_not_applicable": bool(answer and "not_applicable" in answer),
                    "self_points": None if survey else points,
                    "score_explanation": own.leaves[leaf.code].explanation,
                    "note": f"Thuyết minh tiêu chí {leaf.code}",
                    "survey_value": (
                        Decimal(str(rng.uniform(60, 100))).quantize(Decimal("0.01"))
                        if survey
                        else None
                    ),
                    # The appraiser lowers about one leaf in ten.
                    "appraised_points": None
                    if survey
                    else (points if rng.random() > 0.1 else Decimal(0)),
                    "appraiser_comment": "",
                    "appraised_by_id": None if survey else admin.id,
                    "appraised_at": None if survey else submitted + timedelta(days=5),
                }
            )
    db.session.execute(sa.insert(CriterionScore), rows)
    db.session.commit()
    # Every unit carries the real snapshot shape (built once, copied).
    first = db.session.get(Assessment, ids[unit_ids[0]])
    assert first is not None
    snapshot = build_snapshot(first, assessment_view(first, admin), submitted, admin)
    db.session.execute(sa.update(Assessment).values(snapshot=snapshot))
    db.session.commit()
    return period.id


@contextmanager
def recording(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (with its parameters) the engine runs inside the block."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def criteria_bytes(engine: Any, statements: list[tuple[str, Any]]) -> int:
    """Bytes the statements that touched the criteria-set table returned."""
    total = 0
    with engine.connect() as conn:
        for statement, params in statements:
            if "criteria_sets" not in statement:
                continue
            for row in conn.exec_driver_sql(statement, params):
                for value in row:
                    if isinstance(value, str):
                        total += len(value.encode("utf-8"))
                    elif isinstance(value, bytes):
                        total += len(value)
                    elif value is not None:
                        total += len(str(value))
    return total


def measure(
    get: Callable[[], Any], engine: Any, requests: int
) -> tuple[int, float, float, int, float, float]:
    """(queries, p50 s, p95 s, criteria bytes, CPU p50 s, first request s).

    CPU time is printed beside the wall clock: on a shared machine the wall clock
    also counts the time other processes held the cores.
    """
    started = time.perf_counter()
    assert get().status_code == 200  # warm-up: registry, standings, templates
    first = time.perf_counter() - started
    times, cpu, counts, touched = [], [], set(), []
    for _ in range(requests):
        with recording(engine) as seen:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = get()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        assert response.status_code == 200, response.status_code
        counts.add(len(seen))
        touched.extend(seen)
    quantiles = statistics.quantiles(times, n=20, method="inclusive")
    per_request = criteria_bytes(engine, touched) // requests
    return (
        max(counts),
        statistics.median(times),
        quantiles[18],
        per_request,
        statistics.median(cpu),
        first,
    )


def run(units: int, requests: int) -> list[tuple[str, int, float]]:
    from flask import url_for

    from webapp import create_app
    from webapp.extensions import db

    out = []
    with tempfile.TemporaryDirectory(prefix="parindex-bench-") as tmp:
        app = create_app(config(Path(tmp)))
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            period_id = build(units)
            print(
                f"# N={units}: data built in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            engine = db.engine
        with app.test_request_context():
            urls = {
                name: url_for(endpoint, **({"period_id": period_id} if p else {}))
                for name, (endpoint, p) in PAGES.items()
            }
        # Requests run outside any app context, so each gets its own, as in production.
        client = app.test_client()
        login = client.post(
            "/auth/login", data={"username": "admin", "password": PASSWORD}
        )
        assert login.status_code == 302, "login failed"
        for name, url in urls.items():
            queries, p50, p95, cbytes, cpu, first = measure(
                lambda url=url: client.get(url), engine, requests
            )
            print(
                f"{name} N={units}: queries {queries}, p50 {p50:.2f} s, "
                f"p95 {p95:.2f} s, criteria bytes {cbytes}",
                flush=True,
            )
            print(
                f"# {name} N={units}: CPU p50 {cpu:.2f} s; "
                f"first request (cold caches) {first:.2f} s",
                flush=True,
            )
            out.append((name, queries, p50))
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    results = [r for n in args.units for r in run(n, args.requests)]
    flat = all(
        len({q for name, q, _ in results if name == page}) == 1 for page in PAGES
    )
    biggest = max(args.units)
    ranking_p50 = next(
        p50
        for (name, _, p50), n in zip(
            results, [n for n in args.units for _ in PAGES], strict=True
        )
        if name == "ranking" and n == biggest
    )
    print(f"# query counts flat in N: {'yes' if flat else 'NO'}")
    verdict = "OK" if ranking_p50 < TARGET_RANKING_P50 else "SLOW"
    print(
        f"# ranking N={biggest} p50 {ranking_p50:.2f} s "
        f"(target < {TARGET_RANKING_P50:g} s): {verdict}"
    )


if __name__ == "__main__":
    main()
