"""Evidence pages and endpoints: upload (XHR JSON or plain form), link, unlink, replace,
cite, search, download, preview, detail and the unit's library."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, BinaryIO, cast

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from evidence_store import ObjectNotFound, StorageError, new_key
from evidence_store.text import content_disposition
from webapp.access import get_assessment_or_404, get_evidence_or_404, roles_required
from webapp.criteria_sets import criteria_for
from webapp.errors import (
    MESSAGES,
    ParIndexError,
    back_to,
    error_message,
    refusal_response,
    wants_json,
)
from webapp.evidence import bp, services
from webapp.evidence.candidates import reuse_candidate
from webapp.evidence.forms import (
    CitationForm,
    ReplaceForm,
    UploadForm,
    client_filename,
)
from webapp.evidence.intake import close_intake, stream_uploads_into
from webapp.evidence.prefill import DOC_TYPES, CitationProposal
from webapp.evidence.preview import HTML_PREVIEW_TYPES, render_preview
from webapp.evidence.widgets import leaf_evidence_forms
from webapp.extensions import csrf, db
from webapp.fields import clean_text, text_arg
from webapp.formatting import no_store_downloads
from webapp.lifecycle import editable_codes
from webapp.models import Assessment, Evidence
from webapp.redirects import next_url
from webapp.storage import get_store, upload_limits

UNIT_ROLES = ("unit_editor", "unit_head")
# No claim that nothing changed: the failure may follow a commit.
SYSTEM_FAILED = (
    "Không hoàn tất được yêu cầu do lỗi hệ thống (cơ sở dữ liệu hoặc kho lưu trữ). "
    "Vui lòng tải lại trang để kiểm tra tài liệu rồi thử lại."
)
PREVIEW_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)


bp.after_request(no_store_downloads)
# A global, not a context variable: the evidence macros are imported without context,
# so Jinja compiles their module once instead of once per leaf.
bp.add_app_template_global(DOC_TYPES, "EVIDENCE_DOC_TYPES")  # type: ignore[arg-type]


@bp.app_context_processor
def _evidence_globals() -> dict[str, Any]:
    return {
        "EVIDENCE_DOC_TYPES": DOC_TYPES,
        "evidence_script_tag": _script_tag_once,
        "evidence_deletable": services.can_delete,
        "evidence_previewable": services.is_previewable,
        "evidence_url": _evidence_url,
        "leaf_evidence_forms": leaf_evidence_forms,
    }


_PLACEHOLDER_ID = 2_147_483_647


def _evidence_url(endpoint: str, evidence_id: int, **params: str | None) -> str:
    """``url_for("evidence.<endpoint>", evidence_id=…, **params)`` for pages listing
    many documents (the criteria page: dozens): the route is built once per request
    and set of params, then each id put in its place. Same URL, a fraction of
    url_for's cost."""
    built: dict[Any, str] = request.environ.setdefault("parindex.evidence_urls", {})
    key = (endpoint, *sorted(params.items())) if params else endpoint
    pattern = built.get(key)
    if pattern is None:
        values: dict[str, Any] = {"evidence_id": _PLACEHOLDER_ID, **params}
        pattern = url_for(f"evidence.{endpoint}", **values)
        built[key] = pattern
    return pattern.replace(str(_PLACEHOLDER_ID), str(evidence_id), 1)


def _script_tag_once() -> Markup:
    # The leaf partial is included once per leaf; the page needs the script only once.
    # The flag lives in the WSGI environ: one per request, whatever the app context.
    if request.environ.get("parindex.evidence_js"):
        return Markup("")
    request.environ["parindex.evidence_js"] = True
    src = url_for("static", filename="js/evidence.js")
    return Markup(f'<script src="{src}" defer></script>')


