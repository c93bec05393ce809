"""The website builds with zero warnings (`jupyter-book build -W -n --keep-going .`).

This executes every notebook (cached in _build/.jupyter_cache between local runs) and is
the slowest test. The built site is reused by the browser tests.
"""

import re

import pytest

# The session fixture `built_book` lives in tests/conftest.py, so that this file and
# tests/test_browser.py share one build per test session.


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    out, html = built_book
    log = out.stdout + out.stderr
    warnings = [
        line
        for line in log.splitlines()
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)
        and "Kernel is running over TCP without encryption" not in line
    ]
    assert out.returncode == 0, log[-4000:]
    assert not warnings, "\n".join(warnings[:30])
    assert (html / "index.html").exists()


@pytest.mark.slow
def test_chapter_one_page_has_figures_equations_and_glued_numbers(built_book):
    _, html = built_book
    page = (html / "notebooks" / "01_overfitting-and-generalization.html").read_text()
    assert page.count("<img") >= 4, "the chapter's figures are on the page"
    assert 'id="equation-eq-bias-variance"' in page
    assert "{glue:" not in page and page.count('class="pasted-text"') >= 10, "glue unresolved"
    assert "Traceback (most recent call last)" not in page
    assert 'class="output traceback"' not in page and 'class="output stderr"' not in page


@pytest.mark.slow
def test_markdown_tables_in_cell_outputs_render_as_tables(built_book):
    """Tables that a notebook *prints* as Markdown (chapter 11's ablation table and
    classification report) must become HTML tables, not a paragraph of pipes."""
    _, html = built_book
    page = (html / "notebooks" / "11_case-study-cnn.html").read_text()
    assert page.count("<table") >= 2, "the ablation table and the per-class report"
    raw_rule = re.compile(r"\|\s*(?:---|—|&#8212;|&mdash;)")  # a table's |---| rule, as text
    for path in sorted((html / "notebooks").glob("*.html")):
        text = re.sub(r"<pre.*?</pre>", "", path.read_text(), flags=re.S)  # code is fine
        assert not raw_rule.search(text), f"a Markdown table left as text in {path.name}"


@pytest.mark.slow
def test_evidence_index_lists_the_recorded_claims(built_book):
    """book/evidence is filled at build time from the claims the notebooks recorded."""
    _, html = built_book
    page = (html / "book" / "evidence.html").read_text()
    found = re.search(
        r"<strong>(\d+) claims</strong> from (\d+) chapters?; <strong>(\d+) hold", page
    )
    assert found, "the evidence table is missing"
    n, _, held = map(int, found.groups())
    assert n >= 1 and held == n, "every recorded claim holds (a failing one fails its notebook)"
    assert page.count('class="std std-ref">ch. ') >= 1, "rows link to their sections"
