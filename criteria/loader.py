"""Read a criteria-set YAML file (DESIGN.md §4) into a checked ``CriteriaSet``.

Contract: :func:`parse_criteria_set` either returns a fully checked, immutable set or
raises :class:`CriteriaError` listing *every* problem found, each naming the file, the
node code (or ``meta`` path) and the field, in Vietnamese. Nothing is half-loaded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from criteria.schema import (
    ASSESSED_BY,
    EXTRA_KINDS,
    MEASURE_UNITS,
    NA_POLICIES,
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
)

DATA_DIR: Path = Path(__file__).resolve().parent / "data"

# Every parameter DESIGN.md §4 lists for a rule is required: a missing one is a typo.
_RULE_KEYS: dict[str, tuple[str, ...]] = {
    "binary": ("condition", "points_true", "points_false"),
    "tiers": ("measure", "bands"),
    "ratio": ("measure", "target", "floor"),
    "checklist": ("items",),
    "deduction": ("start", "events", "floor"),
    "manual": ("levels",),
    "survey": ("instrument", "formula"),
}
_TIER_BAND_KEYS = (
    "min",
    "max_lt",
    "from",
    "until",
    "otherwise",
    "points",
    "ratio_base",
)
_BAND_KEYS = ("label", "min", "max_lt")
_LEAF_KEYS = ("assessed_by", "rule", "not_applicable", "evidence")
_KIND_NAMES = {"bonus": "điểm thưởng", "penalty": "điểm trừ"}
# `source` is otherwise free documentation (a citation); these values name a feed.
FACT_SOURCES = ("plan_completion",)
# The key holding a node's children depends on its depth (DESIGN.md §4).
_CHILD_KEY = {1: "criteria", 2: "children"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HUNDRED = Decimal(100)


class CriteriaError(Exception):
    """A criteria file is unreadable or invalid; ``problems`` lists every finding."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


def load_criteria_set(path: str | Path) -> CriteriaSet:
    """Load and check the criteria set in a YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CriteriaError([f"{path.name}: tệp không được mã hóa UTF-8"]) from None
    except OSError as exc:
        raise CriteriaError(
            [f"{path.name}: không đọc được tệp ({exc.strerror})"]
        ) from None
    return parse_criteria_set(text, path.name)


def parse_criteria_set(text: str, source: str) -> CriteriaSet:
    """Parse and check criteria-set YAML text; ``source`` names it in messages."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise CriteriaError([_syntax_message(source, exc)]) from None
    except yaml.YAMLError as exc:
        raise CriteriaError([f"{source}: lỗi cú pháp YAML: {exc}"]) from None
    finally:
        loader.dispose()
    checker = _Checker(source)
    for code, key, line in loader.duplicate_keys:
        where = f"{code}: " if isinstance(code, str) else ""
        checker.problems.append(
            f"{source}: {where}khóa '{key}' bị lặp lại trong cùng một mục "
            f"({key}, dòng {line})"
        )
    checker.unquoted_codes = loader.unquoted_codes
    criteria_set = checker.check(data)
    if checker.problems or criteria_set is None:
        raise CriteriaError(checker.problems)
    return criteria_set


def shipped_set_paths() -> list[Path]:
    """Return the criteria-set files shipped in ``criteria/data``, sorted by name."""
    return sorted(DATA_DIR.glob("*.yaml"))


def _syntax_message(source: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "không rõ"
    if mark is None:
        return f"{source}: lỗi cú pháp YAML: {problem}"
    where = f"dòng {mark.line + 1}, cột {mark.column + 1}"
    return f"{source}: {where}: lỗi cú pháp YAML: {problem}"


# libyaml's parser when present: the 2026 set parses in ~0.1 s instead of ~1.2 s.
_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoaderBase):  # type: ignore[valid-type,misc]
    """SafeLoader that keeps unquoted codes verbatim and notes duplicate keys.

    PyYAML reads ``code: 1.10`` as the float 1.1 and silently keeps the last of two
    equal keys; both hide authoring mistakes, so they are recorded and reported.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.unquoted_codes: dict[str, int] = {}
        # (code of the mapping holding the key, if any; key; line)
        self.duplicate_keys: list[tuple[object, str, int]] = []

    def construct_mapping(
        self, node: MappingNode, deep: bool = False
    ) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        repeated: list[tuple[str, int]] = []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in mapping
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            if seen:
                repeated.append((str(key), key_node.start_mark.line + 1))
            if (
                key == "code"
                and isinstance(value_node, ScalarNode)
                and not value_node.style
            ):
                value: Any = value_node.value
                self.unquoted_codes.setdefault(value, value_node.start_mark.line + 1)
            else:
                value = self.construct_object(value_node, deep=deep)
            mapping[key] = value
        # Known only now: the code of the node the repeated keys belong to.
        self.duplicate_keys += [(mapping.get("code"), k, n) for k, n in repeated]
        return mapping


def _min_bound(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The lower of two upper bounds, ``None`` meaning unbounded."""
    if a is None:
        return b
    return a if b is None else min(a, b)


