"""Assessments: list, read (with ETag), answer a leaf, submit, and the dossier files."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from flask import Response, abort, request, send_file, stream_with_context
from spectree import Response as Resp

from evidence_store.text import content_disposition
from webapp.access import get_assessment_or_404, visible_assessments
from webapp.api import schemas as s
from webapp.api.blueprint import bp, spec
from webapp.api.common import (
    ALL_ROLES,
    UNIT_ROLES,
    api_user,
    assessment_detail,
    assessment_out,
    leaf_out,
    paginate,
    roles,
    totals,
)
from webapp.assessment.answers import AnswerInvalid, save_answer
from webapp.assessment.overview import assessment_view
from webapp.assessment.submission import submit_assessment
from webapp.criteria_sets import criteria_for
from webapp.dossier.exports import export_report, export_scores, export_zip
from webapp.models import Assessment, Period
from webapp.storage import get_store
from webapp.workflow import final_score, self_score

ERRORS = {
    "HTTP_401": s.ErrorBody,
    "HTTP_403": s.ErrorBody,
    "HTTP_404": s.ErrorBody,
    "HTTP_409": s.ErrorBody,
    "HTTP_429": s.ErrorBody,
}
TAG = "Hồ sơ tự đánh giá"


@bp.get("/assessments")
@roles(*ALL_ROLES)
@spec.validate(
    query=s.AssessmentsQuery,
    resp=Resp(HTTP_200=s.AssessmentPage, **ERRORS),
    tags=[TAG],
)
def assessments(query: s.AssessmentsQuery) -> Any:
    """Hồ sơ tự đánh giá người dùng được xem.

    Đơn vị: hồ sơ của mình; thẩm định: hồ sơ được phân công đã gửi; điều phối: tất cả.
    """
    q = (
        visible_assessments(api_user())
        .join(Period, Period.id == Assessment.period_id)
        .order_by(Period.year.desc(), Assessment.period_id.desc(), Assessment.id)
    )
    if query.period is not None:
        q = q.where(Assessment.period_id == query.period)
    rows, total = paginate(q, query.page, query.per_page)
    return s.AssessmentPage(
        items=[assessment_out(a, self_score(a)) for a in rows],
        page=query.page,
        per_page=query.per_page,
        total=total,
    )


@bp.get("/assessments/<int:assessment_id>")
@roles(*ALL_ROLES)
@spec.validate(
    resp=Resp(HTTP_200=s.AssessmentDetail, HTTP_304=None, **ERRORS), tags=[TAG]
)
def assessment(assessment_id: int) -> Any:
    """Một hồ sơ: trạng thái, tổng điểm, mọi tiêu chí thành phần.

    Số liệu, điểm tự chấm và thẩm định, tài liệu của từng tiêu chí; có ETag
    (If-None-Match: 304).
    """
    found = get_assessment_or_404(assessment_id, api_user())
    view = assessment_view(found, api_user())
    body = assessment_detail(view, final_score(found)).model_dump_json()
    etag = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    # Cached only by the client, and always asked again (If-None-Match → 304).
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.put("/assessments/<int:assessment_id>/criteria/<code>")
@roles(*UNIT_ROLES)
@spec.validate(
    json=s.AnswerIn,
    resp=Resp(HTTP_200=s.AnswerOut, **ERRORS),
    tags=[TAG],
)
def answer(assessment_id: int, code: str, json: s.AnswerIn) -> Any:
    """Trả lời một tiêu chí thành phần.

    Số liệu (inputs), mức tự chấm (self_score, quy tắc manual), thuyết minh
    (explanation), không phát sinh (not_applicable).

    `version` (phiên bản đã đọc) chặn việc ghi đè một lần lưu mới hơn (409)."""
    found = get_assessment_or_404(assessment_id, api_user())
    leaf = criteria_for(found).nodes().get(code)
    if leaf is None or not leaf.is_leaf:
        abort(404)
    manual = leaf.rule is not None and leaf.rule.type == "manual"
    if json.self_score is not None and not manual:
        raise AnswerInvalid(
            "self_score",
            "Chỉ tiêu chí chấm theo mức mới nhận mức tự chấm (self_score); "
            "tiêu chí này nhận số liệu (inputs).",
        )
    if json.not_applicable:
        given: dict[str, Any] | None = {"not_applicable": True}
    elif json.self_score is not None:
        given = {**(json.inputs or {}), "level": json.self_score}
    else:
        given = json.inputs
    version = json.version
    if version is None:  # the caller chose to overwrite: take the current version
        row = next((r for r in found.scores if r.criterion_code == code), None)
        version = row.version if row is not None and row.id else 0
    outcome = save_answer(
        found,
        leaf,
        answer=given,
        note=json.explanation,
        version=version,
        user=api_user(),
    )
    view = assessment_view(found, api_user())
    return s.AnswerOut(
        changed=outcome.changed,
        leaf=leaf_out(view.leaves[code]),
        totals=totals(view.score),
    )


@bp.post("/assessments/<int:assessment_id>/submit")
@roles("unit_head")
@spec.validate(resp=Resp(HTTP_200=s.AssessmentOut, **ERRORS), tags=[TAG])
def submit(assessment_id: int) -> Any:
    """Gửi hồ sơ (hoặc gửi lại sau giải trình, bổ sung).

    Bị từ chối khi quá hạn hoặc còn tiêu chí chưa đủ điều kiện (xem details).
    """
    found = submit_assessment(
        get_assessment_or_404(assessment_id, api_user()), api_user()
    )
    return assessment_out(found, self_score(found))


@bp.get("/assessments/<int:assessment_id>/dossier.zip")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=None, **ERRORS), tags=[TAG])
def dossier_zip(assessment_id: int) -> Any:
    """Hồ sơ ZIP (tài liệu kiểm chứng và manifest SHA-256), truyền dần khi tạo."""
    export = export_zip(
        get_assessment_or_404(assessment_id, api_user()),
        api_user(),
        store=get_store(),
        ip_address=request.remote_addr or "",
    )
    response = Response(stream_with_context(export.chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(export.filename)
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.get("/assessments/<int:assessment_id>/report.docx")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=None, **ERRORS), tags=[TAG])
def report_docx(assessment_id: int) -> Any:
    """Báo cáo tự chấm điểm (Word, thể thức Nghị định 30/2020/NĐ-CP)."""
    export = export_report(get_assessment_or_404(assessment_id, api_user()), api_user())
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )


@bp.get("/assessments/<int:assessment_id>/scores.xlsx")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=None, **ERRORS), tags=[TAG])
def scores_xlsx(assessment_id: int) -> Any:
    """Bảng điểm (Excel)."""
    export = export_scores(get_assessment_or_404(assessment_id, api_user()), api_user())
    return send_file(
        io.BytesIO(export.data),
        mimetype=export.mimetype,
        as_attachment=True,
        download_name=export.filename,
    )
