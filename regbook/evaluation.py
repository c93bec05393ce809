"""Evaluating a classifier beyond accuracy, and summarising an ablation over seeds (chapter 11).

:func:`confusion_matrix` and :func:`per_class_scores` are the NumPy versions of what
:func:`classification_report` computes with scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import RegbookError, check_positive_int

__all__ = [
    "confusion_matrix",
    "per_class_scores",
    "Report",
    "classification_report",
    "plot_confusion_matrix",
    "AblationTable",
    "ablation_table",
]


def _labels(y, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or a.size == 0:
        raise RegbookError(
            f"{name} must be a non-empty 1-D array of class ids, got shape {a.shape}."
        )
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.isfinite(a.astype(float))) or np.any(a != np.round(a)):
            raise RegbookError(
                f"{name} must hold integer class ids (use argmax over the logits first)."
            )
        a = a.astype(np.int64)
    if a.min() < 0:
        raise RegbookError(f"{name} must hold class ids >= 0, got {a.min()}.")
    return a


def _pair(y_true, y_pred, n_classes):
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise RegbookError(f"y_true and y_pred differ in length: {len(t)} vs {len(p)}.")
    k = int(max(t.max(), p.max())) + 1
    if n_classes is not None:
        n_classes = check_positive_int("n_classes", n_classes)
        if k > n_classes:
            raise RegbookError(f"found class id {k - 1} but n_classes={n_classes}.")
        k = n_classes
    return t, p, k


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class i predicted as class j."""
    t, p, k = _pair(y_true, y_pred, n_classes)
    return np.bincount(k * t + p, minlength=k * k).reshape(k, k)


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix (rows true).

    A ratio with a zero denominator is 0, as scikit-learn's ``zero_division=0``.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or np.any(cm < 0):
        raise RegbookError(f"cm must be a square matrix of counts, got shape {cm.shape}.")
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    return {
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "support": cm.sum(axis=1),
    }


@dataclass
class Report:
    """A classifier's scores on one set: accuracy, precision/recall/F1, confusion matrix."""

    accuracy: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro_precision: float
    macro_recall: float
    macro_f1: float
    confusion: np.ndarray

    def to_markdown(self, class_names: Sequence[str] | None = None, digits: int = 3) -> str:
        """The per-class table plus a macro-average row, as a Markdown table."""
        k = len(self.f1)
        names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
        f = f"{{:.{digits}f}}"
        lines = [
            "| class | precision | recall | F1 | support |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for i in range(k):
            lines.append(
                f"| {names[i]} | {f.format(self.precision[i])} | {f.format(self.recall[i])} | "
                f"{f.format(self.f1[i])} | {int(self.support[i])} |"
            )
        lines.append(
            f"| **macro average** | {f.format(self.macro_precision)} | "
            f"{f.format(self.macro_recall)} | {f.format(self.macro_f1)} | "
            f"{int(self.support.sum())} |"
        )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"accuracy {self.accuracy:.3f}\n\n" + self.to_markdown()


def classification_report(y_true, y_pred, n_classes: int | None = None) -> Report:
    """Accuracy, per-class and macro precision/recall/F1 (scikit-learn), and the confusion matrix.

    Args:
        y_true, y_pred: class ids, shape ``(n,)`` (take ``argmax`` of the logits first).
    """
    from sklearn.metrics import precision_recall_fscore_support

    t, p, k = _pair(y_true, y_pred, n_classes)
    prec, rec, f1, support = precision_recall_fscore_support(
        t, p, labels=np.arange(k), zero_division=0
    )
    return Report(
        accuracy=float(np.mean(t == p)),
        precision=prec,
        recall=rec,
        f1=f1,
        support=support,
        macro_precision=float(np.mean(prec)),
        macro_recall=float(np.mean(rec)),
        macro_f1=float(np.mean(f1)),
        confusion=confusion_matrix(t, p, k),
    )


def plot_confusion_matrix(
    cm: np.ndarray,
    *,
    ax=None,
    class_names: Sequence[str] | None = None,
    normalize: bool = True,
    title: str = "",
):
    """The confusion matrix as an image, rows = true class, columns = prediction.

    Args:
        normalize: show rows as fractions of their class (recall on the diagonal); counts
            are written in the cells either way.
    """
    from . import plots

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise RegbookError(f"cm must be square, got shape {cm.shape}.")
    if ax is None:
        _, ax = plots.axes()
    k = cm.shape[0]
    rows = cm.sum(axis=1, keepdims=True)
    shown = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0) if normalize else cm
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.grid(False)
    vmax = shown.max() if shown.size else 1
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(cm[i, j])),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if shown[i, j] > 0.6 * vmax else "black",
                )
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return ax


