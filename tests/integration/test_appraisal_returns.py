"""Returns (yêu cầu giải trình, bổ sung): only returned leaves reopen, until due."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.lifecycle import NotEditable, editable_codes, ensure_editable
from webapp.models import AuditEvent, CriterionScore, ReturnRequest

DAY_ONE = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 01/12/2026 10:00 in Hà Nội


@pytest.fixture
def appraised(
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    submit_directly: Any,
    appraise_directly: Any,
) -> Any:
    """Trúc Lâm, submitted and fully appraised (1.5 lowered to 0,5)."""
    clock.value = DAY_ONE
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    submit_directly(assessment)
    appraise_directly(assessment, {"1.5": "0.5"})
    return assessment


def send_return(
    client: Any,
    assessment: Any,
    codes: list[str],
    due: str = "05/12/2026",
    message: str = "Bổ sung tài liệu kiểm chứng.",
) -> Any:
    return client.post(
        f"/appraisal/assessments/{assessment.id}/returns",
        data={"codes": codes, "message": message, "due_date": due},
    )


def row(assessment: Any, code: str) -> CriterionScore:
    found = db.session.scalar(
        sa.select(CriterionScore).where(
            CriterionScore.assessment_id == assessment.id,
            CriterionScore.criterion_code == code,
        )
    )
    assert found is not None
    return found


def test_only_the_returned_leaves_reopen_until_the_end_of_the_due_day(
    client: Any, login_as: Any, clock: Any, appraised: Any
) -> None:
    login_as("thamdinh")
    assert send_return(client, appraised, ["1.5", "2.2.1"]).status_code == 302
    assert appraised.status == "returned"
    request = db.session.scalar(sa.select(ReturnRequest))
    assert request is not None
    # Due 05/12/2026 means until 23:59:59 that day in Hà Nội (16:59:59 UTC).
    assert request.due_at == datetime(2026, 12, 5, 16, 59, 59, tzinfo=UTC)
    assert request.before["1.5"]["appraised_points"] == "0.50"  # kept for the record
    assert request.before["1.5"]["answer"] == {"level": 0}
    assert (
        row(appraised, "1.5").appraised_points is None
    )  # appraised again after the reply

    assert editable_codes(appraised) == {"1.5", "2.2.1"}
    ensure_editable(appraised, "1.5")
    with pytest.raises(NotEditable, match="không nằm trong yêu cầu giải trình"):
        ensure_editable(appraised, "1.1.1")

    # The unit's own save route refuses a leaf that was not returned.
    login_as("truclam.chuyenvien")
    before = row(appraised, "1.2").answer
    response = client.post(
        f"/assessments/{appraised.id}/criteria/1.2",
        data={
            "1.2-count_0": "3",
            "1.2-note": "sửa",
            "1.2-version": str(row(appraised, "1.2").version),
        },
        follow_redirects=True,
    )
    assert "không nằm trong yêu cầu giải trình" in response.text
    assert row(appraised, "1.2").answer == before

    clock.value = datetime(2026, 12, 5, 16, 59, 59, tzinfo=UTC)
    assert editable_codes(appraised) == {"1.5", "2.2.1"}
    clock.value = datetime(
        2026, 12, 5, 17, 0, 0, tzinfo=UTC
    )  # 00:00 on 06/12 in Hà Nội
    assert editable_codes(appraised) == set()
    with pytest.raises(NotEditable):
        ensure_editable(appraised, "1.5")

    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "appraisal.return")
    )
    assert event is not None
    assert event.before["status"] == "appraised" and event.after["status"] == "returned"
    assert event.after["criterion_codes"] == ["1.5", "2.2.1"]


BAD_RETURNS = [
    ([], "05/12/2026", "Bổ sung", "Chọn ít nhất một tiêu chí cần giải trình, bổ sung."),
    (
        ["1.5"],
        "30/11/2026",
        "Bổ sung",
        "Hạn giải trình, bổ sung phải từ hôm nay trở đi.",
    ),
    (["1.5"], "31/02/2026", "Bổ sung", "Ngày 31/02/2026 không có thật."),
    (["1.5"], "2026-12-05", "Bổ sung", "Hạn không hợp lệ, nhập theo dạng dd/mm/yyyy"),
    (["1.5"], "15/01/0001", "Bổ sung", "Hạn 15/01/0001 nằm ngoài khoảng cho phép"),
    (["1.5"], "05/12/2026", "", "Vui lòng ghi nội dung yêu cầu giải trình, bổ sung."),
    (["1.8"], "05/12/2026", "Bổ sung", "Tiêu chí 1.8 không thuộc phần thẩm định."),
]


def test_a_bad_return_is_refused_and_changes_nothing(
    client: Any, login_as: Any, appraised: Any
) -> None:
    login_as("thamdinh")
    for codes, due, message, error in BAD_RETURNS:
        response = send_return(client, appraised, codes, due, message)
        assert response.status_code == 422, error
        assert error in response.text
        assert appraised.status == "appraised"
        assert db.session.scalar(sa.select(sa.func.count(ReturnRequest.id))) == 0
        assert row(appraised, "1.5").appraised_points == Decimal("0.50")


def test_one_open_return_at_a_time_and_a_lapsed_one_lets_the_appraiser_finish(
    client: Any, login_as: Any, clock: Any, appraised: Any
) -> None:
    login_as("thamdinh")
    assert send_return(client, appraised, ["1.5"]).status_code == 302
    second = send_return(client, appraised, ["1.2"])
    assert second.status_code == 422
    assert "đang có yêu cầu giải trình, bổ sung chưa đến hạn" in second.text
    # While the return is open, the returned leaf cannot be appraised.
    waiting = client.post(
        f"/appraisal/assessments/{appraised.id}/leaves/1.5",
        data={"points": "1", "version": str(row(appraised, "1.5").version)},
    )
    assert (
        waiting.status_code == 422
        and "Đang chờ đơn vị giải trình, bổ sung" in waiting.text
    )

    # The unit lets the due date pass: the appraiser scores the leaf as it stands.
    clock.value = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    login_as("thamdinh")  # five idle days end any session
    done = client.post(
        f"/appraisal/assessments/{appraised.id}/leaves/1.5",
        data={
            "points": "0,5",
            "comment": "Không giải trình",
            "version": str(row(appraised, "1.5").version),
        },
    )
    assert done.status_code == 302
    assert appraised.status == "appraised"
    request = db.session.scalar(sa.select(ReturnRequest))
    assert request is not None and request.status == "expired"
