"""Evidence storage port: where uploaded proof documents live.

Two backends behind one :class:`EvidenceStore` protocol: :class:`S3Store`
(AWS S3, MinIO or any S3-compatible server) and :class:`LocalStore` (a
directory, the embedded default under ``instance/``). Uploads are checked
first by :func:`validate_upload`. Keys come from :func:`new_key`, never from a
user's filename; the caller keeps the (NFC-normalised) filename for display.

This package imports no Flask, SQLAlchemy or ``webapp``; boto3 only in ``s3``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core import (
    CHUNK_SIZE,
    EvidenceStore,
    IncompleteUpload,
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    Staged,
    StorageError,
    StorageFull,
    StoredObject,
    check_key,
)
from .local import LocalStore
from .text import strip_diacritics
from .validation import (
    DEFAULT_LIMITS,
    KINDS,
    UploadLimits,
    UploadRejected,
    ValidatedUpload,
    check_head,
    normalize_filename,
    validate_upload,
)

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_LIMITS",
    "KINDS",
    "EvidenceStore",
    "IncompleteUpload",
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "S3Store",
    "Staged",
    "StorageError",
    "StorageFull",
    "StoredObject",
    "UploadLimits",
    "UploadRejected",
    "ValidatedUpload",
    "check_head",
    "check_key",
    "make_client",
    "new_key",
    "normalize_filename",
    "store_from_settings",
    "validate_upload",
]

if TYPE_CHECKING:
    from .s3 import S3Store, make_client


def __getattr__(name: str) -> Any:
    # boto3 takes ~0.3 s to import: load the S3 backend only when it is asked for.
    if name in ("S3Store", "make_client"):
        from . import s3

        return getattr(s3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_UNSAFE_UNIT_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def new_key(unit_code: str) -> str:
    """Return a fresh object key ``"<unit>/<32 hex>"`` for a file of a unit.

    The unit code is reduced to ``[A-Za-z0-9_-]`` (diacritics dropped, "đ" as
    "d", other runs of characters as "_", at most 64 characters) so that
    objects group by unit in listings; the random part makes keys unique and
    unguessable. Raises ``ValueError`` if nothing is left of the unit code.
    """
    safe = (
        _UNSAFE_UNIT_CHARS.sub("_", strip_diacritics(unit_code))
        .strip("_-")[:64]
        .strip("_-")
    )
    if not safe:
        raise ValueError(f"unit code {unit_code!r} has no usable character for a key")
    return check_key(f"{safe}/{uuid.uuid4().hex}")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _flag(settings: Mapping[str, Any], name: str, default: bool) -> bool:
    value = settings.get(name, default)
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _size(settings: Mapping[str, Any], name: str, default: int) -> int:
    value = settings.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of bytes, got {value!r}") from None


def _text(settings: Mapping[str, Any], name: str) -> str | None:
    value = settings.get(name)
    return str(value) if value not in (None, "") else None


def store_from_settings(settings: Mapping[str, Any]) -> EvidenceStore:
    """Build the store the configuration asks for.

    Keys (a Flask ``app.config`` works as is; strings from the environment are
    accepted for booleans and sizes):

    * ``EVIDENCE_BACKEND``: ``"local"`` (default) or ``"s3"``.
    * ``EVIDENCE_LOCAL_ROOT``: the directory for ``local`` (required; the web
      app passes ``<instance>/evidence``). Created if missing.
    * ``S3_ENDPOINT_URL`` (empty for AWS), ``S3_REGION`` (default
      ``us-east-1``), ``S3_BUCKET`` (required), ``S3_ACCESS_KEY`` and
      ``S3_SECRET_KEY`` (empty: boto3's usual credential chain),
      ``S3_PATH_STYLE`` (default true, as MinIO needs), ``S3_CREATE_BUCKET``
      (default false), ``S3_PRESIGNED`` (default false),
      ``S3_MULTIPART_THRESHOLD`` and ``S3_PART_SIZE`` (bytes, default 8 MiB).

    Raises ``ValueError`` for a missing or malformed setting and
    :class:`StorageError` if the bucket cannot be checked or created.
    """
    backend = str(settings.get("EVIDENCE_BACKEND") or "local").strip().lower()
    if backend == "local":
        root = settings.get("EVIDENCE_LOCAL_ROOT")
        if not root:
            raise ValueError(
                "EVIDENCE_LOCAL_ROOT is required for the local evidence backend"
            )
        return LocalStore(Path(root))
    if backend == "s3":
        from .s3 import S3Store, make_client

        bucket = _text(settings, "S3_BUCKET")
        if not bucket:
            raise ValueError("S3_BUCKET is required for the s3 evidence backend")
        client = make_client(
            endpoint_url=_text(settings, "S3_ENDPOINT_URL"),
            region=_text(settings, "S3_REGION") or "us-east-1",
            access_key=_text(settings, "S3_ACCESS_KEY"),
            secret_key=_text(settings, "S3_SECRET_KEY"),
            path_style=_flag(settings, "S3_PATH_STYLE", True),
        )
        return S3Store(
            client,
            bucket,
            part_size=_size(settings, "S3_PART_SIZE", 8 << 20),
            multipart_threshold=_size(settings, "S3_MULTIPART_THRESHOLD", 8 << 20),
            presigned=_flag(settings, "S3_PRESIGNED", False),
            create_bucket=_flag(settings, "S3_CREATE_BUCKET", False),
        )
    raise ValueError(f"EVIDENCE_BACKEND must be 'local' or 's3', got {backend!r}")
