"""L1, elastic net and proximal gradient descent (chapter 3).

Penalties: L1 ``λ·‖w‖₁``; elastic net ``λ·(α·‖w‖₁ + (1−α)/2·‖w‖₂²)`` = Keras'
``L1L2(l1=λα, l2=λ(1−α)/2)``. The solvers minimise ``1/(2n)·‖y − Xw‖² +`` that penalty,
scikit-learn's ``Lasso(alpha=λ)`` / ``ElasticNet(alpha=λ, l1_ratio=α)`` without intercept.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import RegbookError, check_nonnegative, check_positive_int
from ._arrays import as_finite, as_xy

__all__ = [
    "l1_penalty",
    "l1_subgradient",
    "elastic_net_penalty",
    "elastic_net_gradient",
    "soft_threshold",
    "prox_l1",
    "prox_elastic_net",
    "elastic_net_objective",
    "lambda_max",
    "laplace_map_lambda",
    "FitResult",
    "ista",
    "subgradient_descent",
]


def _check_alpha(alpha) -> float:
    a = check_nonnegative("alpha", alpha)
    if a > 1.0:
        raise RegbookError(
            f"alpha (the L1 share of the elastic net) must be in [0, 1], got {alpha!r}."
        )
    return a


def _check_step(step) -> float:
    s = check_nonnegative("step", step)
    if s == 0.0:
        raise RegbookError("step (the learning rate η) must be > 0.")
    return s


def l1_penalty(w: np.ndarray, lambda_: float) -> float:
    """The L1 penalty ``λ·Σ|w_i|``, as ``keras.regularizers.L1(l1=λ)`` (chapter 3)."""
    lam = check_nonnegative("lambda_", lambda_)
    return lam * float(np.abs(as_finite("w", w)).sum())


def l1_subgradient(w: np.ndarray, lambda_: float) -> np.ndarray:
    """The L1 subgradient ``λ·sign(w)``, 0 at ``w_i = 0`` as TensorFlow's (chapter 3)."""
    lam = check_nonnegative("lambda_", lambda_)
    return lam * np.sign(as_finite("w", w))


def elastic_net_penalty(w: np.ndarray, lambda_: float, alpha: float) -> float:
    """The elastic-net penalty ``λ·(α·‖w‖₁ + (1−α)/2·‖w‖₂²)``; α is the L1 share (chapter 3)."""
    lam, a = check_nonnegative("lambda_", lambda_), _check_alpha(alpha)
    w = as_finite("w", w)
    return lam * (a * float(np.abs(w).sum()) + (1 - a) / 2 * float((w**2).sum()))


def elastic_net_gradient(w: np.ndarray, lambda_: float, alpha: float) -> np.ndarray:
    """The elastic net's (sub)gradient ``λ·(α·sign(w) + (1−α)·w)`` (chapter 3)."""
    lam, a = check_nonnegative("lambda_", lambda_), _check_alpha(alpha)
    w = as_finite("w", w)
    return lam * (a * np.sign(w) + (1 - a) * w)


def soft_threshold(z: np.ndarray, tau: float) -> np.ndarray:
    """Soft-thresholding ``sign(z)·max(|z| − τ, 0)``, elementwise (chapter 3).

    It minimises ``½(w − z)² + τ|w|``.
    """
    t = check_nonnegative("tau", tau)
    z = as_finite("z", z)
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def prox_l1(z: np.ndarray, step: float, lambda_: float) -> np.ndarray:
    """The proximal step of ``λ‖w‖₁`` with step η: ``soft_threshold(z, η·λ)`` (chapter 3)."""
    return soft_threshold(z, _check_step(step) * check_nonnegative("lambda_", lambda_))


def prox_elastic_net(z: np.ndarray, step: float, lambda_: float, alpha: float) -> np.ndarray:
    """The elastic net's proximal step ``S_{ηλα}(z) / (1 + ηλ(1−α))``, η = ``step`` (chapter 3)."""
    eta, lam, a = _check_step(step), check_nonnegative("lambda_", lambda_), _check_alpha(alpha)
    return soft_threshold(z, eta * lam * a) / (1.0 + eta * lam * (1.0 - a))


def elastic_net_objective(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, lambda_: float, alpha: float = 1.0
) -> float:
    """``1/(2n)·‖y − Xw‖² + λ(α‖w‖₁ + (1−α)/2·‖w‖²)``, scikit-learn's scaling (chapter 3)."""
    X, y = as_xy(X, y)
    w = as_finite("w", w)
    if w.shape != (X.shape[1],):
        raise RegbookError(f"w must have shape ({X.shape[1]},) to match X, got {w.shape}.")
    r = y - X @ w
    return float(r @ r) / (2 * len(y)) + elastic_net_penalty(w, lambda_, alpha)


