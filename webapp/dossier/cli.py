"""`flask dossier …`: export a dossier ZIP to a file, verify a ZIP with its manifest."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

cli = AppGroup("dossier", help="Hồ sơ tự chấm điểm: xuất và kiểm tra tệp ZIP.")


@cli.command("export")
@click.option(
    "--assessment",
    "assessment_id",
    type=int,
    required=True,
    help="Mã (id) hồ sơ tự đánh giá.",
)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export_command(assessment_id: int, out: Path) -> None:
    """Write an assessment's dossier ZIP to OUT (exit 1 if a file fails its hash)."""
    from webapp.dossier.builders.zip import IntegrityError
    from webapp.dossier.exports import DossierIncomplete, export_zip
    from webapp.extensions import db
    from webapp.models import Assessment
    from webapp.storage import get_store

    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None:
        click.echo(f"Không có hồ sơ tự đánh giá mã {assessment_id}.", err=True)
        sys.exit(1)
    try:
        export = export_zip(assessment, None, store=get_store())
    except DossierIncomplete as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    # Written under a temporary name and renamed at the end: a failed export leaves no
    # half-written ZIP that could be mistaken for a dossier.
    partial = out.with_name(out.name + ".part")
    try:
        with partial.open("wb") as fh:
            for chunk in export.chunks:
                fh.write(chunk)
        os.replace(partial, out)
    except IntegrityError as exc:
        partial.unlink(missing_ok=True)
        click.echo(exc.message, err=True)
        sys.exit(1)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(
        f"Đã xuất {out} ({export.files} tài liệu kiểm chứng, "
        f"{out.stat().st_size} byte)."
    )


@cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(file: Path) -> None:
    """Check a dossier ZIP against manifest.json and the app's record of issued
    dossiers (exit 1 on any mismatch, or when this app never issued it)."""
    from webapp.dossier.exports import issue_check, issued_text, signed_lines

    problems, record = issue_check(file)
    if problems:
        click.echo(f"{file}: {len(problems)} sai khác so với manifest.json:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
    else:
        click.echo(f"{file}: hợp lệ, mọi tệp khớp mã băm SHA-256 trong manifest.json.")
    click.echo(issued_text(record), err=record is None)
    for line in signed_lines(file):
        click.echo(line)
    if problems or record is None:
        sys.exit(1)
