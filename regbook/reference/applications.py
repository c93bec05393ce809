"""The NumPy side of chapter 12: label smoothing, calibration, mixup, input noise,
adversarial examples (FGSM) and a synthetic text corpus with known informative words.
"""

from __future__ import annotations

import numpy as np

from ..errors import (
    RegbookError,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_seed,
)
from ._arrays import as_finite, as_generator

__all__ = [
    "smooth_labels",
    "label_smoothing_logit_gap",
    "expected_calibration_error",
    "mixup",
    "noisy_input_loss",
    "fgsm",
    "linear_adversarial_logistic_loss",
    "synthetic_reviews",
    "POSITIVE_WORDS",
    "NEGATIVE_WORDS",
]

#: Sentiment-bearing words of :func:`synthetic_reviews` (each pushes the label one way).
POSITIVE_WORDS = (
    "great", "excellent", "wonderful", "loved", "superb",
    "delightful", "brilliant", "enjoyable", "charming", "moving",
)  # fmt: skip
NEGATIVE_WORDS = (
    "awful", "boring", "terrible", "dull", "waste",
    "poor", "annoying", "mess", "tedious", "disappointing",
)  # fmt: skip
_FILLER = (
    "the movie film story plot actor actress scene director music script character "
    "time people world life night house city family friend car dog book camera light "
    "voice ending start middle minute hour year way thing place water road window door "
    "red blue green small large old new long short early late first last other same "
    "walk talk look turn move run sit stand open close begin finish watch listen write "
    "read think feel seem become leave bring hold keep"
).split()


def _check_eps(name: str, value, upper: float = 1.0) -> float:
    v = check_nonnegative(name, value)
    if v >= upper:
        raise RegbookError(f"{name} must be in [0, {upper}), got {value!r}.")
    return v


def smooth_labels(y: np.ndarray, n_classes: int, epsilon: float) -> np.ndarray:
    """Label-smoothed targets ``q = (1 − ε)·onehot(y) + ε/K``, shape ``(n, K)``."""
    K = check_positive_int("n_classes", n_classes)
    if K < 2:
        raise RegbookError("n_classes must be at least 2.")
    eps = _check_eps("epsilon", epsilon)
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= K:
        raise RegbookError(f"y must be a 1-D array of integer labels in [0, {K}).")
    return (1 - eps) * np.eye(K)[y] + eps / K


