"""units.page_revision: a counter that moves with every committed change to what a
unit's criteria pages show, so a rendered page can be reused until it does (issue #16,
webapp/assessment/page_cache.py).

Kept by session events, whatever the code path that changes the data: each flush
notes the units its rows belong to (an answer, a document, a link, a message, a return
request, a plan task: through their assessment, document or task), and the commit adds
one to those units' counters in the same transaction, so a page keyed on the counter
can never outlive the data it shows. What no single unit owns (a user's name, a
period, a criteria set, a code map) moves every unit's counter: such changes are rare.
Rows no page shows (the audit trail, sessions, notifications, e-mails, tokens) move
nothing; a user's login only touches columns no page shows. Anything else, a class
this module has never heard of or a bulk UPDATE/DELETE, counts as "every unit": a
needless new render is cheap, a stale page is not.

The counter is bumped at commit, after every other write of the transaction: two
transactions then only ever wait for each other's counter row at their very end,
so the bump adds no lock cycle (no deadlock) to what the transaction did before.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session
from sqlalchemy.orm.util import identity_key

from webapp.api.models import ApiToken
from webapp.models import (
    Assessment,
    AuditEvent,
    Evidence,
    EvidenceLink,
    Unit,
    User,
    UserSession,
)
from webapp.notify.models import Notification, OutgoingEmail, PasswordResetToken
from webapp.plan.models import PlanEvidenceLink, PlanNote, PlanTask

_KEY = "parindex.page_revision"
EVERY_UNIT = "*"
# Rows no criteria page reads.
UNSHOWN: tuple[type, ...] = (
    AuditEvent,
    UserSession,
    Notification,
    OutgoingEmail,
    PasswordResetToken,
    ApiToken,
)
# The only user column a page shows (who saved an answer, who submitted).
SHOWN_USER_COLUMNS = ("full_name",)

units = Unit.__table__
assessments = Assessment.__table__
evidence = sa.table("evidence", sa.column("id"), sa.column("assessment_id"))
plan_tasks = PlanTask.__table__


class Marks:
    """What the transaction changed, by owner: units, assessments, documents, tasks."""

    def __init__(self) -> None:
        self.every_unit = False
        self.units: set[int] = set()
        self.assessments: set[int] = set()
        self.evidence: set[int] = set()
        self.tasks: set[int] = set()

    def __bool__(self) -> bool:
        return self.every_unit or bool(
            self.units or self.assessments or self.evidence or self.tasks
        )

    def note(
        self, obj: object, session: Session, *, is_new: bool, is_deleted: bool
    ) -> None:
        if isinstance(obj, UNSHOWN):
            return
        if isinstance(obj, User):
            if is_new or is_deleted or _changed(obj, SHOWN_USER_COLUMNS):
                self.every_unit = True
            return
        ids: list[tuple[set[int], Any]] = []
        if isinstance(obj, Unit):
            ids.append((self.units, obj.id))
        elif isinstance(obj, Assessment):
            ids.append((self.units, obj.unit_id))
        elif isinstance(obj, EvidenceLink | PlanEvidenceLink):
            ids.append(self._owner(session, Evidence, obj.evidence_id, "assessment_id"))
            if isinstance(obj, PlanEvidenceLink):
                ids.append(self._owner(session, PlanTask, obj.task_id, "unit_id"))
        elif isinstance(obj, PlanNote):
            ids.append(self._owner(session, PlanTask, obj.task_id, "unit_id"))
        elif isinstance(obj, PlanTask):
            ids.append((self.units, obj.unit_id))
        elif hasattr(obj, "assessment_id"):
            ids.append(self._assessment(session, obj.assessment_id))
        if not ids or any(value is None for _, value in ids):
            self.every_unit = True  # not known to belong to one unit: all of them
            return
        for bucket, value in ids:
            bucket.add(int(value))

    def _owner(
        self, session: Session, cls: type, key: Any, owner: str
    ) -> tuple[set[int], Any]:
        """Where a document's or task's row leads: to its unit when the session holds
        the rows on the way (no SQL), else its key, for the commit's statement."""
        value = _held(session, cls, key, owner)
        if value is None:
            return (self.evidence if cls is Evidence else self.tasks), key
        if owner == "assessment_id":
            return self._assessment(session, value)
        return self.units, value

    def _assessment(self, session: Session, key: Any) -> tuple[set[int], Any]:
        unit_id = _held(session, Assessment, key, "unit_id")
        if unit_id is None:
            return self.assessments, key
        return self.units, unit_id

    def statement(self) -> tuple[sa.Update, dict[str, list[int]]]:
        """The UPDATE that moves the counters, and its parameters."""
        if self.every_unit:
            return _bump(()), {}
        params = {
            name: sorted(ids)
            for name, ids in (
                ("units", self.units),
                ("assessments", self.assessments),
                ("evidence", self.evidence),
                ("tasks", self.tasks),
            )
            if ids
        }
        return _bump(tuple(params)), params


