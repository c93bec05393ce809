"""L2 penalties, ridge regression and optimizer updates with coupled or decoupled decay.

NumPy references for chapters 2 (L2 regularization and weight decay) and 4 (weight decay
with adaptive optimizers). Conventions, as in the text:

* The L2 penalty is ``λ/2·Σw²`` (the book's λ); ``keras.regularizers.L2(l2)`` adds
  ``l2·Σw²``, so ``λ = 2·l2`` (:func:`lambda_from_keras_l2`, :func:`keras_l2_from_lambda`).
* Ridge regression minimises the **sum-of-squares** objective
  ``½‖Xw − y‖² + λ/2·‖w‖²`` (no intercept: centre the data first). With a mean-squared
  loss ``1/(2n)·‖Xw − y‖² + λ'/2·‖w‖²`` the same minimiser has ``λ = n·λ'``.
* *Coupled* decay (``lambda_``) adds the penalty gradient ``λw`` to the data gradient
  before the optimizer sees it (what a kernel regularizer does); *decoupled* decay
  (``weight_decay``) shrinks the weights directly, exactly as Keras' optimizers do:
  ``w ← w − η·wd·w`` before the gradient step, with the gradient taken at the old ``w``.
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
    """The L2 penalty in the book's convention, ``λ/2·Σw²`` (chapter 2).

    Args:
        w: weights, any shape (e.g. all kernels of a model, flattened).
        lambda_: λ ≥ 0.

    Returns:
        The penalty, a float.
    """
    lam = check_nonnegative("lambda_", lambda_)
    return 0.5 * lam * float(np.sum(as_finite("w", w) ** 2))


def l2_penalty_grad(w, lambda_: float) -> np.ndarray:
    """Gradient of :func:`l2_penalty`: ``λ·w`` (chapter 2).

    Args:
        w: weights, any shape.
        lambda_: λ ≥ 0.

    Returns:
        Array shaped like ``w``.
    """
    lam = check_nonnegative("lambda_", lambda_)
    return lam * as_finite("w", w)


def keras_l2_from_lambda(lambda_: float) -> float:
    """The ``l2`` argument of ``keras.regularizers.L2`` that adds ``λ/2·Σw²``: ``λ/2``
    (chapter 2)."""
    return check_nonnegative("lambda_", lambda_) / 2.0


def lambda_from_keras_l2(l2: float) -> float:
    """The book's λ for ``keras.regularizers.L2(l2)`` (which adds ``l2·Σw²``): ``2·l2``
    (chapter 2)."""
    return 2.0 * check_nonnegative("l2", l2)


def map_lambda(noise_var: float, prior_var: float) -> float:
    """λ of the ridge objective whose minimiser is the MAP estimate (chapter 2).

    With Gaussian noise of variance σ² and a prior ``w ~ N(0, τ²I)``, the negative log
    posterior is ``(1/σ²)·[½‖Xw − y‖² + (σ²/τ²)/2·‖w‖²]`` plus a constant.

    Args:
        noise_var: σ² > 0.
        prior_var: τ² > 0.

    Returns:
        ``σ²/τ²`` (sum-of-squares convention).
    """
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
    """``½‖Xw − y‖² + λ/2·‖w‖²`` (chapter 2).

    Args:
        X: design matrix, shape ``(n, p)``; y: targets, shape ``(n,)``.
        w: coefficients, shape ``(p,)``.
        lambda_: λ ≥ 0.

    Returns:
        The objective, a float.
    """
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    r = X @ w - y
    return 0.5 * float(r @ r) + l2_penalty(w, lambda_)


def ridge_gradient(X, y, w, lambda_: float) -> np.ndarray:
    """Gradient of :func:`ridge_objective`: ``Xᵀ(Xw − y) + λw`` (chapter 2).

    Args:
        X: shape ``(n, p)``; y: shape ``(n,)``; w: shape ``(p,)``; lambda_: λ ≥ 0.

    Returns:
        Array of shape ``(p,)``.
    """
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    return X.T @ (X @ w - y) + l2_penalty_grad(w, lambda_)


def ridge_closed_form(X, y, lambda_: float) -> np.ndarray:
    """The ridge minimiser ``(XᵀX + λI)⁻¹Xᵀy`` (sum-of-squares convention, chapter 2).

    Args:
        X: shape ``(n, p)``; y: shape ``(n,)``.
        lambda_: λ ≥ 0 (λ = 0 needs ``XᵀX`` invertible, i.e. rank ``p``).

    Returns:
        Coefficients, shape ``(p,)``.
    """
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
    """The ridge minimiser through the SVD ``X = U·diag(s)·Vᵀ``:
    ``w = V·diag(s/(s² + λ))·Uᵀy`` (chapter 2).

    Unlike :func:`ridge_closed_form` it also works for λ = 0 with rank-deficient ``X``
    (it then returns the minimum-norm least-squares solution ``pinv(X)·y``: singular
    values below ``max(n, p)·eps·s_max`` count as 0, relative like ``numpy.linalg.pinv``).

    Args:
        X: shape ``(n, p)``; y: shape ``(n,)``; lambda_: λ ≥ 0.

    Returns:
        Coefficients, shape ``(p,)``.
    """
    X, y = as_xy(X, y)
    lam = check_nonnegative("lambda_", lambda_)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = _nonzero_singular_values(s, X.shape)
    coef = np.divide(s, s**2 + lam, out=np.zeros_like(s), where=keep)
    return Vt.T @ (coef * (U.T @ y))


def ridge_shrinkage(X, lambda_: float) -> np.ndarray:
    """Shrinkage factor ``s²/(s² + λ)`` of each singular direction of ``X`` (chapter 2).

    Ridge's fitted values are ``Σ_j u_j·[s_j²/(s_j² + λ)]·(u_jᵀy)``: least squares keeps
    each component ``u_jᵀy`` whole (factor 1), ridge multiplies it by this factor.

    Args:
        X: shape ``(n, p)``; lambda_: λ ≥ 0.

    Returns:
        Factors in [0, 1], shape ``(min(n, p),)``, in the order of the singular values
        (largest first).
    """
    X = _as_matrix(X)
    lam = check_nonnegative("lambda_", lambda_)
    s = np.linalg.svd(X, compute_uv=False)
    s2 = s**2
    return np.divide(
        s2, s2 + lam, out=np.zeros_like(s2), where=_nonzero_singular_values(s, X.shape)
    )


def ridge_max_step(X, lambda_: float) -> float:
    """The largest stable step size of gradient descent on :func:`ridge_objective`:
    ``2/λ_max(XᵀX + λI) = 2/(s_max² + λ)`` (chapter 2).

    Args:
        X: shape ``(n, p)``; lambda_: λ ≥ 0.

    Returns:
        The bound; steps ``0 < η < bound`` converge from any start, larger ones diverge
        from almost every start.
    """
    X = _as_matrix(X)
    lam = check_nonnegative("lambda_", lambda_)
    top = float(np.linalg.svd(X, compute_uv=False)[0] ** 2) + lam
    if top == 0:
        raise RegbookError("X is all zeros and λ = 0: the objective is flat, any step works.")
    return 2.0 / top


def ridge_gradient_descent(
    X, y, lambda_: float, lr: float, steps: int, w0=None
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent ``w ← w − η·(Xᵀ(Xw − y) + λw)`` (chapter 2).

    Args:
        X: shape ``(n, p)``; y: shape ``(n,)``; lambda_: λ ≥ 0.
        lr: step size η > 0 (see :func:`ridge_max_step`).
        steps: number of updates ≥ 1.
        w0: starting point, shape ``(p,)``; zeros if None.

    Returns:
        ``(w, objective)``: the last iterate, shape ``(p,)``, and the objective before
        every step and after the last, shape ``(steps + 1,)`` (``inf``/``nan`` once it
        diverged).
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
    """One plain SGD step with coupled L2 and/or decoupled decay, as Keras applies them
    (chapter 2).

    ``w_new = w − η·wd·w − η·(g + λw)``: the coupled term ``λw`` is what a kernel
    regularizer ``L2(l2=λ/2)`` adds to the gradient; the decoupled term is Keras'
    ``SGD(weight_decay=wd)``. For plain SGD the two are the same update when ``wd = λ``.

    Args:
        w: weights, any shape; grad: the data-loss gradient at ``w``, same shape.
        lr: η > 0.
        lambda_: λ ≥ 0 of the coupled penalty ``λ/2·Σw²``.
        weight_decay: decoupled ``wd`` ≥ 0.

    Returns:
        The new weights, shaped like ``w``.
    """
    w, grad = _same_shape(w, grad, "sgd_step(w, grad)")
    lr = _check_lr(lr)
    wd = check_nonnegative("weight_decay", weight_decay)
    return w - lr * wd * w - lr * (grad + l2_penalty_grad(w, lambda_))


@dataclass
class AdamState:
    """Adam's running state for one array of weights (chapter 4).

    Attributes:
        m: first-moment estimate, shaped like the weights.
        v: second-moment estimate, shaped like the weights.
        t: number of steps taken so far.
    """

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
    """One Adam step with coupled L2 (``lambda_``, "Adam + L2") and/or decoupled decay
    (``weight_decay``, "AdamW"), computed the way Keras 3 does (chapter 4).

    With ``g = grad + λw`` (coupled) and ``t`` the new step count:
    ``m ← β₁m + (1 − β₁)g``, ``v ← β₂v + (1 − β₂)g²``, then the decoupled shrink
    ``w ← w − η·wd·w``, then ``w ← w − α_t·m/(√v + ε)`` with
    ``α_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)``. This is the textbook ``η·m̂/(√v̂ + ε̂)`` with
    ``ε̂ = ε/√(1 − β₂ᵗ)`` (Keras puts ε outside the bias correction).

    Args:
        w: weights, any shape; grad: data-loss gradient at ``w``, same shape.
        state: the :class:`AdamState` of these weights (not modified).
        lr: η > 0.
        beta_1, beta_2: moment decay rates in [0, 1).
        epsilon: ε ≥ 0.
        lambda_: λ ≥ 0 of the coupled penalty ``λ/2·Σw²`` (its gradient ``λw`` goes
            through the moments).
        weight_decay: decoupled ``wd`` ≥ 0 (Keras ``AdamW(weight_decay=wd)``).

    Returns:
        ``(new_w, new_state)``.
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
