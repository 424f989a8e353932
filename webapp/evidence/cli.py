"""`flask evidence …` commands: the sweep between evidence rows and the store."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any, NoReturn

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from evidence_store import StorageError
from evidence_store.sweep import SweepReport, clean, find_problems
from webapp.clock import now, to_vn
from webapp.extensions import db
from webapp.formatting import filesize
from webapp.models import Evidence, Unit
from webapp.storage import get_store

cli = AppGroup("evidence", help="Tài liệu kiểm chứng: kiểm tra kho lưu trữ.")


#: Exit status when the store cannot be reached (1 means "problems found").
EXIT_UNREACHABLE = 2


@cli.command("sweep")
@click.option(
    "--grace-hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="Chỉ coi là tệp mồ côi hoặc lượt tải lên dở dang khi đã nằm trong kho "
    "lâu hơn số giờ này (một lượt tải lên có thể đang được ghi).",
)
@click.option(
    "--delete-orphans",
    "delete",
    is_flag=True,
    help="Xóa các tệp mồ côi (không bản ghi nào tham chiếu) và hủy các lượt tải "
    "lên dở dang (tệp tạm .tmp-*.part, multipart upload S3). "
    "Không bao giờ xóa bản ghi.",
)
@click.option(
    "--no-hashes",
    is_flag=True,
    help="Bỏ qua việc đọc lại và so SHA-256 từng tệp (nhanh hơn trên kho lớn).",
)
def sweep_command(grace_hours: int, delete: bool, no_hashes: bool) -> None:
    """Compare evidence rows with the store: orphans, unfinished uploads, missing and
    corrupted objects.

    Dry run by default. Exit status: 0 when nothing needs attention; 1 when a dry run
    found problems, or when missing/corrupted objects remain after --delete-orphans
    (those need a person: the rows are never touched); 2 when the store cannot be
    reached or is misconfigured. Cron and monitoring notice each.
    """
    rows = db.session.execute(
        sa.select(
            Evidence.id,
            Evidence.storage_key,
            Evidence.sha256,
            Evidence.original_filename,
            Evidence.deleted_at,
            Unit.code,
        )
        .join(Unit, Unit.id == Evidence.unit_id)
        .order_by(Evidence.id)
    ).all()
    # Replaced versions keep their objects (history), so their keys are referenced; a
    # deleted document's object is kept only until this sweep removes it.
    referenced = {row.storage_key: row.sha256 for row in rows if row.deleted_at is None}
    by_key = {row.storage_key: row for row in rows}
    try:
        store = get_store()
        report = find_problems(
            store,
            referenced,
            grace=timedelta(hours=grace_hours),
            now=now(),
            check_hashes=not no_hashes,
        )
    except (StorageError, ValueError) as exc:
        _unreachable(exc)
    click.echo(
        f"Kiểm tra kho tài liệu kiểm chứng: {len(rows)} bản ghi, "
        f"tệp mồ côi tính khi cũ hơn {grace_hours} giờ"
        + ("" if not no_hashes else ", không kiểm tra SHA-256")
        + "."
    )
    _print_report(report, by_key, grace_hours, hashes=not no_hashes)

    if report.ok:
        click.echo("\nKết quả: kho lưu trữ và cơ sở dữ liệu khớp nhau.")
        return
    if delete:
        try:
            done = clean(store, report)
        except StorageError as exc:
            _unreachable(exc)
        click.echo(
            f"\nĐã xóa {done.orphans} tệp mồ côi và hủy {done.incomplete} "
            "lượt tải lên dở dang. Không bản ghi nào bị xóa."
        )
        if report.missing or report.corrupted:
            click.echo(
                "Còn bản ghi mất tệp hoặc tệp bị thay đổi: "
                "cần khôi phục từ bản sao lưu.",
                err=True,
            )
            sys.exit(1)
        return
    click.echo(
        "\nChạy thử: chưa xóa gì. Dùng --delete-orphans để xóa các tệp mồ côi và "
        "hủy các lượt tải lên dở dang; bản ghi mất tệp hoặc tệp bị thay đổi cần "
        "khôi phục từ bản sao lưu.",
        err=True,
    )
    sys.exit(1)


def _print_report(
    report: SweepReport, by_key: dict[str, Any], grace_hours: int, *, hashes: bool
) -> None:
    click.echo(f"\nTệp mồ côi (không bản ghi nào tham chiếu): {len(report.orphans)}")
    for info in report.orphans:
        click.echo(f"  - {info.key} ({filesize(info.size)}, lưu lúc {_stamp(info)})")
    click.echo(
        f"\nLượt tải lên dở dang (tệp tạm, multipart upload): {len(report.incomplete)}"
    )
    for upload in report.incomplete:
        click.echo(_describe_upload(upload))
    hidden = len(report.recent) + len(report.recent_incomplete)
    if hidden:
        # Not acted on (an upload may be under way), but never hidden from the operator.
        click.echo(
            f"\nChưa tính vì mới hơn {grace_hours} giờ (có thể đang tải lên; "
            f"chạy lại sau, hoặc với --grace-hours nhỏ hơn): {hidden}"
        )
        for info in report.recent:
            click.echo(
                f"  - tệp chưa có bản ghi {info.key} ({filesize(info.size)}, "
                f"lưu lúc {_stamp(info)})"
            )
        for upload in report.recent_incomplete:
            click.echo(_describe_upload(upload))
    click.echo(f"\nBản ghi mất tệp trong kho: {len(report.missing)}")
    for key in report.missing:
        click.echo(_describe(by_key[key], key))
    if hashes:
        click.echo(f"\nTệp bị thay đổi (SHA-256 không khớp): {len(report.corrupted)}")
        for key in report.corrupted:
            click.echo(_describe(by_key[key], key))


def _stamp(item: Any) -> str:
    at = getattr(item, "last_modified", None) or item.started
    return str(to_vn(at).strftime("%d/%m/%Y %H:%M"))


def _describe_upload(upload: Any) -> str:
    size = f"{filesize(upload.size)}, " if upload.size is not None else ""
    return f"  - lượt tải lên dở dang {upload.key} ({size}bắt đầu lúc {_stamp(upload)})"


def _unreachable(exc: Exception) -> NoReturn:
    first = (
        exc.message
        if isinstance(exc, StorageError)
        else f"Cấu hình kho lưu trữ không hợp lệ: {exc}."
    )
    click.echo(
        f"{first}\nKiểm tra cấu hình (EVIDENCE_BACKEND, S3_ENDPOINT_URL, S3_BUCKET, "
        "khóa truy cập) và kết nối tới máy chủ lưu trữ, rồi chạy lại. Chưa xóa gì.",
        err=True,
    )
    sys.exit(EXIT_UNREACHABLE)


def _describe(row: Any, key: str) -> str:
    return (
        f"  - Tài liệu #{row.id} “{row.original_filename}” "
        f"(đơn vị {row.code}): khóa {key}"
    )
