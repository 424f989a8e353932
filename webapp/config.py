"""Configuration: defaults here, overridden by PARINDEX_* and DATABASE_URL variables."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any


class DefaultConfig:
    """Embedded default: SQLite and a local evidence directory under instance/."""

    SECRET_KEY = "dev-only-change-me"
    SQLALCHEMY_DATABASE_URI: str | None = (
        None  # filled from instance_path in create_app
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = (
        None  # tokens live as long as the session; a long form must not expire
    )
    MAX_CONTENT_LENGTH = 110 * 1024 * 1024  # upload limit (100 MB) plus form overhead
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # PARINDEX_SESSION_COOKIE_SECURE=true behind HTTPS
    SESSION_COOKIE_NAME = "parindex_session"
    IDLE_TIMEOUT_MINUTES = 30
    LOGIN_RATE_LIMIT = "5 per 15 minutes"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    TIMEZONE = "Asia/Ho_Chi_Minh"

    EVIDENCE_BACKEND = "local"
    EVIDENCE_LOCAL_ROOT: str | None = None  # defaults to instance/evidence
    UPLOAD_MAX_BYTES = 100 * 1024 * 1024
    S3_ENDPOINT_URL: str | None = None
    S3_REGION = "us-east-1"
    S3_BUCKET = "parindex-evidence"
    S3_ACCESS_KEY: str | None = None
    S3_SECRET_KEY: str | None = None
    S3_PATH_STYLE = True
    S3_CREATE_BUCKET = False
    S3_PRESIGNED = False


def env_overrides(
    environ: os._Environ[str] | dict[str, str] | None = None,
) -> dict[str, Any]:
    """Read DATABASE_URL and PARINDEX_<KEY>, converted to the default's type."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(environ["DATABASE_URL"])
    for name, raw in environ.items():
        if not name.startswith("PARINDEX_"):
            continue
        key = name.removeprefix("PARINDEX_")
        default = getattr(DefaultConfig, key, None)
        out[key] = _coerce(raw, default)
    return out


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, timedelta):
        return timedelta(seconds=int(raw))
    return raw