def lambda_max(X: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> float:
    """The smallest λ at which ``w = 0`` is optimal: ``max_j |x_jᵀy| / (n·α)`` (chapter 3)."""
    X, y = as_xy(X, y)
    a = _check_alpha(alpha)
    if a == 0.0:
        raise RegbookError("lambda_max needs alpha > 0: pure L2 never sets weights exactly to 0.")
    return float(np.max(np.abs(X.T @ y)) / (len(y) * a))


def laplace_map_lambda(noise_std: float, scale: float, n: int) -> float:
    """The lasso λ = σ²/(n·b) that gives the MAP under a Laplace(b) prior (chapter 3)."""
    sigma, b = check_nonnegative("noise_std", noise_std), check_nonnegative("scale", scale)
    if sigma == 0.0 or b == 0.0:
        raise RegbookError("noise_std and scale must be > 0 for the Laplace-prior MAP estimate.")
    return sigma**2 / (check_positive_int("n", n) * b)


class FitResult(NamedTuple):
    """What :func:`ista` and :func:`subgradient_descent` return: ``w``, ``n_iter``, ``converged``.

    ``objective`` holds J after each iteration; ``path`` the iterates if ``trace=True``.
    """

    w: np.ndarray
    n_iter: int
    converged: bool
    objective: np.ndarray
    path: np.ndarray | None = None


def _single_threaded(fn):
    # Small matrix products in a loop: a multi-threaded BLAS only adds synchronisation
    # (and, on a busy machine, waits of milliseconds per product).
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


def _setup(X, y, lambda_, alpha, step, n_iter, w0):
    X, y = as_xy(X, y)
    lam, a = check_nonnegative("lambda_", lambda_), _check_alpha(alpha)
    n_iter = check_positive_int("n_iter", n_iter)
    n, d = X.shape
    lipschitz = float(np.linalg.norm(X, 2) ** 2) / n  # of the data term's gradient
    eta = 1.0 / max(lipschitz, 1e-12) if step is None else _check_step(step)
    w = np.zeros(d) if w0 is None else as_finite("w0", w0).copy()
    if w.shape != (d,):
        raise RegbookError(f"w0 must have shape ({d},) to match X, got {w.shape}.")
    return X, y, lam, a, n_iter, eta, w


@_single_threaded
def ista(
    X: np.ndarray,
    y: np.ndarray,
    lambda_: float,
    alpha: float = 1.0,
    *,
    step: float | None = None,
    n_iter: int = 10_000,
    tol: float = 1e-10,
    w0: np.ndarray | None = None,
    accelerated: bool = False,
    trace: bool = False,
) -> FitResult:
    """Proximal gradient descent (ISTA, or FISTA if ``accelerated``) for lasso and elastic net.

    Args:
        X: inputs ``(n, d)``; no intercept is fitted, so centre the data first.
        step: learning rate η; default ``1/L`` with ``L = ‖X‖₂²/n``.
        tol: stop when no coefficient moved by more than ``tol`` in one iteration.
        w0: starting point (pass a previous solution to warm-start a path over λ).
    """
    X, y, lam, a, n_iter, eta, w = _setup(X, y, lambda_, alpha, step, n_iter, w0)
    tol = check_nonnegative("tol", tol)
    n = len(y)
    Xty, XtX, yty = X.T @ y / n, X.T @ X / n, float(y @ y) / n
    thresh, shrink = eta * lam * a, 1.0 + eta * lam * (1.0 - a)
    objective = np.empty(n_iter)
    path = np.empty((n_iter, len(w))) if trace else None
    converged, it = False, 0
    v, t = w, 1.0  # extrapolated point and momentum counter (FISTA)
    for it in range(1, n_iter + 1):
        z = v - eta * (XtX @ v - Xty)
        w_new = np.sign(z) * np.maximum(np.abs(z) - thresh, 0.0) / shrink
        delta = float(np.max(np.abs(w_new - w), initial=0.0))
        if accelerated:
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            v = w_new + (t - 1.0) / t_new * (w_new - w)
            t = t_new
        else:
            v = w_new
        w = w_new
        if path is not None:
            path[it - 1] = w
        g = XtX @ w
        objective[it - 1] = (
            0.5 * (w @ g)
            - w @ Xty
            + 0.5 * yty
            + lam * (a * np.abs(w).sum() + (1 - a) / 2 * (w @ w))
        )
        if delta <= tol:
            converged = True
            break
    return FitResult(w, it, converged, objective[:it], None if path is None else path[:it])


@_single_threaded
def subgradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    lambda_: float,
    alpha: float = 1.0,
    *,
    step: float | None = None,
    n_iter: int = 10_000,
    w0: np.ndarray | None = None,
    trace: bool = False,
) -> FitResult:
    """Plain (sub)gradient descent on :func:`elastic_net_objective`, constant step (chapter 3).

    It oscillates around 0 in coordinates that should be exactly 0; ``converged`` is False.
    """
    X, y, lam, a, n_iter, eta, w = _setup(X, y, lambda_, alpha, step, n_iter, w0)
    n = len(y)
    Xty, XtX, yty = X.T @ y / n, X.T @ X / n, float(y @ y) / n
    objective = np.empty(n_iter)
    path = np.empty((n_iter, len(w))) if trace else None
    g = XtX @ w
    for it in range(n_iter):
        w = w - eta * (g - Xty + lam * (a * np.sign(w) + (1 - a) * w))
        if path is not None:
            path[it] = w
        g = XtX @ w
        objective[it] = (
            0.5 * (w @ g)
            - w @ Xty
            + 0.5 * yty
            + lam * (a * np.abs(w).sum() + (1 - a) / 2 * (w @ w))
        )
    return FitResult(w, n_iter, False, objective, path)
