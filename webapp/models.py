"""Database models for the domain of DESIGN.md §2 (glossary names)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.lifecycle import AssessmentStatus, PeriodStatus, ReturnStatus

ROLES = ("admin", "unit_editor", "unit_head", "appraiser")
ROLE_LABELS = {
    "admin": "Quản trị / điều phối (Sở Nội vụ)",
    "unit_editor": "Chuyên viên đơn vị",
    "unit_head": "Lãnh đạo đơn vị",
    "appraiser": "Thành viên thẩm định",
}
UNIT_KINDS = ("so_ban_nganh", "xa_phuong")
UNIT_KIND_LABELS = {"so_ban_nganh": "Sở, ban, ngành", "xa_phuong": "UBND xã, phường"}


E = TypeVar("E", bound=StrEnum)


def _check_in(column: str, values: Iterable[str]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Store UTC; always hand back aware datetimes (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        return (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )


class Status(sa.types.TypeDecorator[E]):
    """A lifecycle status: stored as its string, handed back as its StrEnum."""

    impl = sa.String(20)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Points(sa.types.TypeDecorator[Decimal]):
    """Decimal points, two places; SQLite stores text so no float rounding creeps in."""

    impl = sa.Numeric(8, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(24))
        return dialect.type_descriptor(sa.Numeric(8, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        q = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return str(q) if dialect.name == "sqlite" else q

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.01"))


class Unit(db.Model):  # type: ignore[name-defined]
    __tablename__ = "units"
    __table_args__ = (sa.CheckConstraint(_check_in("kind", UNIT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    # For the exported report (NĐ 30/2020 header, place/date line, signature).
    parent_body: Mapped[str] = mapped_column(sa.String(200), default="")
    place_name: Mapped[str] = mapped_column(sa.String(100), default="")
    leader_name: Mapped[str] = mapped_column(sa.String(120), default="")
    leader_title: Mapped[str] = mapped_column(sa.String(120), default="CHỦ TỊCH")
    report_number: Mapped[str] = mapped_column(sa.String(40), default="")
    # Signing authority above the title ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"); blank:
    # the usual one for the unit's kind. Nơi nhận, one line each; blank: the defaults.
    signer_authority: Mapped[str] = mapped_column(sa.String(120), default="")
    report_recipients: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Counts every committed change to what the unit's criteria pages show (its
    # assessments and their rows, its plan); webapp/page_revision.py keeps it.
    page_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    users: Mapped[list[User]] = relationship(back_populates="unit")

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS.get(self.kind, self.kind)


class User(db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(_check_in("role", ROLES), name="role"),
        # Unit roles must belong to a unit: every scope check relies on it.
        sa.CheckConstraint(
            "role IN ('admin', 'appraiser') OR unit_id IS NOT NULL",
            name="unit_role_has_unit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout, password change, deactivation: older cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    api_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Contact details and choices the profile page edits; email carries reminders
    # and password-reset links.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email_notifications: Mapped[bool] = mapped_column(default=True)
    # Set when an administrator gives a temporary password: the next login asks
    # for a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship(back_populates="users")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_unit_user(self) -> bool:
        return self.role in ("unit_editor", "unit_head")


class CriteriaSetRecord(db.Model):  # type: ignore[name-defined]
    """An imported criteria set (Bộ tiêu chí): YAML verbatim, immutable once used."""

    __tablename__ = "criteria_sets"

    id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)  # meta.id
    title: Mapped[str] = mapped_column(sa.String(400))
    evaluation_year: Mapped[int]
    unit_type: Mapped[str] = mapped_column(sa.String(40))
    # Deferred: only the registry reads the text, once per set and content hash.
    source_yaml: Mapped[str] = mapped_column(sa.Text, deferred=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


period_units = sa.Table(
    "period_units",
    db.metadata,
    sa.Column(
        "period_id", sa.ForeignKey("periods.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
)


class Period(db.Model):  # type: ignore[name-defined]
    __tablename__ = "periods"
    __table_args__ = (
        sa.CheckConstraint(_check_in("status", PeriodStatus), name="status"),
        sa.CheckConstraint(
            "self_deadline <= appraisal_deadline", name="deadlines_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int]
    criteria_set_id: Mapped[str] = mapped_column(sa.ForeignKey("criteria_sets.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    self_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    appraisal_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[PeriodStatus] = mapped_column(
        Status(PeriodStatus), default=PeriodStatus.DRAFT
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Rules that differ between provinces (issue 18): bands replacing the set's own
    # ([{label, min | max_lt}], highest first; None: the set's), whether the survey
    # leaves are part of this round, and whether a signed report must be uploaded.
    classification_bands: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    include_survey: Mapped[bool] = mapped_column(default=True)
    # What every unit's report of the period cites (entered once by the coordinator):
    # the "Kính gửi" recipient, and the căn cứ, one document per line.
    report_recipient: Mapped[str] = mapped_column(sa.String(200), default="Sở Nội vụ")
    report_bases: Mapped[str] = mapped_column(sa.Text, default="")
    signed_report_required: Mapped[bool] = mapped_column(default=False)
    # Whether the unit also files a signed appraisal request letter (công văn/tờ trình
    # đề nghị thẩm định); without it the dossier ZIP is not issued.
    request_letter_required: Mapped[bool] = mapped_column(default=False)

    criteria_set: Mapped[CriteriaSetRecord] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary=period_units, order_by=Unit.name)
    extensions: Mapped[list[Extension]] = relationship(back_populates="period")
    # The set of each unit family beyond the first (criteria_set_id), for a period
    # holding both sở/ban/ngành and xã/phường.
    family_sets: Mapped[list[PeriodCriteriaSet]] = relationship(
        cascade="all, delete-orphan", order_by="PeriodCriteriaSet.unit_kind"
    )

    @validates("status")
    def _as_status(self, _key: str, value: str) -> PeriodStatus:
        return PeriodStatus(value)

    @property
    def status_label(self) -> str:
        return self.status.label


class Extension(db.Model):  # type: ignore[name-defined]
    """A per-unit extension of the self-assessment deadline (gia hạn)."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    new_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    period: Mapped[Period] = relationship(back_populates="extensions")
    unit: Mapped[Unit] = relationship()
    granted_by: Mapped[User | None] = relationship()


