"""Evidence: upload (streamed into the store as on the page), link, download."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from flask import current_app, redirect, request
from pydantic import ValidationError
from spectree import Response as Resp

from evidence_store import new_key
from webapp.access import get_assessment_or_404, get_evidence_or_404
from webapp.api import schemas as s
from webapp.api.blueprint import bp, spec
from webapp.api.common import ALL_ROLES, UNIT_ROLES, api_user, evidence_out, roles
from webapp.errors import ParIndexError
from webapp.evidence import services
from webapp.evidence.forms import DOC_TYPE_VALUES, client_filename
from webapp.evidence.intake import close_intake, stream_uploads_into
from webapp.evidence.routes import _file_response
from webapp.storage import get_store, upload_limits

ERRORS = {
    "HTTP_401": s.ErrorBody,
    "HTTP_403": s.ErrorBody,
    "HTTP_404": s.ErrorBody,
    "HTTP_409": s.ErrorBody,
    "HTTP_413": s.ErrorBody,
    "HTTP_422": s.ErrorBody,
    "HTTP_429": s.ErrorBody,
    "HTTP_503": s.ErrorBody,
    "HTTP_507": s.ErrorBody,
}
TAG = "Tài liệu kiểm chứng"


class UploadInvalid(ParIndexError):
    status = 422


@bp.teardown_request
def _close_intake(exc: BaseException | None) -> None:
    close_intake()


def _citation_fields() -> s.CitationFields:
    form = request.form
    raw: dict[str, Any] = {
        name: form.get(name, "")
        for name in ("doc_type", "doc_number", "issuer", "summary")
    }
    raw["issued_on"] = form.get("issued_on") or None
    raw["criteria"] = form.getlist("criteria")
    try:
        fields = s.CitationFields.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ()))
        raise UploadInvalid(
            f"Dữ liệu gửi lên không hợp lệ: kiểm tra “{name}”.", name
        ) from None
    if fields.doc_type not in DOC_TYPE_VALUES:
        raise UploadInvalid(
            "Loại văn bản không hợp lệ, vui lòng chọn trong danh sách.", "doc_type"
        )
    return fields


@bp.post("/assessments/<int:assessment_id>/evidence")
@roles(*UNIT_ROLES)
@spec.validate(
    form=s.UploadForm,
    resp=Resp(HTTP_201=s.UploadOut, **ERRORS),
    tags=[TAG],
    skip_validation=True,  # the body is streamed into the store, then checked
)
def upload(assessment_id: int) -> Any:
    """Tải lên một tài liệu (multipart: `file`, trích dẫn, `criteria` cần gắn).

    Tệp được ghi thẳng vào kho khi đang nhận, với cùng các kiểm tra (tên, nội dung,
    dung lượng) và lời từ chối như trên trang; bị từ chối thì không để lại gì.
    Tiêu đề `X-Upload-Size` (không bắt buộc) báo trước số byte của tệp: kho S3 khi đó
    nhận tệp trong một lượt khi đang tải; tệp dài hay ngắn hơn số đã báo bị từ chối.
    """
    assessment = get_assessment_or_404(assessment_id, api_user())
    unit_code = assessment.unit.code
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise UploadInvalid(
            "Gửi tệp theo dạng multipart/form-data (trường “file”).", "file"
        )
    stream_uploads_into(get_store(), lambda: new_key(unit_code), upload_limits())
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if len(files) != 1:
        raise UploadInvalid("Vui lòng gửi đúng một tệp trong trường “file”.", "file")
    fields = _citation_fields()
    result = services.upload_evidence(
        assessment,
        cast(BinaryIO, files[0].stream),
        client_filename(files[0]),
        codes=fields.criteria,
        citation=fields.model_dump(exclude={"criteria"}),
        store=get_store(),
        limits=upload_limits(),
        user=api_user(),
    )
    body = s.UploadOut(evidence=evidence_out(result.evidence), warnings=result.warnings)
    return current_app.response_class(
        body.model_dump_json(), status=201, mimetype="application/json"
    )


@bp.post("/evidence/<int:evidence_id>/links")
@roles(*UNIT_ROLES)
@spec.validate(json=s.LinkIn, resp=Resp(HTTP_200=s.EvidenceOut, **ERRORS), tags=[TAG])
def link(evidence_id: int, json: s.LinkIn) -> Any:
    """Gắn tài liệu đã tải lên với thêm tiêu chí (đã gắn thì bỏ qua)."""
    evidence = get_evidence_or_404(evidence_id, api_user())
    for code in dict.fromkeys(json.criteria):
        if code not in evidence.criterion_codes:
            services.link_evidence(evidence, code, user=api_user())
    return evidence_out(evidence)


@bp.get("/evidence/<int:evidence_id>/download")
@roles(*ALL_ROLES)
@spec.validate(resp=Resp(HTTP_200=None, HTTP_302=None, **ERRORS), tags=[TAG])
def download(evidence_id: int) -> Any:
    """Tải tệp về với tên gốc."""
    evidence = get_evidence_or_404(evidence_id, api_user())
    if current_app.config.get("S3_PRESIGNED"):
        url = get_store().presigned_url(
            evidence.storage_key, filename=evidence.original_filename
        )
        if url:
            return redirect(url)
    return _file_response(evidence, "attachment")
