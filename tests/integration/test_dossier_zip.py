"""The streamed evidence ZIP: readable, verifiable, true to the DB, loud if tampered."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.dossier.builders.zip import IntegrityError, verify_zip
from webapp.extensions import db
from webapp.models import AuditEvent, Evidence
from webapp.storage import get_store


def _download(client: Any, assessment_id: int) -> bytes:
    response = client.get(f"/dossier/assessments/{assessment_id}/dossier.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.is_streamed  # built while it is sent, not assembled first
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def test_zip_opens_verifies_and_matches_the_database(
    dossier_case: dict[str, Any], login_as: Any, tmp_path: Path
) -> None:
    assessment = dossier_case["assessment"]
    data = _download(login_as("truclam.chuyenvien"), assessment.id)

    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    names = zf.namelist()
    assert names[-2:] == [
        "manifest.csv",
        "manifest.json",
    ]  # written once every hash checked
    assert "Bảng điểm tự đánh giá - TRUCLAM - 2026.xlsx" in names
    assert "Báo cáo tự đánh giá - TRUCLAM - 2026.docx" in names
    path = tmp_path / "hoso.zip"
    path.write_bytes(data)
    assert verify_zip(path) == []

    manifest = json.loads(zf.read("manifest.json"))
    rows = db.session.scalars(
        sa.select(Evidence).where(Evidence.assessment_id == assessment.id)
    ).all()
    by_id = {f["evidence_id"]: f for f in manifest["files"]}
    assert set(by_id) == {e.id for e in rows}
    for ev in rows:
        entry = by_id[ev.id]
        assert entry["sha256"] == ev.sha256
        assert entry["size"] == ev.size
        assert entry["codes"] == ev.criterion_codes
        assert entry["original_filename"] == ev.original_filename
        assert entry["uploaded_by"] == "Hoàng Thị Lan"
        content = zf.read(entry["path"])
        assert hashlib.sha256(content).hexdigest() == ev.sha256
    assert manifest["assessment"]["source"] == "live"
    assert manifest["totals"]["self"]["points"] is not None


def test_files_are_named_by_leaf_and_citation_in_vietnamese(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    zf = zipfile.ZipFile(
        io.BytesIO(_download(login_as("truclam.chuyenvien"), assessment.id))
    )
    manifest = json.loads(zf.read("manifest.json"))
    paths = {f["evidence_id"]: f["path"] for f in manifest["files"]}

    folder = "1.1.1 - Thời điểm ban hành Kế hoạch CCHC năm 2026 của UBND xã"
    plan, twin = dossier_case["plan"], dossier_case["twin"]
    # "/" of the số/ký hiệu cannot be in a name; two identical names do not collide.
    assert paths[plan.id] == f"{folder}/125-KH-UBND - Kế hoạch CCHC năm 2026.pdf"
    assert paths[twin.id] == f"{folder}/125-KH-UBND - Kế hoạch CCHC năm 2026 (2).pdf"
    assert unicodedata.is_normalized("NFC", paths[plan.id])
    info = zf.getinfo(paths[plan.id])
    assert info.flag_bits & 0x800  # UTF-8 names: every unzip tool shows the diacritics
    # A file proving two leaves is stored once; the other leaf's folder points at it.
    pointer = next(
        n for n in zf.namelist() if n.startswith("1.1.2 - ") and n.endswith(".txt")
    )
    text = zf.read(pointer).decode("utf-8-sig")
    assert paths[plan.id] in text
    assert plan.id in [f["evidence_id"] for f in manifest["files"]]
    assert sorted(
        by["codes"] for by in manifest["files"] if by["evidence_id"] == plan.id
    ) == [["1.1.1", "1.1.2"]]


# What Windows refuses in a path segment: device names before the first dot, a
# trailing dot or space, and its forbidden characters.
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"
}


def _extracts_on_windows(segment: str) -> bool:
    base = segment.split(".", 1)[0].rstrip(" ").upper()
    return (
        bool(segment)
        and segment == segment.rstrip(". ")
        and base not in _WINDOWS_DEVICES
        and not any(c in '<>:"\\|?*' or ord(c) < 32 for c in segment)
    )


def test_reserved_and_trailing_dot_names_extract_on_windows(
    dossier_case: dict[str, Any], login_as: Any, add_evidence: Any
) -> None:
    assessment = dossier_case["assessment"]
    names = ["CON.pdf", "NUL.pdf", "com1.PDF", "LPT9", "aux.tar.pdf", "Báo cáo. .pdf"]
    for name in names:
        add_evidence(assessment, ["1.1.3"], filename=name)
    add_evidence(assessment, ["1.1.3"], filename="Biên bản .pdf", doc_number="12/QĐ.")

    zf = zipfile.ZipFile(
        io.BytesIO(_download(login_as("truclam.chuyenvien"), assessment.id))
    )

    segments = {part for name in zf.namelist() for part in name.split("/")}
    assert [s for s in segments if not _extracts_on_windows(s)] == []
    folder = next(n.split("/")[0] for n in zf.namelist() if n.startswith("1.1.3 - "))
    for expected in ("CON_.pdf", "NUL_.pdf", "com1_.pdf", "LPT9_", "aux_.tar.pdf"):
        assert f"{folder}/{expected}" in zf.namelist()
    assert f"{folder}/Báo cáo.pdf" in zf.namelist()
    assert f"{folder}/12-QĐ - Biên bản.pdf" in zf.namelist()


def test_leaves_without_evidence_are_listed_as_missing(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    zf = zipfile.ZipFile(
        io.BytesIO(_download(login_as("truclam.chuyenvien"), assessment.id))
    )
    manifest = json.loads(zf.read("manifest.json"))
    missing = {m["code"]: m for m in manifest["missing"]}

    assert "1.2" in missing
    assert missing["1.2"]["note"] == "Chậm 01 báo cáo quý I do sự cố đường truyền."
    assert "1.1.1" not in missing and "1.1.3" not in missing
    assert not any(
        code.startswith("1.8") for code in missing
    )  # survey leaves need no file

    raw = zf.read("manifest.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    missing_rows = [r for r in rows if r["Tình trạng"] == "Chưa có tài liệu kiểm chứng"]
    assert "1.2" in {r["Mã tiêu chí"] for r in missing_rows}
    file_rows = [r for r in rows if r["Tình trạng"] == "Có tài liệu"]
    assert {r["SHA-256"] for r in file_rows} == {f["sha256"] for f in manifest["files"]}
    assert any(
        r["Số/ký hiệu"] == "125/KH-UBND" and r["Ngày ban hành"] == "15/01/2026"
        for r in file_rows
    )


def test_an_altered_object_aborts_the_download_and_is_audited(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    report = dossier_case["report"]
    get_store().put(report.storage_key, io.BytesIO(b"%PDF-1.4 da bi sua"))
    client = login_as("truclam.chuyenvien")

    response = client.get(f"/dossier/assessments/{assessment.id}/dossier.zip")
    assert response.status_code == 200  # headers go out before the files are read
    with pytest.raises(IntegrityError) as caught:
        response.get_data()
    assert caught.value.evidence.id == report.id

    db.session.rollback()
    failed = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.export_failed")
    ).all()
    assert len(failed) == 1
    assert failed[0].after["evidence_id"] == report.id
    assert "Báo cáo kết quả.pdf" in failed[0].summary
    assert failed[0].actor_name == "Hoàng Thị Lan"
    assert failed[0].unit_id == assessment.unit_id


def test_a_missing_object_aborts_the_download_too(
    dossier_case: dict[str, Any], login_as: Any
) -> None:
    assessment = dossier_case["assessment"]
    get_store().delete(dossier_case["plan"].storage_key)
    response = login_as("truclam.chuyenvien").get(
        f"/dossier/assessments/{assessment.id}/dossier.zip"
    )
    with pytest.raises(IntegrityError):
        response.get_data()
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.action == "dossier.export_failed"
            )
        )
        == 1
    )


def test_a_submitted_assessment_exports_its_snapshot(
    dossier_case: dict[str, Any],
    submit_directly: Any,
    add_evidence: Any,
    login_as: Any,
) -> None:
    from webapp.workflow import score_row

    assessment = dossier_case["assessment"]
    head = dossier_case["users"]["truclam.lanhdao"]
    submit_directly(assessment, head)
    submitted_points = assessment.snapshot["totals"]["points"]
    # Later changes (a returned leaf edited, a document added) are not the dossier.
    score_row(assessment, "1.1.3").answer = {"value": "100"}
    score_row(assessment, "1.1.3").note = "Sửa sau khi gửi"
    late = add_evidence(assessment, ["1.2"], data=b"%PDF late", filename="Bổ sung.pdf")
    db.session.commit()

    zf = zipfile.ZipFile(
        io.BytesIO(_download(login_as("truclam.chuyenvien"), assessment.id))
    )
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["assessment"]["source"] == "snapshot"
    assert manifest["totals"]["self"]["points"] == submitted_points
    assert late.id not in [f["evidence_id"] for f in manifest["files"]]
    assert "1.2" in [m["code"] for m in manifest["missing"]]


def test_cli_export_and_verify(
    dossier_case: dict[str, Any], app: Any, tmp_path: Path
) -> None:
    assessment = dossier_case["assessment"]
    runner = app.test_cli_runner()
    out = tmp_path / "hoso.zip"

    result = runner.invoke(
        args=["dossier", "export", "--assessment", str(assessment.id), str(out)]
    )
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(out)
    result = runner.invoke(args=["dossier", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "hợp lệ" in result.output

    # Rewrite one evidence file inside the ZIP: verify names it and exits 1.
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    target = manifest["files"][0]["path"]
    tampered = tmp_path / "sua.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, b"khac" if info.filename == target else src.read(info))
    result = runner.invoke(args=["dossier", "verify", str(tampered)])
    assert result.exit_code == 1
    assert target in result.output


def test_cli_export_of_a_tampered_dossier_fails_and_leaves_no_file(
    dossier_case: dict[str, Any], app: Any, tmp_path: Path
) -> None:
    get_store().put(dossier_case["plan"].storage_key, io.BytesIO(b"khac"))
    out = tmp_path / "hoso.zip"
    result = app.test_cli_runner().invoke(
        args=[
            "dossier",
            "export",
            "--assessment",
            str(dossier_case["assessment"].id),
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert "không khớp mã băm" in result.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))
