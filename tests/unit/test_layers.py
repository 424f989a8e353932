"""The domain packages never import the web layer or its frameworks (DESIGN.md §3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_FRAMEWORKS = {
    "flask",
    "flask_sqlalchemy",
    "flask_wtf",
    "flask_login",
    "sqlalchemy",
    "werkzeug",
    "webapp",
}
FORBIDDEN = {
    "criteria": WEB_FRAMEWORKS | {"scoring", "evidence_store", "boto3"},
    "scoring": WEB_FRAMEWORKS | {"evidence_store", "boto3"},
    "evidence_store": WEB_FRAMEWORKS | {"criteria", "scoring"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_domain_package_imports_no_web_layer(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no Python files"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package])
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_boto3_only_in_the_s3_backend() -> None:
    users = [
        str(f.relative_to(ROOT))
        for f in sorted((ROOT / "evidence_store").rglob("*.py"))
        if {"boto3", "botocore"} & imported_roots(f)
    ]
    assert users == ["evidence_store/s3.py"]


def test_the_check_catches_a_planted_flask_import(tmp_path: Path) -> None:
    planted = tmp_path / "engine.py"
    planted.write_text(
        "from flask import Flask\nimport sqlalchemy.orm\n", encoding="utf-8"
    )
    assert imported_roots(planted) & FORBIDDEN["scoring"] == {"flask", "sqlalchemy"}
