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
