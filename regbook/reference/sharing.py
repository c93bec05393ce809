"""Sharing statistical strength (chapter 15): L2-SP, a 1-D convolution as a tied dense
matrix, the Π-model's consistency loss and pseudo-labels, in NumPy.

L2-SP is ``α/2·‖w − w⁰‖²`` (Li et al. 2018): L2 towards the pretrained starting point
``w⁰`` instead of towards zero; ``w⁰ = 0`` gives the book's L2, ``λ/2·‖w‖²``.
"""

from __future__ import annotations

import numpy as np

from ..errors import RegbookError, check_nonnegative, check_positive_int, check_probability
from . import ensembles
from ._arrays import as_finite

__all__ = [
    "l2sp_penalty",
    "l2sp_penalty_grad",
    "conv1d_matrix",
    "softmax",
    "consistency_loss",
    "consistency_loss_grad",
    "pseudo_labels",
]


def _pair(w, w0) -> tuple[np.ndarray, np.ndarray]:
    w, w0 = as_finite("w", w), as_finite("w0", w0)
    if w.shape != w0.shape:
        raise RegbookError(
            f"w and w0 must have the same shape (w0 is the starting point of w), "
            f"got {w.shape} and {w0.shape}."
        )
    return w, w0


def l2sp_penalty(w, w0, alpha: float) -> float:
    """L2-SP, ``α/2·‖w − w⁰‖²``: L2 towards the starting point ``w⁰`` (chapter 15)."""
    a = check_nonnegative("alpha", alpha, hint="a regularization strength cannot be negative")
    w, w0 = _pair(w, w0)
    return 0.5 * a * float(np.sum((w - w0) ** 2))


def l2sp_penalty_grad(w, w0, alpha: float) -> np.ndarray:
    """Gradient of :func:`l2sp_penalty`: ``α·(w − w⁰)`` (chapter 15)."""
    a = check_nonnegative("alpha", alpha, hint="a regularization strength cannot be negative")
    w, w0 = _pair(w, w0)
    return a * (w - w0)


def conv1d_matrix(kernel, length: int) -> np.ndarray:
    """The dense matrix of a stride-1, ``padding="same"`` 1-D convolution (chapter 15).

    Args:
        kernel: Keras ``Conv1D`` kernel, shape ``(k, c_in, c_out)`` with odd ``k``.
        length: length of the input sequence.

    Returns:
        ``M`` of shape ``(length·c_in, length·c_out)`` with ``x.reshape(-1) @ M`` equal to
        the convolution of ``x`` (shape ``(length, c_in)``), flattened: a dense layer whose
        ``length²·c_in·c_out`` entries are copies of the ``k·c_in·c_out`` kernel entries.
    """
    kernel = as_finite("kernel", kernel)
    if kernel.ndim != 3 or kernel.shape[0] % 2 == 0:
        raise RegbookError(
            f"kernel must have shape (k, c_in, c_out) with an odd width k, got {kernel.shape}."
        )
    length = check_positive_int("length", length)
    k, c_in, c_out = kernel.shape
    half = k // 2
    M = np.zeros((length, c_in, length, c_out))
    for t in range(length):  # output position t reads inputs t − half .. t + half
        for j in range(k):
            s = t + j - half
            if 0 <= s < length:
                M[s, :, t, :] = kernel[j]
    return M.reshape(length * c_in, length * c_out)


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of ``(n, k)`` logits, shifted by the row maximum for stability."""
    z = as_finite("logits", logits)
    if z.ndim != 2:
        raise RegbookError(f"logits must have shape (n, classes), got {z.shape}.")
    return ensembles.softmax(z)  # chapter 13's, along the last axis


def _logit_pair(z1, z2) -> tuple[np.ndarray, np.ndarray]:
    z1, z2 = as_finite("logits1", z1), as_finite("logits2", z2)
    if z1.shape != z2.shape or z1.ndim != 2:
        raise RegbookError(
            "logits1 and logits2 must both have shape (n, classes): the predictions for two "
            f"views of the same n examples; got {z1.shape} and {z2.shape}."
        )
    return z1, z2


def consistency_loss(logits1, logits2) -> float:
    """Π-model consistency, ``1/n·Σᵢ ‖softmax(z¹ᵢ) − softmax(z²ᵢ)‖²`` (chapter 15)."""
    z1, z2 = _logit_pair(logits1, logits2)
    d = softmax(z1) - softmax(z2)
    return float(np.sum(d**2) / len(d))


def consistency_loss_grad(logits1, logits2) -> np.ndarray:
    """Gradient of :func:`consistency_loss` with respect to ``logits1`` (both views get
    gradients in the Π-model; by symmetry the other is this with the roles swapped).

    With ``p = softmax(z¹)``, ``d = p − q``: ``∂/∂z¹ = 2/n·(p ⊙ d − p·(pᵀd))``.
    """
    z1, z2 = _logit_pair(logits1, logits2)
    p, q = softmax(z1), softmax(z2)
    d = p - q
    return 2.0 / len(d) * (p * d - p * np.sum(p * d, axis=1, keepdims=True))


def pseudo_labels(probs, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-labels ``argmax p`` and the mask of confident ones, ``max p > threshold``."""
    p = as_finite("probs", probs)
    if p.ndim != 2 or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-5):
        raise RegbookError(
            "probs must be class probabilities of shape (n, classes), rows summing to 1 "
            "(apply softmax to logits first)."
        )
    t = check_probability("threshold", threshold)
    return p.argmax(axis=1), p.max(axis=1) > t
