"""NumPy transcriptions of the source documents' formulas and code, and their corrections.

Run by the errata demonstrations (``notebooks/99_errata-demonstrations.ipynb``; listed in
``book/errata.md``). Data loss ``L(θ) = ‖Xθ − y‖²/n`` unless a docstring says otherwise.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import (
    RegbookError,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)
from ._arrays import as_finite

__all__ = [
    "penalized_mse",
    "penalized_mse_gradient",
    "doc003_text_gradient",
    "ridge_minimizer",
    "doc003_gradient_descent",
    "max_stable_learning_rate",
    "l1_subgradient_descent",
    "doc004_elastic_net",
    "batch_norm",
    "dropout_ensemble",
    "clipped_gradient_descent",
]


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = as_finite("X", X), as_finite("y", y)
    if X.ndim != 2:
        raise RegbookError(f"X must be a 2-D array (n, d), got shape {X.shape}.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(X):
        raise RegbookError(
            f"y must have shape (n,) or (n, 1) with n = {len(X)} rows of X, got {y.shape}."
        )
    return X, y


def _check_theta(theta, d: int) -> np.ndarray:
    theta = as_finite("theta", theta)
    if theta.ndim == 2 and theta.shape[1] == 1:
        theta = theta[:, 0]
    if theta.shape != (d,):
        raise RegbookError(f"theta must have shape ({d},) or ({d}, 1), got {theta.shape}.")
    return theta


def _check_lr(lr) -> float:
    return check_positive("learning_rate", lr)


def penalized_mse(X: np.ndarray, y: np.ndarray, theta: np.ndarray, lambda_: float) -> float:
    """Document 003's objective ``J(θ) = ‖Xθ − y‖²/n + λ/2·Σθ_i²``."""
    X, y = _check_xy(X, y)
    theta = _check_theta(theta, X.shape[1])
    lam = check_nonnegative("lambda_", lambda_)
    return float(np.mean((X @ theta - y) ** 2) + lam / 2 * np.sum(theta**2))


def penalized_mse_gradient(
    X: np.ndarray, y: np.ndarray, theta: np.ndarray, lambda_: float
) -> np.ndarray:
    """The correct gradient of :func:`penalized_mse`: ``(2/n)·Xᵀ(Xθ − y) + λθ``."""
    X, y = _check_xy(X, y)
    theta = _check_theta(theta, X.shape[1])
    lam = check_nonnegative("lambda_", lambda_)
    return 2.0 / len(y) * X.T @ (X @ theta - y) + lam * theta


def doc003_text_gradient(
    X: np.ndarray, y: np.ndarray, theta: np.ndarray, lambda_: float
) -> np.ndarray:
    """Document 003 §3.2's wrong gradient ``∇L + 2λθ`` (λθ too much)."""
    X, y = _check_xy(X, y)
    theta = _check_theta(theta, X.shape[1])
    lam = check_nonnegative("lambda_", lambda_)
    return 2.0 / len(y) * X.T @ (X @ theta - y) + 2 * lam * theta


def ridge_minimizer(X: np.ndarray, y: np.ndarray, lambda_: float) -> np.ndarray:
    """The minimiser ``(XᵀX + (nλ/2)·I)⁻¹ Xᵀy`` of :func:`penalized_mse`."""
    X, y = _check_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    n, d = X.shape
    return np.linalg.solve(X.T @ X + n * lam / 2 * np.eye(d), X.T @ y)


def doc003_gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    theta0: np.ndarray,
    learning_rate: float = 0.01,
    lambda_: float = 0.01,
    iterations: int = 1000,
) -> np.ndarray:
    """Document 003 §4's loop as printed: ``θ ← θ − lr·(Xᵀ(Xθ − y) + λθ)``; returns the path.

    Its gradient is a sum (no 2/n) although its loss is a mean; overflow passes silently.
    """
    X, y = _check_xy(X, y)
    theta = _check_theta(theta0, X.shape[1]).copy()
    lr = _check_lr(learning_rate)
    lam = check_nonnegative("lambda_", lambda_)
    iterations = check_positive_int("iterations", iterations)
    path = np.empty((iterations + 1, len(theta)))
    path[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(iterations):
            gradients = X.T @ (X @ theta - y)
            theta = theta - lr * (gradients + lam * theta)
            path[i + 1] = theta
    return path


def max_stable_learning_rate(hessian: np.ndarray) -> float:
    """``2 / h_max``: the largest step for which gradient descent on a quadratic converges."""
    H = as_finite("hessian", hessian)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):
        raise RegbookError(f"hessian must be a symmetric square matrix, got shape {H.shape}.")
    h_max = float(np.linalg.eigvalsh(H).max())
    if h_max <= 0:
        raise RegbookError("hessian has no positive eigenvalue; every step size is stable.")
    return 2.0 / h_max


