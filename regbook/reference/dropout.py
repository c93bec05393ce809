"""Dropout from scratch (chapter 5): masks, standard and inverted dropout (forward and
backward), exact enumeration of all masks, and Monte Carlo dropout prediction.

``rate`` is the probability of dropping a unit, ``p = 1 − rate`` of keeping it. Standard
dropout scales by p at inference; inverted dropout (Keras) divides by p in training.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ..errors import RegbookError, check_choice, check_positive_int, check_rate
from ._arrays import as_finite, as_generator

__all__ = [
    "SCHEMES",
    "bernoulli_mask",
    "dropout_forward",
    "dropout_inference",
    "dropout_backward",
    "all_masks",
    "mask_probabilities",
    "mlp_forward",
    "mc_dropout_predict",
]

#: The two ways to keep the expected activation unchanged.
SCHEMES = ("inverted", "standard")


def _check_mask(mask: np.ndarray, x: np.ndarray) -> np.ndarray:
    mask = as_finite("mask", mask)
    if mask.shape != x.shape:
        raise RegbookError(
            f"mask has shape {mask.shape} but the input has shape {x.shape}; draw it with "
            "bernoulli_mask(x.shape, rate)."
        )
    if not np.all((mask == 0) | (mask == 1)):
        raise RegbookError("mask must contain only 0 (dropped) and 1 (kept).")
    return mask


def bernoulli_mask(
    shape: tuple[int, ...], rate: float, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """A float mask of ones (kept, probability ``1 − rate``) and zeros of the given shape."""
    rate = check_rate("rate", rate)
    shape = tuple(check_positive_int("shape entry", s) for s in np.atleast_1d(shape).tolist())
    return (as_generator("seed", seed).random(shape) >= rate).astype(float)


def dropout_forward(
    x: np.ndarray, mask: np.ndarray, rate: float, scheme: str = "inverted"
) -> np.ndarray:
    """Training-mode dropout with a given mask.

    Args:
        scheme: ``"inverted"`` (``r ⊙ x / (1 − rate)``, as Keras) or ``"standard"`` (``r ⊙ x``).
    """
    rate = check_rate("rate", rate)
    check_choice("scheme", scheme, SCHEMES)
    x = as_finite("x", x)
    mask = _check_mask(mask, x)
    return mask * x / (1.0 - rate) if scheme == "inverted" else mask * x


def dropout_inference(x: np.ndarray, rate: float, scheme: str = "inverted") -> np.ndarray:
    """Inference-mode dropout: ``x`` for ``"inverted"``, ``(1 − rate)·x`` for ``"standard"``."""
    rate = check_rate("rate", rate)
    check_choice("scheme", scheme, SCHEMES)
    x = as_finite("x", x)
    return x.copy() if scheme == "inverted" else (1.0 - rate) * x


def dropout_backward(
    dy: np.ndarray, mask: np.ndarray, rate: float, scheme: str = "inverted"
) -> np.ndarray:
    """∂L/∂x of training-mode dropout: ``r ⊙ dy`` (divided by ``1 − rate`` if inverted)."""
    return dropout_forward(as_finite("dy", dy), mask, rate, scheme)


def all_masks(n_units: int) -> np.ndarray:
    """Every dropout mask of ``n_units`` (≤ 20) units, shape ``(2**n_units, n_units)``."""
    n_units = check_positive_int("n_units", n_units)
    if n_units > 20:
        raise RegbookError(f"n_units={n_units} gives 2**{n_units} masks; use at most 20.")
    return np.array(list(itertools.product((0.0, 1.0), repeat=n_units)))


def mask_probabilities(masks: np.ndarray, rate: float) -> np.ndarray:
    """Probability ``p**kept · rate**dropped`` of each mask (sum 1 over :func:`all_masks`)."""
    rate = check_rate("rate", rate)
    masks = as_finite("masks", masks)
    if masks.ndim != 2:
        raise RegbookError(f"masks must have shape (n_masks, n_units), got {masks.shape}.")
    kept = masks.sum(axis=1)
    return (1.0 - rate) ** kept * rate ** (masks.shape[1] - kept)


def mlp_forward(
    x: np.ndarray,
    layers: list[tuple[np.ndarray, np.ndarray]],
    rate: float = 0.0,
    *,
    mode: str = "inference",
    seed: int | np.random.Generator | None = None,
    activation: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Logits of an MLP with inverted dropout after every hidden layer.

    Args:
        layers: ``[(W, b), ...]`` with ``W`` of shape ``(d_in, d_out)``; the last is the output.
        mode: ``"inference"`` (no masks) or ``"sample"`` (a fresh mask per example and unit).
    """
    rate = check_rate("rate", rate)
    check_choice("mode", mode, ("inference", "sample"))
    if not layers:
        raise RegbookError("layers must hold at least the output layer's (W, b).")
    act = activation if activation is not None else (lambda z: np.maximum(z, 0.0))
    rng = as_generator("seed", seed) if mode == "sample" else None
    h = as_finite("x", x)
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = act(h)
            if mode == "sample" and rate > 0:
                h = h * (rng.random(h.shape) >= rate) / (1.0 - rate)
    return h


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def mc_dropout_predict(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    n_samples: int = 100,
    *,
    logits: bool = True,
    tile: bool = False,
) -> dict[str, np.ndarray]:
    """Monte Carlo dropout: average many stochastic forward passes (dropout kept on).

    Args:
        predict: a stochastic ``x -> scores``, e.g. ``lambda x: model(x, training=True)``.
        logits: whether ``predict`` returns logits (softmax is applied) or probabilities.
        tile: one call on ``n_samples`` stacked copies (faster); invalid with batch norm.

    Returns:
        ``samples``, ``mean``, ``std``, ``entropy`` (of the mean) and ``mutual_info``.
    """
    n_samples = check_positive_int("n_samples", n_samples)
    if not callable(predict):
        raise RegbookError("predict must be a function x -> scores (batch, n_classes).")
    if tile:
        x = np.asarray(x)
        stacked = np.asarray(predict(np.concatenate([x] * n_samples)), dtype=float)
        samples = stacked.reshape(n_samples, len(x), *stacked.shape[1:])
    else:
        samples = np.stack([np.asarray(predict(x), dtype=float) for _ in range(n_samples)])
    if samples.ndim != 3:
        raise RegbookError(
            f"predict must return shape (batch, n_classes), got {samples.shape[1:]}."
        )
    as_finite("the scores returned by predict", samples)
    probs = _softmax(samples) if logits else samples
    mean = probs.mean(axis=0)

    def entropy(p):
        return -np.sum(p * np.log(np.clip(p, 1e-12, 1.0)), axis=-1)

    h_mean = entropy(mean)
    return {
        "samples": probs,
        "mean": mean,
        "std": probs.std(axis=0),
        "entropy": h_mean,
        "mutual_info": h_mean - entropy(probs).mean(axis=0),
    }
