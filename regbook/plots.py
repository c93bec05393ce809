"""Plotting helpers in one colour-blind-safe style (chapter 1).

Training curves solid, validation dashed, one Okabe–Ito colour per setting, bands of ±
one standard deviation over seeds; every function takes ``ax=`` and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.axes
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "OKABE_ITO",
    "FIGSIZE",
    "MAX_WIDTH",
    "set_style",
    "vector_output",
    "stacked_png",
    "axes",
    "learning_curves",
    "sweep",
    "weight_histograms",
    "decision_boundary",
    "color",
]

#: Okabe & Ito (2008) palette, black last.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: Default size of one panel, in inches. Wider figures are ``(FIGSIZE[0] * ncols, ...)``.
FIGSIZE = (4.8, 3.4)
LINESTYLES = {"train": "-", "val": "--", "test": ":"}


#: Widest a figure may be, in inches: the site's text column is about 8 in (780 CSS px at
#: 96 px/in) at 1280 px, so a figure this wide is shown at 85 % of its size and an 11-pt
#: label stays above 9 pt on screen. Figures with several panels share this width.
MAX_WIDTH = 2 * FIGSIZE[0]
#: Smallest text on a figure, in points (tick labels and axis labels use ``BASE_FONT``).
BASE_FONT = 11
LEGEND_FONT = 9.5

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "savefig.dpi": 200,  # raster images embedded in SVG, and PNG files, stay sharp
    "svg.fonttype": "path",  # text drawn as outlines: looks the same without the fonts
    "axes.grid": True,  # a light grid on plots; switched off on images (see set_style)
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": BASE_FONT,
    "axes.titlesize": BASE_FONT,
    "axes.labelsize": BASE_FONT,
    "xtick.labelsize": BASE_FONT,
    "ytick.labelsize": BASE_FONT,
    "legend.fontsize": LEGEND_FONT,
    "legend.title_fontsize": LEGEND_FONT,
    "figure.titlesize": BASE_FONT + 1,
    "lines.linewidth": 1.8,
    "figure.constrained_layout.use": True,
}


def _no_grid_on_images(method):
    """Wrap an Axes method that draws an image so that the axes lose their grid."""
    if getattr(method, "_regbook_no_grid", False):
        return method

    def wrapper(self, *args, **kwargs):
        out = method(self, *args, **kwargs)
        self.grid(False)
        return out

    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    wrapper.__wrapped__ = method
    wrapper._regbook_no_grid = True
    return wrapper


def vector_output() -> bool:
    """Show notebook figures as SVG; return whether it was switched on."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no IPython: a script
        return False
    shell = get_ipython()
    if shell is None:
        return False
    set_matplotlib_formats("svg")
    # Beside the SVG, a figure with panels side by side gets a PNG with the panels in one
    # column; the site shows it on narrow screens (book/_ext/stacked_figures.py).
    shell.display_formatter.formatters["image/png"].for_type(mpl.figure.Figure, stacked_png)
    return True


def _panel_cells(fig) -> dict | None:
    """``{(row, col): [axes]}`` of a figure whose panels fill single cells of one grid of
    two or more columns; None for anything else (one column, spans, several grids)."""
    cells: dict = {}
    grid = None
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None:  # a colorbar or an inset: it follows its parent axes
            continue
        if grid is None:
            grid = spec.get_gridspec()
        if spec.get_gridspec() is not grid:
            return None
        rows, cols = spec.rowspan, spec.colspan
        if len(rows) != 1 or len(cols) != 1:
            return None
        cells.setdefault((rows.start, cols.start), []).append(ax)
    if grid is None or grid.ncols < 2 or len(cells) < 2:
        return None
    return dict(sorted(cells.items()))


def stacked_png(fig) -> bytes | None:
    """The figure with its panels stacked in one column, as PNG bytes (None if it has one
    column of panels, or a layout this cannot restack).

    The figure is changed for the drawing and restored afterwards: panels move to a
    one-column grid of :data:`FIGSIZE` cells, and tick labels hidden by ``sharex``/``sharey``
    come back (stacked, every panel needs its own).
    """
    import io

    cells = _panel_cells(fig)
    if cells is None:
        return None
    axes_list = [ax for group in cells.values() for ax in group]
    size = fig.get_size_inches().copy()
    specs = [ax.get_subplotspec() for ax in axes_list]
    labels = [  # which tick labels show (sharex/sharey hide some)
        {
            "labelbottom": ax.xaxis.get_tick_params().get("labelbottom", True),
            "labelleft": ax.yaxis.get_tick_params().get("labelleft", True),
        }
        for ax in axes_list
    ]
    try:
        grid = fig.add_gridspec(len(cells), 1)
        for k, group in enumerate(cells.values()):
            for ax in group:
                ax.set_subplotspec(grid[k, 0])
                ax.tick_params(labelbottom=True, labelleft=True)
        fig.set_size_inches(FIGSIZE[0], FIGSIZE[1] * len(cells))
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - the SVG is shown anyway; the browser test notices
        return None
    finally:
        for ax, spec, shown in zip(axes_list, specs, labels, strict=True):
            ax.set_subplotspec(spec)
            ax.tick_params(**shown)
        fig.set_size_inches(size)


