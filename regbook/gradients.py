"""Measuring gradient flow (chapter 9): deep test networks, per-layer gradient norms over
seeds, a callback for ‖θ_t − θ_0‖, and plots of what they measure.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from .errors import RegbookError, check_choice, check_positive_int

__all__ = [
    "INITS",
    "SKIPS",
    "deep_mlp",
    "reinitialize",
    "layer_gradient_norms",
    "hidden_gradient_norms",
    "DistanceFromInit",
    "plot_layer_norms",
    "plot_seed_curves",
]

#: Initializer names :func:`deep_mlp` accepts (besides a number σ_w).
INITS = ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal")
#: Skip-connection patterns of :func:`deep_mlp`.
SKIPS = (None, "residual", "dense")


def _initializer(init: str | float, fan_in: int, seed: int) -> keras.initializers.Initializer:
    if isinstance(init, str):
        cls = type(keras.initializers.get(init))
        return cls(seed=seed)
    return keras.initializers.RandomNormal(stddev=float(init) / math.sqrt(fan_in), seed=seed)


def _check_init(init) -> str | float:
    if isinstance(init, str):
        return check_choice("init", init, INITS)
    if isinstance(init, bool) or not isinstance(init, int | float) or not 0 < init < math.inf:
        raise RegbookError(
            f"init must be one of {', '.join(INITS)} or a number σ_w > 0 (weights drawn "
            f"from N(0, σ_w²/fan_in)), got {init!r}."
        )
    return float(init)


def deep_mlp(
    input_dim: int,
    n_outputs: int,
    depth: int = 20,
    width: int = 64,
    *,
    activation: str = "sigmoid",
    init: str | float = "glorot_normal",
    batchnorm: bool = False,
    skip: str | None = None,
    growth: int = 16,
    seed: int = 0,
    name: str = "deep_mlp",
) -> keras.Model:
    """A deep fully connected network (``dense_0`` … then ``logits``) for studying gradient flow.

    Args:
        init: hidden kernel initializer, one of :data:`INITS` or σ_w for N(0, σ_w²/fan_in);
            the logits always use ``glorot_normal``.
        batchnorm: batch norm before every activation (the Dense before it has no bias).
        skip: None (plain), ``"residual"`` (pre-activation, ``h ← h + W φ(BN(h)) + b``) or
            ``"dense"`` (each layer sees all earlier outputs and adds ``growth`` units).
        seed: seeds every initializer (layer ``l`` uses ``seed·1000 + l``).
    """
    input_dim = check_positive_int("input_dim", input_dim)
    n_outputs = check_positive_int("n_outputs", n_outputs)
    depth = check_positive_int("depth", depth)
    width = check_positive_int("width", width)
    growth = check_positive_int("growth", growth)
    init = _check_init(init)
    check_choice("skip", skip, SKIPS)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RegbookError(f"seed must be an integer, got {seed!r}.")
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise RegbookError(
            f"Unknown activation {activation!r}; use a Keras activation name such as "
            f"'sigmoid', 'tanh', 'relu', 'leaky_relu' or 'elu'."
        ) from None

    def dense(x, units, i):
        return keras.layers.Dense(
            units,
            use_bias=not batchnorm,
            kernel_initializer=_initializer(init, x.shape[-1], seed * 1000 + i),
            name=f"dense_{i}",
        )(x)

    def norm_act(x, i):
        if batchnorm:
            x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        return keras.layers.Activation(activation, name=f"act_{i}")(x)

    inputs = keras.Input((input_dim,))
    h = norm_act(dense(inputs, width, 0), 0)
    features = [h]
    for i in range(1, depth):
        if skip is None:
            h = norm_act(dense(h, width, i), i)
        elif skip == "residual":
            branch = keras.layers.Dense(
                width,
                kernel_initializer=_initializer(init, width, seed * 1000 + i),
                name=f"dense_{i}",
            )(norm_act(h, i))
            h = keras.layers.Add(name=f"add_{i}")([h, branch])
        else:
            x = features[0] if len(features) == 1 else keras.layers.Concatenate()(features)
            features.append(norm_act(dense(x, growth, i), i))
    if skip == "residual":
        h = norm_act(h, depth)
    elif skip == "dense":
        h = features[0] if len(features) == 1 else keras.layers.Concatenate()(features)
    outputs = keras.layers.Dense(
        n_outputs,
        kernel_initializer=keras.initializers.GlorotNormal(seed=seed * 1000 + 999),
        name="logits",
    )(h)
    return keras.Model(inputs, outputs, name=name)


def _layer_seed(name: str, seed: int) -> int | None:
    if name == "logits":
        return seed * 1000 + 999
    if name.startswith("dense_") and name[6:].isdigit():
        return seed * 1000 + int(name[6:])
    return None


def reinitialize(model: keras.Model, seed: int) -> keras.Model:
    """Re-draw a :func:`deep_mlp`'s weights in place, as if built with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RegbookError(f"seed must be an integer, got {seed!r}.")
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            layer_seed = _layer_seed(layer.name, seed)
            if layer_seed is None:
                raise RegbookError(
                    f"reinitialize only knows the layers of deep_mlp; got a Dense layer "
                    f"named {layer.name!r}."
                )
            init = layer.kernel_initializer
            fresh = type(init).from_config({**init.get_config(), "seed": layer_seed})
            layer.kernel.assign(fresh(layer.kernel.shape))
            if layer.bias is not None:
                layer.bias.assign(np.zeros(layer.bias.shape))
        elif isinstance(layer, keras.layers.BatchNormalization):
            for var, value in (
                (layer.gamma, 1.0),
                (layer.beta, 0.0),
                (layer.moving_mean, 0.0),
                (layer.moving_variance, 1.0),
            ):
                var.assign(np.full(var.shape, value))
        elif layer.weights:
            raise RegbookError(f"reinitialize does not know how to reset layer {layer.name!r}.")
    return model


