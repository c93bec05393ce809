"""The website builds with zero warnings (`jupyter-book build -W -n --keep-going .`).

This executes every notebook (cached in _build/.jupyter_cache between local runs) and is
the slowest test. The built site is reused by the browser tests.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_book():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        "-W",
        "-n",
        "--keep-going",
        ".",
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    return out, ROOT / "_build" / "html"


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
    assert "ch1_val_best" not in page, "a glue reference was not resolved"
    assert "Traceback (most recent call last)" not in page
    assert 'class="output traceback"' not in page and 'class="output stderr"' not in page
