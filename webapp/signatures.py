"""Digital signatures of uploaded PDFs (ký số), validated with pyHanko.

Units sign in their own e-office with a VGCA/Ban Cơ yếu (or other) CA certificate; the
app has no trust roots for those CAs and never goes online, so "valid" here means what
can be checked from the file alone: the signature verifies over the bytes it covers and
nothing but later signed revisions follows them. Signer, issuer and signing time are
shown so a person can judge the certificate.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import IO, Any

from webapp.clock import to_vn

logger = logging.getLogger(__name__)


def validate_pdf(stream: IO[bytes]) -> dict[str, Any]:
    """Validate the last signature of a PDF; a JSON-able record.

    Keys: ``signed``, ``intact``, ``modified_after``, ``signer``, ``issuer``,
    ``signed_at`` (ISO, UTC) and ``problem`` (Vietnamese, "" when fine).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(stream, strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # pyHanko raises many kinds on a damaged file
        logger.info("PDF not readable for signature check: %s", exc)
        return _record(False, problem="Tệp PDF bị hỏng, không đọc được chữ ký số.")
    if not signatures:
        return _record(False, problem="Tệp PDF không có chữ ký số.")
    sig = signatures[-1]
    # No trust roots and no fetching: the certificate chain is shown, not judged.
    context = ValidationContext(trust_roots=[], allow_fetching=False)
    try:
        status = validate_pdf_signature(sig, context)
    except (SignatureValidationError, ValueError, KeyError) as exc:
        logger.info("PDF signature not verifiable: %s", exc)
        return _record(
            True, problem="Chữ ký số không kiểm tra được (dữ liệu chữ ký hỏng)."
        )
    cert = status.signing_cert
    signer = _name(cert.subject)
    issuer = _name(cert.issuer)
    signed_at = status.signer_reported_dt
    if status.timestamp_validity is not None:
        signed_at = status.timestamp_validity.timestamp
    whole = status.coverage in (
        SignatureCoverageLevel.ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION,
    )
    # Bytes after the signed revision that are not themselves signed count as changes.
    modified_after = status.coverage != SignatureCoverageLevel.ENTIRE_FILE and (
        sig is signatures[-1]
    )
    intact = bool(status.intact and status.valid and whole)
    problem = ""
    if not (status.intact and status.valid):
        problem = "Tài liệu đã bị thay đổi sau khi ký số hoặc chữ ký số không hợp lệ."
    elif modified_after:
        problem = "Tài liệu có nội dung được thêm vào sau khi ký số."
    return _record(
        True,
        intact=intact and not modified_after,
        modified_after=modified_after or not status.intact,
        signer=signer,
        issuer=issuer,
        signed_at=signed_at,
        problem=problem,
    )


def _name(name: Any) -> str:
    """The common name of an X.509 name, or its whole readable form."""
    try:
        native = name.native
        return str(native.get("common_name") or name.human_friendly)
    except Exception:
        return str(name.human_friendly)


def _record(
    signed: bool,
    *,
    intact: bool = False,
    modified_after: bool = False,
    signer: str = "",
    issuer: str = "",
    signed_at: datetime | None = None,
    problem: str = "",
) -> dict[str, Any]:
    if signed_at is not None and signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    return {
        "signed": signed,
        "intact": intact,
        "modified_after": modified_after,
        "signer": signer,
        "issuer": issuer,
        "signed_at": signed_at.astimezone(UTC).isoformat() if signed_at else None,
        "problem": problem,
    }


def signing_date(record: dict[str, Any] | None) -> date | None:
    """The signing date in Vietnam time (the date a date-measured leaf reads)."""
    if not record or not record.get("signed_at"):
        return None
    return to_vn(datetime.fromisoformat(record["signed_at"])).date()


def is_good(record: dict[str, Any] | None) -> bool:
    """Signed, and unchanged since signing."""
    return bool(record and record.get("signed") and record.get("intact"))
