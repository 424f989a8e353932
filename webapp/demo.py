"""Demo data: the 2026 ward set, a period due 15/12/2026, units, a user per role."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from criteria import shipped_set_paths
from webapp import lifecycle
from webapp.auth.services import hash_password
from webapp.clock import VN_TZ, vn_end_of_day
from webapp.criteria_sets import import_criteria_set
from webapp.extensions import db
from webapp.lifecycle import PeriodStatus
from webapp.models import AppraiserAssignment, Assessment, Period, Unit, User

demo_cli = AppGroup("demo", help="Dữ liệu mẫu.")

DEMO_SET_ID = "thanhhoa-ubnd-xa-phuong-2026-draft"
DEMO_PASSWORD = "ParIndex@2026"
UNITS = [
    # code, name, place, leader
    ("TRUCLAM", "Phường Trúc Lâm", "Trúc Lâm", "Lê Văn Minh"),
    ("NGHISON", "Phường Nghi Sơn", "Nghi Sơn", "Nguyễn Thị Hoa"),
    ("TINHGIA", "Phường Tĩnh Gia", "Tĩnh Gia", "Trần Đức Thắng"),
    ("CACSON", "Xã Các Sơn", "Các Sơn", "Phạm Văn Hùng"),
]
USERS = [
    # username, full name, role, unit code
    ("admin", "Nguyễn Văn Quản (Sở Nội vụ)", "admin", None),
    ("truclam.chuyenvien", "Hoàng Thị Lan", "unit_editor", "TRUCLAM"),
    ("truclam.lanhdao", "Lê Văn Minh", "unit_head", "TRUCLAM"),
    ("nghison.chuyenvien", "Đỗ Thị Mai", "unit_editor", "NGHISON"),
    ("nghison.lanhdao", "Nguyễn Thị Hoa", "unit_head", "NGHISON"),
    ("thamdinh", "Vũ Thị Thu (Sở Nội vụ)", "appraiser", None),
]


def load_demo() -> list[tuple[str, str, str]]:
    """Create the demo data if missing; return the logins (username, password, role)."""
    path = next(p for p in shipped_set_paths() if p.stem == DEMO_SET_ID)
    import_criteria_set(path)
    units: dict[str, Unit] = {}
    for code, name, place, leader in UNITS:
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
        if unit is None:
            unit = Unit(
                code=code,
                name=name,
                kind="xa_phuong",
                place_name=place,
                leader_name=leader,
                parent_body="",
                report_number="",
            )
            db.session.add(unit)
        units[code] = unit
    db.session.flush()
    for username, full_name, role, unit_code in USERS:
        if db.session.scalar(sa.select(User).where(User.username == username)) is None:
            db.session.add(
                User(
                    username=username,
                    full_name=full_name,
                    role=role,
                    unit=units[unit_code] if unit_code else None,
                    password_hash=hash_password(DEMO_PASSWORD),
                    # Demo mail stays in the app's outbox: no real address.
                    email=f"{username}@demo.parindex.invalid",
                )
            )
    db.session.flush()
    period = db.session.scalar(
        sa.select(Period).where(Period.criteria_set_id == DEMO_SET_ID)
    )
    if period is None:
        period = Period(
            name="Đánh giá Chỉ số CCHC năm 2026 (cấp xã)",
            year=2026,
            criteria_set_id=DEMO_SET_ID,
            opens_at=datetime(2026, 11, 1, tzinfo=VN_TZ),
            self_deadline=vn_end_of_day(2026, 12, 15),
            appraisal_deadline=vn_end_of_day(2027, 1, 15),
            status=PeriodStatus.DRAFT,
            units=list(units.values()),
        )
        lifecycle.open_period(period)
        db.session.add(period)
        db.session.flush()
        for unit in units.values():
            db.session.add(Assessment(period_id=period.id, unit_id=unit.id))
        appraiser = db.session.scalar(
            sa.select(User).where(User.username == "thamdinh")
        )
        assert appraiser is not None  # created with the users above
        for code in ("TRUCLAM", "NGHISON"):
            db.session.add(
                AppraiserAssignment(
                    period_id=period.id, unit_id=units[code].id, user_id=appraiser.id
                )
            )
    db.session.commit()
    return [(u, DEMO_PASSWORD, r) for u, _, r, _ in USERS]


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo data and print the demo logins."""
    logins = load_demo()
    click.echo(f"Dữ liệu mẫu đã sẵn sàng. Tài khoản (mật khẩu chung: {DEMO_PASSWORD}):")
    for username, _, role in logins:
        click.echo(f"  {role:<12} {username}")
    click.echo(
        "Kế hoạch CCHC mẫu (phường Trúc Lâm 2026): tải /plan/sample.docx rồi nhập ở "
        "/plan/, hoặc `flask plan seed-docx FILE` và `flask plan import FILE "
        "--unit TRUCLAM --year 2026`."
    )