@bp.errorhandler(413)
@bp.errorhandler(CSRFError)
def _upload_refused(exc: HTTPException) -> Any:
    """Too large a request or an expired form token: JSON for the upload widget."""
    code = exc.code or 400
    message = error_message(code) if code in MESSAGES else "Yêu cầu không hợp lệ."
    if isinstance(exc, CSRFError):
        message = (
            "Phiên làm việc hoặc mã bảo mật biểu mẫu đã hết hạn. "
            "Vui lòng tải lại trang và thử lại."
        )
    if wants_json():
        return jsonify({"ok": False, "error": message}), code
    title = MESSAGES.get(code, ("Lỗi", ""))[0]
    return render_template(
        "errors/error.html", code=code, title=title, message=message
    ), code


@bp.errorhandler(SQLAlchemyError)
@bp.errorhandler(StorageError)
@bp.errorhandler(OSError)
def _system_failure(exc: Exception) -> Any:
    """The database or the store failed outside a service's own handling: the upload
    widget still gets its JSON error (the app's last-resort handler answers HTML)."""
    current_app.logger.exception("evidence request failed")
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    return refusal_response(ParIndexError(SYSTEM_FAILED, status=500))


# --- helpers --------------------------------------------------------------------------


def _user() -> Any:
    return current_user._get_current_object()


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    return {
        "id": evidence.id,
        "original_filename": evidence.original_filename,
        "size": evidence.size,
        "mime_type": evidence.mime_type,
        "kind": evidence.kind,
        "sha256": evidence.sha256,
        "doc_type": evidence.doc_type,
        "doc_number": evidence.doc_number,
        "issued_on": evidence.issued_on.strftime("%d/%m/%Y")
        if evidence.issued_on
        else "",
        "issuer": evidence.issuer,
        "summary": evidence.summary,
        "criterion_codes": evidence.criterion_codes,
        "uploaded_at": evidence.uploaded_at.isoformat(),
        "url": url_for("evidence.detail", evidence_id=evidence.id),
        "download_url": url_for("evidence.download", evidence_id=evidence.id),
        "preview_url": url_for("evidence.preview", evidence_id=evidence.id)
        if services.is_previewable(evidence)
        else None,
    }


def _item_html(
    evidence: Evidence,
    assessment: Assessment,
    leaf_code: str,
    proposal: CitationProposal | None,
    *,
    editable: bool = True,
) -> str:
    return render_template(
        "evidence/_evidence_item.html",
        evidence=evidence,
        assessment=assessment,
        leaf_code=leaf_code,
        editable=editable,
        proposal=proposal if editable else None,
        next_url=next_url(""),
    )


def _stream(evidence: Evidence) -> Iterator[bytes]:
    """The object's chunks, failing before the headers go out if the object is gone."""
    try:
        chunks = get_store().iter_chunks(evidence.storage_key)
        first = next(chunks)
    except StopIteration:
        return iter(())
    except ObjectNotFound:
        current_app.logger.error(
            "evidence %s: object %s missing", evidence.id, evidence.storage_key
        )
        abort(404)
    except StorageError:
        current_app.logger.exception("evidence %s: object unreadable", evidence.id)
        abort(503)
    return itertools.chain([first], chunks)


