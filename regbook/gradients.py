"""Measuring gradient flow: deep test networks, per-layer gradient norms, and a callback
that tracks how far training moves the weights.

Chapter 9 (gradient problems) introduces everything here:

* :func:`deep_mlp` builds the deep, narrow networks in which gradients vanish or explode,
  with switches for the remedies (initialization, batch normalization, residual and
  dense connections);
* :func:`layer_gradient_norms` measures ‖∂L/∂W_l‖ for every layer on one batch with
  ``tf.GradientTape``, and :func:`hidden_gradient_norms` repeats that over seeds
  (re-drawing the weights with :func:`reinitialize` instead of rebuilding the model);
* :class:`DistanceFromInit` records ‖θ_t − θ_0‖ after every epoch of ``fit``;
* :func:`plot_layer_norms` and :func:`plot_seed_curves` draw what they measure.
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
    """A deep fully connected network for studying gradient flow (chapter 9).

    The hidden layers are Dense layers named ``dense_0`` … ``dense_{depth-1}``, followed
    by a Dense layer ``logits`` (no activation). ``dense_0`` maps the input to ``width``
    units; the others depend on ``skip``:

    * ``None`` (plain): ``h ← φ(BN(W h + b))``;
    * ``"residual"`` (pre-activation residual block): ``h ← h + W φ(BN(h)) + b``, and
      ``φ`` is applied once more before the logits;
    * ``"dense"`` (DenseNet-style): each layer sees the concatenation of the outputs of
      all earlier layers and adds ``growth`` new units ``φ(BN(W [h_0, …, h_{l−1}] + b))``;
      the logits see the concatenation of all of them.

    ``BN`` is present only with ``batchnorm=True`` (then the Dense layer before it has no
    bias).

    Args:
        input_dim: number of input features.
        n_outputs: width of the output layer (classes, or 1 for regression).
        depth: number of hidden Dense layers.
        width: units of the plain and residual layers (and of ``dense_0``).
        activation: a Keras activation name, e.g. ``"sigmoid"``, ``"tanh"``, ``"relu"``.
        init: kernel initializer of the hidden layers: one of :data:`INITS`, or a number
            σ_w for weights drawn from N(0, σ_w²/fan_in). The logits layer always uses
            ``glorot_normal``.
        batchnorm: add batch normalization before every activation.
        skip: ``None``, ``"residual"`` or ``"dense"`` (see above).
        growth: units each layer adds in ``"dense"`` mode.
        seed: seeds every initializer (layer ``l`` uses ``seed·1000 + l``).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(batch, input_dim)`` to
        ``(batch, n_outputs)``.
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
    """Re-draw the weights of a :func:`deep_mlp` in place, as if it had been built with
    ``seed`` — much faster than building a new model.

    Kernels are drawn again from their layer's initializer with the seed
    :func:`deep_mlp` would use; biases are set to 0 and batch-normalization layers to
    their initial state (γ = 1, β = 0, moving mean 0, moving variance 1).

    Args:
        model: a model from :func:`deep_mlp`.
        seed: the new seed.

    Returns:
        The same model, now equal to ``deep_mlp(..., seed=seed)``.
    """
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
    """The Frobenius norm of the loss gradient with respect to each layer's kernel.

    One forward and backward pass with ``tf.GradientTape`` on the batch ``(x, y)``; biases
    and batch-normalization parameters are left out. Penalty terms (``model.losses``) are
    not included: this is the gradient of the data loss.

    Args:
        model: a Keras model (built, or buildable by calling it on ``x``).
        x: a batch of inputs, shape ``(batch, *input_shape)``.
        y: its targets, shape ``(batch,)`` (integer class ids or real targets).
        loss: a function ``loss(y_true, y_pred) -> scalar``; by default sparse
            cross-entropy on logits for integer ``y`` and mean squared error otherwise.
        training: run the model in training mode (batch statistics in batch norm), as
            in a training step.

    Returns:
        ``{layer name: ‖∂L/∂W‖_F}`` in the order of ``model.layers`` (input to output).
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
    """:func:`layer_gradient_norms` of the hidden layers of a :func:`deep_mlp` at
    initialization, once per seed.

    The model is built once and re-drawn with :func:`reinitialize` for the other seeds.

    Args:
        x: a batch of inputs, shape ``(batch, input_dim)``.
        y: its targets, shape ``(batch,)``.
        seeds: the seeds, e.g. ``cfg.seeds``.
        n_outputs: width of the output layer.
        **kwargs: passed to :func:`deep_mlp` (``depth``, ``width``, ``activation``, ...).

    Returns:
        Array of shape ``(n_seeds, depth)``: row ``s``, column ``l`` is ‖∂L/∂W_l‖_F of
        hidden layer ``dense_l`` for seed ``seeds[s]``.
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
    """Record ‖θ_t − θ_0‖₂ over all trainable weights after every epoch (chapter 9).

    ``distances[t]`` is the Euclidean distance of the weights after epoch ``t + 1`` from
    the weights at the start of ``fit``; it is ``nan`` once a weight is not finite.

    Attributes:
        distances: list of floats, one per epoch run.
    """

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
    """Gradient norm against layer index, one colour per set-up, on a log scale.

    Args:
        norms: ``{label: array of shape (n_seeds, n_layers)}``; the line is the geometric
            mean over seeds and the band spans the smallest to the largest seed.
        ax: axes to draw on (a new figure if None).
        ylabel: the y-axis label (default: ‖∂L/∂W_l‖).

    Returns:
        The axes.
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
    """One thin line per seed and one colour per setting; non-finite values are left out,
    so a run that diverged simply ends where its values stop being finite.

    Args:
        curves: ``{label: array of shape (n_seeds, n_epochs)}``.
        ax: axes to draw on (a new figure if None).
        ylabel: the y-axis label.
        logy: log-scale y axis.

    Returns:
        The axes.
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
