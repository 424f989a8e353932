"""Plan services: importing a plan (with re-import keeping progress) and tracking
its tasks. Each public function is one transaction with one audit event."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from webapp import audit
from webapp.clock import now, to_vn
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.lifecycle import PlanTaskStatus
from webapp.models import Evidence, Unit, User
from webapp.plan.deadlines import parse_deadline
from webapp.plan.models import PlanEvidenceLink, PlanNote, PlanTask
from webapp.plan.parsing import ParsedTask

TRACKED = ("status", "status_reason", "completed_on", "due_date")


class PlanRefused(ParIndexError):
    """A plan change that cannot be made; nothing was changed."""


def today() -> date:
    return to_vn(now()).date()


def unit_tasks(unit_id: int, year: int, lead: str = "") -> list[PlanTask]:
    query = (
        sa.select(PlanTask)
        .where(PlanTask.unit_id == unit_id, PlanTask.year == year)
        .order_by(PlanTask.appendix, PlanTask.position)
    )
    tasks = list(db.session.scalars(query))
    return [t for t in tasks if lead in t.lead] if lead else tasks


def plan_years(unit_id: int) -> list[int]:
    query = sa.select(PlanTask.year).where(PlanTask.unit_id == unit_id).distinct()
    return sorted(db.session.scalars(query), reverse=True)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", unicodedata.normalize("NFC", text).lower()).strip()


@dataclass
class ImportPlan:
    """What an import would do: shown for confirmation, then applied."""

    created: list[ParsedTask] = field(default_factory=list)
    updated: list[tuple[PlanTask, ParsedTask]] = field(default_factory=list)
    unchanged: list[tuple[PlanTask, ParsedTask]] = field(default_factory=list)
    removed: list[PlanTask] = field(default_factory=list)
    kept: list[PlanTask] = field(
        default_factory=list
    )  # gone from the file, has progress

    def per_appendix(self, parsed: list[ParsedTask]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for task in parsed:
            counts[task.appendix] = counts.get(task.appendix, 0) + 1
        return counts


def _has_progress(task: PlanTask) -> bool:
    return bool(
        task.status != PlanTaskStatus.NOT_STARTED or task.notes or task.evidence_links
    )


def _same(task: PlanTask, row: ParsedTask) -> bool:
    return (
        task.number == row.number
        and task.content == row.content
        and task.products == row.products
        and task.lead == row.lead
        and task.partners == row.partners
        and task.deadline_text == row.deadline_text
        and task.appendix_title == row.appendix_title
    )


def plan_import(unit: Unit, year: int, rows: list[ParsedTask]) -> ImportPlan:
    """Match the file's rows to the stored tasks: by content, then by STT."""
    existing = unit_tasks(unit.id, year)
    by_content = {(t.appendix, _norm(t.content)): t for t in existing}
    by_number = {(t.appendix, t.number): t for t in existing}
    matched: set[int] = set()
    result = ImportPlan()
    pending: list[ParsedTask] = []
    for row in rows:
        task = by_content.get((row.appendix, _norm(row.content)))
        if task is None or task.id in matched:
            pending.append(row)
            continue
        matched.add(task.id)
        (result.unchanged if _same(task, row) else result.updated).append((task, row))
    for row in pending:
        task = by_number.get((row.appendix, row.number))
        if task is not None and task.id not in matched:
            matched.add(task.id)
            result.updated.append((task, row))
        else:
            result.created.append(row)
    for task in existing:
        if task.id not in matched:
            (result.kept if _has_progress(task) else result.removed).append(task)
    return result


def _apply_deadline(task: PlanTask, year: int) -> None:
    deadline = parse_deadline(task.deadline_text, year)
    task.deadline_kind = deadline.kind
    task.deadline_note = deadline.interpretation
    task.checkpoints = [d.isoformat() for d in deadline.checkpoints]
    if not task.due_overridden:
        task.due_date = deadline.due_date


def _fill(task: PlanTask, row: ParsedTask, position: int, year: int) -> None:
    deadline_changed = task.deadline_text != row.deadline_text
    task.appendix = row.appendix
    task.appendix_title = row.appendix_title
    task.content = row.content
    task.products = list(row.products)
    task.lead = list(row.lead)
    task.partners = list(row.partners)
    task.deadline_text = row.deadline_text
    task.position = position
    if deadline_changed:
        task.due_overridden = False  # a new deadline in the plan wins over a correction
    _apply_deadline(task, year)


def apply_import(
    unit: Unit,
    year: int,
    rows: list[ParsedTask],
    *,
    actor: User | None = None,
    filename: str = "",
) -> ImportPlan:
    """Save the plan: new tasks added, matching ones updated (progress kept)."""
    result = plan_import(unit, year, rows)
    positions = {id(row): i for i, row in enumerate(rows)}
    for task in result.removed:
        db.session.delete(task)
    # STT may move between tasks: park the numbers first (the unique key holds).
    for task, _row in result.updated:
        task.number = f"~{task.id}"
    # A task gone from the file but kept for its progress yields its STT.
    incoming = {row.key() for row in rows}
    for task in result.kept:
        if (task.appendix, task.number) in incoming:
            task.number = f"{task.number} (cũ)"
    db.session.flush()
    for task, row in result.updated + result.unchanged:
        task.number = row.number
        _fill(task, row, positions[id(row)], year)
    for row in result.created:
        task = PlanTask(unit_id=unit.id, year=year, number=row.number)
        _fill(task, row, positions[id(row)], year)
        db.session.add(task)
    db.session.flush()
    audit.record(
        "plan.import",
        "plan",
        f"{unit.code}/{year}",
        after={
            "file": filename,
            "tasks": len(rows),
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": len(result.unchanged),
            "removed": len(result.removed),
            "kept": len(result.kept),
        },
        unit_id=unit.id,
        summary=f"Nhập kế hoạch CCHC năm {year}: {len(rows)} nhiệm vụ",
        actor=actor,
    )
    db.session.commit()
    _after_change(unit.id, year)
    return result