def l1_subgradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    lambda_: float,
    learning_rate: float,
    iterations: int,
) -> np.ndarray:
    """Document 000 §4.1's update ``w ← w − η·(∇L + λ·sign(w))`` from w = 0.

    The data loss here is ``‖Xw − y‖²/(2n)``, scikit-learn's ``Lasso`` objective.
    """
    X, y = _check_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    lr = _check_lr(learning_rate)
    iterations = check_positive_int("iterations", iterations)
    n, d = X.shape
    w = np.zeros(d)
    for _ in range(iterations):
        w = w - lr * (X.T @ (X @ w - y) / n + lam * np.sign(w))
    return w


def doc004_elastic_net(
    W: np.ndarray, alpha: float, beta1: float, beta2: float, matrix_norm: str = "spectral"
) -> float:
    """Document 004 §3.1's "elastic net" as printed: ``α·(‖β₁W‖₁ + ‖β₂W‖_F²) + (1 − α)·‖W‖₂²``.

    Args:
        matrix_norm: ``‖W‖₂`` read as ``"spectral"`` (largest singular value) or ``"frobenius"``.
    """
    W = np.atleast_2d(as_finite("W", W))
    if W.shape[0] == 1 and W.ndim == 2:
        W = W.T
    a = check_probability("alpha", alpha)
    b1, b2 = check_nonnegative("beta1", beta1), check_nonnegative("beta2", beta2)
    if b1 == 0 or b2 == 0:
        raise RegbookError("document 004 requires beta1 > 0 and beta2 > 0.")
    if matrix_norm == "spectral":
        norm2_sq = float(np.linalg.norm(W, 2) ** 2)
    elif matrix_norm == "frobenius":
        norm2_sq = float(np.sum(W**2))
    else:
        raise RegbookError(f"matrix_norm must be 'spectral' or 'frobenius', got {matrix_norm!r}.")
    return a * (np.sum(np.abs(b1 * W)) + np.sum((b2 * W) ** 2)) + (1 - a) * norm2_sq


def batch_norm(
    x: np.ndarray, gamma: np.ndarray | float = 1.0, beta: np.ndarray | float = 0.0, eps=1e-3
) -> np.ndarray:
    """Training-mode batch norm ``γ·(x − μ_B)/√(σ_B² + ε) + β`` over axis 0 (document 000 §3.3)."""
    x = as_finite("x", x)
    if x.ndim != 2 or len(x) < 2:
        raise RegbookError(
            f"x must be a batch of shape (B, features) with B >= 2, got shape {x.shape}."
        )
    eps = check_nonnegative("eps", eps)
    mu = x.mean(axis=0)
    var = x.var(axis=0)  # biased (divide by B), as in training mode
    gamma, beta = as_finite("gamma", gamma), as_finite("beta", beta)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def dropout_ensemble(h: np.ndarray, W: np.ndarray, keep_prob: float) -> dict[str, np.ndarray]:
    """A dropout read-out averaged exactly over all ``2ⁿ`` masks (n ≤ 16) of ``h``.

    Returns:
        ``n_subnetworks``, ``mean_logits`` and ``geometric_softmax`` (renormalised).
    """
    h = as_finite("h", h)
    W = np.atleast_2d(as_finite("W", W))
    if h.ndim != 1 or not 1 <= len(h) <= 16:
        raise RegbookError(f"h must be a vector of 1 to 16 activations, got shape {h.shape}.")
    if W.shape[1] != len(h):
        raise RegbookError(f"W must have shape (k, {len(h)}), got {W.shape}.")
    p = check_probability("keep_prob", keep_prob)
    if p == 0.0:
        raise RegbookError("keep_prob must be in (0, 1]: with 0 every unit is dropped.")
    masks = np.array(list(itertools.product((0.0, 1.0), repeat=len(h))))
    kept = masks.sum(axis=1)
    prob = p**kept * (1 - p) ** (len(h) - kept)
    logits = (masks * h) @ W.T  # (2^n, k)
    top = logits.max(axis=1, keepdims=True)
    log_soft = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    geo = np.exp(prob @ log_soft)
    return {
        "n_subnetworks": np.array(len(masks)),
        "mean_logits": prob @ logits,
        "geometric_softmax": geo / geo.sum(),
    }


def clipped_gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    learning_rate: float,
    clipnorm: float,
    iterations: int,
    lambda_: float = 0.0,
) -> np.ndarray:
    """Gradient descent from θ = 0 on :func:`penalized_mse`, clipped as ``SGD(clipnorm=c)``."""
    X, y = _check_xy(X, y)
    lr = _check_lr(learning_rate)
    c = check_positive("clipnorm", clipnorm)
    iterations = check_positive_int("iterations", iterations)
    theta = np.zeros(X.shape[1])
    for _ in range(iterations):
        g = penalized_mse_gradient(X, y, theta, lambda_)
        norm = np.linalg.norm(g)
        if norm > c:
            g = g * (c / norm)
        theta = theta - lr * g
    return theta
