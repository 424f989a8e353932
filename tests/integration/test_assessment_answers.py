"""Answering leaves: a form per rule type, bad input, concurrent edits."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from scoring import format_decimal, normalize_answer, score_assessment, score_leaf
from webapp.clock import VN_TZ
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import AuditEvent, CriterionScore
from webapp.workflow import answers_of

pytestmark = pytest.mark.db


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any, login_as: Any) -> Any:
    """Phường Trúc Lâm's draft, two weeks before the deadline, the editor logged in."""
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")
    return demo["assessments"]["TRUCLAM"]


def _row(assessment: Any, code: str) -> CriterionScore | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )


def _audit_count(action: str = "answer.save") -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action)
    )


def _leaf_html(page: str, code: str) -> str:
    """The HTML of one leaf's section on the assessment page."""
    start = page.index(f'id="leaf-{code}"')
    end = page.find('<section class="leaf', start + 1)
    return page[start : end if end != -1 else len(page)]


def _input_value(html: str, name: str) -> str | None:
    """The value attribute of the input named `name`, None if there is no such input."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def _field_error(page: str, code: str, field: str) -> str:
    """The error shown in the same field block as the input named <code>-<field>."""
    leaf = _leaf_html(page, code)
    name = f'name="{code}-{field}"'
    assert name in leaf, f"no input {name} in leaf {code}"
    block_start = leaf.rfind('class="field', 0, leaf.index(name))
    block_end = leaf.find('class="field', leaf.index(name))
    block = leaf[block_start : block_end if block_end != -1 else len(leaf)]
    assert "has-error" in block[:80], f"field {field} of {code} not marked as in error"
    errors = re.findall(r'<small class="error" role="alert">([^<]*)</small>', block)
    assert errors, f"no error message next to {field} of {code}"
    return " ".join(errors)


def _refused_page(client: Any, response: Any, code: str) -> str:
    """A refused plain save redirects (PRG) to its leaf, which shows what was typed."""
    assert response.status_code == 303
    assert response.location.endswith(f"#leaf-{code}")
    return client.get(response.location).get_data(as_text=True)


VALID = [
    # code, rule, posted fields, the answer JSON the engine must receive
    ("1.1.1", "tiers/date", {"value": "15/01/2026"}, {"value": "2026-01-15"}),
    ("1.1.1", "tiers/date late", {"value": "10/02/2026"}, {"value": "2026-02-10"}),
    ("1.1.2", "checklist", {"checked": ["0", "2"]}, {"checked": [0, 2]}),
    ("1.1.3", "tiers/% comma", {"value": "92,5"}, {"value": "92.5"}),
    (
        "1.1.3",
        "tiers/% fraction",
        {"numerator": "9", "denominator": "10"},
        {"numerator": 9, "denominator": 10},
    ),
    ("1.2", "deduction", {"count_0": "2"}, {"counts": [2]}),
    ("1.5", "manual", {"level": "1"}, {"level": 1}),
    ("2.2.1", "binary yes", {"value": "yes"}, {"value": True}),
    ("2.3.3", "binary no", {"value": "no"}, {"value": False}),
    ("3.2.4", "ratio", {"value": "45,5"}, {"value": "45.5"}),
    (
        "3.3",
        "ratio (system)",
        {"numerator": "7", "denominator": "8"},
        {"numerator": 7, "denominator": 8},
    ),
    ("1.3.2", "N/A out of the max", {"not_applicable": "y"}, {"not_applicable": True}),
]


@pytest.mark.parametrize(
    ("code", "label", "fields", "answer"), VALID, ids=[v[1] for v in VALID]
)
def test_valid_answer_gets_the_engines_points(
    truclam: Any,
    client: Any,
    save_leaf: Any,
    code: str,
    label: str,
    fields: dict[str, Any],
    answer: dict[str, Any],
) -> None:
    leaf = criteria_for(truclam).node(code)
    expected = score_leaf(leaf, answer)

    response = save_leaf(truclam.id, code, note="Theo báo cáo số 12/BC-UBND", **fields)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/assessments/{truclam.id}?area={code.split('.')[0]}#leaf-{code}"
    )
    row = _row(truclam, code)
    assert row is not None
    assert row.answer == normalize_answer(leaf, answer)
    assert row.self_points == expected.points
    assert row.score_explanation == expected.explanation
    assert row.note == "Theo báo cáo số 12/BC-UBND"
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "answer.save")
    )
    assert event.object_id == f"{truclam.id}/{code}"
    assert event.before is None
    # A leaf that did not arise (out of the maximum) has no points: null, shown "—".
    stored = None if expected.points is None else str(expected.points)
    assert event.after["self_points"] == stored

    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    leaf_html = _leaf_html(page, code)
    assert expected.explanation in leaf_html
    shown = "—" if expected.points is None else format_decimal(expected.points)
    assert f"{shown}/" in leaf_html
    # Area and total follow: the engine over every stored answer gives the page's total.
    total = score_assessment(criteria_for(truclam), answers_of(truclam))
    assert (
        f"{format_decimal(total.points)} <small>/ {format_decimal(total.max_points)}"
        in page
    )
    area = code.split(".")[0]
    area_score = total.nodes[area]
    assert (
        f"{format_decimal(area_score.points)}/"
        f"{format_decimal(area_score.max_points)} điểm" in page
    )


def test_saved_answer_is_shown_back_as_typed(
    truclam: Any, client: Any, save_leaf: Any
) -> None:
    save_leaf(truclam.id, "1.1.3", value="92,5")
    save_leaf(truclam.id, "1.1.1", value="15/01/2026")
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    assert _input_value(page, "1.1.3-value") == "92,5"
    assert _input_value(page, "1.1.1-value") == "15/01/2026"
    assert _input_value(page, "1.1.3-version") == "1"


def test_not_applicable_leaves_the_maximum_and_zero_denominator(
    app: Any,
    demo: dict[str, Any],
    clock: Any,
    login_as: Any,
    client: Any,
    save_leaf: Any,
) -> None:
    # N/A on a deduction leaf the set excludes from the maximum (no VBQPPL issued)
    # scores nothing and lowers the maximum; a denominator of 0 (case did not arise)
    # on a not_allowed leaf is refused at the field.
    from webapp.workflow import self_score

    clock.value = datetime(2026, 12, 1, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")
    a = demo["assessments"]["TRUCLAM"]
    leaf = criteria_for(a).node("2.1.2")
    before = self_score(a).max_points
    assert save_leaf(a.id, "2.1.2", not_applicable="y").status_code == 303
    assert _row(a, "2.1.2").self_points is None
    assert self_score(a).max_points == before - leaf.max_points
    page = client.get(f"/assessments/{a.id}?area=all").get_data(as_text=True)
    assert "Không phát sinh (không tính vào điểm tối đa)" in page
    response = save_leaf(a.id, "1.1.3", numerator="0", denominator="0")
    assert "không được khai không phát sinh" in _field_error(
        _refused_page(client, response, "1.1.3"), "1.1.3", "denominator"
    )


BAD = [
    # code, what, posted fields, field where the message shows, words of the message
    (
        "1.1.3",
        "letters in a number",
        {"value": "chín mươi"},
        "value",
        "không phải là số",
    ),
    ("1.1.3", "101 percent", {"value": "101"}, "value", "vượt quá 100%"),
    (
        "1.1.3",
        "numerator above denominator",
        {"numerator": "12", "denominator": "10"},
        "numerator",
        "lớn hơn mẫu số",
    ),
    ("1.1.3", "negative percent", {"value": "-5"}, "value", "không được là số âm"),
    (
        "1.1.3",
        "value and fraction",
        {"value": "50", "numerator": "1", "denominator": "2"},
        "value",
        "không nhập cả hai",
    ),
    (
        "1.1.3",
        "numerator without denominator",
        {"numerator": "3"},
        "denominator",
        "Nhập cả mẫu số",
    ),
    ("1.1.1", "31 February", {"value": "31/02/2026"}, "value", "không có thật"),
    ("1.1.1", "date in another format", {"value": "2026-01-15"}, "value", "dd/mm/yyyy"),
    ("1.2", "negative count", {"count_0": "-1"}, "count_0", "không được là số âm"),
    (
        "1.2",
        "letters in a count",
        {"count_0": "hai"},
        "count_0",
        "không phải là số nguyên",
    ),
    ("1.5", "forged level", {"level": "9"}, "level", "Lựa chọn không hợp lệ"),
    (
        "1.1.2",
        "forged checklist item",
        {"checked": ["0", "7"]},
        "checked",
        "Lựa chọn không hợp lệ",
    ),
]


PRIOR = {
    # a valid answer saved first, so "nothing changed" is checked against a real row
    "1.1.3": {"value": "85"},
    "1.1.1": {"value": "20/01/2026"},
    "1.2": {"count_0": "1"},
    "1.5": {"level": "0"},
    "1.1.2": {"checked": ["1"]},
}


@pytest.mark.parametrize(
    ("code", "what", "fields", "field", "words"), BAD, ids=[b[1] for b in BAD]
)
def test_bad_input_shows_message_at_field_and_changes_nothing(
    truclam: Any,
    client: Any,
    save_leaf: Any,
    code: str,
    what: str,
    fields: dict[str, Any],
    field: str,
    words: str,
) -> None:
    assert (
        save_leaf(
            truclam.id, code, note="Giải trình ban đầu", **PRIOR[code]
        ).status_code
        == 303
    )
    before = _row(truclam, code)
    kept = (before.answer, before.self_points, before.note, before.version)
    events = _audit_count()

    response = save_leaf(truclam.id, code, version=1, note="Sửa lại", **fields)

    page = _refused_page(client, response, code)
    assert words in _field_error(page, code, field)
    # The user's typed values are kept in the re-rendered form.
    leaf = _leaf_html(page, code)
    for name, value in fields.items():
        for typed in value if isinstance(value, list) else [value]:
            if name in ("checked", "level"):
                continue
            assert _input_value(leaf, f"{code}-{name}") == typed
    assert "Sửa lại</textarea>" in leaf
    after = _row(truclam, code)
    assert (after.answer, after.self_points, after.note, after.version) == kept
    assert _audit_count() == events


def test_not_applicable_refused_where_the_policy_forbids_it(
    truclam: Any, client: Any, save_leaf: Any
) -> None:
    assert criteria_for(truclam).node("1.1.3").not_applicable == "not_allowed"
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    assert _input_value(_leaf_html(page, "1.1.3"), "1.1.3-not_applicable") is None

    response = save_leaf(
        truclam.id, "1.1.3", not_applicable="y", note="Không phát sinh"
    )

    leaf = _leaf_html(_refused_page(client, response, "1.1.3"), "1.1.3")
    assert (
        '<p class="error" role="alert">'
        "Tiêu chí này không được khai không phát sinh.</p>" in leaf
    )
    assert "Không phát sinh</textarea>" in leaf
    assert _row(truclam, "1.1.3") is None
    assert _audit_count() == 0


def test_not_applicable_checkbox_only_where_allowed(truclam: Any, client: Any) -> None:
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    for leaf in criteria_for(truclam).leaves():
        if leaf.assessed_by == "survey":
            continue
        offered = f'name="{leaf.code}-not_applicable"' in _leaf_html(page, leaf.code)
        assert offered == (leaf.not_applicable != "not_allowed"), leaf.code


def test_each_rule_type_gets_its_own_inputs(truclam: Any, client: Any) -> None:
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    date_leaf = _leaf_html(page, "1.1.1")
    assert 'placeholder="dd/mm/yyyy"' in date_leaf
    percent = _leaf_html(page, "1.1.3")
    assert 'name="1.1.3-numerator"' in percent and 'name="1.1.3-denominator"' in percent
    checklist = _leaf_html(page, "1.1.2")
    assert checklist.count('type="checkbox"') >= 3
    assert 'name="1.2-count_0"' in _leaf_html(page, "1.2")
    manual = _leaf_html(page, "1.5")
    assert manual.count('type="radio"') == len(
        criteria_for(truclam).node("1.5").rule.levels
    )
    binary = _leaf_html(page, "2.2.1")
    assert 'value="yes"' in binary and 'value="no"' in binary
    for leaf in ("1.1.1", "1.1.3", "1.2", "2.2.1"):
        html = _leaf_html(page, leaf)
        assert f'name="{leaf}-note"' in html and f'name="{leaf}-version"' in html
        assert "Cách tính điểm:" in html


def test_survey_leaf_cannot_be_answered(
    truclam: Any, client: Any, save_leaf: Any
) -> None:
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    survey = _leaf_html(page, "1.8")
    assert "do Sở Nội vụ chấm" in survey
    assert "<form" not in survey.split('class="leaf-evidence"')[0]

    response = save_leaf(truclam.id, "1.8", value="90")

    assert response.status_code == 303
    assert _row(truclam, "1.8") is None
    assert "do Sở Nội vụ chấm" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_only_unit_users_of_the_unit_may_answer(
    demo: dict[str, Any], clock: Any, login_as: Any, save_leaf: Any
) -> None:
    clock.value = datetime(2026, 12, 1, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    login_as("nghison.chuyenvien")
    assert save_leaf(truclam.id, "1.1.3", value="90").status_code == 404
    login_as("admin")
    assert save_leaf(truclam.id, "1.1.3", value="90").status_code == 403
    assert _row(truclam, "1.1.3") is None
    assert _audit_count() == 0


def test_admin_sees_the_page_read_only(
    demo: dict[str, Any], clock: Any, login_as: Any, save_leaf: Any, client: Any
) -> None:
    clock.value = datetime(2026, 12, 1, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    login_as("truclam.chuyenvien")
    save_leaf(truclam.id, "1.1.3", value="92,5", note="Báo cáo 12/BC-UBND")
    login_as("admin")
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    leaf = _leaf_html(page, "1.1.3")
    assert "Tỷ lệ 92,5%" in leaf and "Báo cáo 12/BC-UBND" in leaf
    assert 'class="leaf-form"' not in page
    assert "Chế độ chỉ xem" in page


def test_stale_save_is_refused_and_shows_the_current_value(
    demo: dict[str, Any], clock: Any, login_as: Any, client: Any, save_leaf: Any
) -> None:
    from webapp.assessment.answers import save_answer

    clock.value = datetime(2026, 12, 1, 9, 30, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    leaf = criteria_for(truclam).node("1.1.3")
    login_as("truclam.chuyenvien")
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    version = int(_input_value(page, "1.1.3-version"))
    # Meanwhile the unit head, with the same page open in another browser, saves first.
    save_answer(
        truclam,
        leaf,
        answer={"value": "80"},
        note="Số liệu của lãnh đạo",
        version=version,
        user=demo["users"]["truclam.lanhdao"],
    )

    response = save_leaf(truclam.id, "1.1.3", version=version, value="95")

    leaf_html = _leaf_html(_refused_page(client, response, "1.1.3"), "1.1.3")
    notice = re.search(r'leaf-notice" role="alert">([^<]*)<', leaf_html).group(1)
    assert notice.startswith(
        "Tiêu chí này vừa được Lê Văn Minh cập nhật lúc 09:30:00 01/12/2026; "
        "giá trị hiện tại: Tỷ lệ 80% (0,80 điểm)"
    )
    row = _row(truclam, "1.1.3")
    assert row.answer == {"value": "80"} and row.note == "Số liệu của lãnh đạo"
    assert _audit_count() == 1
    # The refreshed form keeps what was typed; saving again is a deliberate overwrite.
    assert _input_value(leaf_html, "1.1.3-version") == "1"
    assert _input_value(leaf_html, "1.1.3-value") == "95"
    assert save_leaf(truclam.id, "1.1.3", version=1, value="95").status_code == 303
    assert _row(truclam, "1.1.3").answer == {"value": "95"}


def test_concurrent_writes_of_the_same_version_keep_only_the_first(
    demo: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both saves passed the version check; the version column refuses the second."""
    from webapp.assessment import answers as services

    clock.value = datetime(2026, 12, 1, 9, 30, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    leaf = criteria_for(truclam).node("1.1.3")
    editor, head = demo["users"]["truclam.chuyenvien"], demo["users"]["truclam.lanhdao"]
    services.save_answer(
        truclam, leaf, answer={"value": "70"}, note="", version=0, user=editor
    )
    head_id = head.id
    checked = services._current_row

    def check_then_other_writer_commits(assessment: Any, code: str) -> Any:
        row = checked(assessment, code)  # version 1: the check passes
        monkeypatch.undo()  # the other writer commits once, right after the check
        with db.engine.begin() as other:  # another request's connection
            other.execute(
                sa.update(CriterionScore)
                .where(CriterionScore.id == row.id)
                .values(answer={"value": "80"}, version=2, updated_by_id=head_id)
            )
        return row

    monkeypatch.setattr(services, "_current_row", check_then_other_writer_commits)
    with pytest.raises(services.StaleAnswer) as refused:
        services.save_answer(
            truclam, leaf, answer={"value": "95"}, note="", version=1, user=editor
        )

    assert "Lê Văn Minh" in refused.value.message
    assert "Tỷ lệ 80%" in refused.value.message
    assert _row(truclam, "1.1.3").answer == {"value": "80"}
    assert _audit_count() == 1


def test_answer_change_is_audited_with_before_and_after(
    truclam: Any, save_leaf: Any
) -> None:
    save_leaf(truclam.id, "1.1.3", value="85")
    save_leaf(truclam.id, "1.1.3", version=1, value="100", note="Hoàn thành 100%")
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "answer.save")
        .order_by(AuditEvent.id)
    ).all()
    assert len(events) == 2
    assert events[1].before["answer"] == {"value": "85"}
    assert events[1].before["self_points"] == "0.85"
    assert events[1].after["answer"] == {"value": "100"}
    assert events[1].after["self_points"] == "1.00"
    assert events[1].after["note"] == "Hoàn thành 100%"
    assert events[1].actor_name == "Hoàng Thị Lan"
    assert events[1].unit_id == truclam.unit_id


