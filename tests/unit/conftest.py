"""Criteria-set fixtures shared by the criteria and scoring unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from criteria import DATA_DIR, CriteriaSet, load_criteria_set

MINI_FILE = DATA_DIR / "test-mini.yaml"
WARD_FILE = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"


@pytest.fixture(scope="session")
def mini_path() -> Path:
    """The small test set (20 points, 10 leaves, every rule type and N/A policy)."""
    return MINI_FILE


@pytest.fixture(scope="session")
def ward_path() -> Path:
    """The 2026 draft set for communes and wards (100 points, 74 leaves)."""
    return WARD_FILE


@pytest.fixture(scope="session")
def mini_set() -> CriteriaSet:
    """The small test set, loaded once."""
    return load_criteria_set(MINI_FILE)


@pytest.fixture(scope="session")
def ward_set() -> CriteriaSet:
    """The 2026 draft ward set, loaded once."""
    return load_criteria_set(WARD_FILE)


BONUS_FILE = Path(__file__).resolve().parent / "data" / "bonus-mini.yaml"


@pytest.fixture(scope="session")
def bonus_path() -> Path:
    """A 10-point set with a bonus (cap 3) and a penalty (cap 2) part, tests only."""
    return BONUS_FILE


@pytest.fixture(scope="session")
def bonus_set() -> CriteriaSet:
    """The bonus/penalty test set, loaded once."""
    return load_criteria_set(BONUS_FILE)
