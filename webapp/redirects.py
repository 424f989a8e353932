"""The one check for every redirect or "back" link built from user input (``next``).

Only a path on this site passes. Browsers drop tabs and newlines inside a URL and read a
backslash as a slash, so "/\\t/example.com" and "/\\\\example.com" both lead off-site
as "//example.com"; a newline in a Location header is also a 500 in Werkzeug. Anything
with a control character, a backslash, a scheme, a host, or a leading "//" is refused
rather than repaired.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import request


def safe_path(target: str | None) -> str | None:
    """``target`` if it is a same-origin path ("/evidence/?q=x"), otherwise None."""
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if "\\" in target or any(unicodedata.category(c) in ("Cc", "Cf") for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def next_url(default: str) -> str:
    """The request's ``next`` (form field, then query) if safe, else ``default``."""
    target = request.form.get("next") or request.args.get("next")
    return safe_path(target) or default
