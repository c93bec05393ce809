"""Dropout from scratch: the Bernoulli mask, standard and inverted dropout (forward and
backward), exact enumeration of all masks, and Monte Carlo dropout prediction (chapter 5).

Conventions (as in Keras and the rest of the book): the **rate** is the probability of
*dropping* a unit, and ``p = 1 − rate`` is the probability of *keeping* it. A mask ``r``
holds ones (kept) and zeros (dropped), drawn independently per element.

* **Standard** dropout (the original paper's form): training ``y = r ⊙ x``; inference
  ``y = p·x``.
* **Inverted** dropout (what ``keras.layers.Dropout`` does): training ``y = r ⊙ x / p``;
  inference ``y = x``.

Both keep ``E[y_train] = y_infer`` for a fixed input.
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
    """Draw a dropout mask: each entry is 1 (kept) with probability ``1 − rate``.

    Args:
        shape: shape of the activations, e.g. ``(batch, units)``.
        rate: probability of dropping a unit, in [0, 1).
        seed: an integer seed or a ``numpy.random.Generator``.

    Returns:
        Float array of zeros and ones, shape ``shape``. Chapter 5.
    """
    rate = check_rate("rate", rate)
    shape = tuple(check_positive_int("shape entry", s) for s in np.atleast_1d(shape).tolist())
    return (as_generator("seed", seed).random(shape) >= rate).astype(float)


def dropout_forward(
    x: np.ndarray, mask: np.ndarray, rate: float, scheme: str = "inverted"
) -> np.ndarray:
    """Training-mode dropout with a given mask.

    Args:
        x: activations, any shape.
        mask: zeros and ones of the same shape (see :func:`bernoulli_mask`).
        rate: the drop probability the mask was drawn with, in [0, 1).
        scheme: ``"inverted"`` (``r ⊙ x / (1 − rate)``, as Keras) or ``"standard"``
            (``r ⊙ x``).

    Returns:
        The dropped-out activations, shape of ``x``. Chapter 5.
    """
    rate = check_rate("rate", rate)
    check_choice("scheme", scheme, SCHEMES)
    x = as_finite("x", x)
    mask = _check_mask(mask, x)
    return mask * x / (1.0 - rate) if scheme == "inverted" else mask * x


def dropout_inference(x: np.ndarray, rate: float, scheme: str = "inverted") -> np.ndarray:
    """Inference-mode dropout: every unit is kept and the output is rescaled if needed.

    Args:
        x: activations, any shape.
        rate: the training drop probability, in [0, 1).
        scheme: ``"inverted"`` (returns ``x`` unchanged) or ``"standard"`` (returns
            ``(1 − rate)·x``, the keep probability times x).

    Returns:
        Array shaped like ``x``: the expectation of :func:`dropout_forward` over masks.
        Chapter 5.
    """
    rate = check_rate("rate", rate)
    check_choice("scheme", scheme, SCHEMES)
    x = as_finite("x", x)
    return x.copy() if scheme == "inverted" else (1.0 - rate) * x


def dropout_backward(
    dy: np.ndarray, mask: np.ndarray, rate: float, scheme: str = "inverted"
) -> np.ndarray:
    """Gradient of the loss with respect to the input of training-mode dropout.

    The forward pass is linear in ``x`` for a fixed mask, so ``∂L/∂x = r ⊙ ∂L/∂y``
    (divided by ``1 − rate`` for inverted dropout): dropped units pass no gradient back.

    Args:
        dy: ∂L/∂y, the upstream gradient, shape of the activations.
        mask: the mask used in the forward pass, same shape.
        rate: the drop probability, in [0, 1).
        scheme: ``"inverted"`` or ``"standard"``.

    Returns:
        ∂L/∂x, same shape as ``dy``. Chapter 5.
    """
    return dropout_forward(as_finite("dy", dy), mask, rate, scheme)


def all_masks(n_units: int) -> np.ndarray:
    """Every possible dropout mask of ``n_units`` units (for exact expectations).

    Args:
        n_units: number of units, at most 20 (there are ``2**n_units`` masks).

    Returns:
        Array of zeros and ones, shape ``(2**n_units, n_units)``. Chapter 5.
    """
    n_units = check_positive_int("n_units", n_units)
    if n_units > 20:
        raise RegbookError(f"n_units={n_units} gives 2**{n_units} masks; use at most 20.")
    return np.array(list(itertools.product((0.0, 1.0), repeat=n_units)))


def mask_probabilities(masks: np.ndarray, rate: float) -> np.ndarray:
    """Probability of each mask when units are kept independently with ``p = 1 − rate``.

    Args:
        masks: zeros and ones, shape ``(n_masks, n_units)``.
        rate: the drop probability, in [0, 1).

    Returns:
        ``p**kept · rate**dropped`` for each mask, shape ``(n_masks,)``. Over
        :func:`all_masks` they sum to 1. Chapter 5.
    """
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
        x: inputs, shape ``(batch, d_in)``.
        layers: ``[(W, b), ...]`` with ``W`` of shape ``(d_in, d_out)``; the last pair is
            the output layer (no activation, no dropout).
        rate: drop probability after each hidden activation, in [0, 1).
        mode: ``"inference"`` (no masks: the deterministic, weight-scaled network) or
            ``"sample"`` (a fresh mask per example and unit, as in training).
        seed: seed or Generator for the masks in ``"sample"`` mode.
        activation: hidden activation (ReLU by default).

    Returns:
        Logits, shape ``(batch, d_out)``. Chapter 5.
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
        predict: a *stochastic* function ``x -> scores`` of shape ``(batch, n_classes)``,
            e.g. ``lambda x: model(x, training=True)`` for a Keras model, or
            :func:`mlp_forward` with ``mode="sample"``.
        x: inputs, shape ``(batch, ...)``.
        n_samples: number of forward passes T.
        logits: whether ``predict`` returns logits (softmax is applied) or probabilities.
        tile: make *one* call on ``n_samples`` stacked copies of ``x`` instead of
            ``n_samples`` calls (much faster for a Keras model). Valid because dropout
            draws an independent mask for every example; not valid for a model whose
            training-mode output depends on the rest of the batch (batch normalization).

    Returns:
        ``samples`` (T, batch, n_classes) probabilities; ``mean`` (batch, n_classes), the
        predictive distribution; ``std`` (batch, n_classes) over samples; ``entropy``
        (batch,), the predictive entropy H[mean]; ``mutual_info`` (batch,), H[mean] minus
        the mean entropy of the samples (the part of the uncertainty due to the weights).
        Chapter 5.
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
