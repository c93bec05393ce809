"""Model factories (chapter 1): an MLP and small CNNs with regularization switches, output logits.

``lambda_`` is in the book's convention: L2 adds ``λ/2·Σw²``, L1 ``λ·Σ|w|``. Keras' L2 has
no ½ (``L2(l2)`` adds ``l2·Σw²``), so :func:`regularizer` passes ``l2=λ/2``. Only kernels
are penalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from .errors import (
    RegbookError,
    check_choice,
    check_nonnegative,
    check_positive_int,
    check_rate,
    check_seed,
)

__all__ = ["regularizer", "mlp", "small_cnn", "cnn1d", "REGULARIZERS", "BATCHNORM"]

REGULARIZERS = (None, "l1", "l2", "l1l2")
#: Where batch normalization goes relative to the activation, or None for no BN.
BATCHNORM = (None, "before_activation", "after_activation")


def regularizer(kind: str | None, lambda_: float = 0.0, l1_ratio: float = 0.5):
    """A Keras kernel regularizer for penalty ``kind`` (None, l1, l2, l1l2) with book-convention λ.

    Returns:
        A Keras regularizer, or None when ``kind`` is None or λ = 0.
    """
    check_choice("regularizer", kind, REGULARIZERS)
    lam = check_nonnegative("lambda_", lambda_)
    alpha = float(l1_ratio)
    if not 0.0 <= alpha <= 1.0:
        raise RegbookError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}.")
    if kind is None or lam == 0.0:
        return None
    if kind == "l2":
        return keras.regularizers.L2(l2=lam / 2)
    if kind == "l1":
        return keras.regularizers.L1(l1=lam)
    return keras.regularizers.L1L2(l1=lam * alpha, l2=lam * (1 - alpha) / 2)


def _dense_block(x, units, *, activation, reg, batchnorm, dropout, seed, i):
    x = keras.layers.Dense(
        units,
        kernel_regularizer=reg,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
        use_bias=batchnorm != "before_activation",
        name=f"dense_{i}",
    )(x)
    if batchnorm == "before_activation":
        x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
    x = keras.layers.Activation(activation, name=f"act_{i}")(x)
    if batchnorm == "after_activation":
        x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seed + 1000 + i, name=f"dropout_{i}")(x)
    return x


def _common(regularizer_kind, lambda_, l1_ratio, dropout, batchnorm, seed):
    reg = regularizer(regularizer_kind, lambda_, l1_ratio)
    rate = check_rate("dropout", dropout)
    check_choice("batchnorm", batchnorm, BATCHNORM)
    return reg, rate, check_seed("seed", seed)


def mlp(
    input_shape: Sequence[int] | int,
    n_outputs: int,
    hidden: Sequence[int] = (128, 128),
    *,
    activation: str = "relu",
    regularizer_kind: str | None = None,
    lambda_: float = 0.0,
    l1_ratio: float = 0.5,
    dropout: float = 0.0,
    input_dropout: float = 0.0,
    batchnorm: str | None = None,
    seed: int = 0,
    name: str = "mlp",
) -> keras.Model:
    """A fully connected network ending in ``n_outputs`` logits.

    Args:
        input_shape: shape of one example (flattened first if it has several axes).
        regularizer_kind, lambda_, l1_ratio: the kernel penalty (see :func:`regularizer`).
        dropout: rate after every hidden layer; ``input_dropout`` on the inputs.
        batchnorm: None, ``"before_activation"`` or ``"after_activation"``.
    """
    reg, rate, seed = _common(regularizer_kind, lambda_, l1_ratio, dropout, batchnorm, seed)
    in_rate = check_rate("input_dropout", input_dropout)
    n_outputs = check_positive_int("n_outputs", n_outputs)
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    inputs = keras.Input(shape)
    x = keras.layers.Flatten()(inputs) if len(shape) > 1 else inputs
    if in_rate > 0:
        x = keras.layers.Dropout(in_rate, seed=seed + 999, name="input_dropout")(x)
    for i, units in enumerate(hidden):
        x = _dense_block(
            x,
            check_positive_int("hidden width", units),
            activation=activation,
            reg=reg,
            batchnorm=batchnorm,
            dropout=rate,
            seed=seed,
            i=i,
        )
    outputs = keras.layers.Dense(
        n_outputs,
        kernel_regularizer=reg,
        name="logits",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + len(hidden)),
    )(x)
    return keras.Model(inputs, outputs, name=name)


def small_cnn(
    input_shape: Sequence[int],
    n_outputs: int,
    filters: Sequence[int] = (16, 32),
    dense: int = 64,
    *,
    kernel_size: int = 3,
    activation: str = "relu",
    regularizer_kind: str | None = None,
    lambda_: float = 0.0,
    l1_ratio: float = 0.5,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    batchnorm: str | None = None,
    preprocessing: Sequence[keras.layers.Layer] = (),
    seed: int = 0,
    name: str = "cnn",
) -> keras.Model:
    """Conv blocks (conv → [BN] → act → max-pool → [spatial dropout]), a dense layer, then logits.

    Args:
        dense: width of the dense layer before the logits (0 for none).
        dropout: rate before the logits; ``conv_dropout`` is ``SpatialDropout2D`` per block.
        preprocessing: layers applied first (e.g. augmentation, active only in training).
    """
    reg, rate, seed = _common(regularizer_kind, lambda_, l1_ratio, dropout, batchnorm, seed)
    conv_rate = check_rate("conv_dropout", conv_dropout)
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise RegbookError(f"small_cnn needs input_shape (height, width, channels), got {shape}.")
    inputs = keras.Input(shape)
    x = inputs
    for layer in preprocessing:
        x = layer(x)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(
            f,
            kernel_size,
            padding="same",
            kernel_regularizer=reg,
            use_bias=batchnorm != "before_activation",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
            name=f"conv_{i}",
        )(x)
        if batchnorm == "before_activation":
            x = keras.layers.BatchNormalization(name=f"bn_conv_{i}")(x)
        x = keras.layers.Activation(activation, name=f"act_conv_{i}")(x)
        if batchnorm == "after_activation":
            x = keras.layers.BatchNormalization(name=f"bn_conv_{i}")(x)
        if min(x.shape[1], x.shape[2]) >= 2:
            x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
        if conv_rate > 0:
            x = keras.layers.SpatialDropout2D(
                conv_rate, seed=seed + 2000 + i, name=f"spatial_dropout_{i}"
            )(x)
    x = keras.layers.Flatten()(x)
    if dense:
        x = _dense_block(
            x,
            dense,
            activation=activation,
            reg=reg,
            batchnorm=batchnorm,
            dropout=rate,
            seed=seed + len(filters),
            i=len(filters),
        )
    elif rate > 0:
        x = keras.layers.Dropout(rate, seed=seed + 3000, name="dropout")(x)
    outputs = keras.layers.Dense(
        check_positive_int("n_outputs", n_outputs),
        name="logits",
        kernel_regularizer=reg,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 99),
    )(x)
    return keras.Model(inputs, outputs, name=name)


def cnn1d(
    input_shape: Sequence[int] = (40, 1),
    n_outputs: int = 10,
    filters: Sequence[int] = (32, 32, 32),
    *,
    kernel_size: int = 5,
    dense: int = 64,
    l2: float = 0.0,
    dropout: float = 0.0,
    batchnorm: bool = False,
    seed: int = 0,
    name: str = "cnn1d",
) -> keras.Model:
    """A small 1-D CNN for MNIST-1D (:func:`regbook.setups.mnist1d`): conv blocks, dense, logits.

    Args:
        l2: Keras' coefficient on every kernel (``L2(l2)`` adds l2·Σw², no ½).
    """
    seed = check_seed("seed", seed)
    rate = check_rate("dropout", dropout)
    reg = keras.regularizers.L2(check_nonnegative("l2", l2)) if l2 else None
    layers = [keras.Input(tuple(input_shape))]
    for i, f in enumerate(filters):
        layers.append(
            keras.layers.Conv1D(
                check_positive_int("filters", f),
                kernel_size,
                padding="same",
                use_bias=not batchnorm,
                kernel_regularizer=reg,
                kernel_initializer=keras.initializers.HeNormal(seed=seed + i),
            )
        )
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers += [keras.layers.ReLU(), keras.layers.MaxPooling1D(2)]
    layers.append(keras.layers.Flatten())
    if dense:
        layers.append(
            keras.layers.Dense(
                check_positive_int("dense", dense),
                activation="relu",
                kernel_regularizer=reg,
                kernel_initializer=keras.initializers.HeNormal(seed=seed + 100),
            )
        )
    if rate:
        layers.append(keras.layers.Dropout(rate, seed=seed + 1000))
    layers.append(
        keras.layers.Dense(
            check_positive_int("n_outputs", n_outputs),
            kernel_regularizer=reg,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 200),
        )
    )
    return keras.Sequential(layers, name=name)
