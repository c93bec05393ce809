"""Input checks shared by the NumPy reference implementations (one clear error line each)."""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError, check_finite_array, check_seed


def as_finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; a clear error if it holds NaN or inf."""
    return check_finite_array(name, value)


def as_xy(X, y, *, finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, d) and ``y`` (n,) as float arrays; NaN/inf refused unless ``finite=False``."""
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


def as_vector(name: str, value, n: int, *, of: str = "X") -> np.ndarray:
    """``value`` as a finite float vector of length ``n`` (e.g. weights matching ``X``)."""
    v = as_finite(name, value)
    if v.shape != (n,):
        raise RegbookError(f"{name} must have shape ({n},) to match {of}, got {v.shape}.")
    return v


def as_generator(name: str, value) -> np.random.Generator:
    """A NumPy ``Generator`` from a Generator, an integer seed, or None (fresh, unseeded)."""
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng()
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise RegbookError(
            f"{name} must be a numpy Generator (np.random.default_rng(seed)), an integer "
            f"seed or None, got {value!r}."
        )
    return np.random.default_rng(check_seed(name, value))
