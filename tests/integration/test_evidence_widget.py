"""The leaf partial the assessment page includes: the element hooks the upload widget
and the browser test rely on, and what a frozen leaf shows."""

from __future__ import annotations

from typing import Any


def _render(app: Any, user: Any, **context: Any) -> str:
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context("/assessments/1"):
        login_user(user)
        # Two leaves on one page: the script must still be included only once.
        return "".join(
            render_template("evidence/_leaf_evidence.html", **ctx)
            for ctx in context["leaves"]
        )


def test_leaf_partial_offers_upload_picker_and_lists_documents(
    app: Any, demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    from webapp.criteria_sets import criteria_for
    from webapp.evidence.services import evidence_by_leaf

    login_as("truclam.chuyenvien")
    assessment = demo["assessments"]["TRUCLAM"]
    upload_file(
        assessment.id,
        "Kế hoạch CCHC năm 2026.pdf",
        evidence_files.pdf(["KẾ HOẠCH"]),
        ("1.1.1",),
    )
    cs = criteria_for(assessment)
    docs = evidence_by_leaf(assessment)
    html = _render(
        app,
        demo["users"]["truclam.chuyenvien"],
        leaves=[
            {
                "assessment": assessment,
                "leaf": cs.node(code),
                "evidence_list": docs.get(code, []),
                "editable": True,
            }
            for code in ("1.1.1", "1.1.2")
        ],
    )

    assert '<div class="evidence-upload" data-leaf="1.1.1">' in html
    assert '<input type="file" name="file" multiple' in html
    assert 'class="drop-zone"' in html
    assert '<ul class="upload-queue"' in html
    assert '<ul class="evidence-list" data-leaf="1.1.1">' in html
    first_leaf = html.split('data-leaf="1.1.2"', 1)[0]
    assert first_leaf.count('<li class="evidence-item"') == 1
    assert (
        'class="evidence-name"' in first_leaf
        and "Kế hoạch CCHC năm 2026.pdf" in first_leaf
    )
    assert (
        "Chưa có tài liệu kiểm chứng."
        in html.split('<div class="leaf-evidence" data-leaf="1.1.2">', 1)[1]
    )
    assert 'class="evidence-picker"' in html and "Gắn tài liệu đã tải lên" in html
    for label in (
        "Loại văn bản",
        "Số/ký hiệu",
        "Ngày ban hành",
        "Cơ quan ban hành",
        "Trích yếu",
    ):
        assert label in html
    for doc_type in (
        "Quyết định",
        "Kế hoạch",
        "Báo cáo",
        "Thông báo",
        "Hướng dẫn",
        "Tờ trình",
        "Công văn",
        "Biên bản",
        "Khác",
    ):
        assert f'<option value="{doc_type}">' in html
    assert html.count("js/evidence.js") == 1
    assert 'name="csrf_token"' in html


def test_a_frozen_leaf_shows_documents_without_editing(
    app: Any, demo: dict[str, Any], login_as: Any, upload_file: Any, evidence_files: Any
) -> None:
    from webapp.criteria_sets import criteria_for
    from webapp.evidence.services import evidence_by_leaf

    login_as("truclam.chuyenvien")
    assessment = demo["assessments"]["TRUCLAM"]
    upload_file(
        assessment.id, "Báo cáo.pdf", evidence_files.pdf(["BÁO CÁO"]), ("1.1.1",)
    )
    html = _render(
        app,
        demo["users"]["thamdinh"],
        leaves=[
            {
                "assessment": assessment,
                "leaf": criteria_for(assessment).node("1.1.1"),
                "evidence_list": evidence_by_leaf(assessment)["1.1.1"],
                "editable": False,
            }
        ],
    )
    assert "Báo cáo.pdf" in html and "/download" in html
    assert "evidence-upload" not in html and "evidence-picker" not in html
    assert "/unlink" not in html and "Lưu trích dẫn" not in html
