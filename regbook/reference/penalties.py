"""L2 penalties, ridge regression and optimizer steps with coupled or decoupled decay (ch. 2, 4).

L2 is ``λ/2·Σw²``; Keras' ``L2(l2)`` adds ``l2·Σw²``, so ``λ = 2·l2``. Ridge here is the
sum-of-squares ``½‖Xw − y‖² + λ/2·‖w‖²`` (no intercept). Decoupled decay follows Keras:
``w ← w − η·wd·w`` (multiplied by the learning rate), gradient taken at the old ``w``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RegbookError, check_nonnegative, check_positive, check_positive_int
from ._arrays import as_finite, as_vector, as_xy

__all__ = [
    "l2_penalty",
    "l2_penalty_grad",
    "keras_l2_from_lambda",
    "lambda_from_keras_l2",
    "map_lambda",
    "ridge_objective",
    "ridge_gradient",
    "ridge_closed_form",
    "ridge_svd",
    "ridge_shrinkage",
    "ridge_max_step",
    "ridge_gradient_descent",
    "sgd_step",
    "AdamState",
    "adam_init",
    "adam_step",
]


# ---------------------------------------------------------------- validation helpers
def _check_lr(lr) -> float:
    return check_positive("lr", lr, hint="the learning rate η")


def _check_beta(name: str, value) -> float:
    b = check_nonnegative(name, value, hint="a moment-decay rate")
    if b >= 1.0:
        raise RegbookError(f"{name} must be in [0, 1) (a moment-decay rate), got {b!r}.")
    return b


def _as_matrix(X) -> np.ndarray:
    X = as_finite("X", X)
    if X.ndim != 2:
        raise RegbookError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}.")
    return X


def _same_shape(a, b, what: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_finite("w", a), as_finite("grad", b)
    if a.shape != b.shape:
        raise RegbookError(f"{what}: shapes differ, {a.shape} vs {b.shape}.")
    return a, b


# ---------------------------------------------------------------- the penalty itself
def l2_penalty(w, lambda_: float) -> float:
    """The L2 penalty in the book's convention, ``λ/2·Σw²`` (chapter 2)."""
    lam = check_nonnegative("lambda_", lambda_)
    return 0.5 * lam * float(np.sum(as_finite("w", w) ** 2))


def l2_penalty_grad(w, lambda_: float) -> np.ndarray:
    """Gradient of :func:`l2_penalty`: ``λ·w`` (chapter 2)."""
    lam = check_nonnegative("lambda_", lambda_)
    return lam * as_finite("w", w)


def keras_l2_from_lambda(lambda_: float) -> float:
    """``keras.regularizers.L2``'s ``l2`` that adds ``λ/2·Σw²``: ``λ/2`` (chapter 2)."""
    return check_nonnegative("lambda_", lambda_) / 2.0


def lambda_from_keras_l2(l2: float) -> float:
    """The book's λ for ``keras.regularizers.L2(l2)`` (adds ``l2·Σw²``): ``2·l2`` (chapter 2)."""
    return 2.0 * check_nonnegative("l2", l2)


def map_lambda(noise_var: float, prior_var: float) -> float:
    """The ridge λ = σ²/τ² whose minimiser is the MAP under a N(0, τ²I) prior (chapter 2)."""
    s2 = check_positive("noise_var", noise_var, hint="a variance")
    return s2 / check_positive("prior_var", prior_var, hint="a variance")


