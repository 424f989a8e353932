"""Saving one appraised score per leaf, and the assessment status that follows."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from criteria import Node
from scoring import (
    AnswerError,
    answer_correctable,
    normalize_answer,
    score_leaf,
)
from webapp import audit, lifecycle
from webapp.appraisal.assignments import appraiser_areas
from webapp.appraisal.leaves import (
    APPRAISED_SOURCES,
    CENT,
    NA_CHOICE,
    AppraisalError,
    allowed_points,
    appraised_leaves,
    leaf_answer,
    pts,
)
from webapp.appraisal.screen import locked_reason
from webapp.assessment.forms import rule_kind
from webapp.clock import now
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.fields import parse_count, parse_date, parse_number
from webapp.lifecycle import open_returns
from webapp.models import (
    Assessment,
    CriterionScore,
    User,
)

logger = logging.getLogger(__name__)


@dataclass
class AppraisalInput:
    """One leaf's appraisal form, as typed (the service reads and checks it)."""

    points: str = ""
    correct: bool = False
    value: str = ""
    numerator: str = ""
    denominator: str = ""
    checked: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    comment: str = ""
    version: str = ""


def save_appraisal(
    assessment: Assessment, code: str, data: AppraisalInput, *, actor: User
) -> CriterionScore:
    """Set a leaf's appraised score (or corrected value) and comment."""
    cs = criteria_for(assessment)
    try:
        leaf = cs.node(code)
    except KeyError:
        raise AppraisalError(f"Không có tiêu chí {code}.") from None
    if not leaf.is_leaf or leaf.assessed_by not in APPRAISED_SOURCES:
        raise AppraisalError(f"Tiêu chí {code} không thuộc phần thẩm định.")
    reopened = {c: r for r in open_returns(assessment) for c in r.criterion_codes}
    reason = locked_reason(
        assessment, leaf, appraiser_areas(actor, assessment), reopened
    )
    if reason:
        raise AppraisalError(reason)
    row = next((r for r in assessment.scores if r.criterion_code == code), None)
    current_version = str(row.version) if row is not None and row.id else ""
    if data.version.strip() != current_version:
        raise AppraisalError(
            "Tiêu chí này vừa được người khác thay đổi. "
            "Vui lòng tải lại trang rồi lưu lại."
        )
    own = score_leaf(leaf, leaf_answer(row))
    self_na_excluded = own.status == "not_applicable" and own.points is None

    appraised_answer: dict[str, Any] | None = None
    if data.correct and answer_correctable(leaf):
        appraised_answer = _corrected_answer(leaf, data)
        if (
            appraised_answer.get("not_applicable")
            and leaf.not_applicable == "exclude_from_max"
        ):
            if not self_na_excluded:
                raise AppraisalError(
                    "Không thể chuyển tiêu chí sang “không phát sinh” khi thẩm định; "
                    "hãy yêu cầu đơn vị giải trình, bổ sung.",
                    "value",
                )
            points = None
        else:
            points = score_leaf(leaf, appraised_answer).points
    else:
        points = _typed_points(leaf, data.points, self_na_excluded)

    comment = data.comment.strip()
    if points != own.points and not comment:
        raise AppraisalError(
            f"Điểm thẩm định ({pts(points)}) khác điểm tự chấm ({pts(own.points)}): "
            "bắt buộc ghi nhận xét.",
            "comment",
        )
    if row is None:
        row = CriterionScore(assessment=assessment, criterion_code=code)
        db.session.add(row)
    fields = [
        "appraised_points",
        "appraised_answer",
        "appraiser_comment",
        "appraised_at",
    ]
    before = audit.changes(row, fields) if row.id else None
    row.appraised_points = points
    row.appraised_answer = appraised_answer
    row.appraiser_comment = comment
    row.appraised_by_id = actor.id
    row.appraised_at = now()
    old_status = assessment.status
    db.session.flush()
    lifecycle.settle_appraisal(
        assessment, complete=is_fully_appraised(assessment), error=AppraisalError
    )
    after = audit.changes(row, fields)
    if assessment.status != old_status:
        after["assessment_status"] = assessment.status
    audit.record(
        "appraisal.save",
        "criterion_score",
        f"{assessment.id}/{code}",
        before=before,
        after=after,
        unit_id=assessment.unit_id,
        period_id=assessment.period_id,
        summary=f"Thẩm định tiêu chí {code}: {pts(points)} điểm "
        f"(tự chấm {pts(own.points)})",
        actor=actor,
    )
    db.session.commit()
    logger.info("appraisal %s/%s = %s by %s", assessment.id, code, points, actor.id)
    return row


