"""The criteria page reuses a leaf's markup only for the same data (issue 16).

Each leaf's HTML is cached under a digest of what the request loaded for it
(webapp/assessment/leaf_cache.py). Whatever changes (an answer, a document added or
removed, a message or the appraiser's comment, a submission, the deadline passing),
the next page shows it, and is the very page a render without the cache gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from webapp.assessment import leaf_cache, page_cache
from webapp.clock import VN_TZ
from webapp.extensions import db
from webapp.workflow import score_row

pytestmark = pytest.mark.db

# A Flask-WTF token carries its time: two renders a second apart differ there only.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{20,}")


@pytest.fixture(params=["page", "leaf"])
def page(request: Any, app: Any, client: Any) -> Callable[[str], str]:
    """GET a page twice (the second from the warm cache: the whole body, or with the
    page cache off each leaf); check that it is the page a render without any cache
    gives; return it."""
    level = request.param
    if level == "leaf":
        app.config["PAGE_CACHE_SIZE"] = 0
    extension = page_cache._EXTENSION if level == "page" else leaf_cache._EXTENSION

    def get(url: str) -> str:
        assert client.get(url).status_code == 200
        hits = _cache(app, extension).hits
        cached = client.get(url).get_data(as_text=True)
        assert _cache(app, extension).hits > hits, f"nothing came from the {level}s"
        assert "<parindex-leaf-csrf>" not in cached
        kept = {
            name: app.extensions.pop(name, None)
            for name in (leaf_cache._EXTENSION, page_cache._EXTENSION)
        }
        sizes = {k: app.config.get(k) for k in ("LEAF_CACHE_SIZE", "PAGE_CACHE_SIZE")}
        app.config.update(LEAF_CACHE_SIZE=0, PAGE_CACHE_SIZE=0)
        try:
            fresh = client.get(url).get_data(as_text=True)
        finally:
            app.config.update(sizes)
            app.extensions.update({k: v for k, v in kept.items() if v is not None})
        assert _TOKEN.sub("T", cached) == _TOKEN.sub("T", fresh)
        return cached

    return get


def _cache(app: Any, extension: str = leaf_cache._EXTENSION) -> leaf_cache.LeafCache:
    cache = app.extensions.get(extension)
    assert cache is not None
    return cache


@pytest.fixture
def truclam(demo: dict[str, Any], clock: Any, fill_assessment: Any) -> Any:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    assessment = demo["assessments"]["TRUCLAM"]
    fill_assessment(assessment)
    return assessment


def test_a_saved_answer_shows_on_the_next_page(
    truclam: Any, login_as: Any, save_leaf: Any, page: Any
) -> None:
    login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    before = page(url)
    assert "Ghi chú sau khi sửa" not in before
    version = score_row(truclam, "1.1.3").version

    response = save_leaf(
        truclam.id, "1.1.3", version, value="80", note="Ghi chú sau khi sửa"
    )

    assert response.status_code in (200, 302, 303)
    after = page(url)
    assert "Ghi chú sau khi sửa" in after
    assert re.search(r'name="1\.1\.3-value"[^>]*value="80"', after)


def test_a_document_added_or_removed_shows_on_the_next_page(
    truclam: Any, login_as: Any, add_evidence: Any, page: Any, client: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    assert "Quyết định mới thêm.pdf" not in page(url)

    evidence = add_evidence(truclam, ["1.1.1"], filename="Quyết định mới thêm.pdf")
    assert "Quyết định mới thêm.pdf" in page(url)

    response = client.post(
        f"/evidence/{evidence.id}/unlink", data={"criterion_code": "1.1.1"}
    )
    assert response.status_code in (302, 303)
    assert "Quyết định mới thêm.pdf" not in page(url)


def test_a_citation_edited_elsewhere_shows_on_the_next_page(
    truclam: Any, login_as: Any, add_evidence: Any, page: Any
) -> None:
    login_as("truclam.chuyenvien")
    evidence = add_evidence(truclam, ["1.1.1"], doc_number="12/KH-UBND")
    url = f"/assessments/{truclam.id}"
    assert "số 12/KH-UBND" in page(url)

    evidence.doc_number = "13/KH-UBND"
    db.session.commit()

    after = page(url)
    assert "số 13/KH-UBND" in after and "số 12/KH-UBND" not in after


def test_a_message_in_the_thread_shows_in_the_leaf_link(
    truclam: Any, login_as: Any, page: Any
) -> None:
    client = login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    assert "(1 tin)" not in page(url)

    response = client.post(
        f"/discussion/assessments/{truclam.id}/leaves/1.1.1",
        data={"body": "Đề nghị thẩm định xem lại tài liệu."},
    )

    assert response.status_code in (302, 303), response.status_code
    assert "(1 tin)" in page(url)


def test_submitting_and_the_appraisers_comment_show_on_the_next_page(
    truclam: Any, login_as: Any, submit_directly: Any, page: Any
) -> None:
    login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    form = f'action="/assessments/{truclam.id}/criteria/1.1.1"'
    assert form in page(url)

    submit_directly(truclam)
    submitted = page(url)
    assert form not in submitted
    assert "Ý kiến thẩm định" not in submitted

    score_row(truclam, "1.1.1").appraiser_comment = "Tài liệu chưa đúng năm."
    db.session.commit()
    assert "Tài liệu chưa đúng năm." in page(url)


def test_the_deadline_passing_closes_the_forms_on_the_next_page(
    truclam: Any, login_as: Any, clock: Any, page: Any
) -> None:
    login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    form = f'action="/assessments/{truclam.id}/criteria/1.1.1"'
    assert form in page(url)

    clock.value = datetime(2026, 12, 17, 9, 0, tzinfo=VN_TZ)
    login_as("truclam.chuyenvien")  # two weeks on, the idle session has ended

    assert form not in page(url)


def test_each_viewer_gets_their_own_token_and_only_their_own_forms(
    truclam: Any, login_as: Any, page: Any, app: Any
) -> None:
    url = f"/assessments/{truclam.id}"
    login_as("truclam.chuyenvien")
    unit = page(url)
    login_as("admin")
    coordinator = page(url)

    # One token per page, the session's own (the header's form shares it).
    for html in (unit, coordinator):
        assert len(set(re.findall(r'name="csrf_token" value="([^"]+)"', html))) == 1
    assert f'action="/assessments/{truclam.id}/criteria/1.1.1"' in unit
    assert f'action="/assessments/{truclam.id}/criteria/1.1.1"' not in coordinator
    assert 0 < len(_cache(app)) <= leaf_cache.DEFAULT_SIZE
    if app.config.get("PAGE_CACHE_SIZE") != 0:  # the page level: both bodies kept
        assert len(_cache(app, page_cache._EXTENSION)) == 2


def test_the_cache_keeps_at_most_its_size() -> None:
    cache = leaf_cache.LeafCache(2)
    leaf = object()
    for n in range(3):
        cache.put(bytes([n]), leaf, (f"<section>{n}</section>", False))

    assert len(cache) == 2
    assert cache.get(bytes([0]), leaf) is None
    assert cache.get(bytes([2]), leaf) == ("<section>2</section>", False)
    # A criteria set loaded anew (other Node objects) never gets the old markup.
    assert cache.get(bytes([2]), object()) is None


def test_the_tree_shows_a_leaf_answered_since_the_last_render(
    demo: dict[str, Any],
    clock: Any,
    fill_assessment: Any,
    login_as: Any,
    save_leaf: Any,
    page: Any,
) -> None:
    clock.value = datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
    truclam = demo["assessments"]["TRUCLAM"]
    fill_assessment(truclam, skip=("1.1.3",))
    login_as("truclam.chuyenvien")
    url = f"/assessments/{truclam.id}"
    tree_leaf = re.compile(
        r'<li class="tree-leaf" data-code="1\.1\.3" data-state="(\w+)"'
    )
    before = tree_leaf.search(page(url))
    assert before and before[1] == "unanswered"

    save_leaf(truclam.id, "1.1.3", value="100", note="Theo báo cáo số 12/BC-UBND")

    after = tree_leaf.search(page(url))
    assert after and after[1] != "unanswered"


def test_a_renamed_user_shows_under_the_answers_they_saved(
    truclam: Any, demo: dict[str, Any], login_as: Any, save_leaf: Any, page: Any
) -> None:
    login_as("truclam.chuyenvien")
    version = score_row(truclam, "1.1.3").version
    save_leaf(truclam.id, "1.1.3", version, value="80", note="Theo KH số 5")
    url = f"/assessments/{truclam.id}"
    user = demo["users"]["truclam.chuyenvien"]
    assert user.full_name in page(url)

    user.full_name = "Lê Văn Đổi Tên"
    db.session.commit()

    assert "Lê Văn Đổi Tên" in page(url)