def _file_response(evidence: Evidence, disposition: str) -> Response:
    response = Response(
        stream_with_context(_stream(evidence)),
        mimetype=evidence.mime_type,
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(evidence.size)
    response.headers["Content-Disposition"] = content_disposition(
        evidence.original_filename, disposition
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- pages ----------------------------------------------------------------------------


@bp.get("/")
@roles_required(*UNIT_ROLES)
def library() -> str:
    """The unit's documents of its current assessment, searchable without diacritics."""
    assessment = services.library_assessment(_user())
    query = text_arg(request.args, "q")
    link_to = request.args.get("link_to", "").strip()
    documents: list[Evidence] = []
    titles: dict[str, str] = {}
    editable = False
    if assessment is not None:
        documents = (
            services.search_evidence(assessment, query, limit=500)
            if query
            else services.current_evidence(assessment)
        )
        titles = {
            code: node.title for code, node in criteria_for(assessment).nodes().items()
        }
        editable = editable_codes(assessment) != set()
    return render_template(
        "evidence/library.html",
        assessment=assessment,
        documents=documents,
        query=query,
        link_to=link_to if link_to in titles else "",
        titles=titles,
        editable=editable,
        form=UploadForm(),
        next_param=next_url(""),
    )


@bp.get("/<int:evidence_id>")
@roles_required("admin", "appraiser", *UNIT_ROLES)
def detail(evidence_id: int) -> str:
    """A document: citation, file, leaves it proves, versions, preview."""
    evidence = get_evidence_or_404(evidence_id)
    form = CitationForm(obj=evidence)
    return _detail_page(evidence, form, prefill=request.args.get("prefill", ""))[0]


@bp.get("/<int:evidence_id>/citation-form")
@roles_required(*UNIT_ROLES)
def citation_form(evidence_id: int) -> str:
    """A listed document's citation form, fetched when the user opens it (the
    criteria page lists many documents; their forms would double its size)."""
    evidence = get_evidence_or_404(evidence_id)
    if not services.editable_for(evidence):
        abort(403)
    return render_template(
        "evidence/_citation_form.html",
        evidence=evidence,
        leaf_code=request.args.get("leaf", ""),
        _next=next_url(url_for("evidence.detail", evidence_id=evidence.id)),
        _proposal=None,
    )


# A new file is a new version of the document: its date and number are what changed.
REPLACED_FIELDS = ("issued_on", "doc_number")


def _fill_empty(
    form: CitationForm, proposal: CitationProposal, override: tuple[str, ...] = ()
) -> list[str]:
    """Fill the empty fields (and those in `override`) from the file; their names."""
    # What the user typed wins over what the file says, but for a replaced file's date
    # and number, which the old version's citation would otherwise keep.
    filled = []
    for name, value in asdict(proposal).items():
        current = getattr(form, name).data
        if value and (not current or (name in override and value != current)):
            getattr(form, name).data = value
            filled.append(name)
    return filled


def _detail_page(
    evidence: Evidence, form: CitationForm, *, prefill: str = "", status: int = 200
) -> tuple[str, int]:
    assessment = services.assessment_of(evidence)
    unit_user = bool(current_user.is_unit_user)
    can_edit = unit_user and services.editable_for(evidence, assessment)
    proposal = None
    if can_edit and prefill:
        # A GET never writes: a proposal not read yet is read, and not kept, here.
        proposal = services.citation_proposal(evidence, store=get_store(), keep=False)
        override = REPLACED_FIELDS if prefill == "replaced" else ()
        _fill_empty(form, proposal, override)
    unlinkable, linkable = services.link_choices(
        evidence, assessment, unit_user=unit_user
    )
    page = render_template(
        "evidence/detail.html",
        evidence=evidence,
        assessment=assessment,
        nodes=criteria_for(assessment).nodes(),
        form=form,
        replace_form=ReplaceForm(formdata=None),
        proposal=proposal,
        can_edit=can_edit,
        can_delete=can_edit and services.can_delete(evidence, assessment),
        unlinkable=unlinkable,
        linkable=linkable,
        versions=services.versions(evidence),
        previewable=services.is_previewable(evidence),
        warnings=services.date_warnings(evidence.issued_on, assessment.period.year),
        back_url=next_url(url_for("evidence.library") if unit_user else ""),
        next_param=next_url(""),
    )
    return page, status


# --- reads ----------------------------------------------------------------------------


@bp.get("/<int:evidence_id>/download")
@roles_required("admin", "appraiser", *UNIT_ROLES)
def download(evidence_id: int) -> Response:
    """Stream the file under its original Vietnamese name."""
    evidence = get_evidence_or_404(evidence_id)
    if current_app.config.get("S3_PRESIGNED"):
        url = get_store().presigned_url(
            evidence.storage_key, filename=evidence.original_filename
        )
        if url:
            return redirect(url)  # type: ignore[return-value]
    return _file_response(evidence, "attachment")


@bp.get("/<int:evidence_id>/preview")
@roles_required("admin", "appraiser", *UNIT_ROLES)
def preview(evidence_id: int) -> Response:
    """Show a PDF or image inline (the detail page frames it); others only download."""
    evidence = get_evidence_or_404(evidence_id)
    if not services.is_previewable(evidence):
        abort(404)
    if evidence.mime_type in HTML_PREVIEW_TYPES:
        return _html_preview(evidence)
    response = _file_response(evidence, "inline")
    # Images get a fully sandboxed document. PDFs do not: browsers refuse to run their
    # PDF
    # viewer in a sandboxed document, and nosniff plus the exact type keep it a PDF.
    csp = (
        PREVIEW_CSP
        if evidence.mime_type == "application/pdf"
        else PREVIEW_CSP + "; sandbox"
    )
    response.headers["Content-Security-Policy"] = csp
    return response


def _html_preview(evidence: Evidence) -> Response:
    """A Word or Excel document as sanitised HTML, in a sandbox that runs nothing."""
    try:
        with get_store().open(evidence.storage_key) as fh:
            body = render_preview(io.BytesIO(fh.read()), evidence.mime_type)
    except ObjectNotFound:
        abort(404)
    except StorageError:
        abort(503)
    response = Response(
        render_template("evidence/preview_document.html", evidence=evidence, body=body),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/assessments/<int:assessment_id>/search")
@roles_required(*UNIT_ROLES)
def search(assessment_id: int) -> Any:
    """Documents matching q, accent-insensitive: JSON, or an HTML fragment."""
    assessment = get_assessment_or_404(assessment_id)
    code = request.args.get("code", "").strip()
    found = services.search_evidence(assessment, text_arg(request.args, "q"))
    if request.args.get("format") == "html":
        return render_template(
            "evidence/_search_results.html",
            documents=found,
            assessment=assessment,
            leaf_code=code,
        )
    return jsonify(
        {
            "ok": True,
            "results": [
                {
                    **evidence_json(e),
                    "linked": code in e.criterion_codes,
                    "link_url": url_for("evidence.link", evidence_id=e.id),
                }
                for e in found
            ],
        }
    )


# --- writes ---------------------------------------------------------------------------


@bp.teardown_request
def _close_intake(exc: BaseException | None) -> None:
    close_intake()


def _stream_into_store(assessment: Assessment) -> None:
    """Parse the body straight into the store, then check the CSRF token: from the
    header (the widget) before a byte is parsed, or from the form field (no-JS)."""
    unit_code = assessment.unit.code
    stream_uploads_into(get_store(), lambda: new_key(unit_code), upload_limits())
    if current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


@bp.post("/assessments/<int:assessment_id>/upload")
@csrf.exempt  # checked by _stream_into_store, once the files have somewhere to go
@roles_required(*UNIT_ROLES)
def upload(assessment_id: int) -> Any:
    """Upload one file (the widget's XHR: JSON) or several (plain form: redirect)."""
    assessment = get_assessment_or_404(assessment_id, options=services.UPLOAD_LOADS)
    _stream_into_store(assessment)
    form = UploadForm()
    back_to(url_for("evidence.library"))
    if not form.validate_on_submit():
        raise ParIndexError(form.first_error())
    files = [f for f in request.files.getlist("file") if f and f.filename]
    codes = request.form.getlist("criterion_code") + request.form.getlist(
        "criterion_codes"
    )
    if wants_json():  # the widget sends one request per file, for one progress bar each
        return _upload_json(assessment, files[0], codes, form.citation())
    # One citation cannot describe several different files: it applies to one file only.
    return _upload_form(
        assessment, files, codes, form.citation() if len(files) == 1 else None
    )


def _store_one(
    assessment: Assessment, storage: FileStorage, codes: list[str], citation: Any
) -> services.UploadResult:
    return services.upload_evidence(
        assessment,
        # Already in the store's stage (see intake): validated there, then committed.
        cast(BinaryIO, storage.stream),
        client_filename(storage),
        codes=codes,
        citation=citation,
        store=get_store(),
        limits=upload_limits(),
        user=_user(),
    )


def _upload_json(
    assessment: Assessment, storage: FileStorage, codes: list[str], citation: Any
) -> Any:
    result = _store_one(assessment, storage, codes, citation)
    leaf_code = codes[0] if codes else ""
    return _stored_json(
        result,
        leaf_code=leaf_code,
        item_html=_item_html(result.evidence, assessment, leaf_code, result.prefill),
    )


def _stored_json(result: services.UploadResult, **extra: Any) -> Any:
    """The upload widget's answer for a stored file: the row, its citation, warnings.

    A PDF or DOCX's proposal is not read yet ("prefill": null): the widget asks
    ``proposal_url`` for it right after, so the upload answers at disk speed."""
    evidence = result.evidence
    pending = result.prefill is None
    return jsonify(
        {
            "ok": True,
            "evidence": evidence_json(evidence),
            "prefill": None if result.prefill is None else result.prefill.as_dict(),
            "proposal_url": url_for(
                "evidence.proposal",
                evidence_id=evidence.id,
                code=extra.pop("leaf_code", "") or None,
            )
            if pending
            else None,
            "warnings": result.warnings,
            **extra,
        }
    )


@bp.post("/<int:evidence_id>/proposal")
@roles_required(*UNIT_ROLES)
def proposal(evidence_id: int) -> Any:
    """The citation read from the file (read on the first request, then kept), with
    the document's list item re-rendered around it for the leaf ``code``. A POST: the
    first one stores what was read, and a GET never writes."""
    evidence = get_evidence_or_404(evidence_id)
    found = services.citation_proposal(evidence, store=get_store())
    assessment = services.assessment_of(evidence)
    code = request.args.get("code", "").strip()
    html = _item_html(
        evidence,
        assessment,
        code if code in evidence.criterion_codes else "",
        found,
        editable=services.editable_for(evidence, assessment),
    )
    return jsonify(
        {
            "ok": True,
            "prefill": found.as_dict(),
            "warnings": services.proposal_warnings(evidence, found),
            "item_html": html,
        }
    )


def _upload_form(
    assessment: Assessment, files: list[FileStorage], codes: list[str], citation: Any
) -> BaseResponse:
    back = next_url(url_for("evidence.library"))
    results: list[services.UploadResult] = []
    for storage in files:
        name = client_filename(storage)
        try:
            results.append(_store_one(assessment, storage, codes, citation))
        except services.EvidenceError as exc:
            # Each refused file is named; the others are still stored.
            flash(
                exc.message if name in exc.message else f"“{name}”: {exc.message}",
                "error",
            )
            continue
        flash(f"Đã tải lên “{results[-1].evidence.original_filename}”.", "success")
        for warning in results[-1].warnings:
            flash(warning, "warning")
    if len(files) == 1 and results:
        # Let the user confirm the citation read from the file before going back: read
        # it now, once, for the page that follows.
        services.citation_proposal(results[0].evidence, store=get_store())
        url = url_for(
            "evidence.detail", evidence_id=results[0].evidence.id, prefill=1, next=back
        )
        return redirect(url)
    return redirect(back)


@bp.post("/<int:evidence_id>/citation")
@roles_required(*UNIT_ROLES)
def edit_citation(evidence_id: int) -> Any:
    """Confirm or correct the citation (loại, số/ký hiệu, ngày, cơ quan, trích yếu)."""
    evidence = get_evidence_or_404(evidence_id)
    back = url_for("evidence.detail", evidence_id=evidence.id)
    form = CitationForm()
    if not form.validate_on_submit():
        if wants_json():
            return jsonify(
                {"ok": False, "error": form.first_error(), "errors": form.errors}
            ), 400
        flash("Trích dẫn chưa được lưu: vui lòng sửa các ô báo lỗi.", "error")
        return _detail_page(evidence, form, status=400)
    back_to(back)
    warnings = services.update_citation(evidence, form.citation(), user=_user())
    if wants_json():
        return jsonify(
            {"ok": True, "evidence": evidence_json(evidence), "warnings": warnings}
        )
    flash("Đã lưu trích dẫn tài liệu.", "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(next_url(back))


@bp.post("/<int:evidence_id>/link")
@roles_required(*UNIT_ROLES)
def link(evidence_id: int) -> Any:
    """Link an uploaded document to one more leaf."""
    evidence = get_evidence_or_404(evidence_id)
    back = url_for("evidence.detail", evidence_id=evidence.id)
    back_to(back)
    code = clean_text(request.form.get("criterion_code", ""), label="Mã tiêu chí")
    if not code:
        raise ParIndexError("Vui lòng chọn tiêu chí cần gắn tài liệu.")
    services.link_evidence(evidence, code, user=_user())
    if wants_json():
        assessment = services.assessment_of(evidence)
        return jsonify(
            {
                "ok": True,
                "evidence": evidence_json(evidence),
                "item_html": _item_html(evidence, assessment, code, None),
            }
        )
    flash(f"Đã gắn “{evidence.original_filename}” với tiêu chí {code}.", "success")
    return redirect(next_url(back))


@bp.post("/<int:evidence_id>/unlink")
@roles_required(*UNIT_ROLES)
def unlink(evidence_id: int) -> Any:
    """Remove a document from a leaf (it stays in the library)."""
    evidence = get_evidence_or_404(evidence_id)
    back = url_for("evidence.detail", evidence_id=evidence.id)
    back_to(back)
    code = clean_text(request.form.get("criterion_code", ""), label="Mã tiêu chí")
    services.unlink_evidence(evidence, code, user=_user())
    if wants_json():
        return jsonify({"ok": True, "evidence": evidence_json(evidence)})
    flash(f"Đã gỡ “{evidence.original_filename}” khỏi tiêu chí {code}.", "success")
    return redirect(next_url(back))


@bp.post("/<int:evidence_id>/delete")
@roles_required(*UNIT_ROLES)
def delete(evidence_id: int) -> Any:
    """Delete a wrongly uploaded document (soft: kept in the store until the sweep)."""
    evidence = get_evidence_or_404(evidence_id)
    back_to(url_for("evidence.detail", evidence_id=evidence.id))
    services.delete_evidence(evidence, user=_user())
    if wants_json():
        return jsonify({"ok": True, "evidence": evidence_json(evidence)})
    flash(f"Đã xóa tài liệu “{evidence.original_filename}”.", "success")
    return redirect(next_url(url_for("evidence.library")))


@bp.post("/<int:evidence_id>/replace")
@csrf.exempt  # checked by _stream_into_store, once the file has somewhere to go
@roles_required(*UNIT_ROLES)
def replace(evidence_id: int) -> Any:
    """Replace the file; the old version stays downloadable from the history."""
    evidence = get_evidence_or_404(evidence_id)
    _stream_into_store(services.assessment_of(evidence))
    back = url_for("evidence.detail", evidence_id=evidence.id)
    back_to(back)
    form = ReplaceForm()
    if not form.validate_on_submit():
        raise ParIndexError(
            form.file.errors[0] if form.file.errors else "Dữ liệu không hợp lệ."
        )
    storage = form.file.data
    result = services.replace_evidence(
        evidence,
        cast(BinaryIO, storage.stream),
        client_filename(storage),
        store=get_store(),
        limits=upload_limits(),
        user=_user(),
    )
    if wants_json():
        return _stored_json(result)
    flash(
        f"Đã thay tệp bằng “{result.evidence.original_filename}”. "
        "Phiên bản cũ vẫn được lưu.",
        "success",
    )
    for warning in result.warnings:
        flash(warning, "warning")
    services.citation_proposal(result.evidence, store=get_store())
    return redirect(
        url_for("evidence.detail", evidence_id=result.evidence.id, prefill="replaced")
    )


@bp.post("/assessments/<int:assessment_id>/criteria/<code>/reuse/<int:evidence_id>")
@roles_required(*UNIT_ROLES)
def reuse(assessment_id: int, code: str, evidence_id: int) -> Any:
    """Reuse one of last year's offered documents for this leaf (a copy is stored)."""
    assessment = get_assessment_or_404(assessment_id)
    back = url_for("assessment.detail", assessment_id=assessment.id)
    back_to(back)
    reuse_candidate(
        assessment,
        code,
        evidence_id,
        store=get_store(),
        limits=upload_limits(),
        user=_user(),
    )
    flash(f"Đã dùng lại tài liệu năm trước cho tiêu chí {code}.", "success")
    return redirect(next_url(back))
