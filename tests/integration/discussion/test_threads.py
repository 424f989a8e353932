"""Trao đổi: a per-leaf thread between a unit and its assigned appraisers."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest
import sqlalchemy as sa

from webapp.admin.periods import close_period
from webapp.criteria_sets import criteria_for
from webapp.extensions import db
from webapp.models import AppraiserAssignment, AuditEvent, LeafMessage

pytestmark = pytest.mark.db


@pytest.fixture
def leaf_code(demo: dict[str, Any]) -> str:
    leaves = criteria_for(demo["assessments"]["TRUCLAM"]).leaves()
    return next(leaf.code for leaf in leaves if leaf.assessed_by == "self")


def _url(assessment: Any, code: str) -> str:
    return f"/discussion/assessments/{assessment.id}/leaves/{code}"


def _messages(assessment: Any) -> list[LeafMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(LeafMessage)
            .where(LeafMessage.assessment_id == assessment.id)
            .order_by(LeafMessage.id)
        )
    )


def _thread_texts(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [
        " ".join(p.text_content().split())
        for p in doc.xpath('//ol[@class="thread"]/li/p[@class="body"]')
    ]


def test_the_unit_and_its_appraiser_talk_about_a_leaf(
    app: Any,
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    leaf_code: str,
    submit_directly: Any,
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    url = _url(assessment, leaf_code)
    login_as("truclam.chuyenvien")
    assert "Chưa có trao đổi nào" in client.get(url).get_data(as_text=True)
    question = "Quyết định số 12/QĐ-UBND đã đủ làm tài liệu kiểm chứng chưa ạ?"
    response = client.post(url, data={"body": question})
    assert response.status_code == 302
    assert _thread_texts(client.get(url).get_data(as_text=True)) == [question]

    # The criteria page shows only the count and a link; the text loads on demand.
    detail = client.get(f"/assessments/{assessment.id}").get_data(as_text=True)
    assert question not in detail
    doc = lxml.html.fromstring(detail)
    link = doc.xpath(f'//a[@href="{url}"]')
    assert len(link) == 1
    assert link[0].get("data-count") == "1"
    assert "(1 tin)" in link[0].text_content()

    submit_directly(assessment)
    login_as("thamdinh")
    screen = client.get(f"/appraisal/assessments/{assessment.id}").get_data(
        as_text=True
    )
    assert f'href="{url}" data-count="1"' in screen
    answer = "Đủ, nhưng cần bổ sung báo cáo kết quả thực hiện."
    xhr = client.post(
        url,
        data={"body": answer},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert xhr.status_code == 200
    payload = xhr.get_json()
    assert payload["ok"] is True and answer in payload["html"]
    fragment = client.get(f"{url}?fragment=1").get_data(as_text=True)
    assert _thread_texts(fragment) == [question, answer]
    assert "<html" not in fragment

    authors = [m.author.username for m in _messages(assessment)]
    assert authors == ["truclam.chuyenvien", "thamdinh"]
    events = list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "leaf_message.post")
        )
    )
    assert [e.after["body"] for e in events] == [question, answer]
    assert all(e.unit_id == assessment.unit_id for e in events)
    assert {e.after["criterion_code"] for e in events} == {leaf_code}


def test_another_unit_gets_404_and_sees_nothing(
    client: Any, demo: dict[str, Any], login_as: Any, leaf_code: str
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    url = _url(assessment, leaf_code)
    login_as("truclam.lanhdao")
    client.post(url, data={"body": "Tin nội bộ TRUCLAM-7731"})
    login_as("nghison.chuyenvien")
    page = client.get(url)
    assert page.status_code == 404
    assert "TRUCLAM-7731" not in page.get_data(as_text=True)
    assert client.post(url, data={"body": "Xin chào"}).status_code == 404
    assert len(_messages(assessment)) == 1


def test_an_appraiser_not_assigned_to_the_unit_gets_404(
    client: Any,
    demo: dict[str, Any],
    login_as: Any,
    leaf_code: str,
    cacson_appraiser: Any,
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    login_as("thamdinh.cacson")
    assert client.get(_url(assessment, leaf_code)).status_code == 404
    assert client.post(_url(assessment, leaf_code), data={"body": "?"}).status_code == (
        404
    )
    assert _messages(assessment) == []


def test_an_appraiser_assigned_other_areas_cannot_join_this_leaf(
    client: Any, demo: dict[str, Any], login_as: Any, leaf_code: str
) -> None:
    assignment = db.session.scalar(
        sa.select(AppraiserAssignment).where(
            AppraiserAssignment.unit_id == demo["units"]["TRUCLAM"].id
        )
    )
    assert assignment is not None
    assignment.area_codes = ["99"]
    db.session.commit()
    login_as("thamdinh")
    url = _url(demo["assessments"]["TRUCLAM"], leaf_code)
    assert client.get(url).status_code == 404
    assignment.area_codes = [leaf_code.split(".")[0]]
    db.session.commit()
    assert client.get(url).status_code == 200


def test_the_coordinator_takes_part_and_an_unknown_leaf_is_404(
    client: Any, demo: dict[str, Any], login_as: Any, leaf_code: str
) -> None:
    assessment = demo["assessments"]["NGHISON"]
    login_as("admin")
    assert (
        client.post(
            _url(assessment, leaf_code), data={"body": "Sở Nội vụ lưu ý hạn nộp."}
        ).status_code
        == 302
    )
    assert client.get(_url(assessment, "99.99")).status_code == 404
    assert client.get(
        f"/discussion/assessments/999999/leaves/{leaf_code}"
    ).status_code == (404)


def test_an_empty_message_is_refused_in_vietnamese(
    client: Any, demo: dict[str, Any], login_as: Any, leaf_code: str, form_errors: Any
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    login_as("truclam.chuyenvien")
    response = client.post(_url(assessment, leaf_code), data={"body": "   "})
    assert response.status_code == 400
    assert form_errors(response.data)["body"] == ["Vui lòng nhập nội dung trao đổi."]
    xhr = client.post(
        _url(assessment, leaf_code),
        data={"body": ""},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert xhr.status_code == 400
    assert xhr.get_json()["error"] == "Vui lòng nhập nội dung trao đổi."
    assert _messages(assessment) == []


def test_the_thread_is_frozen_once_the_period_is_closed(
    client: Any, demo: dict[str, Any], login_as: Any, leaf_code: str
) -> None:
    assessment = demo["assessments"]["TRUCLAM"]
    url = _url(assessment, leaf_code)
    login_as("truclam.chuyenvien")
    client.post(url, data={"body": "Gửi trước khi đóng kỳ."})
    close_period(demo["period"])
    page = client.get(url).get_data(as_text=True)
    assert _thread_texts(page) == ["Gửi trước khi đóng kỳ."]  # still readable
    assert "phần trao đổi chỉ còn để xem" in page
    assert 'class="thread-form"' not in page
    refused = client.post(
        url,
        data={"body": "Gửi sau khi đóng kỳ."},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert refused.status_code == 409
    assert "Kỳ đánh giá đã đóng" in refused.get_json()["error"]
    plain = client.post(url, data={"body": "Gửi sau khi đóng kỳ."})
    assert plain.status_code == 409
    assert len(_messages(assessment)) == 1
