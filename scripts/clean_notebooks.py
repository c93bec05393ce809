#!/usr/bin/env python
"""Strip notebooks for committing: no outputs, no execution counts, cell metadata reduced
to ``tags`` and ``mystnb`` (a figure's caption, name and alt text), notebook metadata
to ``kernelspec`` and ``jupytext``.

Usage: python scripts/clean_notebooks.py [notebooks/*.ipynb]   (default: all of notebooks/)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP_NB = {"kernelspec", "jupytext"}


def clean(path: Path) -> bool:
    """Clean one notebook in place; return True if it changed."""
    text = path.read_text()
    nb = json.loads(text)
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in KEEP_NB}
    for cell in nb["cells"]:
        cell.pop("id", None) if nb.get("nbformat_minor", 0) < 5 else None
        meta = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags", "mystnb") and v}
        cell["metadata"] = meta
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new)
        return True
    return False


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for p in paths:
        if clean(p):
            print(f"cleaned {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
