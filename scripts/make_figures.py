#!/usr/bin/env python
"""Draw the static figures of the book's markdown pages into book/figures/.

Notebook figures are made when the notebooks run; this script only makes the few pictures
that the plain pages need. Usage: python scripts/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]

GROUPS = [
    (
        "The data",
        ["data augmentation (ch. 8)", "noise injection, mixup (ch. 12)", "more data (ch. 1)"],
    ),
    ("The model", ["dropout (ch. 5)", "batch normalization (ch. 6)", "skip connections* (ch. 9)"]),
    ("The loss", ["L2 penalty (ch. 2)", "L1 and elastic net (ch. 3)", "label smoothing (ch. 12)"]),
    (
        "The training",
        [
            "early stopping (ch. 7)",
            "decoupled weight decay (ch. 4)",
            "choosing the strength (ch. 10)",
        ],
    ),
]


def techniques_map(path: Path) -> None:
    """Four boxes in a 2 × 2 grid: where each regularization technique of the book acts.

    Drawn at about the width it is shown at (the page column), so the text keeps its size;
    two columns rather than four keep it legible on a phone.
    """
    plt.rcParams.update({"font.size": 11, "svg.fonttype": "none"})
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.axis("off")
    for i, (title, items) in enumerate(GROUPS):
        c = OKABE_ITO[i]
        x0, y0 = i % 2, 1 - i // 2
        ax.add_patch(
            FancyBboxPatch(
                (x0 + 0.04, y0 + 0.05),
                0.92,
                0.88,
                boxstyle="round,pad=0.02",
                fc=c + "22",
                ec=c,
                lw=1.5,
            )
        )
        ax.text(x0 + 0.5, y0 + 0.8, title, ha="center", va="center", weight="bold", color="#222")
        for j, item in enumerate(items):
            ax.text(x0 + 0.5, y0 + 0.58 - 0.19 * j, item, ha="center", va="center", fontsize=11)
    fig.suptitle("Where each technique acts", fontsize=13)
    fig.savefig(path, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    out = ROOT / "book" / "figures"
    out.mkdir(parents=True, exist_ok=True)
    techniques_map(out / "techniques-map.svg")
    print(f"wrote {out / 'techniques-map.svg'}")
