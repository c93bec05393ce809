"""Ensembles, bagging, snapshot and weight averaging, distillation: NumPy references (ch. 13)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import RegbookError, check_nonnegative, check_positive, check_positive_int
from ._arrays import as_finite, as_generator

__all__ = [
    "ensemble_mse",
    "error_moments",
    "bootstrap_counts",
    "softmax",
    "average_probs",
    "nll",
    "weight_average",
    "ema_weights",
    "cosine_restarts",
    "soft_cross_entropy",
    "soft_cross_entropy_grad",
]


def ensemble_mse(v: float, c: float, k: int) -> float:
    """Expected squared error of the average of ``k`` predictors: ``c + (v − c)/k``.

    Args:
        v: the members' expected squared error (the variance of their errors).
        c: the expected product of two different members' errors (their covariance).
    """
    v = check_nonnegative("v", v, hint="a mean squared error")
    c = float(as_finite("c", c))
    if c > v * (1 + 1e-12):
        raise RegbookError(f"c must be <= v (Cauchy–Schwarz), got c = {c} > v = {v}.")
    return c + (v - c) / check_positive_int("k", k)


def error_moments(errors: np.ndarray) -> tuple[float, float]:
    """``(v, c)`` of members' errors, shape ``(k, n, ...)``: mean ‖e_i‖², mean ⟨e_i, e_j⟩, i ≠ j.

    The mean runs over the ``n`` examples (and, for ``c``, over the ``k(k − 1)`` ordered
    pairs); trailing axes (e.g. the classes of a probability vector) are summed.
    """
    e = as_finite("errors", errors)
    if e.ndim < 2 or len(e) < 2:
        raise RegbookError(
            f"errors must have shape (k, n, ...) with k >= 2 members, got {e.shape}."
        )
    k, n = e.shape[:2]
    flat = e.reshape(k, n, -1)
    gram = np.einsum("inc,jnc->ij", flat, flat) / n  # mean inner products, k × k
    v = float(np.trace(gram) / k)
    c = float((gram.sum() - np.trace(gram)) / (k * (k - 1)))
    return v, c


def bootstrap_counts(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """How often each of ``n`` examples is drawn in a bootstrap sample of size ``n``."""
    n = check_positive_int("n", n)
    draws = as_generator("rng", rng).integers(0, n, size=n)
    return np.bincount(draws, minlength=n).astype(float)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``softmax(z / T)`` along the last axis (numerically stable)."""
    z = as_finite("logits", logits) / check_positive("temperature", temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def average_probs(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """The ensemble's prediction: the mean over members (axis 0) of ``softmax(z / T)``."""
    logits = as_finite("logits", logits)
    if logits.ndim < 2:
        raise RegbookError(f"logits must have shape (k, ..., K), got {logits.shape}.")
    return softmax(logits, temperature).mean(axis=0)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood ``−mean log p(y)`` of predicted probabilities (n, K)."""
    probs = as_finite("probs", probs)
    y = np.asarray(y)
    if probs.ndim != 2 or y.shape != (len(probs),):
        raise RegbookError(
            f"probs must have shape (n, K) and y shape (n,), got {probs.shape} and {y.shape}."
        )
    p = probs[np.arange(len(y)), y.astype(int)]
    return float(-np.mean(np.log(np.maximum(p, 1e-12))))


def _stack(name: str, weights) -> np.ndarray:
    w = as_finite(name, np.asarray(weights, dtype=float))
    if w.ndim < 1 or len(w) == 0:
        raise RegbookError(f"{name} must hold at least one step's weights, got {w.shape}.")
    return w


def weight_average(weights) -> np.ndarray:
    """Stochastic weight averaging: the plain mean of the weights along axis 0 (the steps)."""
    return _stack("weights", weights).mean(axis=0)


def ema_weights(weights, momentum: float) -> np.ndarray:
    """Keras' exponential moving average of the weights after each step (axis 0).

    As ``use_ema=True`` does: the average starts at the weights after the first step,
    then ``a ← m·a + (1 − m)·w`` after every further step.
    """
    w = _stack("weights", weights)
    m = float(as_finite("momentum", momentum))
    if not 0.0 <= m < 1.0:
        raise RegbookError(f"momentum must lie in [0, 1), got {m}.")
    avg = w[0].copy()
    for step in w[1:]:
        avg = m * avg + (1 - m) * step
    return avg


def cosine_restarts(
    step,
    initial: float,
    first_decay_steps: int,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
) -> np.ndarray:
    """Learning rate of SGDR (``keras.optimizers.schedules.CosineDecayRestarts``) at ``step``.

    Cycle ``i`` lasts ``first_decay_steps · t_mulⁱ`` steps; at the fraction ``t`` of it the
    rate is ``initial · ((1 − α) · m_mulⁱ · (1 + cos πt)/2 + α)``.
    """
    step = np.asarray(as_finite("step", step))
    if np.any(step < 0):
        raise RegbookError("step must be >= 0.")
    initial = check_positive("initial", initial)
    t0 = check_positive_int("first_decay_steps", first_decay_steps)
    t_mul = check_positive("t_mul", t_mul)
    m_mul = check_positive("m_mul", m_mul)
    alpha = check_nonnegative("alpha", alpha)
    frac = step / t0
    if t_mul == 1.0:
        i = np.floor(frac)
        t = frac - i
    else:
        i = np.floor(np.log(1 - frac * (1 - t_mul)) / math.log(t_mul))
        done = (1 - t_mul**i) / (1 - t_mul)
        t = (frac - done) / t_mul**i
    cos = 0.5 * (1 + np.cos(np.pi * t))
    return initial * ((1 - alpha) * m_mul**i * cos + alpha)


def soft_cross_entropy(targets: np.ndarray, logits: np.ndarray, temperature: float = 1.0):
    """Distillation loss ``−mean Σ_k q_k log softmax(z/T)_k`` against soft targets ``q``."""
    q, z = as_finite("targets", targets), as_finite("logits", logits)
    if q.shape != z.shape or q.ndim != 2:
        raise RegbookError(
            f"targets and logits must have the same shape (n, K), got {q.shape} and {z.shape}."
        )
    t = check_positive("temperature", temperature)
    s = z / t - (z / t).max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return float(-np.mean(np.sum(q * log_p, axis=1)))


def soft_cross_entropy_grad(
    targets: np.ndarray, logits: np.ndarray, temperature: float = 1.0
) -> np.ndarray:
    """Gradient of :func:`soft_cross_entropy` in the logits: ``(softmax(z/T) − q) / (n·T)``."""
    q, z = as_finite("targets", targets), as_finite("logits", logits)
    if q.shape != z.shape or q.ndim != 2:
        raise RegbookError(
            f"targets and logits must have the same shape (n, K), got {q.shape} and {z.shape}."
        )
    t = check_positive("temperature", temperature)
    return (softmax(z, t) - q) / (len(z) * t)
