"""Hướng dẫn: the guide of one's role, built from the state of one's work."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from webapp.help import bp
from webapp.help.guide import guide_for

ROLE_TITLES = {
    "unit_editor": "Hướng dẫn cho chuyên viên đơn vị",
    "unit_head": "Hướng dẫn cho lãnh đạo đơn vị",
    "appraiser": "Hướng dẫn cho thành viên thẩm định",
    "admin": "Hướng dẫn cho Sở Nội vụ (quản trị, điều phối)",
}


@bp.get("/")
@login_required
def guide() -> str:
    """What to do now, in order, with the deadline."""
    user = current_user._get_current_object()
    return render_template(
        "help/guide.html", guide=guide_for(user), title=ROLE_TITLES[user.role]
    )
