"""The charts the results pages show, built from a period's results."""

from __future__ import annotations

from markupsafe import Markup

from webapp.models import Assessment, Period
from webapp.results.charts import Bar, Series, bar_chart, grouped_bar_chart, radar_chart
from webapp.results.ranking import PeriodResults, UnitResult


def ranking_chart(
    period: Period, rows: list[UnitResult], own_unit: int | None
) -> Markup:
    """Each visible unit's index as a bar; the viewer's own unit is highlighted."""
    return bar_chart(
        [
            Bar(
                r.unit.name,
                r.final.index,
                highlight=r.unit.id == own_unit,
                note=f"hạng {r.rank}" if r.rank else "",
            )
            for r in rows
        ],
        title=f"Chỉ số CCHC theo đơn vị — {period.name}",
        suffix="%",
    )


def area_charts(
    assessment: Assessment, results: PeriodResults, row: UnitResult | None
) -> dict[str, Markup]:
    """The unit's index per area beside the average of all units, as bars and radar."""
    if row is None:
        return {}
    # The unit's own set (a period may hold both families); the 100-point scale only.
    areas = results.cs_of(row).scale_areas()
    labels = [f"{a.code}. {a.title}" for a in areas]
    series = [
        Series(
            assessment.unit.name,
            tuple(row.final.nodes[a.code].index for a in areas),
        ),
        Series(
            "Bình quân các đơn vị",
            tuple(results.average_of(row, a.code) for a in areas),
        ),
    ]
    title = f"Chỉ số thành phần theo lĩnh vực — {assessment.unit.name}"
    return {
        "bars": grouped_bar_chart(labels, series, title=title, suffix="%"),
        "radar": radar_chart(
            [f"Lĩnh vực {a.code}" for a in areas], series, title=title
        ),
    }
