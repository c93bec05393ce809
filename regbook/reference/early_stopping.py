"""Early stopping: the stopping rule of ``keras.callbacks.EarlyStopping`` in NumPy, and
early stopping as implicit L2 for linear least squares (chapter 7).

Two parts:

* :func:`early_stopping` replays Keras' rule on a recorded curve of monitored values, so
  the stopping epoch and the restored ("best") epoch can be computed for any patience
  without training again.
* :func:`gd_path`, :func:`ridge_path` and the filter factors :func:`gd_filter` /
  :func:`ridge_filter` compare gradient descent from ``w = 0`` with ridge regression. The
  loss is Keras' ``MeanSquaredError``, ``L(w) = ‖Xw − y‖² / n`` (no ½), so a plain
  ``keras.optimizers.SGD(learning_rate=η)`` takes exactly the steps of :func:`gd_path`, and
  ridge is ``L(w) + λ/2·‖w‖²`` — the book's L2 convention, ``keras.regularizers.L2(λ/2)``.
  The Hessian of ``L`` is ``H = 2·XᵀX / n``; :func:`hessian_eigh` returns its eigenpairs.
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
    """What the early-stopping rule decides on one curve. Epochs are 1-based, as in
    :attr:`regbook.training.Run.history` (Keras' own ``stopped_epoch`` and ``best_epoch``
    attributes are 0-based).

    Attributes:
        stopped: whether the rule stopped training before the curve ended.
        epochs_run: how many epochs training ran (the stopping epoch if ``stopped``, else
            the length of the curve).
        best_epoch: the epoch whose weights ``restore_best_weights=True`` restores (the
            last improvement; 0 if no epoch was monitored).
        best_value: the monitored value at ``best_epoch`` (NaN if none).
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

    The rule, as in Keras' source: the first monitored epoch is always the best so far.
    After it, a value is an *improvement* if it beats the best so far by more than
    ``min_delta`` (for ``mode="min"``: ``value < best − min_delta``; the comparison is
    made in float32, like Keras' ``ops.less``). A counter ``wait`` grows by one on every
    monitored epoch and is reset to 0 by an improvement (if ``baseline`` is given, only by
    one that also beats the baseline). Training stops at the end of the first epoch where
    ``wait >= patience`` (never at the very first epoch). Consequently ``patience=0`` and
    ``patience=1`` behave the same: both stop at the first epoch without improvement.

    Args:
        values: the monitored quantity per epoch, shape ``(n_epochs,)``. NaN marks an
            epoch without a value (e.g. no validation pass because of
            ``validation_freq``); Keras skips such epochs, so ``patience`` counts
            *monitored* epochs.
        patience: monitored epochs without improvement that are tolerated (>= 0).
        min_delta: the smallest change that counts as an improvement (its sign is
            ignored, as in Keras).
        mode: ``"min"`` (losses) or ``"max"`` (accuracies).
        baseline: a value the monitored quantity must beat before ``wait`` is reset.
        start_from_epoch: number of initial epochs that are not monitored at all.

    Returns:
        An :class:`EarlyStoppingResult`.
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
    """Keras' mean squared error plus the book's L2 penalty: ``‖Xw − y‖²/n + λ/2·‖w‖²``.

    Args:
        w: weights, shape ``(p,)``; X: inputs, shape ``(n, p)``; y: targets, shape ``(n,)``.
        lambda_: λ ≥ 0 (book convention; Keras: ``L2(λ/2)``).

    Returns:
        The loss (a float).
    """
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
    """Eigen-decomposition of the Hessian ``H = 2·XᵀX/n`` of :func:`mse_loss`.

    Args:
        X: inputs, shape ``(n, p)``.

    Returns:
        ``(s, V)``: eigenvalues ``s ≥ 0`` in ascending order, shape ``(p,)``, and
        orthonormal eigenvectors as the columns of ``V``, shape ``(p, p)``.
    """
    X = as_finite("X", X)
    if X.ndim != 2:
        raise RegbookError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}.")
    s, V = np.linalg.eigh(2.0 * X.T @ X / X.shape[0])
    return np.clip(s, 0.0, None), V


def gd_path(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """Full-batch gradient descent on :func:`mse_loss` (λ = 0) from ``w = 0``.

    Args:
        X: inputs, shape ``(n, p)``; y: targets, shape ``(n,)``.
        lr: step size η; must satisfy ``η·s_max < 2`` (else the iteration diverges).
        steps: number of steps t.

    Returns:
        The iterates ``w_0 = 0, w_1, …, w_t``, shape ``(t + 1, p)``.
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
    """Minimiser of ``‖Xw − y‖²/n + λ/2·‖w‖²``: ``w_λ = (H + λI)⁻¹·2Xᵀy/n``.

    Args:
        X: inputs, shape ``(n, p)``; y: targets, shape ``(n,)``.
        lambda_: λ ≥ 0; for λ = 0 the minimum-norm least-squares solution.

    Returns:
        ``w_λ``, shape ``(p,)``.
    """
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
    """How much of the least-squares solution gradient descent has reached along an
    eigen-direction with Hessian eigenvalue ``s``: ``1 − (1 − η·s)^t``.

    Args:
        s: eigenvalues, any shape; lr: η > 0; steps: t (int or array broadcasting with s).

    Returns:
        Filter factors, the broadcast shape of ``s`` and ``steps``.
    """
    lr = check_nonnegative("lr", lr)
    steps = np.asarray(steps)
    if np.any(as_finite("steps", steps) < 0):
        raise RegbookError(f"steps must be >= 0, got {steps!r}.")
    return 1.0 - (1.0 - lr * as_finite("s", s)) ** steps


def ridge_filter(s: np.ndarray, lambda_: float | np.ndarray) -> np.ndarray:
    """Ridge's shrinkage along an eigen-direction with Hessian eigenvalue ``s``:
    ``s / (s + λ)``, any broadcastable shapes (λ > 0)."""
    lam = np.asarray(lambda_, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise RegbookError(f"lambda_ must be > 0 for the ridge filter, got {lambda_!r}.")
    s = as_finite("s", s)
    return s / (s + lam)


def effective_lambda(lr: float, steps: int | np.ndarray) -> float | np.ndarray:
    """The ridge strength that ``t`` steps of gradient descent with step ``η`` resemble:
    ``λ ≈ 1/(η·t)`` (book convention: penalty ``λ/2·‖w‖²``).

    Args:
        lr: η > 0; steps: t ≥ 1 (int or array).

    Returns:
        ``1/(η·t)``, a float or an array shaped like ``steps``.
    """
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
    """The λ whose ridge solution is closest (Euclidean) to the weights ``w``.

    A log-spaced grid of ``num`` values in ``bounds`` is searched first, then the best
    grid interval is refined by a bounded scalar minimisation in log λ.

    Args:
        w: weights to match, shape ``(p,)`` (e.g. a row of :func:`gd_path`).
        X: inputs, shape ``(n, p)``; y: targets, shape ``(n,)``.
        bounds: search range ``(λ_min, λ_max)`` with ``0 < λ_min < λ_max``.
        num: grid size (>= 3).

    Returns:
        The best λ (a float).
    """
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