class AppraiserAssignment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "appraiser_assignments"
    __table_args__ = (
        sa.UniqueConstraint(
            "period_id",
            "unit_id",
            "user_id",
            name="uq_appraiser_assignments_period_unit_user",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # None: every area; otherwise the area codes ("1", "3") this appraiser reviews.
    area_codes: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User] = relationship()


class Assessment(db.Model):  # type: ignore[name-defined]
    """One unit in one period (Hồ sơ tự đánh giá)."""

    __tablename__ = "assessments"
    __table_args__ = (
        sa.UniqueConstraint("period_id", "unit_id", name="uq_assessments_period_unit"),
        sa.CheckConstraint(_check_in("status", AssessmentStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("periods.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        Status(AssessmentStatus), default=AssessmentStatus.DRAFT
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Frozen copy of answers, scores and evidence hashes taken at submission.
    # Deferred: lists of assessments never need the (large) frozen record.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, deferred=True)
    # The coordinator ended self-assessment early for this unit (before publishing).
    closed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The report's unit-edited text: {"narratives": {area code: text}, "ton_tai": …,
    # "nguyen_nhan": …, "giai_phap": …, "kien_nghi": …, "kho_khan": …}.
    report_sections: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Superseded by report_sections["kho_khan"] (migration 0002_dossier copied it).
    difficulties: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    period: Mapped[Period] = relationship()
    unit: Mapped[Unit] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    scores: Mapped[list[CriterionScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    return_requests: Mapped[list[ReturnRequest]] = relationship(
        back_populates="assessment", order_by="ReturnRequest.id"
    )

    @validates("status")
    def _as_status(self, _key: str, value: str) -> AssessmentStatus:
        return AssessmentStatus(value)

    @property
    def status_label(self) -> str:
        return self.status.label


class CriterionScore(db.Model):  # type: ignore[name-defined]
    """Per leaf: the unit's answer and self-score, and the appraisal (Điểm tiêu chí)."""

    __tablename__ = "criterion_scores"
    __table_args__ = (
        sa.UniqueConstraint(
            "assessment_id", "criterion_code", name="uq_criterion_scores_leaf"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id"), index=True
    )
    criterion_code: Mapped[str] = mapped_column(sa.String(32))
    answer: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    is_not_applicable: Mapped[bool] = mapped_column(default=False)
    self_points: Mapped[Decimal | None] = mapped_column(Points())
    score_explanation: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # thuyết minh / giải trình
    # Survey leaves: result entered by the coordinator (percentage).
    survey_value: Mapped[Decimal | None] = mapped_column(Points())
    appraised_answer: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    appraised_points: Mapped[Decimal | None] = mapped_column(Points())
    appraiser_comment: Mapped[str] = mapped_column(sa.Text, default="")
    appraised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    appraised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic lock: a stale save is refused instead of silently overwriting.
    version: Mapped[int] = mapped_column(default=1)

    assessment: Mapped[Assessment] = relationship(back_populates="scores")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    appraised_by: Mapped[User | None] = relationship(foreign_keys=[appraised_by_id])

    __mapper_args__ = {"version_id_col": version}


class Evidence(db.Model):  # type: ignore[name-defined]
    """A proof document (Tài liệu kiểm chứng): the stored file plus its citation."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id"), index=True
    )
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    # Computed as the upload streamed in; lets the dossier ZIP store the file as is.
    crc32: Mapped[int | None] = mapped_column(sa.BigInteger)
    mime_type: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(10))  # pdf, docx, png...
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    doc_type: Mapped[str] = mapped_column(sa.String(60), default="")  # loại văn bản
    doc_number: Mapped[str] = mapped_column(sa.String(80), default="")  # số/ký hiệu
    issued_on: Mapped[date | None] = mapped_column(sa.Date)  # ngày ban hành
    issuer: Mapped[str] = mapped_column(sa.String(200), default="")  # cơ quan ban hành
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # trích yếu
    # The citation read from the file's text once, at upload (bounded); None: none.
    citation_proposal: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    location: Mapped[str] = mapped_column(sa.String(120), default="")  # mục/trang
    # The PDF's digital signature as validated at upload (webapp.signatures), or None.
    signature: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Lower-case text without diacritics, so "ke hoach" finds "Kế hoạch".
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Replacing a file adds a row; the old one keeps its object and points forward.
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Soft delete of a wrong upload: the row is marked, the object kept until the sweep.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    unit: Mapped[Unit] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan"
    )

    @hybrid_property
    def is_current(self) -> bool:
        """Neither replaced by a newer version nor deleted: the document in use."""
        return self.replaced_by_id is None and self.deleted_at is None

    @is_current.inplace.expression
    @classmethod
    def _is_current_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.replaced_by_id.is_(None), cls.deleted_at.is_(None))

    @property
    def criterion_codes(self) -> list[str]:
        return sorted(link.criterion_code for link in self.links)


class EvidenceLink(db.Model):  # type: ignore[name-defined]
    """One document proving one leaf; a document may prove several leaves."""

    __tablename__ = "evidence_links"

    evidence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    evidence: Mapped[Evidence] = relationship(back_populates="links")


class ReturnRequest(db.Model):  # type: ignore[name-defined]
    """Yêu cầu giải trình, bổ sung: chosen leaves reopened for the unit until a date."""

    __tablename__ = "return_requests"
    __table_args__ = (
        sa.CheckConstraint(_check_in("status", ReturnStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id"), index=True
    )
    criterion_codes: Mapped[list[str]] = mapped_column(sa.JSON)
    message: Mapped[str] = mapped_column(sa.Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ReturnStatus] = mapped_column(
        Status(ReturnStatus), default=ReturnStatus.OPEN
    )
    # Answers of the returned leaves when the return was made, to show what changed.
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resubmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assessment: Mapped[Assessment] = relationship(back_populates="return_requests")
    created_by: Mapped[User | None] = relationship()

    @validates("status")
    def _as_status(self, _key: str, value: str) -> ReturnStatus:
        return ReturnStatus(value)


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """Append-only audit log: who, when, what, before → after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(120), default="hệ thống")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(64), default="")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("periods.id"), index=True
    )
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(*_: object) -> None:
    raise RuntimeError("audit events are append-only")


class PeriodCriteriaSet(db.Model):  # type: ignore[name-defined]
    """The set one unit family is scored on in a period holding both families."""

    __tablename__ = "period_criteria_sets"
    __table_args__ = (
        sa.CheckConstraint(_check_in("unit_kind", UNIT_KINDS), name="unit_kind"),
    )

    period_id: Mapped[int] = mapped_column(
        sa.ForeignKey("periods.id", ondelete="CASCADE"), primary_key=True
    )
    unit_kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    criteria_set_id: Mapped[str] = mapped_column(sa.ForeignKey("criteria_sets.id"))

    criteria_set: Mapped[CriteriaSetRecord] = relationship()


class CriteriaCodeMap(db.Model):  # type: ignore[name-defined]
    """Year over year: the leaf of a newer set that continues a leaf of an older one.

    Set by the coordinator (a suggestion is shown until then); it decides which of last
    year's documents are offered to a unit as candidates, never attached by itself.
    """

    __tablename__ = "criteria_code_maps"

    new_set_id: Mapped[str] = mapped_column(
        sa.ForeignKey("criteria_sets.id"), primary_key=True
    )
    old_set_id: Mapped[str] = mapped_column(
        sa.ForeignKey("criteria_sets.id"), primary_key=True
    )
    old_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    new_code: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class IssuedDossier(db.Model):  # type: ignore[name-defined]
    """A dossier ZIP this app issued: its manifest's digest, when and by whom.

    The manifest holds every file's SHA-256, so its digest stands for the whole ZIP:
    ``flask dossier verify`` and the verify page look it up.
    """

    __tablename__ = "issued_dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id"), index=True
    )
    manifest_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    issued_by_name: Mapped[str] = mapped_column(sa.String(120), default="hệ thống")
    files: Mapped[int] = mapped_column(default=0)

    assessment: Mapped[Assessment] = relationship()


class SignedKind(StrEnum):
    """What a signed PDF filed with the dossier is."""

    REPORT = "report"  # the unit's self-assessment report
    REQUEST_LETTER = "request_letter"  # công văn/tờ trình đề nghị thẩm định

    @property
    def label(self) -> str:
        return SIGNED_KIND_LABELS[self]


SIGNED_KIND_LABELS = {
    SignedKind.REPORT: "báo cáo tự đánh giá",
    SignedKind.REQUEST_LETTER: "công văn đề nghị thẩm định",
}


class SignedReport(db.Model):  # type: ignore[name-defined]
    """A signed PDF (ký số) the unit files with its dossier: the report as it signed
    it, or the appraisal request letter (``kind``)."""

    __tablename__ = "signed_reports"
    __table_args__ = (sa.CheckConstraint(_check_in("kind", SignedKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id"), index=True
    )
    kind: Mapped[SignedKind] = mapped_column(
        Status(SignedKind), default=SignedKind.REPORT, server_default="report"
    )
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    signature: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()


class UserSession(db.Model):  # type: ignore[name-defined]
    """One login (a browser): listed on the profile, ended one by one or all at once.

    Its id sits in the signed Flask session; the user loader refuses a cookie whose
    session has ended, so ending a row signs that browser (and any copy of its
    cookie) out.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Refreshed at most once a minute: one write per minute of activity, not per page.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LeafMessage(db.Model):  # type: ignore[name-defined]
    """A message of a leaf's "Trao đổi" thread between a unit and its appraisers.

    Outside formal return requests: it changes no score and no status.
    """

    __tablename__ = "leaf_messages"
    __table_args__ = (
        sa.Index("ix_leaf_messages_assessment_code", "assessment_id", "criterion_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id"))
    criterion_code: Mapped[str] = mapped_column(sa.String(32))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship()