def label_smoothing_logit_gap(epsilon: float, n_classes: int) -> float:
    """The logit gap ``z_y − z_k`` that minimises the cross-entropy to smoothed labels.

    It is ``log((1 − ε + ε/K)/(ε/K))``, finite for every ε > 0.
    """
    eps = _check_eps("epsilon", epsilon)
    if eps == 0:
        raise RegbookError("epsilon must be > 0: without smoothing the optimal gap is infinite.")
    K = check_positive_int("n_classes", n_classes)
    if K < 2:
        raise RegbookError("n_classes must be at least 2.")
    return float(np.log((1 - eps + eps / K) / (eps / K)))


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """ECE ``Σ_b (|B_b|/n)·|accuracy(B_b) − confidence(B_b)|`` over ``n_bins`` equal-width bins."""
    probs = as_finite("probs", probs)
    y = np.asarray(y)
    if probs.ndim != 2 or len(probs) != len(y):
        raise RegbookError(
            f"probs must have shape (n, K) with n = len(y) = {len(y)}, got {probs.shape}."
        )
    n_bins = check_positive_int("n_bins", n_bins)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def mixup(
    x: np.ndarray, y: np.ndarray, alpha: float, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mix each example with a random partner: ``x̃ = t·x_i + (1 − t)·x_j``, same for labels.

    Args:
        y: one-hot or soft labels, shape ``(n, K)``.
        alpha: α of Beta(α, α) for t (the paper's λ; the book keeps λ for penalties).

    Returns:
        ``(x_mix, y_mix, t)``.
    """
    x, y = as_finite("x", x), as_finite("y", y)
    if x.ndim == 0 or len(x) != len(y) or y.ndim != 2:
        raise RegbookError("y must be (n, K) soft or one-hot labels with n = len(x).")
    a = check_positive("alpha", alpha, hint="the parameter of Beta(α, α)")
    rng = as_generator("rng", rng)
    t = rng.beta(a, a, size=len(x))
    perm = rng.permutation(len(x))
    tx = t.reshape((-1,) + (1,) * (x.ndim - 1))
    return tx * x + (1 - tx) * x[perm], t[:, None] * y + (1 - t[:, None]) * y[perm], t


def noisy_input_loss(X: np.ndarray, y: np.ndarray, w: np.ndarray, sigma: float) -> float:
    """``E_ε[‖(X + ε)w − y‖²/n] = ‖Xw − y‖²/n + σ²‖w‖²``: ridge with the book's λ = 2σ²."""
    X, y, w = as_finite("X", X), as_finite("y", y), as_finite("w", w)
    if X.ndim != 2 or y.shape != (len(X),) or w.shape != (X.shape[1],):
        raise RegbookError(f"need X (n, d), y (n,), w (d,); got {X.shape}, {y.shape}, {w.shape}.")
    s = check_nonnegative("sigma", sigma)
    return float(np.mean((X @ w - y) ** 2) + s**2 * np.sum(w**2))


def fgsm(
    x: np.ndarray, grad: np.ndarray, epsilon: float, clip: tuple[float, float] | None = (0, 1)
) -> np.ndarray:
    """The fast gradient sign method: ``x + ε·sign(∇ₓ loss)``, clipped to ``clip`` unless None."""
    x, grad = as_finite("x", x), as_finite("grad", grad)
    if x.shape != grad.shape:
        raise RegbookError(f"grad must have the shape of x {x.shape}, got {grad.shape}.")
    out = x + check_nonnegative("epsilon", epsilon) * np.sign(grad)
    return np.clip(out, *clip) if clip is not None else out


def linear_adversarial_logistic_loss(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, epsilon: float
) -> np.ndarray:
    """Worst-case logistic loss ``log(1 + exp(−y(wᵀx + b) + ε‖w‖₁))`` under ``‖δ‖∞ ≤ ε``.

    Args:
        y: labels in {−1, +1}, shape ``(n,)``.
    """
    X, y, w = as_finite("X", X), as_finite("y", y), as_finite("w", w)
    b = as_finite("b", b)
    if not np.all(np.isin(y, (-1, 1))):
        raise RegbookError("y must hold labels -1 and +1.")
    if X.ndim != 2 or w.shape != (X.shape[1],) or len(y) != len(X):
        raise RegbookError(f"need X (n, d), y (n,), w (d,); got {X.shape}, {y.shape}, {w.shape}.")
    eps = check_nonnegative("epsilon", epsilon)
    margin = y * (X @ w + b)
    return np.logaddexp(0.0, -margin + eps * np.sum(np.abs(w)))


def synthetic_reviews(
    n_docs: int,
    seed: int = 0,
    *,
    length: tuple[int, int] = (20, 40),
    sentiment_rate: float = 0.08,
    n_rare: int = 400,
    label_noise: float = 0.1,
) -> tuple[list[str], np.ndarray]:
    """A toy corpus of reviews labelled by ten positive and ten negative words, plus filler.

    Args:
        length: (min, max) tokens per document.
        sentiment_rate: share of sentiment-bearing tokens.
        n_rare: number of rare filler tokens (they make the vocabulary wide).
        label_noise: probability of flipping a label.

    Returns:
        ``(texts, labels)``: a list of strings and an int array.
    """
    n_docs = check_positive_int("n_docs", n_docs)
    lo, hi = length
    if not 1 <= lo <= hi:
        raise RegbookError(f"length must be (min, max) with 1 <= min <= max, got {length!r}.")
    rate = _check_eps("sentiment_rate", sentiment_rate)
    noise = _check_eps("label_noise", label_noise, upper=0.5)
    rng = np.random.default_rng(check_seed("seed", seed))
    n_rare = check_nonnegative_int("n_rare", n_rare)
    filler = _FILLER + [f"tok{i}" for i in range(n_rare)]
    freq = 1.0 / np.arange(1, len(filler) + 1) ** 1.1
    freq /= freq.sum()
    texts, labels = [], []
    for _ in range(n_docs):
        n_tok = int(rng.integers(lo, hi + 1))
        is_sent = rng.random(n_tok) < rate
        positive = rng.random(n_tok) < 0.5
        words = rng.choice(filler, size=n_tok, p=freq)
        pos_words = rng.choice(POSITIVE_WORDS, size=n_tok)
        neg_words = rng.choice(NEGATIVE_WORDS, size=n_tok)
        tokens = np.where(is_sent, np.where(positive, pos_words, neg_words), words)
        score = int(np.sum(is_sent & positive)) - int(np.sum(is_sent & ~positive))
        label = int(score > 0) if score != 0 else int(rng.random() < 0.5)
        if rng.random() < noise:
            label = 1 - label
        texts.append(" ".join(tokens))
        labels.append(label)
    return texts, np.array(labels, dtype="int64")