# ---------------------------------------------------------------- ridge regression
def _nonzero_singular_values(s: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which singular values are not round-off: ``s > max(n, p)·eps·s_max``, relative to
    the largest one like ``numpy.linalg.pinv`` and ``matrix_rank`` (so scaling X keeps them)."""
    if s.size == 0:
        return np.zeros(0, dtype=bool)
    return s > max(shape) * np.finfo(float).eps * s.max()


def ridge_objective(X, y, w, lambda_: float) -> float:
    """``½‖Xw − y‖² + λ/2·‖w‖²`` (chapter 2)."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    r = X @ w - y
    return 0.5 * float(r @ r) + l2_penalty(w, lambda_)


def ridge_gradient(X, y, w, lambda_: float) -> np.ndarray:
    """Gradient of :func:`ridge_objective`: ``Xᵀ(Xw − y) + λw`` (chapter 2)."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    return X.T @ (X @ w - y) + l2_penalty_grad(w, lambda_)


def ridge_closed_form(X, y, lambda_: float) -> np.ndarray:
    """The ridge minimiser ``(XᵀX + λI)⁻¹Xᵀy`` (chapter 2); λ = 0 needs ``XᵀX`` invertible."""
    X, y = as_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    A = X.T @ X + lam * np.eye(X.shape[1])
    try:
        return np.linalg.solve(A, X.T @ y)
    except np.linalg.LinAlgError:
        raise RegbookError(
            "XᵀX + λI is singular: use λ > 0 when X has fewer rows than columns or "
            "collinear columns."
        ) from None


def ridge_svd(X, y, lambda_: float) -> np.ndarray:
    """The ridge minimiser ``V·diag(s/(s² + λ))·Uᵀy`` from the SVD (chapter 2).

    At λ = 0 it gives the minimum-norm ``pinv(X)·y``; singular values below
    ``max(n, p)·eps·s_max`` count as 0 (relative, as ``numpy.linalg.pinv``).
    """
    X, y = as_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = _nonzero_singular_values(s, X.shape)
    coef = np.divide(s, s**2 + lam, out=np.zeros_like(s), where=keep)
    return Vt.T @ (coef * (U.T @ y))


def ridge_shrinkage(X, lambda_: float) -> np.ndarray:
    """Ridge's shrinkage ``s²/(s² + λ)`` per singular direction, largest first (chapter 2)."""
    X = _as_matrix(X)
    lam = check_nonnegative("lambda_", lambda_)
    s = np.linalg.svd(X, compute_uv=False)
    s2 = s**2
    return np.divide(
        s2, s2 + lam, out=np.zeros_like(s2), where=_nonzero_singular_values(s, X.shape)
    )


def ridge_max_step(X, lambda_: float) -> float:
    """Largest stable step ``2/(s_max² + λ)`` of gradient descent on the ridge objective (ch. 2)."""
    X = _as_matrix(X)
    lam = check_nonnegative("lambda_", lambda_)
    top = float(np.linalg.svd(X, compute_uv=False)[0] ** 2) + lam
    if top == 0:
        raise RegbookError("X is all zeros and λ = 0: the objective is flat, any step works.")
    return 2.0 / top


def ridge_gradient_descent(
    X, y, lambda_: float, lr: float, steps: int, w0=None
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent ``w ← w − η·(Xᵀ(Xw − y) + λw)`` from ``w0`` or 0 (chapter 2).

    Returns:
        ``(w, objective)``; the objective before every step and after the last (inf/nan
        once diverged).
    """
    X, y = as_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    lr = _check_lr(lr)
    steps = check_positive_int("steps", steps)
    w = np.zeros(X.shape[1]) if w0 is None else as_vector("w0", w0, X.shape[1]).copy()
    history = np.empty(steps + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            r = X @ w - y
            history[t] = 0.5 * (r @ r) + 0.5 * lam * (w @ w)
            w = w - lr * (X.T @ r + lam * w)
        r = X @ w - y
        history[steps] = 0.5 * (r @ r) + 0.5 * lam * (w @ w)
    return w, history


# ---------------------------------------------------------------- optimizer updates
def sgd_step(w, grad, lr: float, *, lambda_: float = 0.0, weight_decay: float = 0.0) -> np.ndarray:
    """One SGD step ``w − η·wd·w − η·(g + λw)``, as Keras applies L2 and weight decay (chapter 2).

    ``λw`` is a kernel regularizer ``L2(λ/2)``'s gradient; ``wd`` is ``SGD(weight_decay=wd)``.
    For plain SGD the two give the same update when ``wd = λ``.
    """
    w, grad = _same_shape(w, grad, "sgd_step(w, grad)")
    lr = _check_lr(lr)
    wd = check_nonnegative("weight_decay", weight_decay)
    return w - lr * wd * w - lr * (grad + l2_penalty_grad(w, lambda_))


@dataclass
class AdamState:
    """Adam's state for one weight array: moments ``m``, ``v`` and step ``t`` (chapter 4)."""

    m: np.ndarray
    v: np.ndarray
    t: int = 0


def adam_init(w) -> AdamState:
    """A fresh :class:`AdamState` (zero moments, ``t = 0``) for weights ``w`` (chapter 4)."""
    w = as_finite("w", w)
    return AdamState(np.zeros_like(w), np.zeros_like(w), 0)


def adam_step(
    w,
    grad,
    state: AdamState,
    lr: float = 1e-3,
    *,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-7,
    lambda_: float = 0.0,
    weight_decay: float = 0.0,
) -> tuple[np.ndarray, AdamState]:
    """One Adam step with coupled L2 and/or decoupled decay (AdamW), as Keras 3 does (chapter 4).

    The shrink ``w ← w − η·wd·w`` comes before the moment step; Keras puts ε outside the
    bias correction. Returns ``(new_w, new_state)``; ``state`` is not modified.

    Args:
        lambda_: coupled penalty ``λ/2·Σw²``; its gradient ``λw`` goes through the moments.
        weight_decay: decoupled ``wd`` (Keras ``AdamW(weight_decay=wd)``).
    """
    w, grad = _same_shape(w, grad, "adam_step(w, grad)")
    if not isinstance(state, AdamState) or state.m.shape != w.shape:
        raise RegbookError("state must be an AdamState for weights of this shape (adam_init(w)).")
    lr = _check_lr(lr)
    b1, b2 = _check_beta("beta_1", beta_1), _check_beta("beta_2", beta_2)
    eps = check_nonnegative("epsilon", epsilon)
    wd = check_nonnegative("weight_decay", weight_decay)
    g = grad + l2_penalty_grad(w, lambda_)
    t = state.t + 1
    m = b1 * state.m + (1 - b1) * g
    v = b2 * state.v + (1 - b2) * g**2
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    w_new = w - lr * wd * w
    w_new = w_new - alpha * m / (np.sqrt(v) + eps)
    return w_new, AdamState(m, v, t)
