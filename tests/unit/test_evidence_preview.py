"""The HTML preview's sanitiser keeps structure and text, and nothing that could run."""

from __future__ import annotations

import pytest

from webapp.evidence.preview import sanitise


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<p>Kế hoạch <strong>số 12</strong></p>",
            "<p>Kế hoạch <strong>số 12</strong></p>",
        ),
        ("<p onclick='x()'>a</p>", "<p>a</p>"),
        ("<script>alert(1)</script><p>b</p>", "<p>b</p>"),
        ('<a href="javascript:alert(1)">c</a>', "<a>c</a>"),
        (
            '<a href="https://example.org/x">d</a>',
            '<a href="https://example.org/x" rel="noopener noreferrer">d</a>',
        ),
        ('<img src="https://tracker.example/p.png">', "<img>"),
        (
            '<img src="data:image/png;base64,AAAA">',
            '<img src="data:image/png;base64,AAAA">',
        ),
        ("<style>body{}</style><iframe src=x></iframe>e", "e"),
        ("<td colspan='2' style='x'>f</td>", '<td colspan="2">f</td>'),
        ("1 &lt; 2", "1 &lt; 2"),
    ],
)
def test_sanitise_keeps_only_structure_and_safe_attributes(
    markup: str, expected: str
) -> None:
    assert sanitise(markup) == expected
