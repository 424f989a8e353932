"""`flask plan import FILE --unit CODE --year YEAR`, `flask plan export`, seed DOCX."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import Unit

plan_cli = AppGroup("plan", help="Kế hoạch CCHC năm của đơn vị: nhập, xuất.")


def _unit(code: str) -> Unit:
    unit: Unit | None = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        click.echo(f"Không có đơn vị mã “{code}”.", err=True)
        sys.exit(1)
    return unit


@plan_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị.")
@click.option("--year", required=True, type=int, help="Năm kế hoạch.")
def import_command(file: Path, unit_code: str, year: int) -> None:
    """Import a plan (DOCX, XLSX or CSV); print how many tasks per appendix."""
    from webapp.plan.parsing import parse_plan_file
    from webapp.plan.tracking import apply_import

    unit = _unit(unit_code)
    try:
        rows = parse_plan_file(file.name, file.read_bytes())
        result = apply_import(unit, year, rows, filename=file.name)
    except ParIndexError as exc:
        click.echo(f"{file.name}: {exc.message}", err=True)
        sys.exit(1)
    counts = result.per_appendix(rows)
    for appendix, count in sorted(counts.items()):
        title = next(r.appendix_title for r in rows if r.appendix == appendix)
        click.echo(f"Phụ lục số {appendix:02d} ({title}): {count} nhiệm vụ")
    click.echo(
        f"Tổng: {len(rows)} nhiệm vụ (mới {len(result.created)}, cập nhật "
        f"{len(result.updated)}, không đổi {len(result.unchanged)}, "
        f"bỏ {len(result.removed)}, giữ lại {len(result.kept)})."
    )


@plan_cli.command("export")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị.")
@click.option("--year", required=True, type=int, help="Năm kế hoạch.")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json")
def export_command(unit_code: str, year: int, fmt: str) -> None:
    """Print the plan's tasks as a JSON list."""
    from webapp.plan.tracking import export_rows

    unit = _unit(unit_code)
    click.echo(json.dumps(export_rows(unit.id, year), ensure_ascii=False, indent=2))


@plan_cli.command("seed-docx")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def seed_docx_command(out: Path) -> None:
    """Write the demo's seed plan (phường Trúc Lâm, 2026) as a DOCX."""
    from webapp.plan.seed import build_docx

    out.write_bytes(build_docx())
    click.echo(f"Đã ghi {out}")
