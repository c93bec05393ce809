"""Set-ups in which regularization changes accuracy, not only cross-entropy (chapter 5).

Label noise on the training split (:func:`label_noise`, returning the flip mask), small
training sets with wide networks, and MNIST-1D at its standard size (:func:`mnist1d`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .data import Dataset, mnist1d_arrays
from .errors import RegbookError, check_positive_int, check_probability, check_seed

__all__ = ["label_noise", "mnist1d", "NoisyLabels"]


class NoisyLabels(tuple):
    """``(dataset, flipped)``: the dataset with noisy training labels and the flip mask."""

    @property
    def dataset(self) -> Dataset:
        return self[0]

    @property
    def flipped(self) -> np.ndarray:
        return self[1]


def label_noise(data: Dataset, fraction: float, seed: int) -> NoisyLabels:
    """Give ``round(fraction · n)`` training examples a wrong label; val and test stay clean."""
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
    """MNIST-1D at its standard size: 4,000 / 1,000 / 1,000 sequences of shape ``(40, 1)``."""
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
