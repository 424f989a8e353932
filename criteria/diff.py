"""Year over year: how next year's set differs from the set it replaces.

Leaves are matched through a mapping of old codes to new ones. The coordinator sets the
mapping; :func:`suggest_mapping` proposes one (same code with the same title, else the
same title elsewhere, else the same code), so renumbered leaves keep their history.
Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from criteria.schema import CriteriaSet, Node
from criteria.text import fold as _fold

# What a coordinator compares between two versions of a leaf.
COMPARED = ("title", "max_points", "rule", "evidence", "not_applicable", "kind")


@dataclass(frozen=True, slots=True)
class LeafChange:
    """A leaf present in both sets (through the mapping), and what changed."""

    old: Node
    new: Node
    fields: tuple[str, ...]

    @property
    def renumbered(self) -> bool:
        """Tell whether the leaf moved to another code."""
        return self.old.code != self.new.code


@dataclass(frozen=True, slots=True)
class SetDiff:
    """Added, removed, changed and unchanged leaves of ``new`` against ``old``."""

    added: tuple[Node, ...]
    removed: tuple[Node, ...]
    changed: tuple[LeafChange, ...]
    unchanged: tuple[LeafChange, ...]
    mapping: Mapping[str, str]


def suggest_mapping(old: CriteriaSet, new: CriteriaSet) -> dict[str, str]:
    """Propose old leaf code → new leaf code for the leaves that carry over."""
    new_leaves = {leaf.code: leaf for leaf in new.leaves()}
    by_title: dict[str, list[str]] = {}
    for leaf in new.leaves():
        by_title.setdefault(_fold(leaf.title), []).append(leaf.code)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    pending: list[Node] = []
    # Same code and same title first: they are certain and must not be stolen.
    for leaf in old.leaves():
        same = new_leaves.get(leaf.code)
        if same is not None and _fold(same.title) == _fold(leaf.title):
            mapping[leaf.code] = leaf.code
            taken.add(leaf.code)
        else:
            pending.append(leaf)
    for leaf in pending:
        moved = [c for c in by_title.get(_fold(leaf.title), []) if c not in taken]
        if moved:
            mapping[leaf.code] = moved[0]
            taken.add(moved[0])
        elif leaf.code in new_leaves and leaf.code not in taken:
            mapping[leaf.code] = leaf.code  # retitled in place
            taken.add(leaf.code)
    return mapping


def check_mapping(
    old: CriteriaSet, new: CriteriaSet, mapping: Mapping[str, str]
) -> list[str]:
    """Return the problems of a mapping (Vietnamese), empty when it can be used."""
    problems = []
    old_codes = {leaf.code for leaf in old.leaves()}
    new_codes = {leaf.code for leaf in new.leaves()}
    seen: dict[str, str] = {}
    for source, target in mapping.items():
        if source not in old_codes:
            problems.append(f"mã cũ '{source}' không phải tiêu chí lá của {old.id}")
        if target not in new_codes:
            problems.append(f"mã mới '{target}' không phải tiêu chí lá của {new.id}")
        if target in seen:
            problems.append(
                f"mã mới '{target}' được ghép với cả '{seen[target]}' và '{source}'"
            )
        seen[target] = source
    return problems


def diff_sets(
    old: CriteriaSet, new: CriteriaSet, mapping: Mapping[str, str] | None = None
) -> SetDiff:
    """Compare two sets leaf by leaf through ``mapping`` (default: the suggestion)."""
    if mapping is None:
        mapping = suggest_mapping(old, new)
    problems = check_mapping(old, new, mapping)
    if problems:
        raise ValueError("; ".join(problems))
    changed: list[LeafChange] = []
    unchanged: list[LeafChange] = []
    removed: list[Node] = []
    for leaf in old.leaves():
        target = mapping.get(leaf.code)
        if target is None:
            removed.append(leaf)
            continue
        other = new.node(target)
        fields = tuple(f for f in COMPARED if getattr(leaf, f) != getattr(other, f))
        change = LeafChange(leaf, other, fields)
        (changed if fields or change.renumbered else unchanged).append(change)
    mapped = set(mapping.values())
    added = tuple(leaf for leaf in new.leaves() if leaf.code not in mapped)
    return SetDiff(added, tuple(removed), tuple(changed), tuple(unchanged), mapping)
