"""Polynomial least squares and the bias–variance decomposition (chapter 1)."""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError, check_nonnegative, check_nonnegative_int
from ._arrays import as_finite

__all__ = ["fit_polynomial", "bias_variance"]


def fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int):
    """Least-squares polynomial of ``degree`` on [-1, 1] (Legendre basis), as a callable."""
    x, y = np.ravel(as_finite("x", x)), np.ravel(as_finite("y", y))
    if len(x) != len(y):
        raise RegbookError(f"x and y need the same length, got {len(x)} and {len(y)}.")
    degree = check_nonnegative_int("degree", degree)
    return np.polynomial.Legendre.fit(x, y, deg=degree, domain=[-1, 1])


def bias_variance(predictions: np.ndarray, f_true: np.ndarray, noise_var: float) -> dict:
    """Split the expected squared error into bias², variance and noise, averaged over test points.

    Args:
        predictions: ŷ of each model at each point, shape ``(n_datasets, n_points)``.
        noise_var: σ² ≥ 0 of the target noise.
    """
    predictions, f_true = as_finite("predictions", predictions), as_finite("f_true", f_true)
    if predictions.ndim != 2 or f_true.shape != predictions.shape[1:]:
        raise RegbookError(
            "predictions must have shape (n_datasets, n_points) and f_true (n_points,), got "
            f"{predictions.shape} and {f_true.shape}."
        )
    noise_var = check_nonnegative("noise_var", noise_var, hint="a variance")
    mean_pred = predictions.mean(axis=0)
    bias2 = float(np.mean((mean_pred - f_true) ** 2))
    variance = float(np.mean(predictions.var(axis=0)))
    return {
        "bias2": bias2,
        "variance": variance,
        "noise": noise_var,
        "total": bias2 + variance + noise_var,
    }
