"""The user's own page of personal API tokens (/account/tokens): list, create (the
token is shown once), revoke. The profile page links here."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from webapp.api import tokens
from webapp.errors import ParIndexError, show_on_form
from webapp.fields import EmptyForm, IntegerField, TextField

pages_bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    name = TextField(
        "Tên mã truy cập", render_kw={"placeholder": "VD: Cổng dữ liệu tỉnh"}
    )
    expires_days = IntegerField("Thời hạn (ngày)", validators=[Optional()])


def _render(form: TokenForm, issued: str | None = None, status: int = 200) -> Any:
    user = current_user._get_current_object()
    return render_template(
        "api/tokens.html",
        form=form,
        revoke_form=EmptyForm(),
        tokens=tokens.list_tokens(user),
        state=tokens.token_state,
        issued=issued,
    ), status


@pages_bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    """Mã truy cập API: the user's tokens, and a new one shown once when created."""
    form = TokenForm()
    if request.method == "GET":
        return _render(form)
    if not form.validate():
        return _render(form, status=422)
    user = current_user._get_current_object()
    try:
        issued = tokens.create_token(
            user,
            name=form.name.data or "",
            expires_days=form.expires_days.data,
            actor=user,
        )
    except ParIndexError as exc:
        show_on_form(form, exc)
        return _render(form, status=exc.status)
    flash(
        f"Đã tạo mã truy cập “{issued.token.name}”. Hãy sao chép ngay: mã chỉ hiện "
        "một lần.",
        "success",
    )
    # Rendered, not redirected: the token is never kept anywhere to show it later.
    return _render(TokenForm(formdata=None), issued=issued.secret, status=201)


@pages_bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Any:
    """Revoke one of the user's own tokens."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = tokens.get_token(token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    tokens.revoke_token(token, actor=current_user._get_current_object())
    flash(f"Đã thu hồi mã truy cập “{token.name}”.", "success")
    return redirect(url_for("api_tokens.index"), 303)
