"""The one lifecycle: statuses, the moves allowed between them, deadlines, editability.

- Assessment: draft → submitted → appraised, with returned ⇄ submitted while
  appraisers ask for explanations; it is final once its period is published (the
  period carries that status, so publishing rewrites no assessment row).
- Period: draft → open ⇄ closed → published.
- Return request (yêu cầu giải trình, bổ sung): open → resubmitted or expired.

Each move is one function: it checks the move table, raises the refusal users have
always seen when the table forbids the move, and sets the status. Services call the
moves inside their own transaction and write its audit event. The unit's effective
deadline (the period's, or its latest extension) is computed here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from flask import Flask

from webapp.clock import now, to_vn
from webapp.errors import ParIndexError

if TYPE_CHECKING:
    from webapp.models import Assessment, Period, ReturnRequest, User


class _Status(StrEnum):
    """A status with its one Vietnamese label and one badge colour (`_LOOKS`)."""

    @property
    def label(self) -> str:
        return _LOOKS[type(self)][self][0]

    @property
    def tone(self) -> str:
        """The badge colour (a CSS class of .badge; "" is the neutral grey)."""
        return _LOOKS[type(self)][self][1]


class AssessmentStatus(_Status):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPRAISED = "appraised"

    @property
    def handed_in(self) -> bool:
        """Submitted at least once and not reopened: appraisers see it, it is ranked."""
        return self in HANDED_IN

    @property
    def with_unit(self) -> bool:
        """The unit still holds it: it may change leaves and (re)submit."""
        return self in (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)

    @property
    def locked(self) -> bool:
        """Sent and waiting for (or through) appraisal: nothing reopens."""
        return self in (AssessmentStatus.SUBMITTED, AssessmentStatus.APPRAISED)


class PeriodStatus(_Status):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"

    @property
    def grants_extensions(self) -> bool:
        """Self-assessment has not closed, so a unit's deadline may still move."""
        return self in (PeriodStatus.DRAFT, PeriodStatus.OPEN)


class ReturnStatus(_Status):
    OPEN = "open"
    RESUBMITTED = "resubmitted"
    EXPIRED = "expired"