def set_style() -> None:
    """Apply the book's matplotlib style (Okabe–Ito colours, no grid on images, SVG)."""
    mpl.rcParams.update(STYLE)
    for name in ("imshow", "pcolormesh"):
        setattr(mpl.axes.Axes, name, _no_grid_on_images(getattr(mpl.axes.Axes, name)))
    vector_output()


def color(i: int) -> str:
    """The i-th colour of the palette (wraps around)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def axes(ncols: int = 1, nrows: int = 1, **kwargs):
    """``plt.subplots`` with the book's panel size (rows of > 2 panels share :data:`MAX_WIDTH`)."""
    width = min(FIGSIZE[0] * ncols, MAX_WIDTH)
    kwargs.setdefault("figsize", (width, FIGSIZE[1] * nrows))
    return plt.subplots(nrows, ncols, **kwargs)


def _band(ax, x, values, *, c, ls, label):
    values = np.atleast_2d(np.asarray(values, dtype=float))
    keep = ~np.all(np.isnan(values), axis=0)  # epochs without validation are skipped
    values, x = values[:, keep], np.asarray(x)[keep]
    mean = np.nanmean(values, axis=0)
    ax.plot(x, mean, color=c, ls=ls, label=label)
    if values.shape[0] > 1:
        std = np.nanstd(values, axis=0)
        ax.fill_between(x, mean - std, mean + std, color=c, alpha=0.2, lw=0)


def learning_curves(
    runs: Mapping[str, Sequence],
    metric: str = "data_loss",
    *,
    ax=None,
    logy: bool = False,
    splits: Sequence[str] = ("train", "val"),
):
    """Training (solid) and validation (dashed) curves per setting, with a ± std band over seeds.

    Args:
        runs: ``{label: Runs or [Run, ...]}``.
        metric: a history key without prefix (``"data_loss"``, ``"accuracy"``, ``"loss"``).
    """
    if ax is None:
        _, ax = axes()
    for i, (label, rs) in enumerate(runs.items()):
        for split in splits:
            key = metric if split == "train" else f"val_{metric}"
            n = max(len(r.history[key]) for r in rs)
            vals = np.full((len(rs), n), np.nan)
            for j, r in enumerate(rs):
                vals[j, : len(r.history[key])] = r.history[key]
            _band(
                ax,
                np.arange(1, n + 1),
                vals,
                c=color(i),
                ls=LINESTYLES[split],
                label=f"{label} ({split})" if len(runs) > 1 else split,
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def sweep(
    x: Sequence[float],
    series: Mapping[str, np.ndarray],
    *,
    ax=None,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
):
    """Mean ± std over seeds of one or more quantities against a hyper-parameter.

    Args:
        series: ``{label: (n_settings, n_seeds) values}``; labels starting with ``"train"``
            are solid, others dashed.
    """
    if ax is None:
        _, ax = axes()
    for i, (label, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=float).reshape(len(x), -1)
        ls = "-" if label.startswith("train") else "--"
        ax.errorbar(
            x,
            values.mean(axis=1),
            yerr=values.std(axis=1) if values.shape[1] > 1 else None,
            color=color(i),
            ls=ls,
            marker="o",
            ms=4,
            capsize=3,
            label=label,
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def weight_histograms(
    weights: Mapping[str, np.ndarray], *, ax=None, bins: int = 60, logy: bool = True
):
    """Overlaid histograms of ``{label: flat weights}`` (e.g. from ``training.kernel_weights``)."""
    if ax is None:
        _, ax = axes()
    allw = np.concatenate([np.ravel(w) for w in weights.values()])
    edges = np.linspace(allw.min(), allw.max(), bins + 1)
    for i, (label, w) in enumerate(weights.items()):
        ax.hist(np.ravel(w), bins=edges, histtype="step", lw=1.5, color=color(i), label=label)
    ax.set_xlabel("weight value")
    ax.set_ylabel("count")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def decision_boundary(
    predict, x: np.ndarray, y: np.ndarray, *, ax=None, resolution: int = 200, title: str = ""
):
    """Filled class regions of a 2-D classifier with the data on top.

    Args:
        predict: maps an ``(n, 2)`` array to scores ``(n, n_classes)``.
    """
    if ax is None:
        _, ax = axes()
    pad = 0.5
    gx, gy = np.meshgrid(
        np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, resolution),
        np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, resolution),
    )
    grid = np.c_[gx.ravel(), gy.ravel()].astype("float32")
    z = np.asarray(predict(grid)).argmax(axis=1).reshape(gx.shape)
    cmap = mpl.colors.ListedColormap([color(i) for i in range(int(y.max()) + 1)])
    ax.contourf(gx, gy, z, alpha=0.25, cmap=cmap, levels=np.arange(-0.5, y.max() + 1))
    for k in range(int(y.max()) + 1):
        ax.scatter(
            *x[y == k].T,
            s=10,
            color=color(k),
            marker="os^v"[k % 4],
            edgecolor="k",
            lw=0.3,
            label=f"class {k}",
        )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax
