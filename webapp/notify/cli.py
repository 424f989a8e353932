"""`flask notify send-due [--at ISO-8601]`: queue the due reminders, send the queue.

Meant for cron or a systemd timer every few minutes (deploy/systemd/parindex-notify.*).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.clock import VN_TZ, now

notify_cli = AppGroup("notify", help="Thông báo và thư: nhắc việc, gửi thư.")


def parse_at(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is read as Asia/Ho_Chi_Minh time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"“{text}” không phải thời điểm ISO 8601 (ví dụ 2026-12-08T08:00+07:00).",
            param_hint="--at",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


@contextmanager
def clock_at(at: datetime) -> Iterator[None]:
    """The app's clock reads `at` inside the block (what is due, what is editable)."""
    saved = current_app.config.get("CLOCK")
    current_app.config["CLOCK"] = lambda: at
    try:
        yield
    finally:
        current_app.config["CLOCK"] = saved


@notify_cli.command("send-due")
@click.option(
    "--at",
    "at_text",
    metavar="ISO-8601",
    help="Chạy như thể đang ở thời điểm này (kiểm tra thư nào sẽ được gửi).",
)
def send_due_command(at_text: str | None) -> None:
    """Queue the reminders due now (or --at) and send every queued email."""
    from webapp.notify.delivery import deliver
    from webapp.notify.reminders import queue_due

    at = parse_at(at_text) if at_text else now()
    with clock_at(at):
        created = queue_due(at)
        result = deliver()
    when = at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")
    click.echo(f"Thời điểm: {when}. Nhắc việc mới: {created} thông báo.")
    if result.to_outbox:
        click.echo(
            f"Đã gửi {result.to_outbox} thư vào hộp thư đi của hệ thống "
            "(chưa cấu hình PARINDEX_SMTP_HOST)."
        )
    else:
        click.echo(f"Đã gửi {result.sent} thư.")
    if result.failed:
        click.echo(
            f"{result.failed} thư chưa gửi được (xem hộp thư đi); "
            f"{result.waiting} thư đang chờ gửi lại ở lần chạy sau.",
            err=True,
        )
        sys.exit(1)
