"""Batch normalization from scratch (chapter 6): training forward and backward passes, Keras'
moving averages, the inference pass, and layer normalization for contrast.

Statistics are per feature (last axis) over all other axes; the variance is biased, as in Keras.
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
    """Training-mode batch norm with the batch's statistics; returns ``(y, cache)``.

    Args:
        eps: added to the variance (Keras' default 1e-3, PyTorch's 1e-5).
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
    """``(dx, dgamma, dbeta)`` through training-mode batch norm (``cache`` from forward)."""
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
    """Inference-mode batch norm: ``γ·(x − moving_mean)/sqrt(moving_var + ε) + β``, per example."""
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
    """One moving-average step in Keras' convention: ``momentum·moving + (1 − momentum)·batch``.

    PyTorch's ``momentum`` weighs the new value: its m is Keras' 1 − m.
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
    """Layer normalization: normalize each example over its D features (not over the batch)."""
    x = as_finite("x", x)
    if x.ndim != 2:
        raise RegbookError(f"x must have shape (batch, features), got {x.shape}.")
    g, b = _params(gamma, beta, x.shape[1])
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return g * (x - mean) / np.sqrt(var + _eps(eps)) + b