_BUMPS: dict[tuple[str, ...], sa.Update] = {}


def _bump(owners: tuple[str, ...]) -> sa.Update:
    """The counter UPDATE for these kinds of owner (none: every unit), built once per
    kind: a statement built anew each commit costs more than running it."""
    known = _BUMPS.get(owners)
    if known is not None:
        return known

    def ids(name: str) -> sa.BindParameter[Any]:
        return sa.bindparam(name, expanding=True)

    where = {
        "units": units.c.id.in_(ids("units")),
        "assessments": units.c.id.in_(
            sa.select(assessments.c.unit_id).where(
                assessments.c.id.in_(ids("assessments"))
            )
        ),
        "evidence": units.c.id.in_(
            sa.select(assessments.c.unit_id)
            .join(evidence, evidence.c.assessment_id == assessments.c.id)
            .where(evidence.c.id.in_(ids("evidence")))
        ),
        "tasks": units.c.id.in_(
            sa.select(plan_tasks.c.unit_id).where(plan_tasks.c.id.in_(ids("tasks")))
        ),
    }
    statement: sa.Update = units.update().values(
        page_revision=units.c.page_revision + 1
    )
    if owners:
        statement = statement.where(sa.or_(*(where[name] for name in owners)))
    _BUMPS[owners] = statement
    return statement


def _held(session: Session, cls: type, key: Any, column: str) -> Any:
    """A column of a row this session holds, as loaded (None: not held or not loaded;
    reading an expired one would cost a query in the middle of a flush)."""
    if key is None:
        return None
    row = session.identity_map.get(identity_key(cls, key))
    return None if row is None else row.__dict__.get(column)


def _changed(obj: object, columns: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _marks(session: Session) -> Marks:
    marks = session.info.get(_KEY)
    if marks is None:
        marks = session.info[_KEY] = Marks()
    return marks


def _after_flush(session: Session, _context: Any) -> None:
    # After the flush: new rows have their keys (a row added to a relationship gets
    # its foreign key only now); the lists and the history still show what changed.
    marks = _marks(session)
    for obj in session.new:
        marks.note(obj, session, is_new=True, is_deleted=False)
    for obj in session.deleted:
        marks.note(obj, session, is_new=False, is_deleted=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            marks.note(obj, session, is_new=False, is_deleted=False)


def _on_execute(state: ORMExecuteState) -> None:
    # A bulk UPDATE/DELETE (or INSERT) through the session bypasses the flush.
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, UNSHOWN):
        return
    _marks(state.session).every_unit = True


def _before_commit(session: Session) -> None:
    session.flush()
    marks = session.info.pop(_KEY, None)
    if marks:
        statement, params = marks.statement()
        session.connection().execute(statement, params)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)


_LISTENERS = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("before_commit", _before_commit),
    ("after_rollback", _forget),
)


def keep_page_revisions(session: scoped_session[Any]) -> None:
    """Listen on the app's session (once: every app of a process shares it)."""
    for name, listener in _LISTENERS:
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)
