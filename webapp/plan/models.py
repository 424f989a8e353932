"""The unit's annual PAR plan: its tasks (PlanTask), progress notes, owners, proofs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.lifecycle import PlanTaskStatus
from webapp.models import Evidence, Status, Unit, User, UTCDateTime, _check_in

plan_task_owners = sa.Table(
    "plan_task_owners",
    db.metadata,
    sa.Column(
        "task_id",
        sa.ForeignKey("plan_tasks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class PlanTask(db.Model):  # type: ignore[name-defined]
    """A row of the unit's annual PAR plan (Nhiệm vụ kế hoạch CCHC)."""

    __tablename__ = "plan_tasks"
    __table_args__ = (
        sa.UniqueConstraint(
            "unit_id", "year", "appendix", "number", name="uq_plan_tasks_row"
        ),
        sa.CheckConstraint(_check_in("status", PlanTaskStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(index=True)
    appendix: Mapped[int] = mapped_column()
    appendix_title: Mapped[str] = mapped_column(sa.String(300))
    number: Mapped[str] = mapped_column(sa.String(10))  # STT as printed
    position: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(sa.Text)
    products: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    lead: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    partners: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    deadline_text: Mapped[str] = mapped_column(sa.Text, default="")
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    deadline_kind: Mapped[str] = mapped_column(sa.String(20), default="unknown")
    deadline_note: Mapped[str] = mapped_column(sa.Text, default="")
    checkpoints: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Set when a user corrected the parsed due date: a re-import keeps it.
    due_overridden: Mapped[bool] = mapped_column(default=False)
    status: Mapped[PlanTaskStatus] = mapped_column(
        Status(PlanTaskStatus), default=PlanTaskStatus.NOT_STARTED
    )
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    unit: Mapped[Unit] = relationship()
    owners: Mapped[list[User]] = relationship(
        secondary=plan_task_owners, order_by="User.full_name"
    )
    notes: Mapped[list[PlanNote]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="PlanNote.id"
    )
    evidence_links: Mapped[list[PlanEvidenceLink]] = relationship(
        back_populates="task", cascade="all, delete-orphan"
    )

    @validates("status")
    def _as_status(self, _key: str, value: str) -> PlanTaskStatus:
        return PlanTaskStatus(value)

    @property
    def evidence(self) -> list[Evidence]:
        return [link.evidence for link in self.evidence_links]

    def as_export(self) -> dict[str, Any]:
        """The task as `flask plan export` prints it."""
        return {
            "appendix": self.appendix,
            "appendix_title": self.appendix_title,
            "number": self.number,
            "content": self.content,
            "products": list(self.products),
            "lead": list(self.lead),
            "partners": list(self.partners),
            "deadline_text": self.deadline_text,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "status": self.status.value,
        }


class PlanNote(db.Model):  # type: ignore[name-defined]
    """A progress note on a task (ghi chú tiến độ)."""

    __tablename__ = "plan_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_tasks.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    task: Mapped[PlanTask] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class PlanEvidenceLink(db.Model):  # type: ignore[name-defined]
    """A product of a task proven by a document of the evidence store."""

    __tablename__ = "plan_evidence_links"

    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    evidence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    task: Mapped[PlanTask] = relationship(back_populates="evidence_links")
    evidence: Mapped[Evidence] = relationship()