def test_resaving_the_same_values_writes_nothing(truclam: Any, save_leaf: Any) -> None:
    save_leaf(truclam.id, "1.1.3", value="85")
    response = save_leaf(truclam.id, "1.1.3", version=1, value="85,0")
    assert response.status_code == 303
    assert _row(truclam, "1.1.3").version == 1
    assert _audit_count() == 1
    assert Decimal("0.85") == _row(truclam, "1.1.3").self_points


def test_revenue_above_the_estimate_is_accepted_where_the_measure_allows(
    truclam: Any, client: Any, save_leaf: Any
) -> None:
    # 6.1.3 "Thu ngân sách so với dự toán" has no upper limit (max_value: null); the
    # plan-completion rate 1.1.3 still stops at 100 %.
    page = client.get(f"/assessments/{truclam.id}?area=all").get_data(as_text=True)
    assert "Tỷ lệ (%, có thể trên 100%)" in _leaf_html(page, "6.1.3")
    assert "có thể trên 100%" not in _leaf_html(page, "1.1.3")
    assert save_leaf(truclam.id, "6.1.3", value="125,5").status_code == 303
    row = _row(truclam, "6.1.3")
    assert row is not None and row.answer == {"value": "125.5"}
    assert row.self_points == Decimal(1)  # the leaf's maximum, never more
    fraction = save_leaf(
        truclam.id, "6.1.3", version=1, numerator="1.215", denominator="1.000"
    )
    assert fraction.status_code == 303
    before = _row(truclam, "1.1.3")
    refused = save_leaf(truclam.id, "1.1.3", value="125,5")
    # A refused plain-form save redirects (PRG) and shows its message; nothing stored.
    assert refused.status_code == 303
    assert "vượt quá 100%" in client.get(refused.headers["Location"]).text
    assert _row(truclam, "1.1.3") == before
