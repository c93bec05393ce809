"""Early stopping (chapter 7): Keras' ``EarlyStopping`` rule replayed on a recorded curve,
and early stopping as implicit L2 for linear least squares.

The loss is Keras' ``MeanSquaredError``, ``‖Xw − y‖²/n`` (no ½), so ``SGD(η)`` takes the
steps of :func:`gd_path`; ridge adds the book's ``λ/2·‖w‖²``. The Hessian is ``2XᵀX/n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import (
    RegbookError,
    check_choice,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from ._arrays import as_finite, as_vector, as_xy

__all__ = [
    "EarlyStoppingResult",
    "early_stopping",
    "mse_loss",
    "mse_gradient",
    "hessian_eigh",
    "gd_path",
    "ridge_solution",
    "ridge_path",
    "gd_filter",
    "ridge_filter",
    "effective_lambda",
    "closest_ridge_lambda",
]


# --------------------------------------------------------------------- the stopping rule
@dataclass(frozen=True)
class EarlyStoppingResult:
    """Decision on one curve: ``stopped``, ``epochs_run``, ``best_epoch``, ``best_value``.

    Epochs are 1-based (Keras' ``stopped_epoch``, ``best_epoch`` are 0-based); ``best_epoch`` is
    what ``restore_best_weights=True`` restores.
    """

    stopped: bool
    epochs_run: int
    best_epoch: int
    best_value: float


def early_stopping(
    values: Sequence[float],
    *,
    patience: int = 0,
    min_delta: float = 0.0,
    mode: str = "min",
    baseline: float | None = None,
    start_from_epoch: int = 0,
) -> EarlyStoppingResult:
    """Replay ``keras.callbacks.EarlyStopping`` (Keras 3) on a recorded curve.

    An improvement must beat the best by more than ``min_delta``; training stops at the
    first monitored epoch with ``wait >= patience``, so ``patience=0`` and ``1`` behave alike.

    Args:
        values: monitored value per epoch; NaN marks an unmonitored epoch (skipped, as Keras).
        baseline: a value to beat before ``wait`` is reset.
        start_from_epoch: number of initial epochs that are not monitored at all.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise RegbookError(
            f"values must be a non-empty 1-D sequence of numbers, got shape {arr.shape}."
        )
    patience = check_nonnegative_int("patience", patience)
    start_from_epoch = check_nonnegative_int("start_from_epoch", start_from_epoch)
    if not math.isfinite(float(min_delta)):
        raise RegbookError(f"min_delta must be a finite number, got {min_delta!r}.")
    check_choice("mode", mode, ("min", "max"))
    if baseline is not None and not math.isfinite(float(baseline)):
        raise RegbookError(f"baseline must be a finite number or None, got {baseline!r}.")
    # Keras: min_delta = abs(min_delta), negated in "min" mode; improvement is
    # op(value - min_delta, reference) evaluated in float32.
    delta = abs(float(min_delta)) * (-1.0 if mode == "min" else 1.0)

    def improves(value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        a, b = np.float32(value - delta), np.float32(reference)
        return bool(a < b) if mode == "min" else bool(a > b)

    best: float | None = None
    best_epoch = -1
    wait = 0
    for epoch, current in enumerate(arr):
        if math.isnan(current) or epoch < start_from_epoch:
            continue
        if best_epoch < 0:
            best_epoch = epoch  # Keras: "the current weights are the best"
        wait += 1
        if improves(current, best):
            best, best_epoch = float(current), epoch
            if baseline is None or improves(current, baseline):
                wait = 0
            continue
        if wait >= patience and epoch > 0:
            return EarlyStoppingResult(True, epoch + 1, best_epoch + 1, float(arr[best_epoch]))
    if best_epoch < 0:
        return EarlyStoppingResult(False, len(arr), 0, float("nan"))
    return EarlyStoppingResult(False, len(arr), best_epoch + 1, float(arr[best_epoch]))


# ------------------------------------------------------- early stopping as implicit L2
def mse_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray, lambda_: float = 0.0) -> float:
    """Keras' MSE plus the book's L2: ``‖Xw − y‖²/n + λ/2·‖w‖²`` (Keras: ``L2(λ/2)``)."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    lam = check_nonnegative("lambda_", lambda_)
    r = X @ w - y
    return float(r @ r / len(y) + 0.5 * lam * np.dot(w, w))


def mse_gradient(w: np.ndarray, X: np.ndarray, y: np.ndarray, lambda_: float = 0.0) -> np.ndarray:
    """Gradient of :func:`mse_loss`: ``2/n·Xᵀ(Xw − y) + λw``, shape ``(p,)``."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    lam = check_nonnegative("lambda_", lambda_)
    return 2.0 / len(y) * X.T @ (X @ w - y) + lam * w


def hessian_eigh(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of :func:`mse_loss`'s Hessian ``2XᵀX/n``."""
    X = as_finite("X", X)
    if X.ndim != 2:
        raise RegbookError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}.")
    s, V = np.linalg.eigh(2.0 * X.T @ X / X.shape[0])
    return np.clip(s, 0.0, None), V


def gd_path(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """Full-batch gradient descent on :func:`mse_loss` from ``w = 0``; all ``steps + 1`` iterates.

    Args:
        lr: step size η; needs ``η·s_max < 2`` or the iteration diverges.
    """
    X, y = as_xy(X, y)
    steps = check_positive_int("steps", steps)
    lr = check_positive("lr", lr, hint="the learning rate η")
    s_max = float(hessian_eigh(X)[0][-1])
    if lr * s_max >= 2:
        raise RegbookError(
            f"lr must be in (0, 2/s_max) = (0, {2 / s_max:.4g}) for gradient descent on this "
            f"least-squares problem to converge (s_max = {s_max:.4g} is the largest Hessian "
            f"eigenvalue), got {lr!r}."
        )
    A = 2.0 * X.T @ X / len(y)  # the gradient 2/n·Xᵀ(Xw − y) is A·w − b
    b = 2.0 * X.T @ y / len(y)
    path = np.zeros((steps + 1, X.shape[1]))
    for t in range(steps):
        path[t + 1] = path[t] - lr * (A @ path[t] - b)
    return path


def ridge_solution(X: np.ndarray, y: np.ndarray, lambda_: float) -> np.ndarray:
    """Minimiser ``(H + λI)⁻¹·2Xᵀy/n`` of :func:`mse_loss`; minimum-norm least squares at λ = 0."""
    X, y = as_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    if lam == 0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    H = 2.0 * X.T @ X / len(y)
    return np.linalg.solve(H + lam * np.eye(X.shape[1]), 2.0 * X.T @ y / len(y))


def ridge_path(X: np.ndarray, y: np.ndarray, lambdas: Sequence[float]) -> np.ndarray:
    """:func:`ridge_solution` for each λ, shape ``(len(lambdas), p)``."""
    lambdas = np.atleast_1d(as_finite("lambdas", lambdas))
    if lambdas.size == 0:
        raise RegbookError("lambdas must hold at least one value.")
    return np.stack([ridge_solution(X, y, lam) for lam in lambdas])


def gd_filter(s: np.ndarray, lr: float, steps: int | np.ndarray) -> np.ndarray:
    """Gradient descent's filter factor ``1 − (1 − η·s)^t`` along a Hessian eigenvalue ``s``."""
    lr = check_nonnegative("lr", lr)
    steps = np.asarray(steps)
    if np.any(as_finite("steps", steps) < 0):
        raise RegbookError(f"steps must be >= 0, got {steps!r}.")
    return 1.0 - (1.0 - lr * as_finite("s", s)) ** steps


def ridge_filter(s: np.ndarray, lambda_: float | np.ndarray) -> np.ndarray:
    """Ridge's filter factor ``s / (s + λ)`` along a Hessian eigenvalue ``s`` (λ > 0)."""
    lam = np.asarray(lambda_, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise RegbookError(f"lambda_ must be > 0 for the ridge filter, got {lambda_!r}.")
    s = as_finite("s", s)
    return s / (s + lam)


def effective_lambda(lr: float, steps: int | np.ndarray) -> float | np.ndarray:
    """The ridge strength ``λ ≈ 1/(η·t)`` that t steps of gradient descent resemble (λ/2·‖w‖²)."""
    lr = check_positive("lr", lr, hint="the learning rate η")
    t = as_finite("steps", steps)
    if np.any(t < 1):
        raise RegbookError(f"lr must be > 0 and steps >= 1, got lr={lr!r}, steps={steps!r}.")
    out = 1.0 / (lr * t)
    return float(out) if out.ndim == 0 else out


def closest_ridge_lambda(
    w: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    bounds: tuple[float, float] = (1e-8, 1e4),
    num: int = 241,
) -> float:
    """The λ in ``bounds`` whose ridge solution is closest to ``w`` (log grid, then refined)."""
    from scipy.optimize import minimize_scalar

    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    if len(bounds) != 2:
        raise RegbookError(f"bounds must be (lambda_min, lambda_max), got {bounds!r}.")
    lo, hi = check_positive("lambda_min", bounds[0]), check_positive("lambda_max", bounds[1])
    if not lo < hi:
        raise RegbookError(f"bounds must satisfy 0 < lambda_min < lambda_max, got {bounds!r}.")
    if check_positive_int("num", num) < 3:
        raise RegbookError(f"num must be >= 3, got {num!r}.")
    s, V = hessian_eigh(X)
    b = V.T @ (2.0 * X.T @ y / len(y))  # ridge in the eigenbasis: b_i / (s_i + λ)
    wv = V.T @ w

    def dist(log_lam: float) -> float:
        return float(np.sum((b / (s + np.exp(log_lam)) - wv) ** 2))

    grid = np.linspace(np.log(lo), np.log(hi), num)
    k = int(np.argmin([dist(g) for g in grid]))
    a, c = grid[max(k - 1, 0)], grid[min(k + 1, num - 1)]
    res = minimize_scalar(dist, bounds=(a, c), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x if res.fun <= dist(grid[k]) else grid[k]))