class PlanTaskStatus(_Status):
    """A task of the unit's annual PAR plan (Nhiệm vụ kế hoạch CCHC)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DONE_LATE = "done_late"
    NOT_DONE = "not_done"

    @property
    def completed(self) -> bool:
        return self in (PlanTaskStatus.DONE, PlanTaskStatus.DONE_LATE)


# One label and one colour per status, whatever the page (four pages disagreed). The
# same words mean the same colour: an open period and a draft assessment both read
# "Đang tự đánh giá" in blue.
_LOOKS: Final[Mapping[type[_Status], Mapping[_Status, tuple[str, str]]]] = {
    AssessmentStatus: {
        AssessmentStatus.DRAFT: ("Đang tự đánh giá", "info"),
        AssessmentStatus.SUBMITTED: ("Đã gửi", ""),
        AssessmentStatus.RETURNED: ("Yêu cầu giải trình, bổ sung", "warn"),
        AssessmentStatus.APPRAISED: ("Đã thẩm định", "ok"),
    },
    PeriodStatus: {
        PeriodStatus.DRAFT: ("Đang chuẩn bị", "warn"),
        PeriodStatus.OPEN: ("Đang tự đánh giá", "info"),
        PeriodStatus.CLOSED: ("Đã đóng", ""),
        PeriodStatus.PUBLISHED: ("Đã công bố", "ok"),
    },
    ReturnStatus: {
        ReturnStatus.OPEN: ("Chờ đơn vị", "warn"),
        ReturnStatus.RESUBMITTED: ("Đơn vị đã gửi lại", "ok"),
        ReturnStatus.EXPIRED: ("Hết hạn", ""),
    },
    PlanTaskStatus: {
        PlanTaskStatus.NOT_STARTED: ("Chưa triển khai", ""),
        PlanTaskStatus.IN_PROGRESS: ("Đang thực hiện", "info"),
        PlanTaskStatus.DONE: ("Hoàn thành", "ok"),
        PlanTaskStatus.DONE_LATE: ("Hoàn thành muộn", "warn"),
        PlanTaskStatus.NOT_DONE: ("Không thực hiện", "err"),
    },
}

HANDED_IN: Final = (
    AssessmentStatus.SUBMITTED,
    AssessmentStatus.RETURNED,
    AssessmentStatus.APPRAISED,
)


class NotEditable(ParIndexError):
    """A refusal by the lifecycle (a move it forbids, a frozen assessment or leaf);
    the message is for the user."""

    status = 409


# -- the move table ------------------------------------------------------------------

S = TypeVar("S", AssessmentStatus, PeriodStatus, ReturnStatus)


@dataclass(frozen=True)
class Move(Generic[S]):
    sources: frozenset[S]
    target: S

    def allows(self, status: S) -> bool:
        return status in self.sources


A, P, R = AssessmentStatus, PeriodStatus, ReturnStatus

ASSESSMENT_MOVES: Final[Mapping[str, Move[AssessmentStatus]]] = {
    # The unit head sends it in; a returned one is sent in again.
    "submit": Move(frozenset({A.DRAFT, A.RETURNED}), A.SUBMITTED),
    # The coordinator gives a submitted assessment back to the unit as a draft.
    "reopen": Move(frozenset({A.SUBMITTED}), A.DRAFT),
    # An appraiser sends chosen leaves back for explanation or more evidence.
    "return": Move(frozenset(HANDED_IN), A.RETURNED),
    # The unit let the return's due date pass without sending it in again.
    "lapse": Move(frozenset({A.RETURNED}), A.SUBMITTED),
    # Every leaf to appraise has an appraised score (or, undone, no longer has).
    "finish_appraisal": Move(frozenset({A.SUBMITTED, A.APPRAISED}), A.APPRAISED),
    "resume_appraisal": Move(frozenset({A.SUBMITTED, A.APPRAISED}), A.SUBMITTED),
}
PERIOD_MOVES: Final[Mapping[str, Move[PeriodStatus]]] = {
    # Opening an open period again only adds the missing assessments; a closed one
    # reopens.
    "open": Move(frozenset({P.DRAFT, P.OPEN, P.CLOSED}), P.OPEN),
    "close": Move(frozenset({P.OPEN}), P.CLOSED),
    "publish": Move(frozenset({P.OPEN, P.CLOSED}), P.PUBLISHED),
}
RETURN_MOVES: Final[Mapping[str, Move[ReturnStatus]]] = {
    "resubmit": Move(frozenset({R.OPEN}), R.RESUBMITTED),
    "expire": Move(frozenset({R.OPEN}), R.EXPIRED),
}


Refusal = type[Exception]


def _target(move: Move[S], status: S, refusal: Callable[[], str], error: Refusal) -> S:
    """The move's new status, or the refusal when the table forbids it from here."""
    if not move.allows(status):
        raise error(refusal())
    return move.target


# -- assessment moves ----------------------------------------------------------------


def _already_sent(assessment: Assessment) -> str:
    when = ""
    if assessment.submitted_at:
        when = " lúc " + to_vn(assessment.submitted_at).strftime("%H:%M %d/%m/%Y")
    return f"Hồ sơ đã được gửi{when}: không thể gửi lại."


NOT_HANDED_IN = "Hồ sơ chưa được gửi."


def check_submit(assessment: Assessment) -> None:
    """Raise NotEditable (a message about submitting) if the unit may not submit now:
    already sent, past its deadline, or past the return's due date."""
    _target(
        ASSESSMENT_MOVES["submit"],
        assessment.status,
        lambda: _already_sent(assessment),
        NotEditable,
    )
    try:
        ensure_editable(assessment)
    except NotEditable as exc:
        if assessment.status == A.RETURNED:
            raise NotEditable(
                "Yêu cầu giải trình, bổ sung đã quá hạn: không thể gửi lại hồ sơ."
            ) from None
        if assessment.period.status == P.OPEN:
            deadline = to_vn(effective_deadline(assessment)).strftime(
                "%H:%M:%S %d/%m/%Y"
            )
            raise NotEditable(
                f"Đã quá hạn gửi hồ sơ tự đánh giá ({deadline}). "
                "Liên hệ Sở Nội vụ nếu đơn vị cần gia hạn."
            ) from None
        raise exc


def submit(assessment: Assessment, *, by: User, at: datetime) -> list[int]:
    """draft/returned → submitted; the open return requests count as answered.
    Returns the ids of the requests it resolved. (The deadline gate is
    `check_submit`, which the unit's submission passes first.)

    A resubmission keeps the first submission's time and author (they prove the
    deadline was met).
    """
    resubmission = assessment.status == A.RETURNED
    assessment.status = _target(
        ASSESSMENT_MOVES["submit"],
        assessment.status,
        lambda: _already_sent(assessment),
        NotEditable,
    )
    if not resubmission or assessment.submitted_at is None:
        assessment.submitted_at = at
        assessment.submitted_by_id = by.id
    resolved = []
    for request in _open_requests(assessment):
        request.status = _target(
            RETURN_MOVES["resubmit"], request.status, _request_closed, NotEditable
        )
        request.resubmitted_at = at
        resolved.append(request.id)
    return resolved


