"""The unit's annual PAR plan end to end (issue 13): import through the page and the
CLI, re-import keeping progress, tracking, and the plan leaf's points."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.lifecycle import PlanTaskStatus
from webapp.models import AuditEvent, CriterionScore
from webapp.plan.models import PlanTask
from webapp.plan.parsing import parse_plan_file
from webapp.plan.seed import build_docx
from webapp.plan.tracking import apply_import, set_status

pytestmark = pytest.mark.db

PLAN_LEAF = "1.1.3"


@pytest.fixture(scope="module")
def seed_docx() -> bytes:
    return build_docx()


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any) -> Any:
    clock.value = datetime(2026, 12, 10, 10, 0, tzinfo=VN_TZ)
    return demo["units"]["TRUCLAM"]


@pytest.fixture
def imported(truclam: Any, seed_docx: bytes) -> list[PlanTask]:
    apply_import(
        truclam, 2026, parse_plan_file("kh.docx", seed_docx), filename="kh.docx"
    )
    return list(db.session.scalars(sa.select(PlanTask).order_by(PlanTask.id)))


def _task(unit: Any, appendix: int, number: str) -> PlanTask:
    return db.session.scalar(
        sa.select(PlanTask).where(
            PlanTask.unit_id == unit.id,
            PlanTask.appendix == appendix,
            PlanTask.number == number,
        )
    )


def _leaf_row(assessment: Any) -> CriterionScore | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == PLAN_LEAF,
        )
    )


def test_browser_import_shows_a_preview_and_saves_only_on_confirmation(
    truclam: Any, login_as: Any, seed_docx: bytes
) -> None:
    client = login_as("truclam.chuyenvien")
    url = f"/plan/{truclam.id}/2026/import"
    page = client.post(
        url,
        data={"file": (io.BytesIO(seed_docx), "ke-hoach.docx")},
        content_type="multipart/form-data",
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Đọc được <strong>65</strong> nhiệm vụ" in html
    assert "Phụ lục số 07: Công tác chỉ đạo, điều hành" in html
    assert "31/03/2026" in html  # the interpretation of "Quý I/2026"
    assert db.session.scalar(sa.select(sa.func.count(PlanTask.id))) == 0
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    done = client.post(f"{url}/confirm", data={"payload": payload})
    assert done.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(PlanTask.id))) == 65
    dashboard = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Phụ lục số 06: Xây dựng và phát triển chính quyền điện tử" in dashboard
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "plan.import")
    )
    assert event is not None and event.after["created"] == 65


def test_a_tampered_preview_saves_nothing(truclam: Any, login_as: Any) -> None:
    client = login_as("truclam.chuyenvien")
    response = client.post(
        f"/plan/{truclam.id}/2026/import/confirm", data={"payload": "x"}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(PlanTask.id))) == 0


def test_a_bad_file_gets_its_message_on_the_page(truclam: Any, login_as: Any) -> None:
    client = login_as("truclam.chuyenvien")
    response = client.post(
        f"/plan/{truclam.id}/2026/import",
        data={"file": (io.BytesIO(b"junk"), "ke-hoach.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Không đọc được tệp DOCX" in response.get_data(as_text=True)


def test_another_units_plan_is_not_found(
    imported: list[PlanTask], demo: dict[str, Any], login_as: Any
) -> None:
    client = login_as("nghison.chuyenvien")
    unit = demo["units"]["TRUCLAM"]
    assert client.get(f"/plan/{unit.id}/2026").status_code == 404
    assert client.get(f"/plan/task/{imported[0].id}").status_code == 404
    assert (
        client.post(f"/plan/task/{imported[0].id}/note", data={"text": "x"}).status_code
        == 404
    )
    assert client.get(f"/plan/{unit.id}/2026/report.xlsx").status_code == 404


def test_cli_import_and_export(
    app: Any, truclam: Any, seed_docx: bytes, tmp_path: Any
) -> None:
    path = tmp_path / "ke-hoach.docx"
    path.write_bytes(seed_docx)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["plan", "import", str(path), "--unit", "TRUCLAM", "--year", "2026"]
    )
    assert result.exit_code == 0, result.output
    assert "Phụ lục số 02 (Cải cách thủ tục hành chính): 12 nhiệm vụ" in result.output
    assert "Tổng: 65 nhiệm vụ" in result.output
    out = runner.invoke(
        args=[
            "plan",
            "export",
            "--unit",
            "TRUCLAM",
            "--year",
            "2026",
            "--format",
            "json",
        ]
    )
    tasks = json.loads(out.output)
    assert len(tasks) == 65
    first = tasks[0]
    assert set(first) == {
        "appendix",
        "appendix_title",
        "number",
        "content",
        "products",
        "lead",
        "partners",
        "deadline_text",
        "due_date",
        "status",
    }
    assert (first["appendix"], first["number"], first["partners"]) == (
        1,
        "1",
        ["Sở Tư pháp"],
    )
    quy1 = next(t for t in tasks if (t["appendix"], t["number"]) == (3, "1"))
    assert (quy1["deadline_text"], quy1["due_date"]) == ("- Quý I/2026.", "2026-03-31")
    upstream = next(t for t in tasks if (t["appendix"], t["number"]) == (3, "5"))
    assert upstream["due_date"] is None
    bad = runner.invoke(
        args=["plan", "import", str(path), "--unit", "NOPE", "--year", "2026"]
    )
    assert bad.exit_code == 1


def test_reimport_of_a_corrected_plan_keeps_progress_and_evidence(
    imported: list[PlanTask],
    truclam: Any,
    seed_docx: bytes,
    add_evidence: Any,
    demo: Any,
) -> None:
    task = _task(truclam, 3, "1")
    set_status(task, PlanTaskStatus.DONE, completed_on=date(2026, 3, 20))
    # One document proves a criterion and the task.
    evidence = add_evidence(demo["assessments"]["TRUCLAM"], ["1.1.1"])
    from webapp.plan.tracking import add_note, link_evidence

    link_evidence(task, evidence)
    add_note(task, "Đã trình Quyết định")
    rows = parse_plan_file("kh.docx", seed_docx)
    corrected = next(r for r in rows if r.key() == (3, "1"))
    corrected.content += " (sửa đổi)"
    corrected.products.append("Công văn hướng dẫn")
    result = apply_import(truclam, 2026, rows)
    assert (len(result.updated), len(result.created), len(result.unchanged)) == (
        1,
        0,
        64,
    )
    db.session.expire_all()
    again = _task(truclam, 3, "1")
    assert again.id == task.id
    assert again.content.endswith("(sửa đổi)")
    assert again.products[-1] == "Công văn hướng dẫn"
    assert again.status == PlanTaskStatus.DONE
    assert [e.id for e in again.evidence] == [evidence.id]
    assert [n.text for n in again.notes] == ["Đã trình Quyết định"]


def test_completion_late_and_overdue_on_the_dashboard(
    imported: list[PlanTask], truclam: Any, login_as: Any
) -> None:
    on_time = _task(truclam, 3, "1")  # Quý I/2026
    set_status(on_time, PlanTaskStatus.DONE, completed_on=date(2026, 3, 30))
    late = _task(truclam, 5, "1")  # Quý I/2026, done in April: "hoàn thành muộn"
    set_status(late, PlanTaskStatus.DONE, completed_on=date(2026, 4, 15))
    assert late.status == PlanTaskStatus.DONE_LATE
    html = (
        login_as("truclam.chuyenvien")
        .get(f"/plan/{truclam.id}/2026")
        .get_data(as_text=True)
    )
    assert "hoàn thành muộn 1" in html
    # Quý I/2026 task 5.7 is not done on 10/12/2026: overdue, highlighted.
    assert 'class="overdue"' in html
    filtered = (
        login_as("truclam.chuyenvien")
        .get(
            f"/plan/{truclam.id}/2026", query_string={"lead": "Phòng Văn hóa - Xã hội"}
        )
        .get_data(as_text=True)
    )
    assert "Trung tâm phục vụ Hành chính công" not in filtered.split("plan-tasks")[-1]


def test_not_done_needs_a_reason(imported: list[PlanTask], login_as: Any) -> None:
    client = login_as("truclam.chuyenvien")
    task = imported[0]
    client.post(
        f"/plan/task/{task.id}/status", data={"status": "not_done", "reason": ""}
    )
    db.session.expire_all()
    assert db.session.get(PlanTask, task.id).status == PlanTaskStatus.NOT_STARTED
    client.post(
        f"/plan/task/{task.id}/status",
        data={"status": "not_done", "reason": "Cấp trên chưa ban hành hướng dẫn"},
    )
    db.session.expire_all()
    stored = db.session.get(PlanTask, task.id)
    assert stored.status == PlanTaskStatus.NOT_DONE
    assert stored.status_reason == "Cấp trên chưa ban hành hướng dẫn"
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "plan.status"
            )
        )
        == 1
    )


def test_the_plan_leaf_follows_the_completion_rate_and_freezes_on_submission(
    imported: list[PlanTask], truclam: Any, demo: dict[str, Any], submit_directly: Any
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    due = [t for t in imported if t.due_date and t.due_date.year == 2026]
    row = _leaf_row(assessment)
    assert row is not None and Decimal(row.answer["value"]) == 0
    assert row.self_points == Decimal("0.00")
    # Complete all but one due task on time: rate ≥ 80% → ratio points.
    for task in due[:-1]:
        set_status(task, PlanTaskStatus.DONE, completed_on=date(2026, 1, 5))
    rate = Decimal(100 * (len(due) - 1)) / Decimal(len(due))
    row = _leaf_row(assessment)
    assert Decimal(row.answer["value"]) == rate.quantize(Decimal("0.01"))
    expected = (rate.quantize(Decimal("0.01")) / 100).quantize(Decimal("0.01"))
    assert row.self_points == expected
    set_status(due[-1], PlanTaskStatus.DONE, completed_on=date(2026, 1, 5))
    assert _leaf_row(assessment).self_points == Decimal("1.00")
    submit_directly(assessment)
    set_status(due[0], PlanTaskStatus.IN_PROGRESS)  # after submission: frozen
    frozen = _leaf_row(assessment)
    assert Decimal(frozen.answer["value"]) == 100
    assert frozen.self_points == Decimal("1.00")


def test_report_xlsx_lists_the_results(
    imported: list[PlanTask], truclam: Any, login_as: Any
) -> None:
    from openpyxl import load_workbook

    set_status(
        _task(truclam, 3, "1"), PlanTaskStatus.DONE, completed_on=date(2026, 3, 1)
    )
    client = login_as("truclam.chuyenvien")
    response = client.get(
        f"/plan/{truclam.id}/2026/report.xlsx", query_string={"quarter": 1}
    )
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert values[0][0].startswith(
        "Kết quả thực hiện nhiệm vụ Kế hoạch CCHC quý 1 năm 2026"
    )
    row = next(r for r in values if r[0] == "03.1")
    assert row[6] == "Hoàn thành" and row[7] == "01/03/2026"
    # Quarter 1 leaves out tasks due later in the year (e.g. 7.6 "tháng 12/2026").
    assert not any(r[0] == "07.6" for r in values)


def test_the_plan_leaf_shows_its_tasks_and_offers_plan_products_as_evidence(
    imported: list[PlanTask],
    truclam: Any,
    demo: dict[str, Any],
    add_evidence: Any,
    login_as: Any,
) -> None:
    from webapp.plan.tracking import link_evidence

    assessment = demo["assessments"]["TRUCLAM"]
    report = add_evidence(assessment, [], filename="Báo cáo CCHC năm 2026.pdf")
    # Task 2.1's product "Báo cáo kết quả thực hiện" fits 1.1.3's "BC: Báo cáo CCHC…".
    link_evidence(_task(truclam, 2, "1"), report)
    client = login_as("truclam.chuyenvien")
    html = client.get(f"/assessments/{assessment.id}").get_data(as_text=True)
    leaf = html.split('id="leaf-1.1.3"')[1].split("</section>")[0]
    assert "Số liệu từ Kế hoạch CCHC năm 2026" in leaf
    assert "Các nhiệm vụ tính vào tỷ lệ" in leaf
    assert "03.1 – Rà soát, sửa đổi, bổ sung quy định" in leaf
    assert "Báo cáo CCHC năm 2026.pdf (nhiệm vụ 02.1)" in leaf
    client.post(
        f"/evidence/{report.id}/link",
        data={"criterion_code": PLAN_LEAF, "next": f"/assessments/{assessment.id}"},
    )
    db.session.expire_all()
    assert PLAN_LEAF in db.session.get(type(report), report.id).criterion_codes


def test_the_docx_report_has_the_plan_results_annex(
    imported: list[PlanTask], truclam: Any, demo: dict[str, Any]
) -> None:
    from docx import Document

    from webapp.dossier.builders.docx import build_report
    from webapp.dossier.contents import build_dossier

    set_status(
        _task(truclam, 3, "1"), PlanTaskStatus.DONE, completed_on=date(2026, 3, 1)
    )
    data = build_report(build_dossier(demo["assessments"]["TRUCLAM"]))
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "KẾT QUẢ THỰC HIỆN NHIỆM VỤ KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2026" in text
    plan_table = document.tables[-1]
    rows = [[c.text for c in r.cells] for r in plan_table.rows]
    assert rows[1][1] == "Phụ lục số 01: Cải cách thể chế"
    done = next(r for r in rows if r[0] == "03.1")
    assert done[5] == "Hoàn thành"
    assert len([r for r in rows if r[0][:2].isdigit()]) == 65


def test_cli_import_of_a_bad_file_names_the_table_and_row(
    app: Any, truclam: Any, tmp_path: Any
) -> None:
    path = tmp_path / "ke-hoach.csv"
    path.write_text(
        "Phụ lục số 01: Cải cách thể chế\n"
        "TT,Nội dung thực hiện,Sản phẩm,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian\n"
        "1.,,- Báo cáo,,,Quý I/2026\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(
        args=["plan", "import", str(path), "--unit", "TRUCLAM", "--year", "2026"]
    )
    assert result.exit_code == 1
    assert "Phụ lục số 01 (bảng 1), dòng 3: nhiệm vụ 1 thiếu nội dung" in result.output
    assert db.session.scalar(sa.select(sa.func.count(PlanTask.id))) == 0


def test_a_task_dropped_from_the_plan_is_kept_when_it_has_progress(
    imported: list[PlanTask], truclam: Any, seed_docx: bytes
) -> None:
    started = _task(truclam, 7, "5")
    set_status(started, PlanTaskStatus.IN_PROGRESS)
    rows = [r for r in parse_plan_file("kh.docx", seed_docx) if r.key() != (7, "5")]
    last = next(r for r in rows if r.key() == (7, "6"))
    last.number = "5"  # the corrected plan renumbers 7.6 as 7.5
    result = apply_import(truclam, 2026, rows)
    assert [t.id for t in result.kept] == [started.id]
    assert not result.removed
    db.session.expire_all()
    assert db.session.get(PlanTask, started.id).number == "5 (cũ)"
    assert _task(truclam, 7, "5").content.startswith("Tăng cường công tác kiểm tra")