def _typed_points(leaf: Node, text: str, self_na_excluded: bool) -> Decimal | None:
    text = text.strip()
    if not text:
        raise AppraisalError("Vui lòng nhập điểm thẩm định.", "points")
    if text == NA_CHOICE:
        if not self_na_excluded:
            raise AppraisalError(
                "Chỉ chọn “không phát sinh” khi đơn vị đã khai không phát sinh.",
                "points",
            )
        return None
    # Signed, so that "-1" hears the range below rather than a bare "no negatives".
    value = parse_number(text, negative=True, label="Điểm thẩm định", field="points")
    if value < 0 or value > leaf.max_points:
        raise AppraisalError(
            f"Điểm thẩm định {pts(value)} phải từ 0 đến {pts(leaf.max_points)} "
            "(điểm tối đa của tiêu chí).",
            "points",
        )
    if value != value.quantize(CENT):
        raise AppraisalError(
            "Điểm thẩm định chỉ lấy tối đa hai chữ số thập phân.", "points"
        )
    allowed = allowed_points(leaf)
    if allowed is not None and value.quantize(CENT) not in allowed:
        raise AppraisalError(
            f"Điểm {pts(value)} không đạt được theo cách tính của tiêu chí này; "
            f"chỉ nhận một trong các mức: {'; '.join(pts(v) for v in allowed)}.",
            "points",
        )
    return value.quantize(CENT)


def _corrected_answer(leaf: Node, data: AppraisalInput) -> dict[str, Any]:
    """Build and check the answer the appraiser corrected (same JSON as the unit's)."""
    kind = rule_kind(leaf) if answer_correctable(leaf) else None
    raw: dict[str, Any]
    if data.value.strip().lower() in ("na", "không phát sinh"):
        raw = {"not_applicable": True}
    elif kind == "binary":
        if data.value not in ("true", "false"):
            raise AppraisalError("Chọn Đạt hoặc Không đạt.", "value")
        raw = {"value": data.value == "true"}
    elif kind in ("date", "percent"):
        raw = _corrected_measure(data, dated=kind == "date")
    elif kind == "checklist":
        try:
            raw = {"checked": sorted({int(c) for c in data.checked})}
        except ValueError:
            raise AppraisalError(
                "Nội dung được chọn không hợp lệ.", "checked"
            ) from None
    elif kind == "deduction":
        counts = []
        for i, text in enumerate(data.counts):
            label = f"Số lần của trường hợp thứ {i + 1}"
            counts.append(parse_count(text.strip() or "0", label=label, field="counts"))
        raw = {"counts": counts}
    else:
        raise AppraisalError("Tiêu chí này không sửa số liệu; hãy chọn điểm.", "points")
    try:
        normalized = normalize_answer(leaf, raw)
    except AnswerError as exc:
        raise AppraisalError(
            f"Số liệu sửa không hợp lệ: {exc.message}", "value"
        ) from None
    if normalized is None:
        raise AppraisalError("Nhập số liệu đã sửa.", "value")
    return normalized


def _corrected_measure(data: AppraisalInput, *, dated: bool) -> dict[str, Any]:
    if dated:
        return {"value": parse_date(data.value, field="value").isoformat()}
    # The numerator's and denominator's messages show with the corrected value's.
    if data.value.strip():
        value = parse_number(data.value, percent=True, label="Tỷ lệ", field="value")
        return {"value": str(value)}
    if data.numerator.strip() or data.denominator.strip():
        numerator = parse_number(data.numerator, label="Tử số", field="value")
        denominator = parse_number(data.denominator, label="Mẫu số", field="value")
        return {"numerator": str(numerator), "denominator": str(denominator)}
    raise AppraisalError("Nhập tỷ lệ (%) hoặc tử số và mẫu số.", "value")


def is_fully_appraised(assessment: Assessment) -> bool:
    codes = {leaf.code for leaf in appraised_leaves(criteria_for(assessment))}
    done = {r.criterion_code for r in assessment.scores if r.appraised_at is not None}
    return codes <= done
