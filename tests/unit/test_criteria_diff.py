"""Year over year: next year's version of the small test set against this year's.

Version 2 of test-mini (built below): 1.3 and 1.4 swap codes (same titles), 2.3's
"không đạt" now gives 0 instead of 0,5 (rule changed), 1.1.2 asks for one more
document (evidence changed), 2.1.2 is retitled in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from criteria import CriteriaSet, load_criteria_set, parse_criteria_set
from criteria.diff import check_mapping, diff_sets, suggest_mapping


@pytest.fixture(scope="module")
def versions(mini_path: Path) -> tuple[CriteriaSet, CriteriaSet]:
    text = mini_path.read_text(encoding="utf-8")
    old = load_criteria_set(mini_path)
    v2 = (
        text.replace("id: test-mini", "id: test-mini-2027")
        .replace('code: "1.3"', 'code: "1.X"')
        .replace('code: "1.4"', 'code: "1.3"')
        .replace('code: "1.X"', 'code: "1.4"')
        .replace(
            "points_true: 2, points_false: 0.5}", "points_true: 2, points_false: 0}"
        )
        .replace(
            '      evidence: []\n    - code: "1.1.3"',
            '      evidence:\n        - "BB: Biên bản họp"\n    - code: "1.1.3"',
        )
        .replace('title: "Sáng kiến cải cách thủ tục"', 'title: "Sáng kiến CCHC"')
    )
    # Survey 1.4 → 1.3 keeps its place in the document, so the new set is valid.
    return old, parse_criteria_set(v2, "v2.yaml")


def test_suggested_mapping_follows_titles_across_codes(
    versions: tuple[CriteriaSet, CriteriaSet],
) -> None:
    old, new = versions
    mapping = suggest_mapping(old, new)
    assert mapping["1.3"] == "1.4" and mapping["1.4"] == "1.3"
    assert mapping["2.1.2"] == "2.1.2"  # retitled in place
    assert len(mapping) == len(old.leaves())


def test_diff_lists_changed_leaves_with_what_changed(
    versions: tuple[CriteriaSet, CriteriaSet],
) -> None:
    old, new = versions
    diff = diff_sets(old, new)
    changes = {c.old.code: (c.new.code, c.fields) for c in diff.changed}
    assert changes == {
        "1.1.2": ("1.1.2", ("evidence",)),
        "1.3": ("1.4", ()),  # renumbered only
        "1.4": ("1.3", ()),
        "2.1.2": ("2.1.2", ("title",)),
        "2.3": ("2.3", ("rule",)),
    }
    assert not diff.added and not diff.removed
    assert {c.old.code for c in diff.unchanged} == {
        "1.1.1",
        "1.1.3",
        "1.2",
        "2.1.1",
        "2.2",
    }


def test_a_coordinators_mapping_decides_added_and_removed(
    versions: tuple[CriteriaSet, CriteriaSet],
) -> None:
    old, new = versions
    mapping = suggest_mapping(old, new)
    del mapping["2.1.2"]  # "Sáng kiến CCHC" is a new criterion, not last year's
    diff = diff_sets(old, new, mapping)
    assert [leaf.code for leaf in diff.removed] == ["2.1.2"]
    assert [leaf.code for leaf in diff.added] == ["2.1.2"]


def test_bad_mappings_are_refused(versions: tuple[CriteriaSet, CriteriaSet]) -> None:
    old, new = versions
    assert check_mapping(old, new, {"1.1": "1.1.1", "1.2": "9.9"}) == [
        "mã cũ '1.1' không phải tiêu chí lá của test-mini",
        "mã mới '9.9' không phải tiêu chí lá của test-mini-2027",
    ]
    assert check_mapping(old, new, {"1.2": "1.2", "2.3": "1.2"}) == [
        "mã mới '1.2' được ghép với cả '1.2' và '2.3'"
    ]
    with pytest.raises(ValueError, match="9.9"):
        diff_sets(old, new, {"1.2": "9.9"})
