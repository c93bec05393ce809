"""The notebooks' second run is on Google Colab's packages: this checks that it is.

`make test-colab` (the second half of `make test`) executes every notebook under nbval
in .venv-colab, which `make colab-venv` builds from Python 3.13 and exactly the
versions pinned in requirements-colab.txt, with regbook installed as a package (not
editable) from this checkout, as Colab's install cell installs it. These tests run
first in that session: every pin is what is installed, the notebooks import regbook
from site-packages, and the banner line that every chapter prints names Colab's
TensorFlow and Keras. In any other environment (`.venv/bin/python -m pytest`) they are
skipped.
"""

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_PIN_FILE = (ROOT / "requirements-colab.txt").read_text()
PINS = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", _PIN_FILE, re.M))  # name: version
IN_COLAB_VENV = Path(sys.prefix).resolve() == (ROOT / ".venv-colab").resolve()

pytestmark = pytest.mark.skipif(
    not IN_COLAB_VENV, reason="runs in .venv-colab only (`make test-colab`)"
)


def test_python_is_colabs():
    assert sys.version_info[:2] == (3, 13), sys.version


@pytest.mark.parametrize("name", sorted(PINS))
def test_every_pin_is_installed(name):
    installed = version(name)
    assert installed == PINS[name], f"{name} {installed}, Colab has {PINS[name]}"


def _as_a_notebook(code: str) -> str:
    """Run ``code`` as a notebook's kernel would: this interpreter, in notebooks/."""
    drop = ("PYTHONPATH", "REGBOOK_SEED")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "notebooks",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_regbook_is_installed_as_a_package_with_keras_tuner():
    where = _as_a_notebook("import regbook; print(regbook.__file__)").strip()
    assert Path(where).resolve().is_relative_to(Path(sys.prefix).resolve()), (
        f"the notebooks import regbook from {where}, not from site-packages"
    )
    assert version("keras-tuner")  # not on Colab: regbook's install pulls it in


def test_banner_names_colabs_tensorflow_and_keras():
    line = _as_a_notebook("import regbook; regbook.setup(profile='quick')").strip()
    assert f"| TensorFlow {PINS['tensorflow-cpu']} |" in line, line
    assert f"| Keras {PINS['keras']} |" in line, line
    assert "profile: quick" in line, line