def reopen(assessment: Assessment) -> None:
    """submitted → draft; the submission and its snapshot are cleared (the audit log
    keeps them)."""
    assessment.status = _target(
        ASSESSMENT_MOVES["reopen"],
        assessment.status,
        lambda: (
            "Chỉ mở lại được hồ sơ đã gửi; hồ sơ đang ở trạng thái "
            f"“{assessment.status.label}”."
        ),
        NotEditable,
    )
    assessment.submitted_at = None
    assessment.submitted_by_id = None
    assessment.snapshot = None


def check_return(assessment: Assessment, *, error: Refusal = NotEditable) -> None:
    """Refuse sending leaves back before submission or once results are published."""
    if assessment.period.status == P.PUBLISHED:
        raise error("Kết quả đã công bố: không thể yêu cầu giải trình, bổ sung.")
    _target(ASSESSMENT_MOVES["return"], assessment.status, lambda: NOT_HANDED_IN, error)


def return_to_unit(
    assessment: Assessment, request: ReturnRequest, *, error: Refusal = NotEditable
) -> None:
    """submitted/returned/appraised → returned, `request` becoming its only open
    request (an earlier open one expires). Refused once the period is published."""
    check_return(assessment, error=error)
    assessment.status = ASSESSMENT_MOVES["return"].target
    for stale in _open_requests(assessment):
        if stale is not request:
            expire(stale)
    request.status = R.OPEN


def settle_appraisal(
    assessment: Assessment, *, complete: bool, error: Refusal = NotEditable
) -> None:
    """After an appraisal change: a returned assessment whose request lapsed goes back
    to submitted; then it is appraised exactly when every leaf has its score."""
    if assessment.status == A.RETURNED:
        if open_returns(assessment):
            return
        for request in _open_requests(assessment):
            expire(request)
        assessment.status = _target(
            ASSESSMENT_MOVES["lapse"], assessment.status, lambda: NOT_HANDED_IN, error
        )
    if assessment.status == A.DRAFT:
        return
    move = ASSESSMENT_MOVES["finish_appraisal" if complete else "resume_appraisal"]
    assessment.status = _target(move, assessment.status, lambda: NOT_HANDED_IN, error)


def finish_appraisal(assessment: Assessment, *, error: Refusal = NotEditable) -> None:
    """submitted/appraised → appraised (publication confirms each complete result)."""
    assessment.status = _target(
        ASSESSMENT_MOVES["finish_appraisal"],
        assessment.status,
        lambda: NOT_HANDED_IN,
        error,
    )


# -- return request moves ------------------------------------------------------------


def _request_closed() -> str:
    return "Yêu cầu giải trình, bổ sung này đã kết thúc."


def expire(request: ReturnRequest) -> None:
    """open → expired: a newer request replaced it, or its due date passed."""
    request.status = _target(
        RETURN_MOVES["expire"], request.status, _request_closed, NotEditable
    )


# -- period moves --------------------------------------------------------------------


def open_period(period: Period, *, error: Refusal = NotEditable) -> None:
    """draft/closed → open (an open period stays open). Refused once published."""
    period.status = _target(
        PERIOD_MOVES["open"],
        period.status,
        lambda: "Kỳ đánh giá đã công bố kết quả: không thể mở lại.",
        error,
    )


def close_period(period: Period, *, error: Refusal = NotEditable) -> None:
    """open → closed: self-assessment ends for every unit of the period."""
    period.status = _target(
        PERIOD_MOVES["close"],
        period.status,
        lambda: "Chỉ đóng được kỳ đánh giá đang mở.",
        error,
    )


def check_publish(period: Period, *, error: Refusal = NotEditable) -> None:
    """Refuse publishing a period that is not open or closed."""

    def refusal() -> str:
        if period.status == P.PUBLISHED:
            return "Kết quả kỳ đánh giá này đã được công bố."
        return "Kỳ đánh giá chưa mở: không có kết quả để công bố."

    _target(PERIOD_MOVES["publish"], period.status, refusal, error)


