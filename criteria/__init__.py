"""Criteria sets (bộ tiêu chí): YAML data files, their schema and the checking loader.

Imports only the standard library and PyYAML; never Flask, SQLAlchemy, ``webapp`` or
``scoring`` (``scoring`` depends on this package, not the reverse).
"""

from criteria.loader import (
    DATA_DIR,
    CriteriaError,
    load_criteria_set,
    parse_criteria_set,
    shipped_set_paths,
)
from criteria.schema import (
    ASSESSED_BY,
    EXTRA_KINDS,
    MEASURE_UNITS,
    NA_POLICIES,
    NODE_KINDS,
    RULE_TYPES,
    Band,
    BinaryRule,
    ChecklistItem,
    ChecklistRule,
    CriteriaSet,
    DeductionEvent,
    DeductionRule,
    ManualLevel,
    ManualRule,
    Measure,
    Node,
    RatioRule,
    Rule,
    SurveyRule,
    TierBand,
    TiersRule,
    without_survey,
)

__all__ = [
    "ASSESSED_BY",
    "DATA_DIR",
    "EXTRA_KINDS",
    "MEASURE_UNITS",
    "NA_POLICIES",
    "NODE_KINDS",
    "RULE_TYPES",
    "Band",
    "BinaryRule",
    "ChecklistItem",
    "ChecklistRule",
    "CriteriaError",
    "CriteriaSet",
    "DeductionEvent",
    "DeductionRule",
    "ManualLevel",
    "ManualRule",
    "Measure",
    "Node",
    "RatioRule",
    "Rule",
    "SurveyRule",
    "TierBand",
    "TiersRule",
    "load_criteria_set",
    "parse_criteria_set",
    "shipped_set_paths",
    "without_survey",
]
