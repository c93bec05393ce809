"""Plot helpers follow the house conventions (checked on the artists they draw)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from regbook import plots  # noqa: E402
from regbook.training import Run  # noqa: E402


def fake_run(seed, n=10, val_every=2):
    rng = np.random.default_rng(seed)
    loss = np.exp(-np.arange(n) / 3) + 0.01 * rng.random(n)
    val = loss + 0.2
    val[np.arange(n) % val_every != val_every - 1] = np.nan
    hist = {"epoch": np.arange(1, n + 1), "data_loss": loss, "val_data_loss": val}
    return Run("r", seed, hist, {}, 0.0, n)


def test_learning_curves_solid_train_dashed_val_same_colour_per_setting():
    plots.set_style()
    runs = {"A": [fake_run(0), fake_run(1)], "B": [fake_run(2), fake_run(3)]}
    ax = plots.learning_curves(runs, "data_loss", logy=True)
    lines = ax.get_lines()
    assert len(lines) == 4
    styles = {ln.get_label(): (ln.get_linestyle(), ln.get_color()) for ln in lines}
    assert styles["A (train)"][0] == "-" and styles["A (val)"][0] == "--"
    assert styles["A (train)"][1] == styles["A (val)"][1] != styles["B (train)"][1]
    assert len(ax.collections) == 4  # one band per curve (two seeds each)
    val_line = next(ln for ln in lines if ln.get_label() == "A (val)")
    assert not np.isnan(val_line.get_ydata()).any()  # epochs without validation skipped
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() and ax.get_yscale() == "log"


def test_sweep_weight_histograms_and_decision_boundary_label_their_axes():
    ax = plots.sweep(
        [1e-3, 1e-2, 1e-1],
        {"train": np.ones((3, 2)), "val": np.zeros((3, 2))},
        xlabel="λ",
        ylabel="loss",
        logx=True,
    )
    assert ax.get_xlabel() == "λ" and ax.get_xscale() == "log"
    assert [c.lines[0].get_linestyle() for c in ax.containers] == ["-", "--"]
    ax = plots.weight_histograms({"a": np.random.randn(100), "b": np.random.randn(50)})
    assert ax.get_xlabel() == "weight value" and len(ax.patches) == 2
    x = np.random.default_rng(0).normal(size=(40, 2))
    y = (x[:, 0] > 0).astype(int)
    ax = plots.decision_boundary(lambda g: np.c_[-g[:, 0], g[:, 0]], x, y, resolution=30)
    assert ax.get_xlabel() and ax.get_ylabel()


def test_palette_is_okabe_ito_and_wraps():
    assert plots.color(0) == "#0072B2" and plots.color(len(plots.OKABE_ITO)) == plots.color(0)


@pytest.mark.parametrize("n", [1, 3])
def test_axes_sizes_come_from_one_place(n):
    fig, _ = plots.axes(ncols=n)
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.FIGSIZE[0] * n, plots.FIGSIZE[1]))