def set_status(
    task: PlanTask,
    status: PlanTaskStatus,
    *,
    reason: str = "",
    completed_on: date | None = None,
    actor: User | None = None,
) -> PlanTask:
    """Move a task to a status; completion after the due date is "hoàn thành muộn"."""
    before = audit.changes(task, list(TRACKED))
    if status == PlanTaskStatus.NOT_DONE and not reason.strip():
        raise PlanRefused("Cần nêu lý do không thực hiện nhiệm vụ.", field="reason")
    if status.completed:
        completed_on = completed_on or today()
        if task.due_date is not None and completed_on > task.due_date:
            status = PlanTaskStatus.DONE_LATE
        elif status == PlanTaskStatus.DONE_LATE and (
            task.due_date is None or completed_on <= task.due_date
        ):
            status = PlanTaskStatus.DONE
    else:
        completed_on = None
    task.status = status
    task.status_reason = reason.strip() if status == PlanTaskStatus.NOT_DONE else ""
    task.completed_on = completed_on
    audit.record(
        "plan.status",
        "plan_task",
        task.id,
        before=before,
        after=audit.changes(task, list(TRACKED)),
        unit_id=task.unit_id,
        summary=f"Nhiệm vụ {task.appendix:02d}.{task.number}: {status.label}",
        actor=actor,
    )
    db.session.commit()
    _after_change(task.unit_id, task.year)
    return task


def set_due_date(
    task: PlanTask, due: date | None, *, actor: User | None = None
) -> None:
    """Correct the parsed due date (kept on re-import while the text is unchanged)."""
    before = audit.changes(task, ["due_date", "due_overridden"])
    task.due_date = due
    task.due_overridden = True
    audit.record(
        "plan.deadline",
        "plan_task",
        task.id,
        before=before,
        after=audit.changes(task, ["due_date", "due_overridden"]),
        unit_id=task.unit_id,
        actor=actor,
    )
    db.session.commit()
    _after_change(task.unit_id, task.year)


def add_note(task: PlanTask, text: str, *, actor: User | None = None) -> PlanNote:
    note = PlanNote(task=task, text=text, author_id=actor.id if actor else None)
    db.session.add(note)
    db.session.flush()
    audit.record(
        "plan.note",
        "plan_task",
        task.id,
        after={"note": text},
        unit_id=task.unit_id,
        actor=actor,
    )
    db.session.commit()
    return note


def set_owners(task: PlanTask, users: list[User], *, actor: User | None = None) -> None:
    if any(u.unit_id != task.unit_id for u in users):
        raise PlanRefused("Người phụ trách phải là cán bộ của đơn vị.", field="owners")
    before = {"owners": [u.username for u in task.owners]}
    task.owners = users
    audit.record(
        "plan.owners",
        "plan_task",
        task.id,
        before=before,
        after={"owners": [u.username for u in users]},
        unit_id=task.unit_id,
        actor=actor,
    )
    db.session.commit()


def link_evidence(
    task: PlanTask, evidence: Evidence, *, actor: User | None = None
) -> None:
    if evidence.unit_id != task.unit_id:
        raise PlanRefused("Tài liệu không thuộc đơn vị.", status=404)
    if any(link.evidence_id == evidence.id for link in task.evidence_links):
        return
    db.session.add(
        PlanEvidenceLink(
            task=task, evidence=evidence, linked_by_id=actor.id if actor else None
        )
    )
    audit.record(
        "plan.evidence_link",
        "plan_task",
        task.id,
        after={"evidence_id": evidence.id},
        unit_id=task.unit_id,
        actor=actor,
    )
    db.session.commit()


def unlink_evidence(
    task: PlanTask, evidence_id: int, *, actor: User | None = None
) -> None:
    link = next((x for x in task.evidence_links if x.evidence_id == evidence_id), None)
    if link is None:
        raise PlanRefused("Tài liệu chưa được gắn với nhiệm vụ.", status=404)
    task.evidence_links.remove(link)
    audit.record(
        "plan.evidence_unlink",
        "plan_task",
        task.id,
        before={"evidence_id": evidence_id},
        unit_id=task.unit_id,
        actor=actor,
    )
    db.session.commit()


def _after_change(unit_id: int, year: int) -> None:
    """The plan leaf's fact follows the plan in editable assessments."""
    from webapp.plan.score_feed import refresh_plan_leaves

    refresh_plan_leaves(unit_id, year)


def export_rows(unit_id: int, year: int) -> list[dict[str, Any]]:
    return [t.as_export() for t in unit_tasks(unit_id, year)]
