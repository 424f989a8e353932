"""The criteria loader: shipped files load; every kind of mistake is reported."""

from __future__ import annotations

import dataclasses
import pickle
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from criteria import (
    NA_POLICIES,
    RULE_TYPES,
    BinaryRule,
    ChecklistRule,
    CriteriaError,
    CriteriaSet,
    DeductionRule,
    ManualRule,
    RatioRule,
    SurveyRule,
    TierBand,
    TiersRule,
    load_criteria_set,
    parse_criteria_set,
    shipped_set_paths,
)

# -- shipped files ---------------------------------------------------------------


def test_shipped_sets_are_the_two_family_drafts_and_the_mini_set() -> None:
    names = [path.name for path in shipped_set_paths()]
    assert names == [
        "test-mini.yaml",
        "thanhhoa-so-ban-nganh-2026-draft.yaml",
        "thanhhoa-ubnd-xa-phuong-2026-draft.yaml",
    ]


@pytest.mark.parametrize("path", shipped_set_paths(), ids=lambda p: p.name)
def test_every_shipped_set_loads(path: Path) -> None:
    criteria_set = load_criteria_set(path)
    assert criteria_set.leaves()
    # Bonus and penalty areas sit outside the scale (docs/bonus-penalty.md).
    scale = criteria_set.scale_areas()
    assert sum(a.max_points for a in scale) == criteria_set.total_max_points


def test_ward_set_keeps_the_draft_identity(ward_set: CriteriaSet) -> None:
    assert ward_set.id == "thanhhoa-ubnd-xa-phuong-2026-draft"
    assert "DỰ THẢO" in ward_set.title
    assert ward_set.evaluation_year == 2026
    assert ward_set.unit_type == "ubnd_xa_phuong"
    assert ward_set.total_max_points == Decimal(100)
    assert [a.max_points for a in ward_set.areas] == [
        Decimal(n) for n in (9, 8, 24, 8, 12, 8, 15, 16)
    ]
    assert [(b.label, b.min, b.max_lt) for b in ward_set.bands] == [
        ("Xuất sắc (A)", Decimal(90), None),
        ("Tốt (B)", Decimal(80), Decimal(90)),
        ("Khá (C)", Decimal(70), Decimal(80)),
        ("Trung bình", Decimal(50), Decimal(70)),
        ("Yếu", None, Decimal(50)),
    ]
    # Documentation keys stay available untouched.
    assert ward_set.meta["status"] == "draft-unofficial"


def test_ward_set_counts_match_its_stated_structure(ward_set: CriteriaSet) -> None:
    nodes = ward_set.nodes().values()
    depths = Counter(node.depth for node in nodes)
    stated = ward_set.meta["structure_counts"]
    assert stated == {
        "areas": 8,
        "criteria": 41,
        "sub_criteria": 52,
        "scored_leaves": 74,
    }
    assert (depths[1], depths[2], depths[3]) == (8, 41, 52)
    assert len(ward_set.leaves()) == 74
    # Counted here; the methodology note's 23/8/3 for tiers/checklist/manual is off.
    types = Counter(leaf.rule.type for leaf in ward_set.leaves() if leaf.rule)
    assert types == {
        "tiers": 21,
        "binary": 17,  # 3.2.7, 3.2.8 and 5.2.3 added from the 2026 plan
        "survey": 10,
        "checklist": 9,
        "deduction": 7,
        "ratio": 6,
        "manual": 4,
    }
    points: dict[str | None, Decimal] = {}
    for leaf in ward_set.leaves():
        points[leaf.assessed_by] = (
            points.get(leaf.assessed_by, Decimal(0)) + leaf.max_points
        )
    assert points == {"self": 64, "system": 4, "survey": 32}


