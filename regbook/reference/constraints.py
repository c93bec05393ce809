"""Norm constraints, noise on the weights and flat minima (chapter 14).

The norm-ball problem and its KKT multiplier (:func:`constrained_least_squares`,
:func:`kkt_multiplier`), Keras' ``MaxNorm`` projection (:func:`max_norm`,
:func:`sgd_max_norm_step`), the expected loss of a linear model under Gaussian weight noise
(:func:`weight_noise_loss_linear`), one step of sharpness-aware minimization
(:func:`sam_step`), and two measures of flatness (:func:`power_iteration` on
Hessian-vector products, :func:`perturbation_sharpness`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

from ..errors import RegbookError, check_nonnegative, check_positive, check_positive_int
from ._arrays import as_finite, as_generator, as_vector, as_xy
from .penalties import ridge_closed_form

__all__ = [
    "max_norm",
    "sgd_max_norm_step",
    "ridge",
    "constrained_least_squares",
    "kkt_multiplier",
    "weight_noise_loss_linear",
    "sam_step",
    "finite_difference_hvp",
    "power_iteration",
    "perturbation_sharpness",
]


def max_norm(W, c: float, axis: int = 0) -> np.ndarray:
    """Scale every slice along ``axis`` (a unit's incoming weights) into the ball of radius c."""
    c = check_positive("c", c, hint="the max-norm bound")
    W = as_finite("W", W)
    norms = np.sqrt(np.sum(W**2, axis=axis, keepdims=True))
    return W * np.minimum(1.0, c / np.maximum(norms, 1e-300))


def sgd_max_norm_step(W, grad, lr: float, c: float, axis: int = 0) -> np.ndarray:
    """One SGD step, then the max-norm projection: what Keras' ``kernel_constraint`` does."""
    lr = check_positive("lr", lr, hint="the learning rate")
    W, grad = as_finite("W", W), as_finite("grad", grad)
    if W.shape != grad.shape:
        raise RegbookError(f"grad must have the shape of W {W.shape}, got {grad.shape}.")
    return max_norm(W - lr * grad, c, axis=axis)


def ridge(X, y, lam: float) -> np.ndarray:
    """argmin ½‖Xw − y‖² + (λ/2)‖w‖², i.e. (XᵀX + λI)⁻¹Xᵀy."""
    return ridge_closed_form(X, y, check_nonnegative("lam", lam))  # chapter 2's


def constrained_least_squares(X, y, c: float) -> tuple[np.ndarray, float]:
    """argmin ½‖Xw − y‖² subject to ‖w‖ ≤ c, and the λ of the ridge problem it solves.

    If the least-squares solution lies inside the ball the constraint is inactive and λ = 0;
    otherwise the solution is the ridge solution whose norm is exactly c.
    """
    X, y = as_xy(X, y)
    c = check_positive("c", c, hint="the radius of the norm ball")
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    if np.linalg.norm(w_ls) <= c:
        return w_ls, 0.0
    lam = optimize.brentq(lambda t: np.linalg.norm(ridge(X, y, t)) - c, 1e-12, 1e12, xtol=1e-14)
    return ridge(X, y, lam), float(lam)


def kkt_multiplier(X, y, w) -> float:
    """The α with ∇L(w) + α w = 0 (least squares L = ½‖Xw − y‖²): α = −wᵀ∇L(w) / ‖w‖²."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    if not np.any(w):
        raise RegbookError("w must not be zero: the multiplier is read off w's direction.")
    grad = X.T @ (X @ w - y)
    return float(-(w @ grad) / (w @ w))


def weight_noise_loss_linear(X, y, w, eta: float) -> float:
    """E over ε ~ N(0, ηI) of mean((X(w + ε) − y)²) = mean((Xw − y)²) + η·mean(‖x‖²), exactly."""
    X, y = as_xy(X, y)
    w = as_vector("w", w, X.shape[1])
    eta = check_nonnegative("eta", eta, hint="the variance of the weight noise")
    return float(np.mean((X @ w - y) ** 2) + eta * np.mean(np.sum(X**2, axis=1)))


def sam_step(w, grad_fn: Callable[[np.ndarray], np.ndarray], lr: float, rho: float):
    """One SAM step: w − lr·∇L(w + ρ g/‖g‖) with g = ∇L(w); ρ = 0 is plain gradient descent."""
    w = as_finite("w", w)
    lr = check_positive("lr", lr, hint="the learning rate")
    rho = check_nonnegative("rho", rho, hint="the radius of the ascent step")
    g = as_finite("grad_fn(w)", grad_fn(w))
    norm = np.sqrt(np.sum(g**2))
    eps = rho * g / norm if norm > 0 else np.zeros_like(w)
    return w - lr * as_finite("grad_fn(w + eps)", grad_fn(w + eps))


def finite_difference_hvp(grad_fn, w, v, h: float = 1e-5) -> np.ndarray:
    """H v ≈ (∇L(w + h v) − ∇L(w − h v)) / (2h): a Hessian-vector product from two gradients."""
    w, v = as_finite("w", w), as_finite("v", v)
    if w.shape != v.shape:
        raise RegbookError(f"v must have the shape of w {w.shape}, got {v.shape}.")
    h = check_positive("h", h, hint="the finite-difference step")
    return (np.asarray(grad_fn(w + h * v)) - np.asarray(grad_fn(w - h * v))) / (2 * h)


def power_iteration(hvp: Callable[[np.ndarray], np.ndarray], v0, iters: int = 50):
    """The eigenvalue of largest magnitude of a symmetric H given only v ↦ Hv, and its vector."""
    v = as_finite("v0", v0)
    iters = check_positive_int("iters", iters)
    if not np.any(v):
        raise RegbookError("v0 must not be zero: start the power iteration from a random vector.")
    lam = 0.0
    for _ in range(iters):
        v = v / np.linalg.norm(v)
        hv = np.asarray(hvp(v), dtype=float)
        lam = float(v.ravel() @ hv.ravel())
        v = hv
        if not np.any(v):
            return 0.0, v
    return lam, v / np.linalg.norm(v)


def perturbation_sharpness(
    loss_fn: Callable[[Sequence[np.ndarray]], float],
    weights: Sequence[np.ndarray],
    radius: float,
    n_directions: int = 20,
    seed=0,
) -> float:
    """Mean of L(W + D) − L(W) over random D with ‖D_l‖ = radius·‖W_l‖ for every array l."""
    if isinstance(weights, np.ndarray) or not len(weights):
        raise RegbookError("weights must be a non-empty list of arrays (one per variable).")
    weights = [as_finite(f"weights[{i}]", w) for i, w in enumerate(weights)]
    radius = check_positive("radius", radius, hint="the relative size of the perturbation")
    n_directions = check_positive_int("n_directions", n_directions)
    rng = as_generator("seed", seed)
    base = float(loss_fn(weights))
    rises = []
    for _ in range(n_directions):
        moved = []
        for w in weights:
            d = rng.standard_normal(w.shape)
            moved.append(w + radius * np.linalg.norm(w) * d / np.linalg.norm(d))
        rises.append(float(loss_fn(moved)) - base)
    return float(np.mean(rises))
