"""Set-ups in which regularization changes *accuracy*, not only cross-entropy.

On clean, plentiful data a small network generalizes well whatever we do, and the effect
of a regularizer hides in the third decimal of the validation loss. Three levers make it
visible, and the chapters use them:

* **label noise** (:func:`label_noise`): a fraction of the training labels is replaced by
  another class; validation and test stay clean. An unregularized network memorises the
  wrong labels and its test accuracy drops; the returned mask says which labels were
  flipped, so a chapter can measure memorisation directly;
* **small training sets and wide networks** (``Dataset.subset`` and a wide ``Dense``);
* **MNIST-1D at its standard size** (:func:`mnist1d`: 4,000 training and 1,000 test
  sequences of length 40, generated locally), on which a small 1-D CNN overfits.

Introduced in chapter 5.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .data import Dataset, mnist1d_arrays
from .errors import RegbookError, check_positive_int, check_probability, check_seed

__all__ = ["label_noise", "mnist1d", "NoisyLabels"]


class NoisyLabels(tuple):
    """``(dataset, flipped)``: the dataset with noisy training labels, and the boolean mask
    of the training examples whose label was changed."""

    @property
    def dataset(self) -> Dataset:
        return self[0]

    @property
    def flipped(self) -> np.ndarray:
        return self[1]


def label_noise(data: Dataset, fraction: float, seed: int) -> NoisyLabels:
    """Replace the labels of ``fraction`` of the training examples by another class.

    Exactly ``round(fraction · n)`` examples are chosen at random and each gets a label drawn
    uniformly from the *other* classes, so every chosen label is wrong. Validation and test
    labels are untouched.

    Returns:
        ``(noisy dataset, flipped mask)`` (a :class:`NoisyLabels`).
    """
    if not isinstance(data, Dataset) or data.task != "classification":
        raise RegbookError("label_noise needs a classification Dataset (from regbook.data.load).")
    frac = check_probability("the label-noise fraction", fraction)
    if frac == 1.0:
        raise RegbookError("the label-noise fraction must be < 1: no correct label would remain.")
    rng = np.random.default_rng([check_seed("seed", seed), 7919])
    y = data.y_train.copy()
    n, k = len(y), data.n_classes
    chosen = rng.choice(n, size=round(frac * n), replace=False)
    y[chosen] = (y[chosen] + rng.integers(1, k, size=len(chosen))) % k
    flipped = np.zeros(n, dtype=bool)
    flipped[chosen] = True
    info = {**data.info, "label_noise": frac, "flipped": flipped}
    return NoisyLabels((replace(data, y_train=y, info=info), flipped))


def mnist1d(seed: int = 0, n_train: int = 4000, n_val: int = 1000, n_test: int = 1000) -> Dataset:
    """MNIST-1D at its standard size: 4,000 training and 1,000 test sequences (plus 1,000
    for validation), shape ``(40, 1)``, ten classes; split by ``seed``."""
    n_train, n_val, n_test = (
        check_positive_int(name, v)
        for name, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test))
    )
    total = n_train + n_val + n_test
    x, y = mnist1d_arrays(max(total, 6000))
    order = np.random.default_rng(check_seed("seed", seed)).permutation(len(y))[:total]
    x = x[order, :, None]
    y = y[order]
    a, b = n_train, n_train + n_val
    return Dataset(
        "mnist1d",
        "classification",
        x[:a],
        y[:a],
        x[a:b],
        y[a:b],
        x[b:],
        y[b:],
        n_classes=10,
        info={"standard": True},
    )