def test_ward_set_tree_and_rules_are_read_exactly(ward_set: CriteriaSet) -> None:
    plan_date = ward_set.node("1.1.1")
    assert plan_date.depth == 3 and plan_date.is_leaf
    assert ward_set.parent_code("1.1.1") == "1.1"
    assert ward_set.parent_code("1.1") == "1"
    assert ward_set.parent_code("1") is None
    assert isinstance(plan_date.rule, TiersRule)
    assert plan_date.rule.measure.unit == "date"
    assert plan_date.rule.bands == (
        TierBand(until_date=date(2026, 1, 31), points=Decimal("0.5")),
        TierBand(
            from_date=date(2026, 2, 1),
            until_date=date(2026, 2, 28),
            points=Decimal("0.25"),
        ),
        TierBand(otherwise=True, points=Decimal(0)),
    )
    assert plan_date.not_applicable == "not_allowed"
    assert plan_date.evidence == (
        "KH: Kế hoạch CCHC năm 2026 của UBND xã (số, ký hiệu, ngày ký số)",
    )
    disbursed = ward_set.node("6.1.2").rule
    assert isinstance(disbursed, TiersRule)
    assert disbursed.bands[1] == TierBand(
        min=Decimal(80), max_lt=Decimal(95), points="ratio", ratio_base=Decimal(95)
    )
    # Decimal(str(x)): a YAML 0.15 stays exactly 0.15.
    content = ward_set.node("1.1.2").rule
    assert isinstance(content, ChecklistRule)
    assert [i.points for i in content.items] == [
        Decimal(s) for s in ("0.2", "0.15", "0.15")
    ]
    assert isinstance(ward_set.node("1.2").rule, DeductionRule)
    assert ward_set.node("1.2").depth == 2  # a leaf directly under an area
    assert isinstance(ward_set.node("1.5").rule, ManualRule)
    assert isinstance(ward_set.node("1.8").rule, SurveyRule)
    assert isinstance(ward_set.node("2.2.1").rule, BinaryRule)
    assert isinstance(ward_set.node("3.3").rule, RatioRule)
    assert ward_set.node("3.3").assessed_by == "system"


def test_lookup_helpers(ward_set: CriteriaSet) -> None:
    codes = list(ward_set.nodes())
    assert codes[:5] == ["1", "1.1", "1.1.1", "1.1.2", "1.1.3"]
    assert [leaf.code for leaf in ward_set.leaves()][-3:] == ["8.2", "8.3", "8.4"]
    with pytest.raises(KeyError):
        ward_set.node("9.9")
    with pytest.raises(KeyError):
        ward_set.parent_code("9.9")
    ward_set.nodes().clear()  # a copy: the set's own index is untouched
    assert ward_set.node("1").code == "1"


def test_the_mini_set_covers_every_rule_type_and_policy(mini_set: CriteriaSet) -> None:
    leaves = mini_set.leaves()
    assert len(leaves) == 10
    assert mini_set.total_max_points == Decimal(20)
    assert {leaf.rule.type for leaf in leaves if leaf.rule} == set(RULE_TYPES)
    assert {leaf.not_applicable for leaf in leaves} == set(NA_POLICIES)
    assert {leaf.code for leaf in leaves if leaf.depth == 2} == {
        "1.2",
        "1.3",
        "1.4",
        "2.2",
        "2.3",
    }


def test_loaded_objects_are_frozen_and_compare_by_value(
    mini_set: CriteriaSet, mini_path: Path
) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        mini_set.node("1.1.1").max_points = Decimal(5)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mini_set.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        mini_set.meta["id"] = "other"  # type: ignore[index]
    again = load_criteria_set(mini_path)
    assert again == mini_set and hash(again) == hash(mini_set)
    # Picklable (a cache may hold it), with its lookups rebuilt.
    copied = pickle.loads(pickle.dumps(mini_set))
    assert copied == mini_set and copied.node("2.1.1") == mini_set.node("2.1.1")
    assert copied.meta == mini_set.meta


def test_documentation_keys_and_top_level_extras_are_allowed(mini_path: Path) -> None:
    text = mini_path.read_text(encoding="utf-8")
    text = text.replace(
        '    title: "Chế độ báo cáo"\n',
        '    title: "Chế độ báo cáo"\n'
        '    source: "[I]"\n'
        '    guidance: "Đếm theo quý"\n',
    )
    text += "adjustments:\n  enabled: false\n"
    assert parse_criteria_set(text, "extra.yaml").node("1.2").title == "Chế độ báo cáo"


# -- broken files: one per kind of mistake ---------------------------------------------

