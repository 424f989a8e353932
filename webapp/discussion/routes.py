"""Trao đổi pages: one thread per leaf, as a page or as a fragment for XHR."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from webapp.access import roles_required
from webapp.discussion import bp
from webapp.discussion.threads import (
    BODY_MAX,
    load_thread,
    post_message,
    thread_leaf_or_404,
)
from webapp.errors import ParIndexError, back_to, show_on_form, wants_json
from webapp.fields import TextAreaField
from webapp.models import User

ALL_ROLES = ("admin", "unit_editor", "unit_head", "appraiser")
Page = str | Response | tuple[str, int]


class MessageForm(FlaskForm):
    body = TextAreaField("Nội dung trao đổi")


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _thread_url(assessment_id: int, code: str) -> str:
    return url_for("discussion.thread", assessment_id=assessment_id, code=code)


@bp.route("/assessments/<int:assessment_id>/leaves/<code>", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def thread(assessment_id: int, code: str) -> Page:
    """A leaf's Trao đổi thread; GET with ?fragment=1 (or XHR) returns only the list."""
    user = _user()
    assessment, leaf = thread_leaf_or_404(assessment_id, code, user)
    form = MessageForm()
    status = 200
    if request.method == "POST":
        back_to(_thread_url(assessment.id, leaf.code))
        if form.validate_on_submit():
            try:
                message = post_message(
                    assessment, leaf, form.body.data or "", author=user
                )
            except ParIndexError as exc:
                if wants_json():
                    raise
                show_on_form(form, exc)
                status = exc.status
            else:
                if wants_json():
                    html = render_template(
                        "discussion/_message.html", m=message, user=user
                    )
                    return jsonify({"ok": True, "id": message.id, "html": html})
                flash("Đã gửi trao đổi.", "success")
                return redirect(_thread_url(assessment.id, leaf.code))
        else:
            status = 400
    view = load_thread(assessment, leaf)
    if request.method == "GET" and (
        request.args.get("fragment") == "1" or wants_json()
    ):
        return render_template("discussion/_thread.html", thread=view, user=user)
    html = render_template(
        "discussion/thread.html",
        thread=view,
        form=form,
        user=user,
        body_max=BODY_MAX,
    )
    return html if status == 200 else (html, status)
