"""Gradient clipping by value, by norm and by global norm (chapter 9).

By value changes the direction; by norm keeps it; by global norm scales every tensor by
one factor. Keras' ``clipvalue``, ``clipnorm`` (per variable) and ``global_clipnorm``
map to them (:func:`keras_clip`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import RegbookError, check_positive
from ._arrays import as_finite

__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm", "keras_clip"]


def clip_by_value(g: np.ndarray, c: float) -> np.ndarray:
    """Clip every component of ``g`` to ``[−c, c]``."""
    c = check_positive("c", c, hint="the clipping threshold")
    return np.clip(as_finite("g", g), -c, c)


def clip_by_norm(g: np.ndarray, c: float) -> np.ndarray:
    """Rescale ``g`` to norm at most ``c`` (over all its components): ``min(1, c/‖g‖)·g``."""
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
    """Scale all tensors by ``min(1, c/global_norm)``; return ``(clipped, norm)`` like TF."""
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
    """What a Keras 3 optimizer does to the gradients before its update (at most one option set).

    Args:
        clipnorm: clip each gradient by its own norm (per variable, not global).
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