@dataclass
class AblationTable:
    """Mean and sample std (ddof = 1) over seeds of each setting's final metrics."""

    labels: list[str]
    keys: list[str]
    mean: np.ndarray
    std: np.ndarray
    n_seeds: int

    def get(self, label: str, key: str) -> tuple[float, float]:
        """``(mean, std)`` of one cell."""
        if label not in self.labels or key not in self.keys:
            raise RegbookError(
                f"no cell ({label!r}, {key!r}); labels {self.labels}, keys {self.keys}."
            )
        i, j = self.labels.index(label), self.keys.index(key)
        return float(self.mean[i, j]), float(self.std[i, j])

    def to_markdown(self, digits: int = 3) -> str:
        """The table in Markdown, one row per setting, cells ``mean ± std``."""
        head = "| setting | " + " | ".join(k.replace("_", " ") for k in self.keys) + " |"
        sep = "| --- | " + " | ".join("---:" for _ in self.keys) + " |"
        rows = [
            f"| {label} | "
            + " | ".join(
                f"{self.mean[i, j]:.{digits}f} ± {self.std[i, j]:.{digits}f}"
                for j in range(len(self.keys))
            )
            + " |"
            for i, label in enumerate(self.labels)
        ]
        return "\n".join([head, sep, *rows])

    def _repr_markdown_(self) -> str:
        return self.to_markdown() + f"\n\nmean ± standard deviation over {self.n_seeds} seeds"


def ablation_table(
    results: Mapping[str, object],
    keys: Sequence[str] = ("train_accuracy", "val_accuracy", "test_accuracy"),
) -> AblationTable:
    """Mean ± std over seeds for every setting of an ablation.

    Args:
        results: ``{label: Runs or [Run, ...]}``, or ``{label: {key: values per seed}}``.
    """
    if not isinstance(results, Mapping) or not results:
        raise RegbookError("results must be a non-empty mapping {setting: runs}.")
    keys = list(keys)
    if not keys:
        raise RegbookError("keys must name at least one metric.")
    means, stds, n_seeds = [], [], set()
    for label, runs in results.items():
        row_m, row_s = [], []
        for key in keys:
            if isinstance(runs, Mapping):
                if key not in runs:
                    raise RegbookError(f"setting {label!r} has no values for {key!r}.")
                v = np.asarray(runs[key], dtype=float).ravel()
            else:
                try:
                    v = np.array([r.final[key] for r in runs], dtype=float)
                except (AttributeError, TypeError):
                    raise RegbookError(
                        f"setting {label!r}: expected a list of Runs or a dict of values."
                    ) from None
                except KeyError:
                    raise RegbookError(f"setting {label!r} has no final metric {key!r}.") from None
            if v.size == 0:
                raise RegbookError(f"setting {label!r} has no runs.")
            n_seeds.add(v.size)
            row_m.append(v.mean())
            row_s.append(v.std(ddof=1) if v.size > 1 else 0.0)
        means.append(row_m)
        stds.append(row_s)
    return AblationTable(list(results), keys, np.array(means), np.array(stds), n_seeds=min(n_seeds))