def _reachable(
    band: TierBand, earlier: Sequence[TierBand], ceiling: Decimal | None
) -> bool:
    """Tell whether some value in [0, ceiling] falls in the band and no earlier one.

    Bands are matched top-down, so a band is dead when it lies beyond the measure's
    limit or when the bands above it already take every value it covers.
    """

    def span(b: TierBand) -> tuple[Decimal, Decimal | None]:
        if b.otherwise:
            return Decimal(0), None
        return (b.min or Decimal(0)), b.max_lt

    low, high = span(band)
    if ceiling is not None and low > ceiling:
        return False
    if high is not None and high <= low:
        return False
    taken = sorted(span(b) for b in earlier)
    point = low  # the lowest value of the band not yet known to be taken
    moved = True
    while moved:
        moved = False
        for start, end in taken:
            if start <= point and (end is None or end > point):
                if end is None:
                    return False
                point, moved = end, True
    if high is not None and point >= high:
        return False
    # A closed ceiling: the value ``ceiling`` itself is still free if point == ceiling.
    return ceiling is None or point <= ceiling


def _has_negative(value: object) -> bool:
    """Tell whether a parsed YAML value holds a negative number anywhere."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value < 0
    if isinstance(value, dict):
        return any(_has_negative(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_negative(v) for v in value)
    return False


def _vn(number: Decimal) -> str:
    """Write a number the Vietnamese way without trailing zeros: 3.50 → "3,5"."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


