"""Command line: `flask criteria …`, `flask demo …`; features add their own groups."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from criteria import CriteriaError, load_criteria_set

criteria_cli = AppGroup("criteria", help="Bộ tiêu chí: kiểm tra, nhập, chấm thử.")


@criteria_cli.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Check a criteria set file; exit 1 and list every problem on error."""
    try:
        cs = load_criteria_set(file)
    except CriteriaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(
        f"Hợp lệ: {cs.id}: {len(cs.leaves())} tiêu chí thành phần, "
        f"{cs.total_max_points} điểm."
    )


@criteria_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Thay bộ tiêu chí chưa được kỳ nào sử dụng."
)
def import_command(file: Path, replace: bool) -> None:
    """Import a criteria set into the database (idempotent)."""
    from webapp.criteria_sets import CriteriaSetInUse, import_criteria_set

    try:
        record, outcome = import_criteria_set(file, replace=replace)
    except CriteriaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except CriteriaSetInUse as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    labels = {
        "created": "Đã nhập",
        "unchanged": "Không thay đổi",
        "replaced": "Đã thay thế",
    }
    click.echo(f"{labels[outcome]}: {record.id}")


@criteria_cli.command("score")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
def score_command(file: Path, answers: Path) -> None:
    """Score an answers JSON file against a criteria set and print the JSON result."""
    from scoring import AnswerError, score_report

    try:
        cs = load_criteria_set(file)
        data = json.loads(answers.read_text(encoding="utf-8"))
        report = score_report(cs, data)
    except CriteriaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except json.JSONDecodeError as exc:
        click.echo(
            f"{answers.name}: JSON không hợp lệ ở dòng {exc.lineno}: {exc.msg}",
            err=True,
        )
        sys.exit(1)
    except AnswerError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


@criteria_cli.command("from-xlsx")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def from_xlsx_command(source: Path, target: Path) -> None:
    """Convert a criteria spreadsheet to checked YAML; exit 1 listing every problem."""
    from criteria.xlsx import read_workbook

    try:
        imported = read_workbook(source.read_bytes(), source.name)
    except OSError as exc:
        click.echo(f"{source.name}: không đọc được tệp ({exc.strerror})", err=True)
        sys.exit(1)
    except CriteriaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    target.write_text(imported.yaml_text, encoding="utf-8")
    cs = imported.criteria_set
    click.echo(f"Đã tạo {target.name}: {cs.id}, {len(cs.leaves())} tiêu chí lá.")


@criteria_cli.command("to-xlsx")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def to_xlsx_command(source: Path, target: Path) -> None:
    """Export a criteria set YAML to the spreadsheet layout provinces publish."""
    from criteria.xlsx import write_workbook
    from scoring import describe_rule

    try:
        text = source.read_text(encoding="utf-8")
        data = write_workbook(text, source.name, describe=describe_rule)
    except OSError as exc:
        click.echo(f"{source.name}: không đọc được tệp ({exc.strerror})", err=True)
        sys.exit(1)
    except CriteriaError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    target.write_bytes(data)
    click.echo(f"Đã tạo {target.name}.")


def register_commands(app: Flask) -> None:
    from webapp.demo import demo_cli
    from webapp.dossier.cli import cli as dossier_cli
    from webapp.evidence.cli import cli as evidence_cli
    from webapp.notify.cli import notify_cli
    from webapp.plan.cli import plan_cli

    for group in (
        criteria_cli,
        demo_cli,
        evidence_cli,
        dossier_cli,
        plan_cli,
        notify_cli,
    ):
        app.cli.add_command(group)
