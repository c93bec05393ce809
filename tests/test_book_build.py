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


@pytest.mark.slow
def test_landing_page_reading_paths_link_to_their_chapters(built_book):
    """Every chapter a reading path names ("chapter 5") is a link to that chapter."""
    _, html = built_book
    page = (html / "book" / "index.html").read_text()
    section = re.search(r'<section id="reading-paths">(.*?)</section>', page, re.S)
    assert section, "the landing page has no 'Reading paths' section"
    text = section.group(1)
    linked = {int(n) for n in re.findall(r'href="\.\./notebooks/(\d\d)_[^"]*\.html"', text)}
    named = {int(n) for n in re.findall(r"[Cc]hapter (\d+)", re.sub(r"<[^>]+>", "", text))}
    assert named, "the reading paths name no chapters"
    assert named <= linked, f"chapters named but not linked: {sorted(named - linked)}"
    assert {1, 2, 5, 7} <= linked, "the short path: chapters 1, 2, 5 and 7"


@pytest.mark.slow
def test_chapters_equations_and_exercises_are_numbered_per_chapter(built_book):
    """_toc.yml numbers the chapter parts: notebooks/05_* is chapter 5, its equations are
    (5.k) and its exercises 5.k; the appendices are not numbered."""
    _, html = built_book
    for path in sorted((html / "notebooks").glob("[0-9][0-9]_*.html")):
        n = int(path.name[:2])
        page = path.read_text()
        title = re.search(r"<h1>(.*?)<", page, re.S)
        numbered = re.search(r'<h1><span class="section-number">(\d+)\. </span>', page)
        eqnos = re.findall(r'<span class="eqno">\(([\d.]+)\)', page)
        exercises = re.findall(r"Exercise (\d+(?:\.\d+)?)</span>", page)
        if n >= 90:  # notebooks 90-99 (the errata demonstrations) are appendices
            assert not numbered, f"{path.name} is numbered as a chapter"
            continue
        assert numbered and int(numbered.group(1)) == n, (path.name, title and title.group(1))
        assert all(e.startswith(f"{n}.") for e in eqnos), f"{path.name}: equations {eqnos}"
        assert all(e.startswith(f"{n}.") for e in exercises), f"{path.name}: {exercises}"


@pytest.mark.slow
def test_colab_copies_have_no_myst_left(built_book, tmp_path):
    """scripts/colab_copies.py turns the executed book into plain-Markdown Colab copies:
    every glued number found, every reference resolved, no MyST markup left."""
    import subprocess
    import sys
    from pathlib import Path

    _, html = built_book
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "colab_copies.py"),
            "--site",
            str(html),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    copies = sorted(tmp_path.glob("*.ipynb"))
    assert len(copies) == len(list((root / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    text = (tmp_path / "05_dropout.ipynb").read_text()
    assert "{glue:" not in text and "{cite:" not in text and "{eq}" not in text
    assert "\\\\tag{5.1}" in text and "<details>" in text and "Exercise 5.1" in text