# (id, [(old, new), ...] applied once each to test-mini.yaml, expected message parts)
BROKEN: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    (
        "unknown key in a rule",
        [("floor: 0.5", "flor: 0.5")],
        [
            "bad.yaml: 1.2: khóa 'flor' không hợp lệ trong cách tính deduction",
            "bad.yaml: 1.2: thiếu khóa bắt buộc 'floor' trong cách tính deduction "
            "(rule.floor)",
        ],
    ),
    (
        "missing key in a rule",
        [(", points_false: 0}", "}")],
        ["bad.yaml: 1.3: thiếu khóa bắt buộc 'points_false'"],
    ),
    (
        "unknown rule type",
        [("type: manual", "type: lottery")],
        ["bad.yaml: 2.1.2: cách tính 'lottery' không hợp lệ; chọn một trong: binary"],
    ),
    (
        "unknown not-applicable policy",
        [("not_applicable: exclude_from_max", "not_applicable: exclude")],
        ["bad.yaml: 1.3: chính sách 'exclude' không hợp lệ", "(not_applicable)"],
    ),
    (
        "unknown assessed_by",
        [("assessed_by: system", "assessed_by: robot")],
        ["bad.yaml: 2.1.1: giá trị 'robot' không hợp lệ", "(assessed_by)"],
    ),
    (
        "code read as a number",
        [('code: "2.1"', "code: 2.10")],
        ['bad.yaml: 2.10: mã phải là chuỗi đặt trong dấu nháy, viết code: "2.10"'],
    ),
    (
        "code without quotes",
        [('code: "1.1.2"', "code: 1.1.2")],
        ["bad.yaml: 1.1.2: mã phải là chuỗi đặt trong dấu nháy", "(code, dòng 52)"],
    ),
    (
        "duplicate code",
        [('code: "1.1.2"', 'code: "1.1.1"')],
        ["bad.yaml: 1.1.1: mã '1.1.1' bị trùng (code)"],
    ),
    (
        "child code not under its parent",
        [('code: "1.1.2"', 'code: "1.2.2"')],
        ["bad.yaml: 1.2.2: mã phải có dạng '1.1.<số>' (bắt đầu bằng mã cha) (code)"],
    ),
    (
        "children do not add up to the parent",
        [
            (
                'title: "Kế hoạch CCHC năm"\n    max_points: 4',
                'title: "Kế hoạch"\n    max_points: 3.5',
            )
        ],
        [
            "bad.yaml: 1.1: tổng điểm các tiêu chí thành phần 4 khác điểm tối đa 3,5 "
            "(max_points)",
            "bad.yaml: 1: tổng điểm các tiêu chí 9,5 khác điểm tối đa 10 (max_points)",
        ],
    ),
    (
        "areas do not add up to the total",
        [("total_max_points: 20", "total_max_points: 21")],
        [
            "bad.yaml: meta: tổng điểm các lĩnh vực 20 khác tổng điểm tối đa 21 "
            "(total_max_points)"
        ],
    ),
    (
        "binary best outcome below the maximum",
        [("points_true: 2, points_false: 0.5", "points_true: 1.5, points_false: 0.5")],
        ["bad.yaml: 2.3: điểm cao nhất theo cách tính 1,5 khác điểm tối đa 2 (rule)"],
    ),
    (
        "tiers best outcome below the maximum",
        [('{until: "2026-01-31", points: 1}', '{until: "2026-01-31", points: 0.75}')],
        [
            "bad.yaml: 1.1.1: điểm cao nhất theo cách tính 0,75 khác điểm tối đa 1 "
            "(rule)"
        ],
    ),
    (
        "tiers ratio band able to exceed the maximum",
        [("ratio_base: 100", "ratio_base: 90")],
        [
            "bad.yaml: 1.1.3: dải tính theo tỷ lệ cho tới 2,22 điểm, "
            "vượt điểm tối đa 2 "
            "(rule.bands[1].ratio_base)"
        ],
    ),
    (
        "checklist items do not add up",
        [('"Đủ nhiệm vụ", points: 0.5}', '"Đủ nhiệm vụ", points: 0.4}')],
        ["bad.yaml: 1.1.2: tổng điểm các nội dung 0,9 khác điểm tối đa 1 (rule.items)"],
    ),
    (
        "deduction start differs from the maximum",
        [("start: 2", "start: 1.5")],
        ["bad.yaml: 1.2: điểm khởi đầu 1,5 khác điểm tối đa 2 (rule.start)"],
    ),
    (
        "manual best level below the maximum",
        [
            (
                '{text: "Được công nhận", points: 2}',
                '{text: "Được công nhận", points: 1.5}',
            )
        ],
        ["bad.yaml: 2.1.2: điểm cao nhất theo cách tính 1,5 khác điểm tối đa 2 (rule)"],
    ),
    (
        "node with children and a rule",
        [
            (
                '    title: "Kế hoạch CCHC năm"\n',
                '    title: "Kế hoạch CCHC năm"\n'
                "    rule: {type: manual, levels: []}\n",
            )
        ],
        [
            "bad.yaml: 1.1: tiêu chí có tiêu chí con (children) "
            "không được có 'rule' (rule)"
        ],
    ),
    (
        "leaf without a rule",
        [
            (
                "    rule: {type: binary, "
                'condition: "Đã xử lý hết các vấn đề phát hiện", '
                "points_true: 1, points_false: 0}\n",
                "",
            )
        ],
        ["bad.yaml: 1.3: tiêu chí lá phải có cách tính điểm (rule) (rule)"],
    ),
    (
        "classification bands with a gap",
        [
            (
                '{label: "Khá", min: 70, max_lt: 80}',
                '{label: "Khá", min: 70, max_lt: 75}',
            )
        ],
        [
            "bad.yaml: meta: cận trên 75 phải bằng cận dưới 80 của mức trên "
            "(không để hở hoặc chồng lấn) (classification_bands[2].max_lt)"
        ],
    ),
    (
        "classification band without bounds",
        [('{label: "Yếu", max_lt: 50}', '{label: "Yếu", colour: red}')],
        [
            "bad.yaml: meta: khóa 'colour' không hợp lệ trong mức xếp loại",
            "bad.yaml: meta: mức xếp loại cần ít nhất một cận 'min' hoặc 'max_lt' "
            "(classification_bands[4])",
        ],
    ),
    (
        "classification bands out of order",
        [('{label: "Tốt", min: 80, max_lt: 90}', '{label: "Tốt", min: 95}')],
        [
            "bad.yaml: meta: các mức phải xếp từ cao xuống thấp: 95 không nhỏ hơn 90 "
            "của mức trên (classification_bands[1].min)"
        ],
    ),
    (
        "tier band without bounds",
        [("{otherwise: true, points: 0}", "{points: 0}")],
        [
            "bad.yaml: 1.1.1: dải không có cận nào; dùng 'otherwise: true'",
            "(rule.bands[2])",
        ],
    ),
    (
        "tier band with min above max_lt",
        [("{min: 50, max_lt: 80, points: 0.5}", "{min: 80, max_lt: 50, points: 0.5}")],
        ["bad.yaml: 1.1.3: cận dưới 80 phải nhỏ hơn cận trên 50 (rule.bands[2])"],
    ),
    (
        "tier band after otherwise",
        [
            (
                "          - {otherwise: true, points: 0}\n",
                "          - {otherwise: true, points: 0}\n"
                '          - {from: "2026-03-01", points: 0}\n',
            )
        ],
        [
            "bad.yaml: 1.1.1: dải nằm sau dải 'otherwise' không bao giờ được xét "
            "(rule.bands[3])"
        ],
    ),
    (
        "date bounds on a percentage",
        [("{max_lt: 50, points: 0}", '{until: "2026-01-01", points: 0}')],
        [
            "bad.yaml: 1.1.3: đo theo tỷ lệ (percent) thì dùng min/max_lt, "
            "không dùng from/until"
        ],
    ),
    (
        "date that does not exist",
        [('until: "2026-02-28"', 'until: "2026-02-30"')],
        [
            "bad.yaml: 1.1.1: '2026-02-30' không phải ngày hợp lệ dạng YYYY-MM-DD "
            "(rule.bands[1].until)"
        ],
    ),
    (
        "date not in ISO form",
        [('until: "2026-01-31"', 'until: "31/01/2026"')],
        ["bad.yaml: 1.1.1: '31/01/2026' không phải ngày hợp lệ dạng YYYY-MM-DD"],
    ),
    (
        "negative deduction",
        [("minus: 0.5}", "minus: -0.5}")],
        ["bad.yaml: 1.2: không được là số âm (-0,5) (rule.events[0].minus)"],
    ),
    (
        "negative maximum",
        [
            (
                'title: "Niêm yết thủ tục"\n    max_points: 2',
                'title: "Niêm yết"\n    max_points: -2',
            )
        ],
        ["bad.yaml: 2.3: không được là số âm (-2) (max_points)"],
    ),
    (
        "maximum that is not a number",
        [
            (
                'title: "Niêm yết thủ tục"\n    max_points: 2',
                'title: "Niêm yết"\n    max_points: hai',
            )
        ],
        ["bad.yaml: 2.3: giá trị 'hai' phải là một số (max_points)"],
    ),
    (
        "ratio target above 100%",
        [("target: 80, floor: 20", "target: 120, floor: 20")],
        ["bad.yaml: 2.1.1: mục tiêu 120% phải lớn hơn 0 và tối đa 100% (rule.target)"],
    ),
    (
        "survey rule on a self-assessed leaf",
        [
            (
                '    title: "Mức độ hài lòng của người dân"\n    max_points: 2\n'
                "    assessed_by: survey",
                '    title: "Mức độ hài lòng của người dân"\n    max_points: 2\n'
                "    assessed_by: self",
            )
        ],
        ["bad.yaml: 2.2: người chấm 'self' không khớp với cách tính 'survey'"],
    ),
    (
        "children key of the wrong level",
        [('  criteria:\n  - code: "2.1"', '  children:\n  - code: "2.1"')],
        [
            "bad.yaml: 2: khóa 'children' không dùng ở cấp này; "
            "dùng 'criteria' (children)",
            "bad.yaml: 2: lĩnh vực phải có danh sách tiêu chí (criteria)",
        ],
    ),
    (
        "key written twice",
        [
            (
                "    max_points: 2\n    assessed_by: self\n"
                "    rule:\n      type: deduction",
                "    max_points: 2\n    max_points: 3\n    assessed_by: self\n"
                "    rule:\n"
                "      type: deduction",
            )
        ],
        [
            "bad.yaml: 1.2: khóa 'max_points' bị lặp lại trong cùng một mục "
            "(max_points, dòng 82)"
        ],
    ),
    (
        "meta without id",
        [("  id: test-mini\n", "")],
        ["bad.yaml: meta: thiếu giá trị (cần một chuỗi văn bản) (id)"],
    ),
]


