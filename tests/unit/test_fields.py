"""The one reader of what users type: Vietnamese numbers, dates and text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.errors import ParIndexError
from webapp.fields import (
    InvalidInput,
    clean_text,
    page_number,
    parse_count,
    parse_date,
    parse_number,
)
from webapp.formatting import number as format_number

vietnamese_decimals = st.decimals(
    min_value=0,
    max_value=Decimal("999999999999.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@given(vietnamese_decimals)
def test_every_number_written_the_vietnamese_way_reads_back_as_itself(
    value: Decimal,
) -> None:
    written = format_number(value)
    assert parse_number(written) == value


@given(st.integers(min_value=0, max_value=1_000_000))
def test_every_count_written_the_vietnamese_way_reads_back_as_itself(n: int) -> None:
    written = format_number(n)
    assert parse_count(written) == n
    assert parse_number(written, integer=True) == n


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.215", Decimal(1215)),
        ("92,5", Decimal("92.5")),
        ("1.234,5", Decimal("1234.5")),
        ("1.234.567,25", Decimal("1234567.25")),
        ("1215", Decimal(1215)),
        ("0,05", Decimal("0.05")),
        (" 7 ", Decimal(7)),
        ("1\u00a0215", None),  # a space inside a number is not a thousands mark
    ],
)
def test_dots_group_thousands_and_the_comma_marks_decimals(
    text: str, value: Decimal | None
) -> None:
    if value is None:
        with pytest.raises(InvalidInput):
            parse_number(text)
    else:
        assert parse_number(text) == value


def test_the_written_form_groups_thousands_with_dots() -> None:
    assert format_number(Decimal(1215)) == "1.215"
    assert format_number(Decimal("1234.50")) == "1.234,5"
    assert format_number(Decimal("92.5")) == "92,5"
    assert format_number(None) == ""


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1e2", "lũy thừa"),
        ("1E+3", "lũy thừa"),
        ("92.5", "92,5"),  # a dot before one digit cannot group thousands
        ("1.2345", "1,2345"),
        ("1,234,5", "dấu phẩy trước phần thập phân"),
        ("12.34.567", "dấu phẩy trước phần thập phân"),
        ("abc", "dấu chấm tách hàng nghìn"),
        ("NaN", "dấu chấm tách hàng nghìn"),
        ("Infinity", "dấu chấm tách hàng nghìn"),
        ("", "Chưa nhập số"),
    ],
)
def test_ambiguous_or_foreign_forms_are_refused_with_how_to_write_them(
    text: str, hint: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_number(text)
    assert hint in caught.value.message


def test_a_count_refuses_a_dot_that_cannot_group_thousands() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_count("1.5")
    assert "dấu chấm chỉ dùng để tách hàng nghìn" in caught.value.message
    assert "ví dụ 1.500" in caught.value.message
    with pytest.raises(InvalidInput, match="không phải là số nguyên"):
        parse_count("1,5")
    with pytest.raises(InvalidInput, match="không được là số âm"):
        parse_count("-2")
    assert parse_count("1.500") == 1500


def test_huge_numbers_are_refused_by_length_and_magnitude_before_any_arithmetic() -> (
    None
):
    with pytest.raises(InvalidInput, match="quá dài"):
        parse_count("9" * 4300)
    with pytest.raises(InvalidInput, match="quá dài"):
        parse_number("1" * 31)
    with pytest.raises(InvalidInput, match="quá lớn"):
        parse_number("1" * 13)
    with pytest.raises(InvalidInput, match="vượt quá mức tối đa 1.000.000"):
        parse_count("1.000.001")
    with pytest.raises(InvalidInput, match="quá lớn"):
        parse_number("0,1234567")
    # The long input is not echoed in full.
    with pytest.raises(InvalidInput) as caught:
        parse_number("x" * 29)
    assert "x" * 21 not in caught.value.message


def test_a_percent_sign_is_read_only_where_a_percentage_is_typed() -> None:
    assert parse_number("85,25%", percent=True) == Decimal("85.25")
    with pytest.raises(InvalidInput, match="không nhập dấu %"):
        parse_number("85%")


def test_a_refusal_is_a_par_index_error_and_a_value_error_with_its_field() -> None:
    with pytest.raises(ParIndexError) as caught:
        parse_number("1e2", field="value")
    assert caught.value.field == "value" and caught.value.status == 400
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15/01/2026", date(2026, 1, 15)),
        ("5/1/2026", date(2026, 1, 5)),
        ("01/01/1900", date(1900, 1, 1)),
        ("31/12/2100", date(2100, 12, 31)),
    ],
)
def test_dates_are_read_as_dd_mm_yyyy(text: str, value: date) -> None:
    assert parse_date(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("15/01/0001", "nằm ngoài khoảng cho phép (01/01/1900 đến 31/12/2100)"),
        ("31/12/1899", "nằm ngoài khoảng cho phép"),
        ("01/01/2101", "nằm ngoài khoảng cho phép"),
        ("31/02/2026", "không có thật"),
        ("2026-01-15", "không hợp lệ, nhập theo dạng dd/mm/yyyy"),
        ("15/01/26", "dd/mm/yyyy"),
        ("15.01.2026", "dd/mm/yyyy"),
    ],
)
def test_impossible_or_out_of_range_dates_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date(text)
    assert message in caught.value.message


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_every_day_written_as_dd_mm_yyyy_reads_back(day: date) -> None:
    assert parse_date(day.strftime("%d/%m/%Y")) == day


@pytest.mark.parametrize("bad", ["a\x00b", "x\x07", "\x1b[31m", "\x7f", "a\x85b"])
def test_text_with_control_characters_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="ký tự điều khiển"):
        clean_text(bad)


def test_text_keeps_line_breaks_and_tabs_and_loses_the_surrounding_spaces() -> None:
    assert clean_text("  Dòng 1\r\n\tDòng 2  ") == "Dòng 1\r\n\tDòng 2"


def test_page_numbers_are_bounded() -> None:
    assert page_number({}) == 1
    assert page_number({"page": "3"}) == 3
    assert page_number({"page": "0"}) == 1
    with pytest.raises(InvalidInput, match="Số trang"):
        page_number({"page": str(10**20)})
    with pytest.raises(InvalidInput):
        page_number({"page": "-1"})
