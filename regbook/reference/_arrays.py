"""Input checks shared by the NumPy reference implementations (one clear error line each)."""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError


def as_finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; a clear error if it holds NaN or inf."""
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise RegbookError(f"{name} must contain only finite numbers.")
    return arr


def as_xy(X, y, *, finite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A design matrix ``X`` (n, d) and targets ``y`` (n,) as float arrays, shapes checked.

    With ``finite=True`` NaN and inf are refused too.
    """
    if finite:
        X, y = as_finite("X", X), as_finite("y", y)
    else:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2:
        raise RegbookError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}.")
    if y.ndim != 1 or len(y) != len(X):
        raise RegbookError(
            f"y must be a 1-D array with one target per row of X ({len(X)}), got shape {y.shape}."
        )
    return X, y
