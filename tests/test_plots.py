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


@pytest.mark.parametrize("n", [1, 2])
def test_axes_sizes_come_from_one_place(n):
    fig, _ = plots.axes(ncols=n)
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.FIGSIZE[0] * n, plots.FIGSIZE[1]))


@pytest.mark.parametrize("n", [3, 4])
def test_a_row_of_many_panels_shares_the_maximum_width(n):
    """Three panels at full size would be shrunk on the page until the text is ~5 px."""
    fig, axs = plots.axes(ncols=n, nrows=2)
    assert axs.shape == (2, n)
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.MAX_WIDTH, 2 * plots.FIGSIZE[1]))


def test_style_text_sizes_palette_and_layout():
    """Publication sizes: text >= 11 pt, legends >= 9 pt, Okabe-Ito colours in order."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    plots.set_style()
    rc = mpl.rcParams

    def points(size):
        return FontProperties(size=size).get_size_in_points()

    assert rc["font.size"] >= 11
    for key in ("axes.labelsize", "axes.titlesize", "xtick.labelsize", "ytick.labelsize"):
        assert points(rc[key]) >= 11, key
    assert points(rc["legend.fontsize"]) >= 9
    assert [c["color"] for c in rc["axes.prop_cycle"]] == plots.OKABE_ITO
    assert rc["figure.constrained_layout.use"]
    # The helpers' legends use the style's size (no hard-coded smaller font).
    ax = plots.sweep([1, 2], {"train": np.ones((2, 1))})
    assert ax.get_legend().get_texts()[0].get_fontsize() >= 9


def test_no_grid_over_images_but_a_grid_on_plots():
    import matplotlib.pyplot as plt

    plots.set_style()
    plots.set_style()  # idempotent: the image methods are wrapped once
    fig, (a, b, c) = plt.subplots(1, 3)
    a.plot([0, 1], [0, 1])
    b.imshow(np.eye(4))
    c.pcolormesh(np.eye(4))
    assert a.xaxis._major_tick_kw.get("gridOn") and any(
        line.get_visible() for line in a.get_xgridlines()
    )
    for ax in (b, c):
        assert not any(line.get_visible() for line in ax.get_xgridlines() + ax.get_ygridlines())
    plt.matshow(np.eye(3))  # goes through Axes.imshow
    assert not any(line.get_visible() for line in plt.gca().get_xgridlines())
    assert not getattr(plt.Axes.imshow.__wrapped__, "_regbook_no_grid", False)  # wrapped once
    plt.close("all")


def test_figures_are_svg_in_a_notebook_and_nothing_changes_outside_one():
    """In an IPython kernel (Jupyter, Colab, the book build) figures are shown as SVG."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    assert plots.vector_output() is False  # plain Python: no IPython shell to configure
    shell = InteractiveShell.instance()
    try:
        assert plots.vector_output() is True
        svg = shell.display_formatter.formatters["image/svg+xml"]
        png = shell.display_formatter.formatters["image/png"]
        fig = Figure()
        fig.add_subplot().plot([0, 1])
        assert svg.lookup(fig) is not None, "figures have an SVG representation"
        data, _ = shell.display_formatter.format(fig)
        assert "image/svg+xml" in data and "image/png" not in data, "one panel: SVG only"
        # panels side by side: the SVG, and a PNG with them stacked (for phones)
        wide = Figure(figsize=(9.6, 3.4), layout="constrained")
        axs = wide.subplots(1, 3, sharey=True)
        for ax in axs:
            ax.plot([0, 1])
        data, _ = shell.display_formatter.format(wide)
        assert set(data) >= {"image/svg+xml", "image/png"}
        assert png.lookup(wide) is plots.stacked_png
    finally:
        InteractiveShell.clear_instance()


def test_stacked_png_puts_panels_in_one_column_and_restores_the_figure():
    """plots.stacked_png draws a row of panels as a column (a PNG taller than wide) and
    leaves the figure exactly as it was: same size, same layout, same hidden tick labels."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    fig, axs = plots.axes(ncols=3, sharey=True)
    for i, ax in enumerate(axs):
        ax.plot(np.arange(5) * (i + 1))
    before = io.BytesIO()
    fig.savefig(before, format="png")
    assert axs[1].yaxis.get_tick_params()["labelleft"] is False  # hidden by sharey
    png = plots.stacked_png(fig)
    width, height = Image.open(io.BytesIO(png)).size
    assert height > 1.5 * width, (width, height)
    after = io.BytesIO()
    fig.savefig(after, format="png")
    assert after.getvalue() == before.getvalue(), "the figure changed"
    assert axs[1].yaxis.get_tick_params()["labelleft"] is False, "tick labels restored"
    one, _ = plots.axes()
    column, _ = plots.axes(nrows=2)
    assert plots.stacked_png(one) is None and plots.stacked_png(column) is None
    plt.close("all")
