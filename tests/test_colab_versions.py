"""Chapter 1 runs on Google Colab's TensorFlow and Keras, not only on the pins of .venv.

In Colab, the guarded install cell adds `regbook` to the TensorFlow and Keras that Colab
ships (about TensorFlow 2.20 and Keras 3.13), which are older than this project's own
environment. `make colab-venv` builds a second environment, .venv-colab (gitignored, created
once and then reused), with those versions and `regbook` installed from this checkout; this
test executes chapter 1 in it with nbclient in the quick profile and checks from the
notebook's own banner line that it really ran on those versions.

Run only this test: `.venv/bin/python -m pytest tests/test_colab_versions.py` (the first
run downloads TensorFlow: a few minutes; later runs take about a minute).
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-colab"
CHAPTER = ROOT / "notebooks" / "01_overfitting-and-generalization.ipynb"
# Colab's versions: the Makefile's COLAB_PINS, e.g. "tensorflow-cpu==2.20.*" "keras==3.13.*".
_PINS = re.search(r"^COLAB_PINS\s*:=(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
TF_VERSION = re.search(r"tensorflow-cpu==(\d+\.\d+)\.\*", _PINS).group(1) + "."
KERAS_VERSION = re.search(r"keras==(\d+\.\d+)\.\*", _PINS).group(1) + "."

RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient

nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
for cell in nb.cells:
    for out in cell.get("outputs", []):
        text = out.get("text", "")
        if "| TensorFlow " in text:
            print("BANNER:", text.strip().splitlines()[0])
"""


@pytest.fixture(scope="module")
def colab_python() -> Path:
    if shutil.which("make") is None:
        pytest.fail("`make` is needed to create .venv-colab (see the README)")
    out = subprocess.run(["make", "-s", "colab-venv"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, "make colab-venv failed:\n" + (out.stdout + out.stderr)[-3000:]
    return VENV / "bin" / "python"


def test_chapter_one_runs_on_colabs_tensorflow_and_keras(colab_python):
    env = dict(os.environ, REGBOOK_PROFILE="quick")
    env.pop("REGBOOK_SEED", None)
    # The kernel is started as `python` from PATH: make that the Colab venv's interpreter.
    env["PATH"] = os.pathsep.join([str(colab_python.parent), env.get("PATH", "")])
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run(
        [str(colab_python), "-c", RUNNER, str(CHAPTER), str(CHAPTER.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, f"chapter 1 failed on Colab's versions:\n{log[-4000:]}"
    banner = re.search(r"BANNER: (.+)", out.stdout)
    assert banner, f"chapter 1 printed no banner line:\n{log[-2000:]}"
    line = banner.group(1)
    assert f"TensorFlow {TF_VERSION}" in line, f"not Colab's TensorFlow: {line}"
    assert f"Keras {KERAS_VERSION}" in line, f"not Colab's Keras: {line}"
    assert "profile: quick" in line, line