def publish(
    period: Period,
    ranked: Iterable[Assessment],
    *,
    at: datetime,
    error: Refusal = NotEditable,
) -> None:
    """open/closed → published; each ranked assessment is confirmed appraised."""
    check_publish(period, error=error)
    for assessment in ranked:
        finish_appraisal(assessment, error=error)
    period.status = PERIOD_MOVES["publish"].target
    period.published_at = at


# -- deadlines and what the unit may change ------------------------------------------


def unit_deadline(period: Period, unit_id: int) -> datetime:
    """A unit's self-assessment deadline: the period's, or its latest extension."""
    return max(
        [
            period.self_deadline,
            *(e.new_deadline for e in period.extensions if e.unit_id == unit_id),
        ]
    )


def effective_deadline(assessment: Assessment) -> datetime:
    return unit_deadline(assessment.period, assessment.unit_id)


def _open_requests(assessment: Assessment) -> list[ReturnRequest]:
    return [r for r in assessment.return_requests if r.status == R.OPEN]


def open_returns(
    assessment: Assessment, at: datetime | None = None
) -> list[ReturnRequest]:
    """Return requests still open for the unit (due date not passed)."""
    at = at or now()
    return [r for r in _open_requests(assessment) if r.due_at >= at]


def pending_returns(assessment: Assessment) -> list[ReturnRequest]:
    """Requests not yet answered, past their due date too (the unit must see why
    the returned leaves no longer accept changes)."""
    return sorted(_open_requests(assessment), key=lambda r: (r.due_at, r.id))


def editable_codes(
    assessment: Assessment, at: datetime | None = None
) -> set[str] | None:
    """None: every leaf is editable; else the set of the only editable leaves."""
    at = at or now()
    if assessment.closed_early_at is not None and at >= assessment.closed_early_at:
        return set()
    if assessment.status == A.DRAFT:
        if assessment.period.status != P.OPEN:
            return set()
        return None if at <= effective_deadline(assessment) else set()
    if assessment.status == A.RETURNED:
        codes: set[str] = set()
        for request in open_returns(assessment, at):
            codes.update(request.criterion_codes)
        return codes
    return set()


def can_still_self_assess(assessment: Assessment, at: datetime | None = None) -> bool:
    """The unit may still change something: deadline or extension ahead, or a return."""
    return editable_codes(assessment, at) != set()


def ensure_editable(assessment: Assessment, code: str | None = None) -> None:
    """Raise NotEditable (Vietnamese message) unless the unit may change it now."""
    at = now()
    allowed = editable_codes(assessment, at)
    if allowed is None:
        return
    if assessment.closed_early_at is not None and at >= assessment.closed_early_at:
        raise NotEditable(
            "Sở Nội vụ đã kết thúc sớm việc tự đánh giá của đơn vị lúc "
            + to_vn(assessment.closed_early_at).strftime("%H:%M %d/%m/%Y")
            + ": không thể thay đổi hồ sơ."
        )
    if assessment.status == A.DRAFT:
        if assessment.period.status != P.OPEN:
            raise NotEditable(
                "Kỳ đánh giá chưa mở hoặc đã đóng: không thể thay đổi hồ sơ."
            )
        raise NotEditable(
            "Đã quá hạn tự đánh giá ("
            + to_vn(effective_deadline(assessment)).strftime("%H:%M:%S %d/%m/%Y")
            + "): không thể thay đổi hồ sơ."
        )
    if assessment.status == A.RETURNED:
        if (code is None and allowed) or code in allowed:
            return
        raise NotEditable(
            "Tiêu chí này không nằm trong yêu cầu giải trình, bổ sung "
            "(hoặc đã quá hạn): không thể thay đổi."
        )
    raise NotEditable("Hồ sơ đã gửi và được khóa: không thể thay đổi.")


# -- "Trao đổi" threads ----------------------------------------------------------------


def thread_open(period: Period) -> bool:
    """A leaf's Trao đổi thread takes messages until the period closes."""
    return period.status in (P.DRAFT, P.OPEN)


def ensure_thread_open(period: Period) -> None:
    if not thread_open(period):
        raise NotEditable(
            "Kỳ đánh giá đã đóng hoặc đã công bố kết quả: "
            "phần trao đổi chỉ còn để xem, không gửi thêm được."
        )


def init_app(app: Flask) -> None:
    """Templates compare statuses with the enums and ask `status_badge` for colours."""
    app.jinja_env.globals.update(
        AssessmentStatus=AssessmentStatus,
        PeriodStatus=PeriodStatus,
        ReturnStatus=ReturnStatus,
    )
