"""Batch normalization from scratch: the training-mode forward pass (per feature, over the
batch), its backward pass, the moving averages in Keras' momentum convention, the
inference-mode forward pass, and layer normalization for contrast (chapter 6).

Notation: a batch ``x`` of shape ``(N, D)`` (N examples, D features; for images, every
axis but the last is treated as "batch", as Keras does). For each feature j,

    μ_j = mean_i x_ij,   σ²_j = mean_i (x_ij − μ_j)²   (the biased variance, as Keras),
    x̂_ij = (x_ij − μ_j) / sqrt(σ²_j + ε),   y_ij = γ_j · x̂_ij + β_j.
"""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError, check_positive, check_probability
from ._arrays import as_finite

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_inference",
    "update_moving",
    "layernorm_forward",
]


def _as_2d(x: np.ndarray, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
    x = as_finite(name, x)
    if x.ndim < 2:
        raise RegbookError(
            f"{name} must have shape (batch, ..., features), got {x.shape}; "
            "add a batch axis with x[None]."
        )
    return x.reshape(-1, x.shape[-1]), x.shape


def _params(gamma, beta, d: int) -> tuple[np.ndarray, np.ndarray]:
    g = np.ones(d) if gamma is None else as_finite("gamma", gamma)
    b = np.zeros(d) if beta is None else as_finite("beta", beta)
    for name, v in (("gamma", g), ("beta", b)):
        if v.shape != (d,):
            raise RegbookError(f"{name} must have shape ({d},) (one per feature), got {v.shape}.")
    return g, b


def _eps(eps: float) -> float:
    return check_positive("eps", eps, hint="it keeps the division finite for constant features")


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-3,
) -> tuple[np.ndarray, dict]:
    """Training-mode batch normalization: normalize each feature with its batch statistics.

    Args:
        x: activations, shape ``(N, D)`` or ``(N, ..., D)``; statistics are taken per
            feature (last axis) over all other axes.
        gamma, beta: scale and shift, shape ``(D,)`` (default ones and zeros).
        eps: ε > 0 added to the variance (Keras' default is 1e-3, PyTorch's 1e-5).

    Returns:
        ``(y, cache)``: ``y`` shaped like ``x``; ``cache`` holds ``mean`` and ``var``
        (shape ``(D,)``, the batch statistics, variance biased), ``x_hat``, ``gamma``,
        ``std`` for :func:`batchnorm_backward`. Chapter 6.
    """
    x2, shape = _as_2d(x)
    g, b = _params(gamma, beta, x2.shape[1])
    eps = _eps(eps)
    mean = x2.mean(axis=0)
    var = x2.var(axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x2 - mean) / std
    y = g * x_hat + b
    cache = {"mean": mean, "var": var, "std": std, "x_hat": x_hat, "gamma": g, "shape": shape}
    return y.reshape(shape), cache


def batchnorm_backward(dy: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the loss through training-mode batch normalization.

    With ``N`` rows per feature, ``dγ = Σ_i dy_i·x̂_i``, ``dβ = Σ_i dy_i`` and

        dx = (γ / (N·σ)) · (N·dy − Σ_i dy_i − x̂ · Σ_i dy_i·x̂_i),

    where ``σ = sqrt(σ²_B + ε)``. The two subtracted sums are the paths through the batch
    mean and the batch variance.

    Args:
        dy: ∂L/∂y, shaped like the forward input.
        cache: the second output of :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes of ``x``, ``(D,)``, ``(D,)``. Chapter 6.
    """
    if not isinstance(cache, dict) or "x_hat" not in cache:
        raise RegbookError("cache must be the dict returned by batchnorm_forward.")
    dy2 = as_finite("dy", dy)
    if dy2.shape != cache["shape"]:
        raise RegbookError(f"dy has shape {dy2.shape}, the forward input had {cache['shape']}.")
    dy2 = dy2.reshape(-1, dy2.shape[-1])
    x_hat, g, std = cache["x_hat"], cache["gamma"], cache["std"]
    n = dy2.shape[0]
    dbeta = dy2.sum(axis=0)
    dgamma = (dy2 * x_hat).sum(axis=0)
    dx = g / (n * std) * (n * dy2 - dbeta - x_hat * dgamma)
    return dx.reshape(cache["shape"]), dgamma, dbeta


def batchnorm_inference(
    x: np.ndarray,
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-3,
) -> np.ndarray:
    """Inference-mode batch normalization: a fixed affine map per feature.

    Args:
        x: activations, shape ``(N, ..., D)``.
        moving_mean, moving_var: the statistics accumulated in training, shape ``(D,)``.
        gamma, beta, eps: as in :func:`batchnorm_forward`.

    Returns:
        ``γ·(x − moving_mean)/sqrt(moving_var + ε) + β``, shaped like ``x``; each example
        is transformed independently of the others. Chapter 6.
    """
    x2, shape = _as_2d(x)
    d = x2.shape[1]
    g, b = _params(gamma, beta, d)
    m, v = as_finite("moving_mean", moving_mean), as_finite("moving_var", moving_var)
    if m.shape != (d,) or v.shape != (d,):
        raise RegbookError(f"moving_mean and moving_var must have shape ({d},).")
    if np.any(v < 0):
        raise RegbookError("moving_var must be >= 0.")
    y = g * (x2 - m) / np.sqrt(v + _eps(eps)) + b
    return y.reshape(shape)


def update_moving(moving: np.ndarray, batch_stat: np.ndarray, momentum: float = 0.99) -> np.ndarray:
    """One moving-average step in Keras' convention.

    ``moving ← momentum·moving + (1 − momentum)·batch_stat``: Keras' ``momentum`` is the
    weight on the *old* value (default 0.99). PyTorch's ``momentum`` is the weight on the
    *new* batch statistic (default 0.1), so PyTorch's m corresponds to Keras' 1 − m.

    Args:
        moving: the current moving mean or variance, shape ``(D,)``.
        batch_stat: this batch's mean or (biased) variance, shape ``(D,)``.
        momentum: in [0, 1].

    Returns:
        The updated moving statistic, shape ``(D,)``. Chapter 6.
    """
    momentum = check_probability("momentum", momentum, hint="Keras: the weight on the old value")
    moving, batch_stat = as_finite("moving", moving), as_finite("batch_stat", batch_stat)
    if moving.shape != batch_stat.shape:
        raise RegbookError(f"shapes differ: moving {moving.shape}, batch {batch_stat.shape}.")
    return momentum * moving + (1.0 - momentum) * batch_stat


def layernorm_forward(
    x: np.ndarray,
    gamma: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    eps: float = 1e-3,
) -> np.ndarray:
    """Layer normalization: normalize each *example* over its features (for contrast).

    Args:
        x: activations, shape ``(N, D)``; statistics per row (one example), over the D
            features, so the output of one example does not depend on the others.
        gamma, beta: per-feature scale and shift, shape ``(D,)``.
        eps: ε > 0 (Keras' ``LayerNormalization`` default 1e-3).

    Returns:
        Array of shape ``(N, D)``. Chapter 6.
    """
    x = as_finite("x", x)
    if x.ndim != 2:
        raise RegbookError(f"x must have shape (batch, features), got {x.shape}.")
    g, b = _params(gamma, beta, x.shape[1])
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return g * (x - mean) / np.sqrt(var + _eps(eps)) + b
