"""`flask criteria validate|import|score` as a coordinator uses them (DESIGN.md §4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from criteria import DATA_DIR

WARD_SET = DATA_DIR / "thanhhoa-ubnd-xa-phuong-2026-draft.yaml"


def test_validate_accepts_the_shipped_ward_set(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["criteria", "validate", str(WARD_SET)])
    assert result.exit_code == 0, result.output
    assert "Hợp lệ" in result.output


def test_validate_lists_every_problem_and_exits_1(app: Any, tmp_path: Path) -> None:
    text = WARD_SET.read_text(encoding="utf-8")
    broken = text.replace('code: "1.1.1"', "code: 1.1", 1).replace(
        "type: checklist", "type: lottery", 1
    )
    bad = tmp_path / "broken.yaml"
    bad.write_text(broken, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["criteria", "validate", str(bad)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output
    assert "lottery" in result.output
    assert (
        len(result.output.strip().splitlines()) >= 2
    )  # both problems, not just the first


def test_validate_reports_yaml_syntax_error_with_its_line(
    app: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "syntax.yaml"
    bad.write_text("meta:\n  id: x\n  title: [unclosed\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["criteria", "validate", str(bad)])
    assert result.exit_code == 1
    assert "dòng" in result.output
    assert "Traceback" not in result.output


def test_import_is_idempotent_and_refuses_to_change_a_used_set(
    app: Any, tmp_path: Path
) -> None:
    from webapp.extensions import db
    from webapp.models import AuditEvent, CriteriaSetRecord, Period

    runner = app.test_cli_runner()
    first = runner.invoke(args=["criteria", "import", str(WARD_SET)])
    again = runner.invoke(args=["criteria", "import", str(WARD_SET)])
    assert first.exit_code == 0 and "Đã nhập" in first.output
    assert again.exit_code == 0 and "Không thay đổi" in again.output
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(CriteriaSetRecord))
        == 1
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1

    set_id = "thanhhoa-ubnd-xa-phuong-2026-draft"
    at = datetime(2026, 12, 15, 16, 59, 59, tzinfo=UTC)
    db.session.add(
        Period(
            name="2026",
            year=2026,
            criteria_set_id=set_id,
            opens_at=at,
            self_deadline=at,
            appraisal_deadline=at,
        )
    )
    db.session.commit()
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        WARD_SET.read_text(encoding="utf-8").replace("DỰ THẢO", "DỰ THẢO 2"),
        encoding="utf-8",
    )
    refused = runner.invoke(args=["criteria", "import", str(edited), "--replace"])
    assert refused.exit_code == 1
    assert "đã được dùng" in refused.output
    stored = db.session.get(CriteriaSetRecord, set_id)
    assert stored is not None and "DỰ THẢO 2" not in stored.title


def test_replace_only_with_flag_for_unused_sets(app: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["criteria", "import", str(WARD_SET)])
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        WARD_SET.read_text(encoding="utf-8").replace("DỰ THẢO", "DỰ THẢO 2"),
        encoding="utf-8",
    )
    without = runner.invoke(args=["criteria", "import", str(edited)])
    assert without.exit_code == 1 and "--replace" in without.output
    replaced = runner.invoke(args=["criteria", "import", str(edited), "--replace"])
    assert replaced.exit_code == 0 and "Đã thay thế" in replaced.output


def test_score_prints_the_design_json(app: Any, tmp_path: Path) -> None:
    answers = {
        "1.1.1": {"value": "2026-01-15"},  # in January: 0.50 of 0.50
        "1.1.2": {"checked": [0, 2]},  # 0.20 + 0.15 = 0.35 of 0.50
        "1.1.3": {"value": 90},  # 80 ≤ 90 < 100: ratio 1 × 90/100 = 0.90 of 1
        "1.2": {"counts": [1]},  # 1 − 0.25 = 0.75 of 1
    }
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["criteria", "score", str(WARD_SET), str(path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["set"] == "thanhhoa-ubnd-xa-phuong-2026-draft"
    assert report["nodes"]["1.1"]["points"] == "1.75"  # 0.50 + 0.35 + 0.90
    assert report["nodes"]["1.1"]["max"] == "2.00"
    assert report["nodes"]["1.2"]["points"] == "0.75"
    assert "31/01/2026" in report["nodes"]["1.1.1"]["explanation"]
    # Every survey leaf is pending: out of points and maximum (32 of the 100 points).
    assert report["total"]["max"] == "68.00"
    assert report["total"]["points"] == "2.50"
    assert report["total"]["index"] == "3.68"  # 100 × 2.50 / 68 = 3.676… → 3.68
    assert report["pending"] and all(
        code in report["nodes"] for code in report["pending"]
    )


def test_score_names_the_leaf_of_a_bad_answer(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"1.1.3": {"value": 101}}), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["criteria", "score", str(WARD_SET), str(path)]
    )
    assert result.exit_code == 1
    assert "1.1.3" in result.output


def test_score_prints_bonus_and_penalty_totals(app: Any, tmp_path: Path) -> None:
    answers = {
        "1.1": {"value": True},  # 4
        "1.2": {"checked": [0]},  # 3: the scale gives 7 of 10
        "2.1.2": {"level": 1},  # bonus 1
        "2.2.1": {"counts": [1]},  # penalty 0,5
        "2.2.2": {"value": True},  # penalty 1,5: 2 in all, more than the bonus
    }
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    bonus_set = (
        Path(__file__).resolve().parents[1] / "unit" / "data" / "bonus-mini.yaml"
    )
    result = app.test_cli_runner().invoke(
        args=["criteria", "score", str(bonus_set), str(path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["bonus"] == "1.00"
    assert report["penalty"] == "2.00"
    assert report["total"] == {"points": "6.00", "max": "10.00", "index": "60.00"}
    assert report["band"] == "Khá"


def test_to_xlsx_then_from_xlsx_gives_the_same_set(app: Any, tmp_path: Path) -> None:
    from criteria import load_criteria_set, parse_criteria_set

    runner = app.test_cli_runner()
    book = tmp_path / "bo-tieu-chi.xlsx"
    back = tmp_path / "bo-tieu-chi.yaml"
    out = runner.invoke(args=["criteria", "to-xlsx", str(WARD_SET), str(book)])
    assert out.exit_code == 0, out.output
    back_out = runner.invoke(args=["criteria", "from-xlsx", str(book), str(back)])
    assert back_out.exit_code == 0, back_out.output
    assert "74 tiêu chí lá" in back_out.output
    again = parse_criteria_set(back.read_text(encoding="utf-8"), back.name)
    assert again == load_criteria_set(WARD_SET)


def test_from_xlsx_lists_problems_by_cell_and_writes_nothing(
    app: Any, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from criteria.xlsx import EXAMPLE_PATH

    book = load_workbook(EXAMPLE_PATH)
    book["Bộ tiêu chí"]["C4"] = "nửa điểm"  # 1.1.1's maximum
    bad = tmp_path / "sai.xlsx"
    book.save(bad)
    target = tmp_path / "sai.yaml"
    result = app.test_cli_runner().invoke(
        args=["criteria", "from-xlsx", str(bad), str(target)]
    )
    assert result.exit_code == 1
    assert (
        "Trang 'Bộ tiêu chí', dòng 4, cột C (Điểm tối đa): "
        "'nửa điểm' không phải là số" in result.output
    )
    assert not target.exists()