class _Checker:
    """Walk the parsed YAML, build the schema objects and collect every problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.unquoted_codes: dict[str, int] = {}
        self.seen_codes: set[str] = set()

    # -- reporting -------------------------------------------------------------------

    def add(self, where: str, field: str, text: str) -> None:
        suffix = f" ({field})" if field else ""
        self.problems.append(f"{self.source}: {where}: {text}{suffix}")

    # -- scalar helpers ---------------------------------------------------------------

    def number(self, value: object, where: str, field: str) -> Decimal | None:
        """Return a non-negative Decimal, or report why the value is not one."""
        if value is None:
            self.add(where, field, "thiếu giá trị (cần một số)")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, field, f"giá trị {value!r} phải là một số")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.add(where, field, f"giá trị {value!r} phải là một số hữu hạn")
            return None
        number = Decimal(str(value))
        if number < 0:
            self.add(where, field, f"không được là số âm ({_vn(number)})")
            return None
        return number

    def text(self, value: object, where: str, field: str) -> str:
        if value is None:
            self.add(where, field, "thiếu giá trị (cần một chuỗi văn bản)")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(where, field, "phải là một chuỗi văn bản không rỗng")
            return ""
        return value

    def iso_date(self, value: object, where: str, field: str) -> date | None:
        # YAML turns an unquoted 2026-01-31 into a date; a quoted one stays a string.
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(where, field, f"'{value}' không phải ngày hợp lệ dạng YYYY-MM-DD")
        return None

    def keys(
        self,
        mapping: Mapping[str, object],
        allowed: Sequence[str],
        required: Sequence[str],
        where: str,
        prefix: str,
        what: str,
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(
                    where,
                    f"{prefix}.{key}",
                    f"khóa '{key}' không hợp lệ trong {what}; các khóa hợp lệ: "
                    + ", ".join(allowed),
                )
        for key in required:
            if key not in mapping:
                self.add(
                    where,
                    f"{prefix}.{key}",
                    f"thiếu khóa bắt buộc '{key}' trong {what}",
                )

    def items(
        self,
        value: object,
        where: str,
        field: str,
        build: Callable[[Mapping[str, Any], str], Any],
    ) -> list[Any]:
        """Check a non-empty list of mappings and build each entry with ``build``."""
        if not isinstance(value, list) or not value:
            self.add(where, field, "phải là một danh sách không rỗng")
            return []
        built = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                self.add(
                    where, f"{field}[{i}]", "mỗi phần tử phải là một bảng khóa-giá trị"
                )
                continue
            built.append(build(entry, f"{field}[{i}]"))
        return built

    # -- document ---------------------------------------------------------------------

    def check(self, data: object) -> CriteriaSet | None:
        if not isinstance(data, dict):
            self.add(
                "tệp", "", "nội dung phải là một bảng khóa-giá trị có 'meta' và 'areas'"
            )
            return None
        meta = data.get("meta")
        if not isinstance(meta, dict):
            self.add("meta", "meta", "thiếu phần meta (bảng khóa-giá trị)")
            meta = {}
        set_id = self.text(meta.get("id"), "meta", "id")
        title = self.text(meta.get("title"), "meta", "title")
        unit_type = self.text(meta.get("unit_type"), "meta", "unit_type")
        year = meta.get("evaluation_year")
        if isinstance(year, bool) or not isinstance(year, int):
            self.add(
                "meta", "evaluation_year", f"năm đánh giá {year!r} phải là số nguyên"
            )
            year = 0
        total = self.number(meta.get("total_max_points"), "meta", "total_max_points")
        may_exceed = meta.get("index_may_exceed_100", False)
        if not isinstance(may_exceed, bool):
            self.add("meta", "index_may_exceed_100", "chỉ nhận giá trị true hoặc false")
        bands = self.bands(meta.get("classification_bands"))

        raw_areas = data.get("areas")
        areas: list[Node] = []
        if not isinstance(raw_areas, list) or not raw_areas:
            self.add("areas", "areas", "phải là một danh sách lĩnh vực không rỗng")
        else:
            for i, raw in enumerate(raw_areas):
                node = self.node(raw, 1, None, f"areas[{i}]", "standard")
                if node is not None:
                    areas.append(node)
        if total is not None and areas and len(areas) == len(raw_areas or []):
            # Bonus and penalty areas sit outside the scale (their points are caps).
            area_sum = sum((a.max_points for a in areas if not a.is_extra), Decimal(0))
            if area_sum != total:
                self.add(
                    "meta",
                    "total_max_points",
                    f"tổng điểm các lĩnh vực {_vn(area_sum)} "
                    f"khác tổng điểm tối đa {_vn(total)}"
                    + (
                        " (không kể điểm thưởng, điểm trừ)"
                        if any(a.is_extra for a in areas)
                        else ""
                    ),
                )
        for raw_code, line in self.unquoted_codes.items():
            self.add(
                raw_code,
                f"code, dòng {line}",
                f'mã phải là chuỗi đặt trong dấu nháy, viết code: "{raw_code}"',
            )
        if self.problems:
            return None
        return CriteriaSet(
            id=set_id,
            title=title,
            evaluation_year=year,
            unit_type=unit_type,
            total_max_points=total or Decimal(0),
            bands=tuple(bands),
            areas=tuple(areas),
            meta=meta,
            index_may_exceed_100=may_exceed is True,
        )

    def bands(self, value: object) -> list[Band]:
        where = "meta"
        field = "classification_bands"
        if not isinstance(value, list) or not value:
            self.add(where, field, "phải là danh sách mức xếp loại không rỗng")
            return []
        bands: list[Band] = []
        for i, raw in enumerate(value):
            at = f"{field}[{i}]"
            if not isinstance(raw, dict):
                self.add(
                    where,
                    at,
                    "mỗi mức xếp loại phải là {label, min} hoặc {label, max_lt}",
                )
                continue
            self.keys(raw, _BAND_KEYS, ("label",), where, at, "mức xếp loại")
            label = self.text(raw.get("label"), where, f"{at}.label")
            low = self.number(raw["min"], where, f"{at}.min") if "min" in raw else None
            high = (
                self.number(raw["max_lt"], where, f"{at}.max_lt")
                if "max_lt" in raw
                else None
            )
            if "min" not in raw and "max_lt" not in raw:
                self.add(
                    where, at, "mức xếp loại cần ít nhất một cận 'min' hoặc 'max_lt'"
                )
            if low is not None and low > _HUNDRED:
                self.add(where, f"{at}.min", f"cận dưới {_vn(low)}% vượt quá 100%")
            if low is not None and high is not None and low >= high:
                self.add(
                    where, at, f"cận dưới {_vn(low)} phải nhỏ hơn cận trên {_vn(high)}"
                )
            if label and any(b.label == label for b in bands):
                self.add(where, f"{at}.label", f"nhãn xếp loại '{label}' bị trùng")
            if bands:
                above = bands[-1]
                # Bands are matched top-down, so each must sit strictly below the last.
                if above.min is None:
                    self.add(where, at, "mức không có 'min' phải là mức cuối cùng")
                elif low is not None and low >= above.min:
                    self.add(
                        where,
                        f"{at}.min",
                        f"các mức phải xếp từ cao xuống thấp: {_vn(low)} không nhỏ hơn "
                        f"{_vn(above.min)} của mức trên",
                    )
                if high is not None and above.min is not None and high != above.min:
                    self.add(
                        where,
                        f"{at}.max_lt",
                        f"cận trên {_vn(high)} phải bằng cận dưới {_vn(above.min)} "
                        "của mức trên (không để hở hoặc chồng lấn)",
                    )
            bands.append(Band(label=label, min=low, max_lt=high))
        return bands

    # -- tree -------------------------------------------------------------------------

    def node(
        self, raw: object, depth: int, parent: str | None, path: str, inherited: str
    ) -> Node | None:
        if not isinstance(raw, dict):
            self.add(path, "", "mỗi tiêu chí phải là một bảng khóa-giá trị")
            return None
        code = raw.get("code")
        if code is None:
            self.add(path, "code", "thiếu mã tiêu chí")
            where = path
            code = path
        elif not isinstance(code, str) or not code.strip():
            self.add(path, "code", f"mã {code!r} phải là chuỗi đặt trong dấu nháy")
            where = path
            code = path
        else:
            where = code
            self.code(code, parent)
        title = self.text(raw.get("title"), where, "title")
        kind = self.kind(raw, where, inherited)
        if kind in EXTRA_KINDS and raw.get("max_points") is None:
            self.add(
                where,
                "max_points",
                f"thiếu mức trần {_KIND_NAMES[kind]} (max_points)",
            )
            max_points = None
        else:
            max_points = self.number(raw.get("max_points"), where, "max_points")
        if kind in EXTRA_KINDS and max_points == 0:
            self.add(
                where,
                "max_points",
                f"mức trần {_KIND_NAMES[kind]} phải lớn hơn 0",
            )

        child_key = _CHILD_KEY.get(depth)
        for key in ("criteria", "children"):
            if key in raw and key != child_key:
                hint = (
                    f"dùng '{child_key}'"
                    if child_key
                    else "tiêu chí thành phần không có cấp con"
                )
                self.add(where, key, f"khóa '{key}' không dùng ở cấp này; {hint}")
        raw_children = raw.get(child_key) if child_key else None

        if raw_children is not None:
            return self.parent(
                raw, raw_children, code, where, title, max_points, depth, kind
            )
        if depth == 1:
            self.add(where, "criteria", "lĩnh vực phải có danh sách tiêu chí")
            return None
        return self.leaf(raw, code, where, title, max_points, depth, kind)

    def kind(self, raw: Mapping[str, object], where: str, inherited: str) -> str:
        """Return the node's effective kind: its own ``kind`` or its ancestor's."""
        if "kind" not in raw:
            return inherited
        kind = raw["kind"]
        if kind not in EXTRA_KINDS:
            self.add(
                where,
                "kind",
                f"loại '{kind}' không hợp lệ; chọn bonus (điểm thưởng) "
                "hoặc penalty (điểm trừ)",
            )
            return inherited
        if inherited in EXTRA_KINDS and kind != inherited:
            self.add(
                where,
                "kind",
                f"tiêu chí thuộc phần {_KIND_NAMES[inherited]} "
                f"không được là {_KIND_NAMES[str(kind)]}",
            )
            return inherited
        return str(kind)

    def code(self, code: str, parent: str | None) -> None:
        if code in self.seen_codes:
            self.add(code, "code", f"mã '{code}' bị trùng")
        self.seen_codes.add(code)
        if parent is None:
            if "." in code:
                self.add(code, "code", "mã lĩnh vực không được chứa dấu chấm")
            return
        rest = code.removeprefix(parent + ".")
        if rest == code or not rest or "." in rest:
            self.add(
                code, "code", f"mã phải có dạng '{parent}.<số>' (bắt đầu bằng mã cha)"
            )

    def parent(
        self,
        raw: Mapping[str, object],
        raw_children: object,
        code: str,
        where: str,
        title: str,
        max_points: Decimal | None,
        depth: int,
        kind: str,
    ) -> Node | None:
        key = _CHILD_KEY[depth]
        for leaf_key in _LEAF_KEYS:
            if leaf_key in raw:
                self.add(
                    where,
                    leaf_key,
                    f"tiêu chí có tiêu chí con ({key}) không được có '{leaf_key}'",
                )
        if not isinstance(raw_children, list) or not raw_children:
            self.add(where, key, "phải là danh sách tiêu chí con không rỗng")
            return None
        children = [
            self.node(child, depth + 1, code, f"{where}.{key}[{i}]", kind)
            for i, child in enumerate(raw_children)
        ]
        built = [c for c in children if c is not None]
        if kind == "standard" and any(c.is_extra for c in built):
            kind = self.mixed(where, built)
        if kind in EXTRA_KINDS:
            self.caps(where, kind, max_points, built)
        elif max_points is not None and len(built) == len(children):
            total = sum((c.max_points for c in built), Decimal(0))
            if total != max_points:
                level = "tiêu chí" if depth == 1 else "tiêu chí thành phần"
                self.add(
                    where,
                    "max_points",
                    f"tổng điểm các {level} {_vn(total)} "
                    f"khác điểm tối đa {_vn(max_points)}",
                )
        if max_points is None:
            return None
        return Node(
            code=code,
            title=title,
            max_points=max_points,
            children=tuple(built),
            depth=depth,
            kind=kind,
        )

    def mixed(self, where: str, children: Sequence[Node]) -> str:
        """Check a node holding bonus or penalty children: all of them must be."""
        regular = [c.code for c in children if not c.is_extra]
        if regular:
            self.add(
                where,
                "kind",
                "phần có điểm thưởng, điểm trừ chỉ chứa tiêu chí điểm thưởng "
                "hoặc điểm trừ (kind: bonus | penalty); các tiêu chí "
                + ", ".join(regular)
                + " chưa đánh dấu",
            )
        return "mixed"

    def caps(
        self, where: str, kind: str, cap: Decimal | None, children: Sequence[Node]
    ) -> None:
        """A bonus or penalty node caps the sum of its children: each fits under it."""
        if cap is None:
            return
        for child in children:
            if child.max_points > cap:
                self.add(
                    child.code,
                    "max_points",
                    f"mức trần {_vn(child.max_points)} vượt mức trần "
                    f"{_KIND_NAMES[kind]} {_vn(cap)} của {where}",
                )

    def leaf(
        self,
        raw: Mapping[str, object],
        code: str,
        where: str,
        title: str,
        max_points: Decimal | None,
        depth: int,
        kind: str,
    ) -> Node | None:
        assessed_by = raw.get("assessed_by")
        if assessed_by is None:
            self.add(where, "assessed_by", "thiếu người chấm (self | system | survey)")
        elif assessed_by not in ASSESSED_BY:
            self.add(
                where,
                "assessed_by",
                f"giá trị '{assessed_by}' không hợp lệ; chọn một trong: "
                + ", ".join(ASSESSED_BY),
            )
        policy = raw.get("not_applicable")
        if policy is None:
            self.add(where, "not_applicable", "thiếu chính sách không phát sinh")
        elif policy not in NA_POLICIES:
            self.add(
                where,
                "not_applicable",
                f"chính sách '{policy}' không hợp lệ; chọn một trong: "
                + ", ".join(NA_POLICIES),
            )
        evidence: list[str] = []
        raw_evidence = raw.get("evidence", [])
        if not isinstance(raw_evidence, list):
            self.add(
                where, "evidence", "phải là danh sách tài liệu kiểm chứng (có thể rỗng)"
            )
        else:
            for i, item in enumerate(raw_evidence):
                evidence.append(self.text(item, where, f"evidence[{i}]"))
        rule: Rule | None = None
        if "rule" not in raw:
            self.add(where, "rule", "tiêu chí lá phải có cách tính điểm (rule)")
        else:
            rule = self.rule(raw["rule"], where, max_points)
        # Survey results are never self-scored, so the two must agree.
        if (
            rule is not None
            and assessed_by in ASSESSED_BY
            and (rule.type == "survey") != (assessed_by == "survey")
        ):
            self.add(
                where,
                "assessed_by",
                f"người chấm '{assessed_by}' không khớp với cách tính '{rule.type}' "
                "(cách tính survey đi với assessed_by: survey)",
            )
        if kind in EXTRA_KINDS:
            self.extra_leaf(raw, where, kind, assessed_by, policy)
        if max_points is None:
            return None
        return Node(
            code=code,
            title=title,
            max_points=max_points,
            depth=depth,
            assessed_by=assessed_by if isinstance(assessed_by, str) else None,
            rule=rule,
            not_applicable=policy if isinstance(policy, str) else None,
            evidence=tuple(evidence),
            kind=kind,
            fact_source=self.fact_source(raw, where, rule),
        )

    def extra_leaf(
        self,
        raw: Mapping[str, object],
        where: str,
        kind: str,
        assessed_by: object,
        policy: object,
    ) -> None:
        """Checks only bonus and penalty leaves need."""
        name = _KIND_NAMES[kind]
        if assessed_by == "survey":
            self.add(where, "assessed_by", f"{name} không lấy từ điều tra xã hội học")
        if policy == "full_points":
            self.add(
                where,
                "not_applicable",
                f"{name} không dùng full_points: không phát sinh thì không được "
                f"{'cộng' if kind == 'bonus' else 'trừ'} điểm "
                "(dùng exclude_from_max hoặc not_allowed)",
            )
        if _has_negative(raw.get("rule")):
            hint = (
                "điểm thưởng không được âm (điểm cao nhất phải là số dương); "
                "để trừ điểm hãy dùng kind: penalty"
                if kind == "bonus"
                else "điểm trừ ghi bằng số dương (số điểm bị trừ)"
            )
            self.add(where, "rule", hint)

    def fact_source(
        self, raw: Mapping[str, object], where: str, rule: Rule | None
    ) -> str | None:
        """`source: plan_completion`: the fact is a percentage filled by the app."""
        source = raw.get("source")
        if source not in FACT_SOURCES:
            return None
        percent = isinstance(rule, RatioRule) or (
            isinstance(rule, TiersRule) and rule.measure.unit == "percent"
        )
        if rule is not None and not percent:
            self.add(
                where,
                "source",
                f"nguồn '{source}' cho một tỷ lệ phần trăm: cách tính phải là "
                "tiers (percent) hoặc ratio",
            )
        return str(source)

    # -- rules ------------------------------------------------------------------------

    def rule(self, raw: object, where: str, max_points: Decimal | None) -> Rule | None:
        if not isinstance(raw, dict):
            self.add(where, "rule", "cách tính điểm phải là một bảng khóa-giá trị")
            return None
        kind = raw.get("type")
        if kind is None:
            self.add(where, "rule.type", "thiếu loại cách tính điểm")
            return None
        if kind not in RULE_TYPES:
            self.add(
                where,
                "rule.type",
                f"cách tính '{kind}' không hợp lệ; chọn một trong: "
                + ", ".join(RULE_TYPES),
            )
            return None
        params = _RULE_KEYS[kind]
        before = len(self.problems)
        self.keys(raw, ("type", *params), params, where, "rule", f"cách tính {kind}")
        if len(self.problems) > before:
            return None
        builders = {
            "binary": self.rule_binary,
            "tiers": self.rule_tiers,
            "ratio": self.rule_ratio,
            "checklist": self.rule_checklist,
            "deduction": self.rule_deduction,
            "manual": self.rule_manual,
            "survey": self.rule_survey,
        }
        rule, best = builders[kind](raw, where, max_points)
        if (
            rule is not None
            and best is not None
            and max_points is not None
            and best != max_points
        ):
            self.add(
                where,
                "rule",
                f"điểm cao nhất theo cách tính {_vn(best)} "
                f"khác điểm tối đa {_vn(max_points)}",
            )
        return rule

    def measure(self, raw: object, where: str) -> Measure | None:
        if not isinstance(raw, dict):
            self.add(where, "rule.measure", "phải là {name, unit}")
            return None
        before = len(self.problems)
        self.keys(
            raw,
            ("name", "unit", "max_value"),
            ("name", "unit"),
            where,
            "rule.measure",
            "measure",
        )
        name = self.text(raw.get("name"), where, "rule.measure.name")
        unit = raw.get("unit")
        if "unit" in raw and unit not in MEASURE_UNITS:
            self.add(
                where,
                "rule.measure.unit",
                f"đơn vị '{unit}' không hợp lệ; chọn một trong: "
                + ", ".join(MEASURE_UNITS),
            )
        top: Decimal | None = _HUNDRED
        if unit == "date":
            top = None
            if "max_value" in raw:
                self.add(where, "rule.measure.max_value", "chỉ dùng khi đo theo tỷ lệ")
        elif "max_value" in raw:
            # null: no upper limit (revenue may exceed its estimate by any amount).
            if raw["max_value"] is not None:
                top = self.number(raw["max_value"], where, "rule.measure.max_value")
                if top == 0:
                    self.add(where, "rule.measure.max_value", "phải lớn hơn 0")
            else:
                top = None
        if len(self.problems) > before:
            return None
        return Measure(name=name, unit=str(unit), max_value=top)

    def rule_binary(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        condition = self.text(raw["condition"], where, "rule.condition")
        yes = self.number(raw["points_true"], where, "rule.points_true")
        no = self.number(raw["points_false"], where, "rule.points_false")
        if yes is None or no is None:
            return None, None
        return BinaryRule(condition, yes, no), max(yes, no)

    def rule_tiers(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        measure = self.measure(raw["measure"], where)
        before = len(self.problems)
        unit = measure.unit if measure else None
        ceiling = measure.max_value if measure else _HUNDRED
        bands: list[TierBand] = self.items(
            raw["bands"],
            where,
            "rule.bands",
            lambda entry, at: self.tier_band(entry, where, at, unit, ceiling),
        )
        if measure is None or len(self.problems) > before:
            return None, None
        for i, band in enumerate(bands[:-1]):
            if band.otherwise:
                self.add(
                    where,
                    f"rule.bands[{i + 1}]",
                    "dải nằm sau dải 'otherwise' không bao giờ được xét",
                )
                return None, None
        if unit == "percent":
            for i, band in enumerate(bands):
                if not _reachable(band, bands[:i], ceiling):
                    self.add(
                        where,
                        f"rule.bands[{i}]",
                        "dải điểm không bao giờ đạt được (nằm ngoài thang đo"
                        + (f" 0–{_vn(ceiling)}%" if ceiling is not None else "")
                        + " hoặc bị các dải trước che hết)",
                    )
                    return None, None
        best = Decimal(0)
        for i, band in enumerate(bands):
            if band.points == "ratio":
                if max_points is None or band.ratio_base is None:
                    return None, None
                # The highest value a ratio band can see: its upper bound, capped by
                # the measure's own limit.
                top = _min_bound(band.max_lt, ceiling)
                if top is None:
                    self.add(
                        where,
                        f"rule.bands[{i}]",
                        "dải tính theo tỷ lệ trên thang đo không giới hạn cần cận "
                        "trên max_lt",
                    )
                    return None, None
                reach = max_points * top / band.ratio_base
                if reach > max_points:
                    self.add(
                        where,
                        f"rule.bands[{i}].ratio_base",
                        f"dải tính theo tỷ lệ cho tới "
                        f"{_vn(reach.quantize(Decimal('0.01')))} điểm, "
                        f"vượt điểm tối đa {_vn(max_points)}",
                    )
                    return None, None
                best = max(best, reach)
            else:
                best = max(best, band.points)
        return TiersRule(measure, tuple(bands)), best

    def tier_band(
        self,
        raw: Mapping[str, Any],
        where: str,
        at: str,
        unit: str | None,
        ceiling: Decimal | None,
    ) -> TierBand:
        self.keys(raw, _TIER_BAND_KEYS, ("points",), where, at, "dải điểm")
        low = self.number(raw["min"], where, f"{at}.min") if "min" in raw else None
        high = (
            self.number(raw["max_lt"], where, f"{at}.max_lt")
            if "max_lt" in raw
            else None
        )
        start = (
            self.iso_date(raw["from"], where, f"{at}.from") if "from" in raw else None
        )
        end = (
            self.iso_date(raw["until"], where, f"{at}.until")
            if "until" in raw
            else None
        )
        bounds = [k for k in ("min", "max_lt", "from", "until") if k in raw]
        otherwise = raw.get("otherwise", False)
        if "otherwise" in raw and otherwise is not True:
            self.add(where, f"{at}.otherwise", "chỉ nhận giá trị true")
        if otherwise is True and bounds:
            self.add(
                where, at, "dải 'otherwise' không được có cận " + ", ".join(bounds)
            )
        if otherwise is not True and not bounds:
            self.add(
                where,
                at,
                "dải không có cận nào; dùng 'otherwise: true' cho trường hợp còn lại",
            )
        if unit == "percent" and ("from" in raw or "until" in raw):
            self.add(
                where,
                at,
                "đo theo tỷ lệ (percent) thì dùng min/max_lt, không dùng from/until",
            )
        if unit == "date" and ("min" in raw or "max_lt" in raw):
            self.add(
                where,
                at,
                "đo theo ngày (date) thì dùng from/until, không dùng min/max_lt",
            )
        if low is not None and ceiling is not None and low > ceiling:
            self.add(
                where,
                f"{at}.min",
                f"cận dưới {_vn(low)}% vượt giá trị lớn nhất {_vn(ceiling)}% "
                "của thang đo: dải không bao giờ đạt được",
            )
        if low is not None and high is not None and low >= high:
            self.add(
                where, at, f"cận dưới {_vn(low)} phải nhỏ hơn cận trên {_vn(high)}"
            )
        if start is not None and end is not None and start > end:
            self.add(
                where,
                at,
                f"ngày bắt đầu {start.isoformat()} sau ngày kết thúc {end.isoformat()}",
            )

        points: Decimal | str = Decimal(0)
        base: Decimal | None = None
        raw_points = raw.get("points")
        if raw_points == "ratio":
            points = "ratio"
            if unit == "date":
                self.add(
                    where, f"{at}.points", "không tính theo tỷ lệ khi đo theo ngày"
                )
            if "ratio_base" not in raw:
                self.add(
                    where, f"{at}.ratio_base", "dải tính theo tỷ lệ cần 'ratio_base'"
                )
            else:
                base = self.number(raw["ratio_base"], where, f"{at}.ratio_base")
                if base == 0:
                    self.add(where, f"{at}.ratio_base", "phải lớn hơn 0")
                    base = None
        elif "points" in raw:
            points = self.number(raw_points, where, f"{at}.points") or Decimal(0)
            if "ratio_base" in raw:
                self.add(where, f"{at}.ratio_base", "chỉ dùng khi points: ratio")
        return TierBand(
            min=low,
            max_lt=high,
            from_date=start,
            until_date=end,
            otherwise=otherwise is True,
            points="ratio" if points == "ratio" else Decimal(points),
            ratio_base=base,
        )

    def rule_ratio(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        measure = self.measure(raw["measure"], where)
        target = self.number(raw["target"], where, "rule.target")
        floor = self.number(raw["floor"], where, "rule.floor")
        if measure is not None and measure.unit != "percent":
            self.add(
                where,
                "rule.measure.unit",
                "cách tính ratio chỉ đo theo tỷ lệ (percent)",
            )
            return None, None
        if measure is None or target is None or floor is None:
            return None, None
        ceiling = measure.max_value
        if target == 0 or (ceiling is not None and target > ceiling):
            limit = f" và tối đa {_vn(ceiling)}%" if ceiling is not None else ""
            self.add(
                where,
                "rule.target",
                f"mục tiêu {_vn(target)}% phải lớn hơn 0{limit}",
            )
            return None, None
        if floor > target:
            self.add(
                where,
                "rule.floor",
                f"mức sàn {_vn(floor)}% lớn hơn mục tiêu {_vn(target)}%",
            )
            return None, None
        # The value can reach the target (≤ max_value), so the best outcome is the max.
        return RatioRule(measure, target, floor), max_points

    def rule_checklist(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        before = len(self.problems)
        items: list[ChecklistItem] = self.items(
            raw["items"],
            where,
            "rule.items",
            lambda entry, at: self.text_points(entry, where, at, "text", ChecklistItem),
        )
        if len(self.problems) > before:
            return None, None
        total = sum((item.points for item in items), Decimal(0))
        if max_points is not None and total != max_points:
            self.add(
                where,
                "rule.items",
                f"tổng điểm các nội dung {_vn(total)} "
                f"khác điểm tối đa {_vn(max_points)}",
            )
            return None, None
        return ChecklistRule(tuple(items)), total

    def rule_deduction(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        before = len(self.problems)
        start = self.number(raw["start"], where, "rule.start")
        floor = self.number(raw["floor"], where, "rule.floor")
        events: list[DeductionEvent] = self.items(
            raw["events"],
            where,
            "rule.events",
            lambda entry, at: self.event(entry, where, at),
        )
        if start is None or floor is None or len(self.problems) > before:
            return None, None
        if floor > start:
            self.add(
                where,
                "rule.floor",
                f"mức sàn {_vn(floor)} lớn hơn điểm khởi đầu {_vn(start)}",
            )
            return None, None
        if max_points is not None and start != max_points:
            self.add(
                where,
                "rule.start",
                f"điểm khởi đầu {_vn(start)} khác điểm tối đa {_vn(max_points)}",
            )
            return None, None
        return DeductionRule(start, tuple(events), floor), start

    def event(self, raw: Mapping[str, Any], where: str, at: str) -> DeductionEvent:
        self.keys(
            raw,
            ("event", "minus"),
            ("event", "minus"),
            where,
            at,
            "trường hợp trừ điểm",
        )
        text = self.text(raw.get("event"), where, f"{at}.event")
        minus = (
            self.number(raw["minus"], where, f"{at}.minus") if "minus" in raw else None
        )
        return DeductionEvent(text, minus or Decimal(0))

    def rule_manual(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        before = len(self.problems)
        levels: list[ManualLevel] = self.items(
            raw["levels"],
            where,
            "rule.levels",
            lambda entry, at: self.text_points(entry, where, at, "text", ManualLevel),
        )
        if len(self.problems) > before:
            return None, None
        return ManualRule(tuple(levels)), max(level.points for level in levels)

    def rule_survey(
        self, raw: Mapping[str, Any], where: str, max_points: Decimal | None
    ) -> tuple[Rule | None, Decimal | None]:
        instrument = self.text(raw["instrument"], where, "rule.instrument")
        formula = self.text(raw["formula"], where, "rule.formula")
        if not instrument or not formula:
            return None, None
        return SurveyRule(instrument, formula), max_points

    def text_points(
        self,
        raw: Mapping[str, Any],
        where: str,
        at: str,
        text_key: str,
        make: Callable[[str, Decimal], Any],
    ) -> Any:
        self.keys(raw, (text_key, "points"), (text_key, "points"), where, at, "mục")
        text = self.text(raw.get(text_key), where, f"{at}.{text_key}")
        points = (
            self.number(raw["points"], where, f"{at}.points")
            if "points" in raw
            else None
        )
        return make(text, points or Decimal(0))
