"""`flask evidence …` commands: the sweep between evidence rows and the store."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from evidence_store.sweep import delete_orphans, find_problems
from webapp.clock import now, to_vn
from webapp.extensions import db
from webapp.formatting import filesize
from webapp.models import Evidence, Unit
from webapp.storage import get_store

cli = AppGroup("evidence", help="Tài liệu kiểm chứng: kiểm tra kho lưu trữ.")


@cli.command("sweep")
@click.option(
    "--grace-hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="Chỉ coi là tệp mồ côi khi đã nằm trong kho lâu hơn số giờ này "
    "(một lượt tải lên đang ghi cơ sở dữ liệu chưa kịp có bản ghi).",
)
@click.option(
    "--delete-orphans",
    "delete",
    is_flag=True,
    help="Xóa các tệp mồ côi (không bản ghi nào tham chiếu). "
    "Không bao giờ xóa bản ghi.",
)
@click.option(
    "--no-hashes",
    is_flag=True,
    help="Bỏ qua việc đọc lại và so SHA-256 từng tệp (nhanh hơn trên kho lớn).",
)
def sweep_command(grace_hours: int, delete: bool, no_hashes: bool) -> None:
    """Compare evidence rows with the store: orphans, missing and corrupted objects.

    Dry run by default. Exit status: 0 when nothing needs attention; 1 when a dry run
    found problems, or when missing/corrupted objects remain after --delete-orphans
    (those need a person: the rows are never touched), so cron and monitoring notice.
    """
    rows = db.session.execute(
        sa.select(
            Evidence.id,
            Evidence.storage_key,
            Evidence.sha256,
            Evidence.original_filename,
            Unit.code,
        )
        .join(Unit, Unit.id == Evidence.unit_id)
        .order_by(Evidence.id)
    ).all()
    # Replaced versions keep their objects (history), so every row's key is referenced.
    referenced = {row.storage_key: row.sha256 for row in rows}
    by_key = {row.storage_key: row for row in rows}
    report = find_problems(
        get_store(),
        referenced,
        grace=timedelta(hours=grace_hours),
        now=now(),
        check_hashes=not no_hashes,
    )
    click.echo(
        f"Kiểm tra kho tài liệu kiểm chứng: {len(rows)} bản ghi, "
        f"tệp mồ côi tính khi cũ hơn {grace_hours} giờ"
        + ("" if not no_hashes else ", không kiểm tra SHA-256")
        + "."
    )

    click.echo(f"\nTệp mồ côi (không bản ghi nào tham chiếu): {len(report.orphans)}")
    for info in report.orphans:
        stamp = to_vn(info.last_modified).strftime("%d/%m/%Y %H:%M")
        click.echo(f"  - {info.key} ({filesize(info.size)}, lưu lúc {stamp})")
    click.echo(f"\nBản ghi mất tệp trong kho: {len(report.missing)}")
    for key in report.missing:
        row = by_key[key]
        click.echo(_describe(row, key))
    if not no_hashes:
        click.echo(f"\nTệp bị thay đổi (SHA-256 không khớp): {len(report.corrupted)}")
        for key in report.corrupted:
            row = by_key[key]
            click.echo(_describe(row, key))

    if report.ok:
        click.echo("\nKết quả: kho lưu trữ và cơ sở dữ liệu khớp nhau.")
        return
    if delete:
        deleted = delete_orphans(get_store(), report)
        click.echo(f"\nĐã xóa {deleted} tệp mồ côi. Không bản ghi nào bị xóa.")
        if report.missing or report.corrupted:
            click.echo(
                "Còn bản ghi mất tệp hoặc tệp bị thay đổi: "
                "cần khôi phục từ bản sao lưu.",
                err=True,
            )
            sys.exit(1)
        return
    click.echo(
        "\nChạy thử: chưa xóa gì. Dùng --delete-orphans để xóa các tệp mồ côi; "
        "bản ghi mất tệp hoặc tệp bị thay đổi cần khôi phục từ bản sao lưu.",
        err=True,
    )
    sys.exit(1)


def _describe(row: Any, key: str) -> str:
    return (
        f"  - Tài liệu #{row.id} “{row.original_filename}” "
        f"(đơn vị {row.code}): khóa {key}"
    )
