"""Project rules that keep the book consistent: clean notebooks, every notebook in the
table of contents, the house skeleton, one repository URL, and CI = the README's command."""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
REPO_PATH = REPO_URL.split("github.com/")[1]
# Where the Colab copies of the notebooks are published (scripts/colab_copies.py): the
# branch and folder that the launch buttons use, then notebooks/.
COPIES = "/".join(
    p.strip("/")
    for p in (CONFIG["repository"]["branch"], CONFIG["repository"]["path_to_book"], "notebooks")
    if p.strip("/")
)
ALLOWED_NB_METADATA = {"kernelspec", "jupytext", "language_info"}


def load(path):
    return json.loads(path.read_text())


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_clean(path):
    nb = load(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has a count"
        extra = set(cell.get("metadata", {})) - {"tags", "jupyter", "mystnb"}
        assert not extra, f"{path.name} cell {i} has metadata {extra}"
    assert set(nb["metadata"]) <= ALLOWED_NB_METADATA, set(nb["metadata"])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_name_and_toc_entry(path):
    assert re.fullmatch(r"\d\d_[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name), path.name
    toc = (ROOT / "_toc.yml").read_text()
    assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


def test_toc_entries_exist():
    toc = (ROOT / "_toc.yml").read_text()
    for entry in re.findall(r"file:\s*(\S+)", toc):
        matches = list(ROOT.glob(entry + ".*"))
        assert matches, f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_house_skeleton(path):
    nb = load(path)
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert md.lstrip().startswith("# "), "starts with an H1 title"
    for heading in ("## Setup", "## Summary", "## Exercises"):
        assert heading in md, f"{path.name} lacks '{heading}'"
    assert "Learning goals" in md or "learning goals" in md
    colab = f"https://colab.research.google.com/github/{REPO_PATH}/blob/{COPIES}/{path.name}"
    assert colab in md, f"{path.name}: the Colab link must point to its Colab copy, {colab}"
    install = [c for c in nb["cells"] if "google.colab" in "".join(c["source"])]
    assert install, f"{path.name} has no guarded Colab install cell"
    cell = install[0]
    src = "".join(cell["source"])
    assert 'if "google.colab" in sys.modules:' in src
    assert f"git+{REPO_URL}@" in src, "the install line must use the URL from _config.yml"
    assert "remove-cell" in cell["metadata"].get("tags", []), "hide the install cell on the site"
    assert any("regbook.setup(" in c for c in code), "Setup calls regbook.setup()"
    setup = [c for c in code if "google.colab" not in c]
    first = next(c for c in setup if re.search(r"^\s*(import|from) ", c, re.M))
    first_line = next(ln for ln in first.splitlines() if re.match(r"\s*(import|from) ", ln))
    assert first_line == "import regbook", "import regbook before TensorFlow/Keras"
    assert "assert " in "\n".join(code), "claims are asserted in code"


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README marks its test command with <!-- test-command -->"
    command = m.group(1).strip()
    assert command in ci.splitlines(), f".ci/run must run `{command}` verbatim"


def _package_version():
    m = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert m, "pyproject.toml has no version"
    return m.group(1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_install_is_pinned_to_the_package_version(path):
    """Colab installs the release the book was built with: the tag v<version of pyproject>."""
    version = _package_version()
    nb = load(path)
    install = [c for c in nb["cells"] if "google.colab" in "".join(c["source"])]
    assert install, f"{path.name} has no guarded Colab install cell"
    pins = re.findall(rf"git\+{re.escape(REPO_URL)}@([^\"'\s]+)", "".join(install[0]["source"]))
    assert pins, f"{path.name}: the Colab install is not pinned to a tag"
    assert set(pins) == {f"v{version}"}, (
        f"{path.name}: the Colab install is pinned to {pins}, but pyproject.toml's version is "
        f"{version}: pin it to v{version}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption_a_name_and_alt_text(path):
    """A cell that shows a figure carries mystnb metadata: figure {caption, name} and image
    {alt}, which the build turns into a numbered caption and the image's alt text."""
    nb = load(path)
    names = []
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or not re.search(r"plt\.show\(\)|display\(fig", src):
            continue
        meta = cell.get("metadata", {}).get("mystnb", {})
        fig, img = meta.get("figure", {}), meta.get("image", {})
        assert fig.get("caption") and fig.get("name"), f"{path.name} cell {i}: no caption"
        assert len(img.get("alt", "")) > 20, f"{path.name} cell {i}: no real alt text"
        # panels side by side are shown stacked on a phone (regbook.plots.stacked_png,
        # book/_ext/stacked_figures.py, book/_static/regbook.css)
        if re.search(r"plots\.axes\([^)]*ncols=\s*[2-9]", src):
            assert img.get("classes") == "multi-panel", f"{path.name} cell {i}: multi-panel"
        names.append(fig["name"])
    assert len(names) == len(set(names)), f"{path.name}: figure names repeat"


def _records_claims(stmt) -> bool:
    """A top-level statement that checks a claim or glues a number for the text."""
    if isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(stmt.value, ast.Call):
        name = ast.unparse(stmt.value.func)
        return name.endswith(".check") or name == "glue" or name.endswith(".glue")
    if isinstance(stmt, (ast.For, ast.If)):
        return any(_records_claims(s) for s in stmt.body)
    return False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_claims_bookkeeping_is_in_folded_cells(path):
    """`claim.check(...)` and `regbook.glue(...)` are the book's bookkeeping, not what it
    teaches: they sit in cells of their own, tagged hide-input, which the site folds
    behind a "show" toggle (the browser test checks the pages themselves)."""
    nb = load(path)
    shown = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or "hide-input" in cell["metadata"].get("tags", []):
            continue
        src = "\n".join(  # a magic (%pip) becomes `pass`, so that the cell parses
            re.sub(r"^(\s*)(%|!(?!=)).*", r"\1pass", line)
            for line in "".join(cell["source"]).splitlines()
        )
        if any(_records_claims(s) for s in ast.parse(src).body):
            shown.append(i)
    assert not shown, f"{path.name}: cells {shown} check claims or glue numbers in view"
