"""A ZIP the Sở can verify: each kind of tampering is caught against the app's record
of what it issued, and an untouched export names its issue time."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import to_vn
from webapp.extensions import db
from webapp.models import IssuedDossier


def _export(app: Any, assessment_id: int, out: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["dossier", "export", "--assessment", str(assessment_id), str(out)]
    )
    assert result.exit_code == 0, result.output


def _rewrite(
    src_path: Path, dst_path: Path, change: Callable[[str, bytes], bytes | None]
) -> None:
    """Copy a ZIP member by member; ``change`` returns new bytes or None to drop."""
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data)


def _manifest(path: Path) -> dict[str, Any]:
    return json.loads(zipfile.ZipFile(path).read("manifest.json"))


def test_untouched_export_is_recorded_and_named_with_its_issue_time(
    dossier_case: dict[str, Any], app: Any, tmp_path: Path
) -> None:
    out = tmp_path / "hoso.zip"
    _export(app, dossier_case["assessment"].id, out)
    digest = hashlib.sha256(zipfile.ZipFile(out).read("manifest.json")).hexdigest()
    record = db.session.scalars(
        sa.select(IssuedDossier).where(IssuedDossier.manifest_sha256 == digest)
    ).one()
    assert record.assessment_id == dossier_case["assessment"].id
    result = app.test_cli_runner().invoke(args=["dossier", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "Hồ sơ do hệ thống xuất lúc" in result.output
    assert to_vn(record.issued_at).strftime("%d/%m/%Y %H:%M") in result.output


def _file_and_hash(manifest: dict[str, Any]) -> Callable[[str, bytes], bytes | None]:
    target = manifest["files"][0]["path"]
    fake = b"%PDF-1.4 tai lieu khac"

    def change(name: str, data: bytes) -> bytes | None:
        if name == target:
            return fake
        if name == "manifest.json":
            edited = json.loads(data)
            for item in edited["files"]:
                if item["path"] == target:
                    item["sha256"] = hashlib.sha256(fake).hexdigest()
                    item["size"] = len(fake)
            return json.dumps(edited, ensure_ascii=False, indent=2).encode()
        return data

    return change


def _file_and_record(manifest: dict[str, Any]) -> Callable[[str, bytes], bytes | None]:
    target = manifest["files"][0]["path"]

    def change(name: str, data: bytes) -> bytes | None:
        if name == target:
            return None
        if name == "manifest.json":
            edited = json.loads(data)
            edited["files"] = [f for f in edited["files"] if f["path"] != target]
            return json.dumps(edited, ensure_ascii=False, indent=2).encode()
        return data

    return change


def _manifest_edited(manifest: dict[str, Any]) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes | None:
        if name == "manifest.json":
            edited = json.loads(data)
            edited["totals"]["self"]["points"] = "99.00"
            return json.dumps(edited, ensure_ascii=False, indent=2).encode()
        return data

    return change


def _extra_file(manifest: dict[str, Any]) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes | None:
        return data

    return change


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("file + hash edited together", _file_and_hash),
        ("file + record removed", _file_and_record),
        ("manifest edited", _manifest_edited),
        ("extra file", _extra_file),
    ],
)
def test_each_tampering_is_caught(
    dossier_case: dict[str, Any],
    app: Any,
    tmp_path: Path,
    kind: str,
    make: Callable[[dict[str, Any]], Callable[[str, bytes], bytes | None]],
) -> None:
    out = tmp_path / "hoso.zip"
    _export(app, dossier_case["assessment"].id, out)
    tampered = tmp_path / "sua.zip"
    _rewrite(out, tampered, make(_manifest(out)))
    if kind == "extra file":
        with zipfile.ZipFile(tampered, "a") as zf:
            zf.writestr("1.1 - them/tai-lieu-them.pdf", b"%PDF-1.4 them")
    result = app.test_cli_runner().invoke(args=["dossier", "verify", str(tampered)])
    assert result.exit_code == 1, (kind, result.output)
    if kind == "extra file":
        assert "tai-lieu-them.pdf" in result.output
    else:
        assert "KHÔNG khớp hồ sơ nào do hệ thống xuất" in result.output


def test_verify_page_takes_a_zip_or_a_digest(
    dossier_case: dict[str, Any], app: Any, login_as: Any, tmp_path: Path
) -> None:
    out = tmp_path / "hoso.zip"
    _export(app, dossier_case["assessment"].id, out)
    client = login_as("thamdinh")
    assert client.get("/dossier/verify").status_code == 200

    response = client.post(
        "/dossier/verify",
        data={"file": (io.BytesIO(out.read_bytes()), "hoso.zip")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Hồ sơ do hệ thống xuất lúc" in page

    digest = hashlib.sha256(zipfile.ZipFile(out).read("manifest.json")).hexdigest()
    page = client.post("/dossier/verify", data={"digest": digest}).get_data(
        as_text=True
    )
    assert "Hồ sơ do hệ thống xuất lúc" in page

    tampered = tmp_path / "sua.zip"
    _rewrite(out, tampered, _manifest_edited(_manifest(out)))
    response = client.post(
        "/dossier/verify",
        data={"file": (io.BytesIO(tampered.read_bytes()), "sua.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "KHÔNG khớp hồ sơ nào do hệ thống xuất" in response.get_data(as_text=True)
    unit = login_as("truclam.chuyenvien").get("/dossier/verify")
    assert unit.status_code in (403, 404)
