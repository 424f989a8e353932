"""The JSON API under /api/v1 (DESIGN.md §6): personal tokens, the same services and
the same scoping as the pages, an OpenAPI document generated from the request schemas.

Kept import-light: the account services import :mod:`webapp.api.tokens`, and the
blueprint with its routes is built only when the app registers it (:func:`init_app`).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.api import models  # noqa: F401  (the api_tokens table)
    from webapp.api.blueprint import register

    register(app)
