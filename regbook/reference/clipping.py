"""Gradient clipping by value, by norm and by global norm, and the three Keras options
(chapter 9).

* by value: ``g_i ← clip(g_i, −c, c)`` for every component — changes the direction of g;
* by norm: ``g ← min(1, c/‖g‖)·g`` — keeps the direction, caps the length at c;
* by global norm: the same with the norm of all gradient tensors stacked into one vector,
  so every tensor is scaled by the *same* factor.

Keras 3 optimizers take at most one of ``clipvalue`` (by value, per component),
``clipnorm`` (by norm, separately for each variable's gradient) and ``global_clipnorm``
(by global norm over all variables); :func:`keras_clip` reproduces them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import RegbookError, check_positive
from ._arrays import as_finite

__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm", "keras_clip"]


def clip_by_value(g: np.ndarray, c: float) -> np.ndarray:
    """Clip every component of ``g`` to ``[−c, c]``.

    Args:
        g: a gradient, any shape.
        c: the threshold, > 0.

    Returns:
        Array shaped like ``g``.
    """
    c = check_positive("c", c, hint="the clipping threshold")
    return np.clip(as_finite("g", g), -c, c)


def clip_by_norm(g: np.ndarray, c: float) -> np.ndarray:
    """Rescale ``g`` to Euclidean (Frobenius) norm at most ``c``: ``min(1, c/‖g‖)·g``.

    Args:
        g: a gradient, any shape; its norm is taken over all components.
        c: the threshold, > 0.

    Returns:
        Array shaped like ``g``, parallel to it (unchanged if ‖g‖ ≤ c; 0 stays 0).
    """
    c = check_positive("c", c, hint="the clipping threshold")
    g = as_finite("g", g)
    norm = float(np.sqrt(np.sum(g**2)))
    return g if norm <= c else g * (c / norm)


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """‖(g_1, …, g_k)‖ = sqrt(Σ_j ‖g_j‖²): the norm of all tensors stacked into one vector."""
    if isinstance(grads, np.ndarray) or not len(grads):
        raise RegbookError("grads must be a non-empty list of arrays (one per variable).")
    arrays = [as_finite(f"grads[{i}]", g) for i, g in enumerate(grads)]
    return float(np.sqrt(sum(np.sum(g**2) for g in arrays)))


def clip_by_global_norm(grads: Sequence[np.ndarray], c: float) -> tuple[list[np.ndarray], float]:
    """Scale every tensor by the same factor ``min(1, c/‖(g_1, …, g_k)‖)``.

    Args:
        grads: a list of gradients (any shapes), one per variable.
        c: the threshold, > 0.

    Returns:
        ``(clipped list, global norm before clipping)``, like ``tf.clip_by_global_norm``.
    """
    c = check_positive("c", c, hint="the clipping threshold")
    norm = global_norm(grads)
    scale = 1.0 if norm <= c else c / norm
    return [as_finite(f"grads[{i}]", g) * scale for i, g in enumerate(grads)], norm


def keras_clip(
    grads: Sequence[np.ndarray],
    *,
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
) -> list[np.ndarray]:
    """What a Keras 3 optimizer does to the gradients before its update rule.

    Args:
        grads: a list of gradients, one per variable.
        clipnorm: clip each gradient by *its own* norm (:func:`clip_by_norm` per tensor).
        clipvalue: clip every component to ``[−clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together by their global norm.

    Returns:
        The clipped list (the gradients unchanged if no option is given). Like Keras,
        at most one option may be set.
    """
    chosen = [v is not None for v in (clipnorm, clipvalue, global_clipnorm)]
    if sum(chosen) > 1:
        raise RegbookError(
            "Set at most one of clipnorm, clipvalue and global_clipnorm (Keras allows one)."
        )
    if isinstance(grads, np.ndarray) or not len(grads):
        raise RegbookError("grads must be a non-empty list of arrays (one per variable).")
    if clipnorm is not None:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if clipvalue is not None:
        return [clip_by_value(g, clipvalue) for g in grads]
    if global_clipnorm is not None:
        return clip_by_global_norm(grads, global_clipnorm)[0]
    return [as_finite(f"grads[{i}]", g) for i, g in enumerate(grads)]
