"""NumPy references for chapter 10 (choosing the regularization strength): a ridge path
from one SVD, the optimism of picking the best of k scores, random-search hit rates, and
a Gaussian-process surrogate with the UCB acquisition of Bayesian optimization.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import RegbookError, check_nonnegative, check_positive, check_positive_int
from ._arrays import as_finite

__all__ = [
    "ridge_path",
    "ridge_objective",
    "ridge_gradient",
    "expected_max_normal",
    "selection_optimism",
    "p_random_hit",
    "n_random_trials",
    "rbf_kernel",
    "gp_posterior",
    "ucb",
]


def _fraction(name: str, value, *, closed_right: bool = False) -> float:
    v = check_nonnegative(name, value)
    if v <= 0 or (v > 1 if closed_right else v >= 1):
        interval = "(0, 1]" if closed_right else "(0, 1)"
        raise RegbookError(f"{name} must be in {interval}, got {value!r}.")
    return v


# ---------------------------------------------------------------- ridge, many λ at once
def _ridge_problem(W, b, X, Y, lambda_):
    X, Y = as_finite("X", X), as_finite("Y", Y)
    W, b = as_finite("W", W), as_finite("b", b)
    if X.ndim != 2 or Y.ndim not in (1, 2) or len(Y) != len(X):
        raise RegbookError(f"X must be (n, d) and Y (n, c) or (n,); got {X.shape}, {Y.shape}.")
    if W.shape != (X.shape[1],) + Y.shape[1:] or b.shape != Y.shape[1:]:
        raise RegbookError(
            f"W must have shape {(X.shape[1],) + Y.shape[1:]} and b {Y.shape[1:]} for X "
            f"{X.shape} and Y {Y.shape}; got W {W.shape} and b {b.shape}."
        )
    return W, b, X, Y, check_nonnegative("lambda_", lambda_)


def ridge_objective(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray, lambda_: float):
    """``½‖XW + b − Y‖² + (λ/2)‖W‖²``, summed over examples and outputs; b unpenalised."""
    W, b, X, Y, lam = _ridge_problem(W, b, X, Y, lambda_)
    r = X @ W + b - Y
    return 0.5 * float(np.sum(r**2)) + 0.5 * lam * float(np.sum(W**2))


def ridge_gradient(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray, lambda_: float):
    """``(dW, db)`` of :func:`ridge_objective`: ``(Xᵀr + λW, Σ_i r_i)`` with ``r = XW + b − Y``."""
    W, b, X, Y, lam = _ridge_problem(W, b, X, Y, lambda_)
    r = X @ W + b - Y
    return X.T @ r + lam * W, r.sum(axis=0)


def ridge_path(X: np.ndarray, Y: np.ndarray, lambdas) -> tuple[np.ndarray, np.ndarray]:
    """Minimisers ``(W, b)`` of :func:`ridge_objective` for every λ, from one SVD of centred data.

    Args:
        Y: targets ``(n,)`` or ``(n, c)`` (e.g. one-hot labels: a ridge classifier).
        lambdas: strengths ≥ 0; λ = 0 gives the minimum-norm least-squares solution.

    Returns:
        ``(W, b)`` of shapes ``(m, d, c)`` and ``(m, c)``.
    """
    X, Y = as_finite("X", X), as_finite("Y", Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise RegbookError(f"X must be (n, d) and Y (n,) or (n, c); got {X.shape}, {Y.shape}.")
    lams = np.atleast_1d(as_finite("lambdas", lambdas))
    if lams.ndim != 1 or np.any(lams < 0):
        raise RegbookError(
            f"lambdas must be a 1-D sequence of strengths >= 0, got {np.asarray(lambdas)!r}."
        )
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    U, s, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    UtY = U.T @ (Y - y_mean)  # (r, c)
    # Singular values at round-off level (relative to the largest, as in np.linalg.pinv)
    # are exact zeros: at λ = 0 this gives the minimum-norm solution pinv(Xc)·Yc.
    keep = s > max(X.shape) * np.finfo(float).eps * (s.max() if s.size else 0.0)
    denom = s[None, :] ** 2 + lams[:, None]
    shrink = np.divide(s[None, :], denom, out=np.zeros_like(denom), where=keep[None, :])
    W = (Vt.T[None, :, :] * shrink[:, None, :]) @ UtY  # (m, d, r) @ (r, c)
    b = y_mean[None, :] - x_mean @ W  # (m, c)
    return W, b


# ---------------------------------------------------------------- optimism of the best score
def expected_max_normal(k: int, grid: int = 4001) -> float:
    """``E[max(Z_1, ..., Z_k)]`` for k independent standard normals (by quadrature)."""
    from scipy.stats import norm

    k = check_positive_int("k", k)
    z = np.linspace(-10.0, 10.0, check_positive_int("grid", grid))
    density = k * norm.pdf(z) * norm.cdf(z) ** (k - 1)
    return float(np.sum(z * density) * (z[1] - z[0]))  # the tails are negligible


def selection_optimism(accuracy: float, n_test: int, k: int) -> float:
    """Expected overstatement of the best of k equally good accuracies measured on ``n_test``.

    Returns:
        ``√(p(1 − p)/n_test) · E[max of k standard normals]``, in accuracy units.
    """
    p = _fraction("accuracy", accuracy)
    n = check_positive_int("n_test", n_test)
    return math.sqrt(p * (1 - p) / n) * expected_max_normal(k)


# ---------------------------------------------------------------- random vs grid search
def p_random_hit(w: float, n: int) -> float:
    """``1 − (1 − w)^n``: chance that one of n uniform draws lands in a fraction ``w``."""
    w = _fraction("w", w, closed_right=True)
    return 1.0 - (1.0 - w) ** check_positive_int("n", n)


def n_random_trials(w: float, p: float) -> int:
    """Smallest n with ``p_random_hit(w, n) ≥ p``: ``⌈log(1 − p) / log(1 − w)⌉``."""
    w, p = _fraction("w", w), _fraction("p", p)
    n = math.ceil(math.log1p(-p) / math.log1p(-w) - 1e-12)
    return max(n, 1)


# ---------------------------------------------------------------- Bayesian optimization
def rbf_kernel(a: np.ndarray, b: np.ndarray, length_scale: float = 1.0, variance: float = 1.0):
    """Squared-exponential kernel ``variance · exp(−‖a − b‖² / (2 ℓ²))``, shape ``(n, m)``."""
    a = as_finite("a", a).reshape(len(a), -1)
    b = as_finite("b", b).reshape(len(b), -1)
    ell = check_positive("length_scale", length_scale)
    sq = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T
    return check_nonnegative("variance", variance) * np.exp(-np.maximum(sq, 0) / (2 * ell**2))


def gp_posterior(
    x: np.ndarray,
    y: np.ndarray,
    x_query: np.ndarray,
    *,
    length_scale: float = 1.0,
    variance: float = 1.0,
    noise: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``(mean, std)`` at ``x_query`` of a zero-mean Gaussian process (centre ``y``).

    Args:
        noise: observation-noise variance added to the diagonal (> 0 for stability).
    """
    x, x_query, y = as_finite("x", x), as_finite("x_query", x_query), as_finite("y", y).ravel()
    if len(y) != len(x):
        raise RegbookError(f"x and y need the same length, got {len(x)} and {len(y)}.")
    K = rbf_kernel(x, x, length_scale, variance) + check_nonnegative("noise", noise) * np.eye(
        len(y)
    )
    L = np.linalg.cholesky(K)
    k_star = rbf_kernel(x, x_query, length_scale, variance)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    v = np.linalg.solve(L, k_star)
    mean = k_star.T @ alpha
    var = variance - np.sum(v**2, axis=0)
    return mean, np.sqrt(np.maximum(var, 0.0))


def ucb(mean: np.ndarray, std: np.ndarray, beta: float = 2.0) -> np.ndarray:
    """Upper-confidence-bound acquisition ``μ + β σ`` (to be maximised; large β explores)."""
    mean, std = as_finite("mean", mean), as_finite("std", std)
    return mean + check_nonnegative("beta", beta) * std
