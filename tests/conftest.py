"""Fixtures every test directory may use, none of which needs Flask: a settable clock
and the evidence stores (local, and S3 on moto's server mode on 127.0.0.1).

Integration fixtures (app, client, demo data, …) live in tests/integration/conftest.py;
the upload corpora beside the validation tests in tests/unit/uploads/conftest.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest


class Clock:
    """A settable clock for deadline tests; None means real time."""

    def __init__(self) -> None:
        self.value: datetime | None = None

    def __call__(self) -> datetime:
        from webapp.models import utcnow

        return self.value or utcnow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


# --- evidence store fixtures ---
# S3 runs over real HTTP against moto's server mode on 127.0.0.1: one server per
# session (free port chosen by the OS), a fresh bucket per test. The sample and
# hostile upload files are generated here so that web tests can post the same
# corpus through the upload routes. Imports are local: moto is slow to import
# and most runs never need it.

_EV_MIB = 1 << 20
_EV_PART = 5 * _EV_MIB  # S3's minimum part size, so multipart tests stay small


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Any:
    """Yield the URL of a moto S3 server on 127.0.0.1, stopped after the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(moto_s3_endpoint: str) -> dict[str, Any]:
    """Settings for `store_from_settings` (or the app config): S3 on the moto
    server, a fresh bucket created on first use, 5 MiB parts."""
    import uuid

    return {
        "EVIDENCE_BACKEND": "s3",
        "S3_ENDPOINT_URL": moto_s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_BUCKET": f"evidence-{uuid.uuid4().hex[:16]}",
        "S3_ACCESS_KEY": "testing",
        "S3_SECRET_KEY": "testing",
        "S3_PATH_STYLE": True,
        "S3_CREATE_BUCKET": True,
        "S3_PRESIGNED": False,
        "S3_PART_SIZE": _EV_PART,
        "S3_MULTIPART_THRESHOLD": _EV_PART,
    }


@pytest.fixture
def s3_client(moto_s3_endpoint: str) -> Any:
    """A boto3 S3 client for the moto server, configured as in production."""
    from evidence_store import make_client

    return make_client(
        endpoint_url=moto_s3_endpoint, access_key="testing", secret_key="testing"
    )


@pytest.fixture
def s3_store(s3_client: Any, s3_settings: dict[str, Any]) -> Any:
    """An `S3Store` on a fresh bucket of the moto server (5 MiB parts/threshold)."""
    from evidence_store import S3Store

    return S3Store(
        s3_client,
        s3_settings["S3_BUCKET"],
        part_size=_EV_PART,
        multipart_threshold=_EV_PART,
        create_bucket=True,
    )


@pytest.fixture
def local_store(tmp_path: Any) -> Any:
    """A `LocalStore` in a fresh temporary directory."""
    from evidence_store import LocalStore

    return LocalStore(tmp_path / "evidence")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest) -> Any:
    """Each backend in turn: the evidence-store contract suite runs on both."""
    return request.getfixturevalue(f"{request.param}_store")
