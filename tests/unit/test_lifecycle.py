"""The lifecycle: which moves the table allows, what each refusal says, deadlines.

The objects are real (transient) model instances; no database or app is needed, since
the moves only read and set attributes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from webapp import lifecycle
from webapp.lifecycle import (
    ASSESSMENT_MOVES,
    PERIOD_MOVES,
    AssessmentStatus,
    NotEditable,
    PeriodStatus,
    ReturnStatus,
)
from webapp.models import Assessment, Extension, Period, ReturnRequest, User

AT = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 15, 16, 59, 59, tzinfo=UTC)
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def period(status: PeriodStatus = PeriodStatus.OPEN) -> Period:
    return Period(id=1, status=status, self_deadline=DEADLINE, extensions=[])


def assessment(
    status: AssessmentStatus, period_status: PeriodStatus = PeriodStatus.OPEN
) -> Assessment:
    return Assessment(
        id=7, unit_id=3, status=status, period=period(period_status), scores=[]
    )


def request(status: ReturnStatus = ReturnStatus.OPEN, **kw: Any) -> ReturnRequest:
    kw.setdefault("due_at", AT + timedelta(days=3))
    return ReturnRequest(status=status, criterion_codes=["1.1"], message="x", **kw)


HEAD = User(id=5, username="truclam.lanhdao", full_name="Lãnh đạo", role="unit_head")


def test_status_values_are_the_strings_already_stored() -> None:
    assert [s.value for s in AssessmentStatus] == [
        "draft",
        "submitted",
        "returned",
        "appraised",
    ]
    assert [s.value for s in PeriodStatus] == ["draft", "open", "closed", "published"]
    assert [s.value for s in ReturnStatus] == ["open", "resubmitted", "expired"]


@pytest.mark.parametrize("enum", [AssessmentStatus, PeriodStatus, ReturnStatus])
def test_every_status_has_one_label_and_a_badge_colour_the_stylesheet_knows(
    enum: Any,
) -> None:
    defined = set(re.findall(r"\.badge\.(\w+)", CSS.read_text(encoding="utf-8")))
    for status in enum:
        assert status.label and status.label[0].isupper()
        assert status.tone == "" or status.tone in defined


def test_the_same_words_always_wear_the_same_colour() -> None:
    tones: dict[str, set[str]] = {}
    for enum in (AssessmentStatus, PeriodStatus, ReturnStatus):
        for status in enum:
            tones.setdefault(status.label, set()).add(status.tone)
    assert {label: t for label, t in tones.items() if len(t) > 1} == {}
    assert tones["Đang tự đánh giá"] == {"info"}  # open period, draft assessment


def test_a_model_turns_a_stored_string_into_its_status_and_refuses_unknown_ones() -> (
    None
):
    row = Assessment(status="returned")
    assert row.status is AssessmentStatus.RETURNED
    assert row.status_label == "Yêu cầu giải trình, bổ sung"
    with pytest.raises(ValueError):
        Assessment(status="published")


# -- the move table ------------------------------------------------------------------

ASSESSMENT_CASES: list[tuple[str, Callable[[Assessment], Any]]] = [
    ("submit", lambda a: lifecycle.submit(a, by=HEAD, at=AT)),
    ("reopen", lifecycle.reopen),
    ("return", lambda a: lifecycle.return_to_unit(a, request())),
    ("finish_appraisal", lifecycle.finish_appraisal),
]
PERIOD_CASES: list[tuple[str, Callable[[Period], Any]]] = [
    ("open", lifecycle.open_period),
    ("close", lifecycle.close_period),
    ("publish", lambda p: lifecycle.publish(p, [], at=AT)),
]
MOVE_CASES = [
    pytest.param(ASSESSMENT_MOVES[name], assessment, apply, s, id=f"{name}-from-{s}")
    for name, apply in ASSESSMENT_CASES
    for s in AssessmentStatus
] + [
    pytest.param(PERIOD_MOVES[name], period, apply, s, id=f"{name}-period-from-{s}")
    for name, apply in PERIOD_CASES
    for s in PeriodStatus
]


@pytest.mark.parametrize(("move", "make", "apply", "status"), MOVE_CASES)
def test_a_status_moves_only_where_the_table_allows(
    move: Any, make: Callable[[Any], Any], apply: Callable[[Any], Any], status: Any
) -> None:
    subject = make(status)
    if move.allows(status):
        apply(subject)
        assert subject.status is move.target
    else:
        with pytest.raises(NotEditable):
            apply(subject)
        assert subject.status is status


@pytest.mark.parametrize(
    ("status", "apply", "message"),
    [
        (
            PeriodStatus.PUBLISHED,
            lifecycle.open_period,
            "Kỳ đánh giá đã công bố kết quả: không thể mở lại.",
        ),
        (
            PeriodStatus.CLOSED,
            lifecycle.close_period,
            "Chỉ đóng được kỳ đánh giá đang mở.",
        ),
        (
            PeriodStatus.PUBLISHED,
            lambda p, **kw: lifecycle.publish(p, [], at=AT, **kw),
            "Kết quả kỳ đánh giá này đã được công bố.",
        ),
        (
            PeriodStatus.DRAFT,
            lambda p, **kw: lifecycle.publish(p, [], at=AT, **kw),
            "Kỳ đánh giá chưa mở: không có kết quả để công bố.",
        ),
    ],
)
def test_a_refused_period_move_raises_the_callers_error_with_the_usual_message(
    status: PeriodStatus, apply: Callable[..., Any], message: str
) -> None:
    class FeatureError(Exception):
        pass

    with pytest.raises(FeatureError) as refused:
        apply(period(status), error=FeatureError)
    assert str(refused.value) == message


def test_submitting_twice_is_refused_with_the_first_submission_time() -> None:
    subject = assessment(AssessmentStatus.DRAFT)
    lifecycle.submit(subject, by=HEAD, at=AT)
    assert (subject.submitted_at, subject.submitted_by_id) == (AT, HEAD.id)
    with pytest.raises(
        NotEditable, match=r"^Hồ sơ đã được gửi lúc 10:00 10/12/2026: không thể gửi lại"
    ):
        lifecycle.submit(subject, by=HEAD, at=AT + timedelta(hours=1))


def test_resubmitting_keeps_the_first_submission_and_answers_only_open_requests() -> (
    None
):
    subject = assessment(AssessmentStatus.RETURNED)
    subject.submitted_at, subject.submitted_by_id = AT - timedelta(days=5), 4
    pending = request(id=11)
    done = request(ReturnStatus.EXPIRED, id=10)
    subject.return_requests = [done, pending]
    later = AT + timedelta(days=1)
    assert lifecycle.submit(subject, by=HEAD, at=later) == [11]
    assert subject.status is AssessmentStatus.SUBMITTED
    first = AT - timedelta(days=5)
    assert (subject.submitted_at, subject.submitted_by_id) == (first, 4)
    assert (pending.status, pending.resubmitted_at) == (ReturnStatus.RESUBMITTED, later)
    assert done.status is ReturnStatus.EXPIRED


def test_reopening_clears_the_submission_and_names_the_current_status() -> None:
    subject = assessment(AssessmentStatus.SUBMITTED)
    subject.submitted_at, subject.submitted_by_id, subject.snapshot = AT, 5, {"x": 1}
    lifecycle.reopen(subject)
    assert (subject.submitted_at, subject.submitted_by_id, subject.snapshot) == (
        None,
        None,
        None,
    )
    with pytest.raises(NotEditable) as refused:
        lifecycle.reopen(assessment(AssessmentStatus.APPRAISED))
    assert str(refused.value) == (
        "Chỉ mở lại được hồ sơ đã gửi; hồ sơ đang ở trạng thái “Đã thẩm định”."
    )


def test_a_new_return_replaces_the_open_one_and_none_is_made_after_publication() -> (
    None
):
    subject = assessment(AssessmentStatus.RETURNED)
    old, new = request(id=1), request(id=2)
    subject.return_requests = [old, new]
    lifecycle.return_to_unit(subject, new)
    assert (old.status, new.status) == (ReturnStatus.EXPIRED, ReturnStatus.OPEN)

    final = assessment(AssessmentStatus.APPRAISED, PeriodStatus.PUBLISHED)
    with pytest.raises(NotEditable, match="^Kết quả đã công bố: không thể yêu cầu"):
        lifecycle.return_to_unit(final, request())
    assert final.status is AssessmentStatus.APPRAISED
    with pytest.raises(NotEditable, match="^Hồ sơ chưa được gửi.$"):
        lifecycle.return_to_unit(assessment(AssessmentStatus.DRAFT), request())


def test_publishing_confirms_each_ranked_assessment_appraised() -> None:
    subject = period(PeriodStatus.CLOSED)
    ranked = assessment(AssessmentStatus.SUBMITTED)
    lifecycle.publish(subject, [ranked], at=AT)
    assert (subject.status, subject.published_at) == (PeriodStatus.PUBLISHED, AT)
    assert ranked.status is AssessmentStatus.APPRAISED


# -- deadlines -----------------------------------------------------------------------


def test_a_units_deadline_is_its_latest_extension_and_only_its_own() -> None:
    subject = period()
    subject.extensions = [
        Extension(unit_id=3, new_deadline=DEADLINE + timedelta(days=2)),
        Extension(unit_id=3, new_deadline=DEADLINE + timedelta(days=5)),
        Extension(unit_id=4, new_deadline=DEADLINE + timedelta(days=9)),
    ]
    assert lifecycle.unit_deadline(subject, 3) == DEADLINE + timedelta(days=5)
    assert lifecycle.unit_deadline(subject, 4) == DEADLINE + timedelta(days=9)
    assert lifecycle.unit_deadline(subject, 5) == DEADLINE
