"""Configuration: defaults here, overridden by PARINDEX_* and DATABASE_URL variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any


class DefaultConfig:
    """Embedded default: SQLite and a local evidence directory under instance/."""

    SECRET_KEY: str | None = None  # PARINDEX_SECRET_KEY, or instance/secret_key
    SQLALCHEMY_DATABASE_URI: str | None = (
        None  # filled from instance_path in create_app
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = (
        None  # tokens live as long as the session; a long form must not expire
    )
    MAX_CONTENT_LENGTH = 110 * 1024 * 1024  # upload limit (100 MB) plus form overhead
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # The cookie goes out when the session changes (last_seen: once a minute of
    # activity), not with every response: it then still lives 8 hours past the last.
    SESSION_REFRESH_EACH_REQUEST = False
    # Rendered criteria-page bodies and leaf fragments kept per process (0: none);
    # webapp/assessment/page_cache.py and leaf_cache.py.
    PAGE_CACHE_SIZE = 128
    LEAF_CACHE_SIZE = 2048
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # PARINDEX_SESSION_COOKIE_SECURE=true behind HTTPS
    SESSION_COOKIE_NAME = "parindex_session"
    # Sent with every response when SESSION_COOKIE_SECURE says the site is HTTPS only;
    # one year, as ASVS 5.0 3.4.1 asks. 0 turns it off.
    HSTS_MAX_AGE = 365 * 24 * 3600
    IDLE_TIMEOUT_MINUTES = 30
    # Failed logins: per account and address, and per address across all accounts (one
    # address trying many usernames). Another address is never blocked by either.
    LOGIN_RATE_LIMIT = "5 per 15 minutes"
    # Requests per personal API token (Flask-Limiter syntax), counted in the same
    # storage as the login throttle.
    API_RATE_LIMIT = "600 per minute"
    # A personal token's life when its owner does not choose one.
    API_TOKEN_DEFAULT_DAYS = 90
    API_TOKEN_MAX_DAYS = 366
    LOGIN_ADDRESS_RATE_LIMIT = "20 per 15 minutes"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
    # believed (nginx alone: 1). 0: the client is the socket's peer, headers ignored.
    TRUSTED_PROXIES = 0
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    TIMEZONE = "Asia/Ho_Chi_Minh"
    # Who issues the appraisal result documents (NĐ 30 header and signature).
    APPRAISAL_ISSUER_PARENT = "UBND TỈNH THANH HÓA"
    APPRAISAL_ISSUER_NAME = "Sở Nội vụ"
    APPRAISAL_ISSUER_PLACE = "Thanh Hóa"
    APPRAISAL_SIGNER_TITLE = "GIÁM ĐỐC"

    EVIDENCE_BACKEND = "local"
    EVIDENCE_LOCAL_ROOT: str | None = None  # defaults to instance/evidence
    UPLOAD_MAX_BYTES = 100 * 1024 * 1024
    # A dossier ZIP brought to the verify page holds every evidence file: far more than
    # one upload. Werkzeug spools it to a temporary file as it arrives, never memory.
    VERIFY_MAX_BYTES = 8 * 1024 * 1024 * 1024
    # Seconds the citation pre-fill may take (a child process); past it, no proposal.
    PREFILL_TIMEOUT = 1.0
    S3_ENDPOINT_URL: str | None = None
    S3_REGION = "us-east-1"
    S3_BUCKET = "parindex-evidence"
    S3_ACCESS_KEY: str | None = None
    S3_SECRET_KEY: str | None = None
    S3_PATH_STYLE = True
    S3_CREATE_BUCKET = False
    S3_PRESIGNED = False

    # Email (webapp/notify): sent over SMTP when PARINDEX_SMTP_HOST is set; without
    # it every message stays in the app's outbox (/notifications/outbox).
    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_USE_TLS = False  # STARTTLS (port 587)
    SMTP_USE_SSL = False  # implicit TLS (port 465)
    SMTP_FROM = "Chỉ số CCHC <no-reply@parindex.invalid>"
    SMTP_TIMEOUT = 10
    # Absolute links in emails start here (the address users open the app at).
    BASE_URL = "http://127.0.0.1:5000"
    PASSWORD_RESET_MINUTES = 30


SECRET_KEY_FILE = "secret_key"


class MissingSecretKey(RuntimeError):
    """No PARINDEX_SECRET_KEY outside the embedded run: sessions would be forgeable."""


def resolve_secret_key(
    config: dict[str, Any], instance_path: Path, embedded: bool
) -> str:
    """The key that signs sessions: configured, or (embedded run only) random and kept.

    Never a constant: a key shipped in the code lets anyone forge an admin session.
    """
    configured = config.get("SECRET_KEY")
    if configured:
        return str(configured)
    if not embedded:
        raise MissingSecretKey(
            "Thiếu khóa bí mật: đặt biến môi trường PARINDEX_SECRET_KEY (chuỗi "
            "ngẫu nhiên, ví dụ `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`) trước khi chạy ứng dụng với cơ sở "
            "dữ liệu riêng. / PARINDEX_SECRET_KEY is not set: the app refuses to "
            "start outside the embedded default without it."
        )
    path = instance_path / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if not key:
        key = secrets.token_urlsafe(48)
        # O_EXCL + 0600: the key is readable by the app's user only, and two workers
        # starting at once cannot both write one.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
    return key


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
