"""Plan dashboard figures and the report tables (kết quả thực hiện nhiệm vụ)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from webapp.dossier.builders.cells import write_cell
from webapp.formatting import points, vn_date
from webapp.lifecycle import PlanTaskStatus
from webapp.models import Unit
from webapp.plan.deadlines import Deadline, parse_deadline, quarter_end
from webapp.plan.models import PlanTask
from webapp.plan.parsing import ParsedTask
from webapp.plan.score_feed import Completion, completion
from webapp.plan.tracking import today, unit_tasks


def is_overdue(task: PlanTask, on: date) -> bool:
    return (
        task.due_date is not None
        and task.due_date < on
        and not task.status.completed
        and task.status != PlanTaskStatus.NOT_DONE
    )


@dataclass
class AppendixBoard:
    number: int
    title: str
    tasks: list[PlanTask] = field(default_factory=list)
    completion: Completion | None = None
    overdue: int = 0

    @property
    def rate_text(self) -> str:
        rate = self.completion.rate if self.completion else None
        return "—" if rate is None else points(rate) + "%"


@dataclass
class Board:
    appendices: list[AppendixBoard]
    total: Completion
    leads: list[str]
    overdue_ids: set[int]

    @property
    def task_count(self) -> int:
        return sum(len(a.tasks) for a in self.appendices)

    @property
    def rate_text(self) -> str:
        return "—" if self.total.rate is None else points(self.total.rate) + "%"


def dashboard(unit_id: int, year: int, lead: str = "") -> Board:
    everything = unit_tasks(unit_id, year)
    tasks = [t for t in everything if lead in t.lead] if lead else everything
    on = today()
    groups: dict[int, AppendixBoard] = {}
    for task in tasks:
        board = groups.setdefault(
            task.appendix, AppendixBoard(task.appendix, task.appendix_title)
        )
        board.tasks.append(task)
    overdue = {t.id for t in tasks if is_overdue(t, on)}
    for board in groups.values():
        board.completion = completion(unit_id, year, list(board.tasks))
        board.overdue = sum(1 for t in board.tasks if t.id in overdue)
    leads = sorted({name for t in everything for name in t.lead})
    return Board(
        appendices=[groups[k] for k in sorted(groups)],
        total=completion(unit_id, year, list(tasks)),
        leads=leads,
        overdue_ids=overdue,
    )


def deadlines_of(rows: list[ParsedTask], year: int) -> list[Deadline]:
    return [parse_deadline(r.deadline_text, year) for r in rows]


REPORT_HEADER = [
    "STT",
    "Nội dung thực hiện",
    "Sản phẩm",
    "Cơ quan chủ trì",
    "Thời gian hoàn thành",
    "Hạn",
    "Kết quả thực hiện",
    "Ngày hoàn thành",
    "Ghi chú tiến độ",
    "Tài liệu kiểm chứng",
]


def report_tasks(unit_id: int, year: int, quarter: int | None) -> list[PlanTask]:
    """Annual: every task. Quarterly: those with a date or checkpoint up to the
    quarter's end (recurring and continuous tasks report every quarter)."""
    tasks = unit_tasks(unit_id, year)
    if quarter is None:
        return tasks
    end = quarter_end(year, quarter)
    return [
        t
        for t in tasks
        if t.checkpoints
        or t.deadline_kind == "continuous"
        or (t.due_date is not None and t.due_date <= end)
    ]


def report_row(task: PlanTask) -> list[str]:
    return [
        f"{task.appendix:02d}.{task.number}",
        task.content,
        "\n".join(f"- {p}" for p in task.products),
        "\n".join(f"- {p}" for p in task.lead),
        task.deadline_text,
        vn_date(task.due_date) if task.due_date else "",
        task.status.label + (f" ({task.status_reason})" if task.status_reason else ""),
        vn_date(task.completed_on) if task.completed_on else "",
        task.notes[-1].text if task.notes else "",
        "\n".join(e.summary or e.original_filename for e in task.evidence),
    ]


def report_title(unit: Unit, year: int, quarter: int | None) -> str:
    when = f"quý {quarter} năm {year}" if quarter else f"năm {year}"
    return f"Kết quả thực hiện nhiệm vụ Kế hoạch CCHC {when} - {unit.name}"


def report_xlsx(unit: Unit, year: int, quarter: int | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"Quy {quarter}" if quarter else f"Nam {year}"
    write_cell(ws, 1, 1, report_title(unit, year, quarter)).font = Font(bold=True)
    for c, name in enumerate(REPORT_HEADER, start=1):
        write_cell(ws, 3, c, name).font = Font(bold=True)
    r = 4
    last_appendix = None
    tasks = report_tasks(unit.id, year, quarter)
    for task in tasks:
        if task.appendix != last_appendix:
            heading = f"Phụ lục số {task.appendix:02d}: {task.appendix_title}"
            write_cell(ws, r, 1, heading).font = Font(bold=True)
            r += 1
            last_appendix = task.appendix
        for c, value in enumerate(report_row(task), start=1):
            write_cell(ws, r, c, value).alignment = Alignment(
                wrap_text=True, vertical="top"
            )
        r += 1
    total = completion(unit.id, year, list(tasks))
    rate = total.rate if total.rate is not None else Decimal(0)
    write_cell(
        ws,
        r + 1,
        1,
        f"Hoàn thành đúng hạn {len(total.on_time)}/{len(total.due)} nhiệm vụ đến hạn "
        f"trong năm ({points(rate)}%); hoàn thành muộn {len(total.late)}; "
        f"không thực hiện {len(total.not_done)}.",
    )
    for col, width in zip(
        "ABCDEFGHIJ", (8, 60, 35, 30, 30, 12, 20, 14, 40, 35), strict=True
    ):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plan_annex_rows(unit_id: int, year: int) -> tuple[tuple[str, ...], ...]:
    """The report annex's rows: a one-cell heading per appendix, then its tasks."""
    rows: list[tuple[str, ...]] = []
    last = None
    for task in unit_tasks(unit_id, year):
        if task.appendix != last:
            rows.append((f"Phụ lục số {task.appendix:02d}: {task.appendix_title}",))
            last = task.appendix
        full = report_row(task)
        # STT, content, products, lead, deadline, result, evidence.
        rows.append((full[0], full[1], full[2], full[3], full[4], full[6], full[9]))
    return tuple(rows)
