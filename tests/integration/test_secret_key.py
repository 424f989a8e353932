"""The session key: never a constant; refused when missing outside the embedded run."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from webapp import create_app
from webapp.config import MissingSecretKey, resolve_secret_key

pytestmark = pytest.mark.db

OLD_CONSTANT = "dev-only-change-me"


def _cookie_signed_with(key: str, user: Any) -> str:
    """The session cookie an attacker who knows `key` would send for `user`.

    It names an open session record of the user: record ids are small integers an
    attacker can guess, so the signing key is what stands in the way.
    """
    from webapp.account.sessions import start_session
    from webapp.extensions import db

    record = start_session(user)
    db.session.commit()
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return str(
        serializer.dumps(
            {
                "_user_id": user.get_id(),
                "_fresh": True,
                "last_seen": time.time(),
                "sid": record.id,
            }
        )
    )


def test_a_configured_database_without_a_key_refuses_to_start(
    app_config: dict[str, Any],
) -> None:
    config = dict(app_config)
    config.pop("SECRET_KEY")
    with pytest.raises(MissingSecretKey, match="PARINDEX_SECRET_KEY"):
        create_app(config)


def test_the_embedded_key_is_random_private_and_kept(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = resolve_secret_key({}, tmp_path / "a", embedded=True)
    again = resolve_secret_key({}, tmp_path / "a", embedded=True)
    other = resolve_secret_key({}, tmp_path / "b", embedded=True)
    assert first == again
    assert first != other
    assert len(first) >= 40
    mode = stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("key", "reaches_admin"), [(OLD_CONSTANT, False), ("test-secret", True)]
)
def test_only_the_configured_key_signs_an_admin_session(
    app: Any, client: Any, demo: dict[str, Any], key: str, reaches_admin: bool
) -> None:
    # The second case forges with the app's real key: the forgery itself is well made.
    admin = demo["users"]["admin"]
    cookie = _cookie_signed_with(key, admin)
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    response = client.get("/admin/users")
    assert (response.status_code == 200) is reaches_admin
    if not reaches_admin:
        assert "/auth/login" in response.headers["Location"]