@pytest.mark.parametrize(
    ("edits", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_each_kind_of_mistake_is_reported(
    mini_path: Path, tmp_path: Path, edits: list[tuple[str, str]], expected: list[str]
) -> None:
    text = mini_path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"fixture edit no longer applies: {old!r}"
        text = text.replace(old, new, 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(CriteriaError) as caught:
        load_criteria_set(bad)
    problems = caught.value.problems
    for part in expected:
        assert any(part in problem for problem in problems), (part, problems)


def test_all_problems_are_reported_together(ward_path: Path) -> None:
    text = ward_path.read_text(encoding="utf-8")
    text = text.replace('code: "1.1.1"', "code: 1.1", 1)  # unquoted, read as 1.1
    text = text.replace("type: checklist", "type: lottery", 1)
    text = text.replace("not_applicable: exclude_from_max", "not_applicable: maybe", 1)
    text = text.replace("start: 3", "start: 2.5", 1)
    with pytest.raises(CriteriaError) as caught:
        parse_criteria_set(text, "thanhhoa.yaml")
    problems = caught.value.problems
    assert len(problems) >= 4
    expected = [
        'thanhhoa.yaml: 1.1: mã phải là chuỗi đặt trong dấu nháy, viết code: "1.1"',
        "thanhhoa.yaml: 1.1: mã '1.1' bị trùng (code)",
        "thanhhoa.yaml: 1.1.2: cách tính 'lottery' không hợp lệ",
        "thanhhoa.yaml: 1.3.2: chính sách 'maybe' không hợp lệ",
        "thanhhoa.yaml: 5.4: điểm khởi đầu 2,5 khác điểm tối đa 3 (rule.start)",
    ]
    for part in expected:
        assert any(p.startswith(part) for p in problems), (part, problems)
    assert str(caught.value) == "\n".join(problems)
    assert all(p.startswith("thanhhoa.yaml: ") for p in problems)


def test_yaml_syntax_error_names_the_line_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "syntax.yaml"
    bad.write_text("meta:\n  id: x\n  title: [unclosed\nareas: []\n", encoding="utf-8")
    with pytest.raises(CriteriaError) as caught:
        load_criteria_set(bad)
    (problem,) = caught.value.problems
    assert problem.startswith("syntax.yaml: dòng 4, cột 6: lỗi cú pháp YAML")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_tabs_are_a_syntax_error_too() -> None:
    with pytest.raises(CriteriaError, match=r"x.yaml: dòng 2, cột 1: lỗi cú pháp YAML"):
        parse_criteria_set("meta:\n\tid: x\n", "x.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            "x.yaml: tệp: nội dung phải là một bảng khóa-giá trị có 'meta' và 'areas'",
        ),
        ("- 1\n- 2\n", "x.yaml: tệp: nội dung phải là một bảng khóa-giá trị"),
        (
            "meta: {}\n",
            "x.yaml: areas: phải là một danh sách lĩnh vực không rỗng (areas)",
        ),
    ],
    ids=["empty", "a list", "no areas"],
)
def test_wrong_document_shapes(text: str, expected: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        parse_criteria_set(text, "x.yaml")
    assert any(p.startswith(expected) for p in caught.value.problems), (
        caught.value.problems
    )


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(CriteriaError, match=r"^absent.yaml: không đọc được tệp"):
        load_criteria_set(tmp_path / "absent.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Bộ tiêu chí".encode("utf-16"))
    with pytest.raises(
        CriteriaError, match=r"^latin.yaml: tệp không được mã hóa UTF-8$"
    ):
        load_criteria_set(str(latin))
