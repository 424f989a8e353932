"""Appraisal: a leaf's appraised score and comment, returns to the unit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spectree import Response as Resp

from scoring import format_date
from webapp.access import get_assessment_or_404
from webapp.api import schemas as s
from webapp.api.blueprint import bp, spec
from webapp.api.common import STAFF, api_user, leaf_out, return_out, roles
from webapp.appraisal.leaves import NA_CHOICE
from webapp.appraisal.returns import create_return
from webapp.appraisal.scores import AppraisalInput, save_appraisal
from webapp.assessment.overview import assessment_view

ERRORS = {
    "HTTP_401": s.ErrorBody,
    "HTTP_403": s.ErrorBody,
    "HTTP_404": s.ErrorBody,
    "HTTP_409": s.ErrorBody,
    "HTTP_429": s.ErrorBody,
}
TAG = "Thẩm định"


def vn_points(value: Decimal) -> str:
    """The score as the appraisal form is typed ("8,5"): the service reads that."""
    return f"{value.normalize():f}".replace(".", ",")


@bp.put("/assessments/<int:assessment_id>/criteria/<code>/appraisal")
@roles(*STAFF)
@spec.validate(
    json=s.AppraisalIn, resp=Resp(HTTP_200=s.AppraisalOut, **ERRORS), tags=[TAG]
)
def appraise(assessment_id: int, code: str, json: s.AppraisalIn) -> Any:
    """Điểm thẩm định một tiêu chí (khác điểm tự chấm thì bắt buộc nhận xét)."""
    assessment = get_assessment_or_404(assessment_id, api_user())
    version = json.version
    if version is None:
        row = next((r for r in assessment.scores if r.criterion_code == code), None)
        version = row.version if row is not None and row.id else None
    save_appraisal(
        assessment,
        code,
        AppraisalInput(
            points=NA_CHOICE if json.score is None else vn_points(json.score),
            comment=json.comment,
            version="" if version is None else str(version),
        ),
        actor=api_user(),
    )
    view = assessment_view(assessment, api_user())
    return s.AppraisalOut(
        assessment_status=str(assessment.status), leaf=leaf_out(view.leaves[code])
    )


@bp.post("/assessments/<int:assessment_id>/returns")
@roles(*STAFF)
@spec.validate(json=s.ReturnIn, resp=Resp(HTTP_201=s.ReturnOut, **ERRORS), tags=[TAG])
def create_return_request(assessment_id: int, json: s.ReturnIn) -> Any:
    """Yêu cầu giải trình, bổ sung: trả các tiêu chí đã chọn cho đơn vị đến hạn."""
    request_row = create_return(
        get_assessment_or_404(assessment_id, api_user()),
        json.criteria,
        message=json.message,
        due_text=format_date(json.due_date),
        actor=api_user(),
    )
    return return_out(request_row), 201
