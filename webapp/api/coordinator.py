"""The coordinator's year: open a period, end self-assessment early, survey values,
publish; the published ranking and its CSV; verifying a dossier ZIP."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, current_app, request
from spectree import Response as Resp

from webapp.admin.periods import get_period, open_period
from webapp.api import schemas as s
from webapp.api.appraisal import vn_points
from webapp.api.blueprint import bp, spec
from webapp.api.common import (
    ALL_ROLES,
    STAFF,
    api_user,
    period_out,
    points,
    roles,
    unit_ref,
)
from webapp.api.errors import error_body
from webapp.appraisal.survey import save_survey_values, survey_grid
from webapp.dossier.builders.cells import csv_writer
from webapp.dossier.exports import verify_upload
from webapp.errors import ParIndexError
from webapp.lifecycle import PeriodStatus
from webapp.models import Period
from webapp.results.publication import close_early, publish_period
from webapp.results.ranking import (
    PeriodResults,
    UnitResult,
    can_see_ranking,
    period_results,
    visible_lines,
)

ERRORS = {
    "HTTP_401": s.ErrorBody,
    "HTTP_403": s.ErrorBody,
    "HTTP_404": s.ErrorBody,
    "HTTP_409": s.ErrorBody,
    "HTTP_429": s.ErrorBody,
}
TAG = "Điều phối, kết quả"
NOT_PUBLISHED = "Kết quả kỳ đánh giá này chưa được công bố."


class SurveyCellsUnknown(ParIndexError):
    status = 422


def _period(period_id: int) -> Period:
    period = get_period(period_id)
    if period is None:
        abort(404)
    return period


@bp.post("/periods/<int:period_id>/open")
@roles("admin")
@spec.validate(resp=Resp(HTTP_200=s.PeriodOpened, **ERRORS), tags=[TAG])
def open_(period_id: int) -> Any:
    """Mở kỳ đánh giá: mỗi đơn vị tham gia có hồ sơ tự đánh giá."""
    period = _period(period_id)
    created = open_period(period)
    return s.PeriodOpened(period=period_out(period), assessments_created=created)


@bp.post("/periods/<int:period_id>/close-early")
@roles("admin")
@spec.validate(resp=Resp(HTTP_200=s.ClosedEarly, **ERRORS), tags=[TAG])
def close_early_(period_id: int) -> Any:
    """Kết thúc sớm việc tự đánh giá cho các đơn vị còn thời gian."""
    period = _period(period_id)
    closed = close_early(period, actor=api_user())
    return s.ClosedEarly(
        period=period_out(period), assessment_ids=sorted(a.id for a in closed)
    )


@bp.put("/periods/<int:period_id>/survey")
@roles("admin")
@spec.validate(json=s.SurveyIn, resp=Resp(HTTP_200=s.SurveyOut, **ERRORS), tags=[TAG])
def survey(period_id: int, json: s.SurveyIn) -> Any:
    """Kết quả điều tra xã hội học (%) theo hồ sơ và tiêu chí."""
    period = _period(period_id)
    cells = survey_grid(period).values
    unknown = [
        f"{v.assessment_id}/{v.code}"
        for v in json.values
        if (v.assessment_id, v.code) not in cells
    ]
    if unknown:
        raise SurveyCellsUnknown(
            "Không có ô kết quả điều tra XHH nào ứng với: " + ", ".join(unknown[:20]),
            "values",
        )
    typed = {
        (v.assessment_id, v.code): "" if v.value is None else vn_points(v.value)
        for v in json.values
    }
    return s.SurveyOut(changed=save_survey_values(period, typed, actor=api_user()))


@bp.post("/periods/<int:period_id>/publish")
@roles("admin")
@spec.validate(resp=Resp(HTTP_200=s.RankingOut, **ERRORS), tags=[TAG])
def publish(period_id: int) -> Any:
    """Công bố kết quả; bị từ chối (kèm danh sách) khi còn thiếu."""
    period = _period(period_id)
    results = publish_period(period, actor=api_user())
    return _ranking(results)


def _row(row: UnitResult) -> s.RankingRow:
    return s.RankingRow(
        rank=row.rank,
        unit=unit_ref(row.unit),
        assessment_id=row.assessment.id,
        self_points=points(row.self_total.points) or "0.00",
        points=points(row.final.points) or "0.00",
        max_points=points(row.final.max_points) or "0.00",
        index=points(row.final.index),
        band=row.final.band,
    )


def _ranking(results: PeriodResults) -> s.RankingOut:
    rows, absent = visible_lines(results, api_user())
    return s.RankingOut(
        period=period_out(results.period),
        rows=[_row(r) for r in rows],
        absent=[unit_ref(r.unit) for r in absent],
    )


def _published(period_id: int) -> Period | Response:
    period = _period(period_id)
    user = api_user()
    if user.is_unit_user and all(u.id != user.unit_id for u in period.units):
        abort(404)  # another unit's period: as if it did not exist
    if period.status != PeriodStatus.PUBLISHED:
        return error_body(403, NOT_PUBLISHED, "not_published")
    if not can_see_ranking(period, user):
        abort(404)
    return period


@bp.get("/periods/<int:period_id>/ranking")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=s.RankingOut, **ERRORS), tags=[TAG])
def ranking(period_id: int) -> Any:
    """Xếp hạng đã công bố (403 trước khi công bố).

    Điểm, chỉ số, xếp loại và thứ hạng của từng đơn vị.
    """
    period = _published(period_id)
    if isinstance(period, Response):
        return period
    return _ranking(period_results(period))


@bp.get("/periods/<int:period_id>/results.csv")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=None, **ERRORS), tags=[TAG])
def results_csv(period_id: int) -> Any:
    """Kết quả đã công bố dạng CSV (UTF-8 có BOM, số thập phân dấu chấm)."""
    period = _published(period_id)
    if isinstance(period, Response):
        return period
    rows, _ = visible_lines(period_results(period), api_user())
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 (Vietnamese names) only with the BOM
    writer = csv_writer(out)
    writer.writerow(
        [
            "Hạng",
            "Mã đơn vị",
            "Đơn vị",
            "Điểm tự chấm",
            "Điểm thẩm định",
            "Điểm tối đa",
            "Chỉ số (%)",
            "Xếp loại",
        ]
    )
    for row in rows:
        line = _row(row)
        writer.writerow(
            [
                line.rank or "",
                line.unit.code,
                line.unit.name,
                line.self_points,
                line.points,
                line.max_points,
                line.index or "",
                line.band or "",
            ]
        )
    response = current_app.response_class(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="ket-qua-{period.year}-{period.id}.csv"'
    )
    return response


@bp.post("/dossiers/verify")
@roles(*STAFF)
@spec.validate(
    form=s.VerifyForm,
    resp=Resp(HTTP_200=s.VerifyOut, HTTP_422=s.VerifyOut, **ERRORS),
    tags=[TAG],
    skip_validation=True,  # a ZIP upload: read where Werkzeug spooled it
)
def verify() -> Any:
    """Kiểm tra hồ sơ ZIP hoặc mã SHA-256 của manifest.

    Có đúng do hệ thống cấp không, khi nào, cho ai.
    """
    upload = request.files.get("file")
    digest = (request.form.get("digest") or "").strip()[:64]
    result = verify_upload(
        upload.stream if upload and upload.filename else None, digest
    )
    body = s.VerifyOut(
        ok=result.ok,
        problems=result.problems,
        digest=result.digest,
        message=result.message,
        assessment_id=result.record.assessment_id if result.record else None,
        issued_at=result.record.issued_at if result.record else None,
    )
    return current_app.response_class(
        body.model_dump_json(),
        status=200 if result.ok else 422,
        mimetype="application/json",
    )