def _default_loss(y) -> Callable:
    if np.issubdtype(np.asarray(y).dtype, np.integer):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return keras.losses.MeanSquaredError()


def layer_gradient_norms(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: Callable | None = None,
    training: bool = True,
) -> dict[str, float]:
    """``{layer: ‖∂L/∂W‖_F}`` of each kernel on one batch (data loss only, no penalty terms).

    Args:
        loss: ``loss(y_true, y_pred)``; default sparse cross-entropy on logits for integer
            ``y``, else mean squared error.
        training: run in training mode (batch statistics in batch norm).
    """
    if not isinstance(model, keras.Model):
        raise RegbookError(f"model must be a keras.Model, got {type(model).__name__}.")
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) == 0 or len(x) != len(y):
        raise RegbookError(
            f"x and y must be a non-empty batch of the same length, got {len(x)} and {len(y)}."
        )
    loss_fn = loss if loss is not None else _default_loss(y)
    if y.dtype.kind == "f" and y.ndim == 1:
        y = y[:, None]
    kernels = [(layer.name, layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]
    if not kernels:
        raise RegbookError("model has no layer with a kernel (Dense, Conv, ...).")
    with tf.GradientTape() as tape:
        value = loss_fn(y, model(x, training=training))
    grads = tape.gradient(value, [k for _, k in kernels])
    return {
        name: float(tf.norm(g)) if g is not None else 0.0
        for (name, _), g in zip(kernels, grads, strict=True)
    }


def hidden_gradient_norms(
    x: np.ndarray, y: np.ndarray, seeds, n_outputs: int, **kwargs
) -> np.ndarray:
    """:func:`layer_gradient_norms` of a :func:`deep_mlp`'s hidden layers at initialization.

    Args:
        **kwargs: passed to :func:`deep_mlp` (``depth``, ``width``, ``activation``, ...).

    Returns:
        Array ``(n_seeds, depth)`` of ‖∂L/∂W_l‖_F, one row per seed.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise RegbookError("seeds must hold at least one seed.")
    x = np.asarray(x)
    if x.ndim != 2:
        raise RegbookError(f"x must have shape (batch, features), got {x.shape}.")
    keras.utils.clear_session(free_memory=False)
    model = deep_mlp(x.shape[1], n_outputs, seed=seeds[0], **kwargs)
    depth = kwargs.get("depth", 20)
    rows = []
    for i, seed in enumerate(seeds):
        if i:
            reinitialize(model, seed)
        norms = layer_gradient_norms(model, x, y)
        rows.append([norms[f"dense_{k}"] for k in range(depth)])
    return np.array(rows)


class DistanceFromInit(keras.callbacks.Callback):
    """Callback: ``distances[t]`` = ‖θ − θ_0‖₂ after epoch t + 1 (``nan`` once not finite)."""

    def __init__(self):
        super().__init__()
        self.distances: list[float] = []
        self._start: list[tf.Tensor] = []

    def on_train_begin(self, logs=None):
        self.distances = []
        self._start = [
            tf.constant(v.numpy(), dtype=tf.float64) for v in self.model.trainable_weights
        ]

    def on_epoch_end(self, epoch, logs=None):
        sq = tf.add_n(
            [
                tf.reduce_sum(tf.square(tf.cast(v, tf.float64) - w0))
                for v, w0 in zip(self.model.trainable_weights, self._start, strict=True)
            ]
        )
        value = math.sqrt(float(sq)) if math.isfinite(float(sq)) else math.nan
        self.distances.append(value)


def plot_layer_norms(norms: dict[str, np.ndarray], *, ax=None, ylabel: str = ""):
    """Gradient norm against layer index on a log scale, one colour per set-up.

    Args:
        norms: ``{label: (n_seeds, n_layers)}``; line = geometric mean, band = min to max seed.
    """
    import matplotlib as mpl

    from . import plots

    if ax is None:
        _, ax = plots.axes()
    markers = "osv^Dp<>"
    for i, (label, values) in enumerate(norms.items()):
        values = np.atleast_2d(np.asarray(values, dtype=float))
        layers = np.arange(1, values.shape[1] + 1)
        mean = np.exp(np.log(values).mean(axis=0))
        c = plots.color(i)
        ax.plot(layers, mean, color=c, marker=markers[i % len(markers)], ms=3, label=label)
        if values.shape[0] > 1:
            ax.fill_between(layers, values.min(axis=0), values.max(axis=0), color=c, alpha=0.2)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("layer $l$ (1 = next to the input)")
    ax.set_ylabel(ylabel or r"$\|\partial L / \partial W_l\|_F$")
    ax.legend()
    return ax


def plot_seed_curves(
    curves: dict[str, np.ndarray], *, ax=None, ylabel: str = "", logy: bool = True
):
    """One thin line per seed, one colour per setting; a diverged run's line simply ends.

    Args:
        curves: ``{label: array of shape (n_seeds, n_epochs)}``.
    """
    from . import plots

    if ax is None:
        _, ax = plots.axes()
    styles = ["-", "--", "-.", ":"]
    for i, (label, values) in enumerate(curves.items()):
        values = np.atleast_2d(np.asarray(values, dtype=float))
        epochs = np.arange(1, values.shape[1] + 1)
        for j, row in enumerate(values):
            row = np.where(np.isfinite(row), row, np.nan)
            ax.plot(
                epochs,
                row,
                color=plots.color(i),
                ls=styles[i % len(styles)],
                lw=1.2,
                label=label if j == 0 else None,
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax
