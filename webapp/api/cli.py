"""`flask users token create USERNAME [--name NAME] [--expires-days N]` (prints the
token once) and `flask users token revoke ID`."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from webapp.api import tokens
from webapp.errors import ParIndexError
from webapp.extensions import db
from webapp.models import User

users_cli = AppGroup("users", help="Tài khoản người dùng.")
token_cli = AppGroup("token", help="Mã truy cập API cá nhân.")
users_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("username")
@click.option("--name", default="Dòng lệnh", show_default=True, help="Tên của mã.")
@click.option("--expires-days", type=int, default=None, help="Số ngày hiệu lực.")
def create_command(username: str, name: str, expires_days: int | None) -> None:
    """Create a personal API token for USERNAME and print it (shown only this once)."""
    user = db.session.scalar(
        sa.select(User).where(User.username == username.strip().lower())
    )
    if user is None:
        click.echo(f"Không có tài khoản {username}.", err=True)
        sys.exit(1)
    try:
        issued = tokens.create_token(
            user, name=name, expires_days=expires_days, actor=None
        )
    except ParIndexError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    expires = issued.token.expires_at.strftime("%d/%m/%Y")
    click.echo(
        f"Mã truy cập #{issued.token.id} “{issued.token.name}” của {user.username}, "
        f"hết hạn {expires} (chỉ hiện một lần):",
        err=True,
    )
    click.echo(issued.secret)


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_command(token_id: int) -> None:
    """Revoke the token with this id."""
    token = tokens.get_token(token_id)
    if token is None:
        click.echo(f"Không có mã truy cập #{token_id}.", err=True)
        sys.exit(1)
    try:
        tokens.revoke_token(token, actor=None)
    except ParIndexError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"Đã thu hồi mã truy cập #{token.id} “{token.name}”.")
