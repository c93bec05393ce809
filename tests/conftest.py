"""Shared fixtures. Importing regbook first keeps TensorFlow's start-up logs quiet."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import regbook  # noqa: F401  (sets TF log level before TensorFlow is imported)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_book():
    """Build the whole book once per test session: `jupyter-book build -W -n --keep-going .`

    Shared by tests/test_book_build.py (zero warnings) and tests/test_browser.py (the site
    in a browser). Returns the finished process and the folder of the built site.
    """
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
    if out.returncode == 0:  # then the Colab copies, into the site, as `make book` does
        copies = [sys.executable, str(ROOT / "scripts" / "colab_copies.py")]
        subprocess.run(copies, cwd=ROOT, capture_output=True, text=True, env=env)
    return out, ROOT / "_build" / "html"
