"""The app's evidence store, built once from settings and kept on the app."""

from __future__ import annotations

from flask import Flask, current_app

from evidence_store import EvidenceStore, UploadLimits, store_from_settings


def init_app(app: Flask) -> None:
    app.extensions["evidence_store"] = (
        None  # built lazily: S3 may be configured later in tests
    )


def get_store() -> EvidenceStore:
    """Return the configured store (local directory by default, or S3/MinIO)."""
    store = current_app.extensions.get("evidence_store")
    if store is None:
        store = store_from_settings(current_app.config)
        current_app.extensions["evidence_store"] = store
    return store


def upload_limits() -> UploadLimits:
    return UploadLimits(max_bytes=int(current_app.config["UPLOAD_MAX_BYTES"]))
