"""Data augmentation (chapter 8): Keras preprocessing layers for digits, MNIST-1D's
shift-and-scale, an augmenting ``tf.data`` pipeline and a picture grid.

Keras' image layers augment on a direct call and inside ``fit``, not in ``predict`` /
``evaluate``; intensity layers assume ``value_range=(0, 255)`` unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from .errors import (
    RegbookError,
    check_finite_array,
    check_nonnegative,
    check_nonnegative_int,
    check_positive_int,
    check_seed,
)

__all__ = [
    "expected_noisy_mse",
    "digits_augmentation",
    "shift_scale_1d",
    "RandomShiftScale1D",
    "augmented_samples",
    "augmented_dataset",
    "image_grid",
]


def _check_fraction(name: str, value, upper: float = 1.0) -> float:
    v = check_nonnegative(name, value)
    if v >= upper:
        raise RegbookError(f"{name} must be in [0, {upper}), got {value!r}.")
    return v


def expected_noisy_mse(w: np.ndarray, X: np.ndarray, y: np.ndarray, sigma: float) -> float:
    """Expected MSE of a linear model under Gaussian input noise: ``‖Xw − y‖²/n + σ²‖w‖²``.

    In expectation this is ridge with the book's ``λ = 2σ²`` (penalty ``λ/2·‖w‖²``).
    """
    X, y = check_finite_array("X", X), check_finite_array("y", y)
    w = check_finite_array("w", w)
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise RegbookError(
            f"Expected X (n, p), y (n,) and w (p,), got {X.shape}, {y.shape} and {w.shape}."
        )
    sigma = check_nonnegative("sigma", sigma)
    r = X @ w - y
    return float(r @ r / len(y) + sigma**2 * (w @ w))


def digits_augmentation(
    *,
    translate: float = 0.125,
    rotate: float = 10.0,
    zoom: float = 0.0,
    contrast: float = 0.0,
    brightness: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> list[keras.layers.Layer]:
    """Label-preserving augmentation layers for digits in [0, 1]; a strength of 0 omits a layer.

    Borders are filled with 0, not Keras' default reflection; intensity layers get
    ``value_range=(0, 1)``.

    Args:
        translate: largest shift as a fraction of height/width (0.125 = one pixel of 8×8).
        rotate: largest rotation in degrees (Keras' ``RandomRotation`` takes ``rotate/360``).
        contrast: contrast factor range ``[1 − c, 1 + c]``.
        brightness: largest shift, as a fraction of the value range.
        noise: standard deviation of additive Gaussian noise (training only).
    """
    translate = _check_fraction("translate", translate)
    rotate = check_nonnegative("rotate", rotate)
    if rotate >= 180:
        raise RegbookError(f"rotate must be < 180 degrees, got {rotate!r}.")
    zoom = _check_fraction("zoom", zoom)
    contrast = _check_fraction("contrast", contrast)
    brightness = _check_fraction("brightness", brightness)
    noise = check_nonnegative("noise", noise)
    seed = check_seed("seed", seed)
    layers: list[keras.layers.Layer] = []
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    if translate:
        layers.append(keras.layers.RandomTranslation(translate, translate, seed=seed, **fill))
    if rotate:
        layers.append(keras.layers.RandomRotation(rotate / 360.0, seed=seed + 1, **fill))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, seed=seed + 2, **fill))
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 1), seed=seed + 3))
    if brightness:
        layers.append(keras.layers.RandomBrightness(brightness, value_range=(0, 1), seed=seed + 4))
    if noise:
        layers.append(keras.layers.GaussianNoise(noise, seed=seed + 5))
    return layers


def _check_shift_scale(max_shift, max_scale) -> tuple[int, float]:
    return check_nonnegative_int("max_shift", max_shift), _check_fraction("max_scale", max_scale)


def shift_scale_1d(
    x: np.ndarray, max_shift: int, max_scale: float, rng: np.random.Generator
) -> np.ndarray:
    """Shift each signal circularly by up to ``max_shift`` samples, scale it by ``1 ± max_scale``.

    Args:
        x: signals, shape ``(n, length)``.
    """
    max_shift, max_scale = _check_shift_scale(max_shift, max_scale)
    x = check_finite_array("x", x)
    if x.ndim != 2:
        raise RegbookError(f"x must have shape (n, length), got {x.shape}.")
    if not isinstance(rng, np.random.Generator):
        raise RegbookError("rng must be a numpy.random.Generator (np.random.default_rng(seed)).")
    n, length = x.shape
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)
    scales = rng.uniform(1 - max_scale, 1 + max_scale, size=(n, 1))
    idx = (np.arange(length)[None, :] - shifts[:, None]) % length
    return np.take_along_axis(x, idx, axis=1) * scales


@keras.saving.register_keras_serializable(package="regbook")
class RandomShiftScale1D(keras.layers.Layer):
    """Keras layer form of :func:`shift_scale_1d`; like ``Dropout``, training only."""

    def __init__(self, max_shift: int, max_scale: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift, self.max_scale = _check_shift_scale(max_shift, max_scale)
        self.seed = None if seed is None else check_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training:
            return inputs
        ops = keras.ops
        shape = ops.shape(inputs)
        n, length = shape[0], shape[1]
        shifts = keras.random.randint(
            (n, 1), -self.max_shift, self.max_shift + 1, seed=self.seed_generator
        )
        scales = keras.random.uniform(
            (n, 1),
            1.0 - self.max_scale,
            1.0 + self.max_scale,
            seed=self.seed_generator,
            dtype=inputs.dtype,
        )
        idx = ops.mod(ops.arange(length)[None, :] - shifts, length)
        return ops.take_along_axis(inputs, idx, axis=1) * scales

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_shift": self.max_shift,
            "max_scale": self.max_scale,
            "seed": self.seed,
        }


def _apply(layers: Sequence[keras.layers.Layer], x, training: bool = True):
    for layer in layers:
        x = layer(x, training=training)
    return x


def augmented_samples(
    layers: Sequence[keras.layers.Layer], images: np.ndarray, n_draws: int
) -> np.ndarray:
    """Augment each image ``n_draws`` times (``training=True``).

    Returns:
        Shape ``(n, n_draws + 1, height, width, channels)``; index 0 on axis 1 is the original.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise RegbookError(
            f"images must have shape (n, height, width, channels), got {images.shape}."
        )
    n_draws = check_positive_int("n_draws", n_draws)
    draws = [images] + [np.asarray(_apply(layers, images)) for _ in range(n_draws)]
    return np.stack(draws, axis=1)


def augmented_dataset(
    x: np.ndarray,
    y: np.ndarray,
    layers: Sequence[keras.layers.Layer],
    *,
    batch_size: int,
    seed: int = 0,
    repeat: bool = True,
):
    """A shuffled, batched ``tf.data`` pipeline that augments every batch on the fly.

    Args:
        repeat: repeat forever (then pass ``steps_per_epoch`` to ``fit``).
    """
    import tensorflow as tf

    if len(x) != len(y):
        raise RegbookError(f"x and y must have the same length, got {len(x)} and {len(y)}.")
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed("seed", seed)
    layers = list(layers)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(lambda xb, yb: (_apply(layers, xb), yb), num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE)


def image_grid(
    images: np.ndarray,
    *,
    ax=None,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "gray_r",
):
    """Show a ``(rows, cols, height, width[, 1])`` array of grey-scale images as one mosaic."""
    import matplotlib as mpl

    from . import plots

    images = np.asarray(images, dtype=float)
    if images.ndim == 5 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 4:
        raise RegbookError(
            f"images must have shape (rows, cols, height, width[, 1]), got {images.shape}."
        )
    rows, cols, h, w = images.shape
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for i in range(rows):
        for j in range(cols):
            mosaic[i * (h + 1) : i * (h + 1) + h, j * (w + 1) : j * (w + 1) + w] = images[i, j]
    if ax is None:
        _, ax = plots.axes()
    cm = mpl.colormaps[cmap].with_extremes(bad="#d0d0d0")  # grid lines between images
    ax.imshow(mosaic, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.grid(False)
    ax.set_xticks([j * (w + 1) + (w - 1) / 2 for j in range(cols)] if col_labels else [])
    ax.set_yticks([i * (h + 1) + (h - 1) / 2 for i in range(rows)] if row_labels else [])
    if col_labels:
        ax.set_xticklabels(col_labels, fontsize=9)
        ax.xaxis.tick_top()
    if row_labels:
        ax.set_yticklabels(row_labels, fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax
