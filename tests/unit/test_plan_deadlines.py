"""The deadline parser over the words plans use (issue 13), and properties of
quarters and months."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.plan.deadlines import parse_deadline

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@pytest.mark.parametrize(
    ("text", "due", "kind"),
    [
        ("Quý I/2026", date(2026, 3, 31), "date"),
        ("quý II/2026", date(2026, 6, 30), "date"),
        ("tháng 12/2026", date(2026, 12, 31), "date"),
        ("Năm 2026", date(2026, 12, 31), "date"),
        ("Trong năm 2026", date(2026, 12, 31), "date"),
        ("trước ngày 10/01/2026", date(2026, 1, 10), "date"),
        ("chậm nhất tháng 01/2026", date(2026, 1, 31), "date"),
        ("Thường xuyên", date(2026, 12, 31), "continuous"),
        ("- Thường xuyên.", date(2026, 12, 31), "continuous"),
        ("Hằng năm", date(2026, 12, 31), "date"),
        ("Định kỳ hằng quý", date(2026, 12, 31), "quarterly"),
        ("Theo hướng dẫn của cơ quan cấp trên", None, "upstream"),
        ("- Sau khi có văn bản của Trung ương.", None, "upstream"),
    ],
)
def test_every_phrase_of_the_issue(text: str, due: date | None, kind: str) -> None:
    deadline = parse_deadline(text, 2026)
    assert deadline.text == text
    assert deadline.due_date == due
    assert deadline.kind == kind
    assert deadline.interpretation  # always shown to the user


def test_recurring_quarterly_checkpoints() -> None:
    deadline = parse_deadline("Định kỳ hằng quý", 2026)
    assert deadline.checkpoints == (
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
        date(2026, 12, 31),
    )


def test_a_cell_of_several_parts_gets_a_date_per_part() -> None:
    text = "- Kế hoạch: quý I hằng năm. - Báo cáo kết quả: định kỳ quý, năm."
    deadline = parse_deadline(text, 2026)
    plan, report = deadline.parts
    assert (plan.label, plan.due) == ("Kế hoạch", date(2026, 3, 31))
    assert report.label == "Báo cáo kết quả"
    assert report.kind == "quarterly"
    assert report.checkpoints[0] == date(2026, 3, 31)
    assert "báo cáo năm" in report.note
    # The task is due when its last part is.
    assert deadline.due_date == date(2026, 12, 31)


def test_the_seed_cell_with_a_date_and_a_quarterly_report() -> None:
    text = (
        "- Kế hoạch cải cách hành chính năm 2026 của các cơ quan, đơn vị, địa phương: "
        "ban hành trước ngày 10/01/2026. - Báo cáo kết quả thực hiện của các cơ quan, "
        "đơn vị: Định kỳ hằng Quý hoặc đột xuất theo quy định"
    )
    first, second = parse_deadline(text, 2026).parts
    assert first.due == date(2026, 1, 10)
    assert first.label.startswith("Kế hoạch cải cách hành chính năm 2026")
    assert second.kind == "quarterly"


def test_a_part_due_the_next_year_is_kept() -> None:
    text = (
        "- Báo cáo tự chấm điểm: Trước ngày 15/12/2026;\n"
        "- Báo cáo tổng hợp chỉ số cải cách hành chính toàn tỉnh: Quý I/2027."
    )
    deadline = parse_deadline(text, 2026)
    assert [p.due for p in deadline.parts] == [date(2026, 12, 15), date(2027, 3, 31)]
    # The unit's own part, in the plan's year, is what the task is due by.
    assert deadline.due_date == date(2026, 12, 15)
    assert parse_deadline("Quý I/2027", 2026).due_date == date(2027, 3, 31)


def test_the_date_of_a_cited_document_is_not_a_deadline() -> None:
    text = "Theo Kế hoạch số 101/KH-UBND ngày 25/5/2025 của UBND tỉnh."
    deadline = parse_deadline(text, 2026)
    assert (deadline.kind, deadline.due_date) == ("upstream", None)


def test_words_the_parser_does_not_know_get_no_date() -> None:
    deadline = parse_deadline("Khi điều kiện cho phép", 2026)
    assert deadline.due_date is None
    assert deadline.kind == "unknown"


years = st.integers(min_value=2000, max_value=2100)


@given(year=years, quarter=st.integers(1, 4), upper=st.booleans(), spaced=st.booleans())
def test_quarter_is_the_last_day_of_its_third_month(
    year: int, quarter: int, upper: bool, spaced: bool
) -> None:
    sep = " / " if spaced else "/"
    text = f"{'Quý' if upper else 'quý'} {ROMAN[quarter]}{sep}{year}"
    due = parse_deadline(text, 1999).due_date  # the text's year wins over the plan's
    assert due is not None
    assert (due.year, due.month) == (year, quarter * 3)
    assert due.day == calendar.monthrange(year, quarter * 3)[1]


@given(year=years, quarter=st.integers(1, 4))
def test_quarter_without_a_year_is_in_the_plan_year(year: int, quarter: int) -> None:
    due = parse_deadline(f"Kế hoạch: quý {ROMAN[quarter]} hằng năm", year).due_date
    assert due is not None and due.year == year and due.month == quarter * 3


@given(year=years, month=st.integers(1, 12), padded=st.booleans())
def test_month_is_its_last_day(year: int, month: int, padded: bool) -> None:
    text = f"chậm nhất tháng {month:02d}/{year}" if padded else f"tháng {month}/{year}"
    due = parse_deadline(text, 2026).due_date
    assert due == date(year, month, calendar.monthrange(year, month)[1])


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_before_a_day_is_that_day(day: date) -> None:
    text = f"trước ngày {day.day:02d}/{day.month:02d}/{day.year}"
    assert parse_deadline(text, 2026).due_date == day
