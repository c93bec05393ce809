"""The full-size run of chapter 11's case study: a ResNet-9-style CNN for CIFAR-10 (and
Fashion-MNIST) with augmentation, batch norm, dropout, L2 or weight decay, a one-cycle
schedule, early stopping and mixed precision on a GPU.

It needs a GPU and the internet; ``tests/test_casestudy.py`` runs every piece on tiny arrays.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from .data import Dataset
from .errors import (
    RegbookError,
    check_choice,
    check_nonnegative,
    check_positive_int,
    check_rate,
    check_seed,
)
from .training import Run, loss_and_metrics, pipeline, record

__all__ = [
    "augment_batch",
    "make_pipeline",
    "OneCycle",
    "recipe_cnn",
    "use_mixed_precision",
    "train_recipe",
]


# ---------------------------------------------------------------- augmentation and data
def augment_batch(x: tf.Tensor, seed: tf.Tensor, *, pad: int = 4, flip: bool = True) -> tf.Tensor:
    """Random crops of reflection-padded images and random horizontal flips (not for digits).

    Args:
        seed: a stateless seed, shape ``(2,)`` integers, new for every batch.
        pad: the largest shift in pixels (0 for no crops).
    """
    pad = int(check_nonnegative("pad", pad))
    s_flip, s_row, s_col = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    batch = tf.shape(x)[0]
    height, width = x.shape[1], x.shape[2]
    if flip:
        coin = tf.random.stateless_uniform((batch, 1, 1, 1), s_flip) < 0.5
        x = tf.where(coin, tf.reverse(x, axis=[2]), x)
    if pad:
        if pad >= min(height, width):
            raise RegbookError(f"pad={pad} must be smaller than the image ({height}×{width}).")
        padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
        dy = tf.random.stateless_uniform((batch,), s_row, 0, 2 * pad + 1, dtype=tf.int32)
        dx = tf.random.stateless_uniform((batch,), s_col, 0, 2 * pad + 1, dtype=tf.int32)
        rows = dy[:, None] + tf.range(height)[None, :]  # (batch, height)
        cols = dx[:, None] + tf.range(width)[None, :]  # (batch, width)
        x = tf.gather(padded, rows, axis=1, batch_dims=1)  # (batch, height, width + 2p, c)
        x = tf.gather(x, cols, axis=2, batch_dims=1)  # (batch, height, width, c)
    return x


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    training: bool,
    pad: int = 0,
    flip: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline: shuffled, repeated, augmented batches if ``training``, else plain.

    Args:
        training: shuffle, repeat forever (set ``steps_per_epoch``), augment, drop the last batch.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed("seed", seed)
    if len(x) != len(y) or len(y) == 0:
        raise RegbookError(
            f"x and y must be non-empty and of equal length, got {len(x)}, {len(y)}."
        )
    if not training:
        return pipeline(x, y, batch_size)
    if batch_size > len(y):
        raise RegbookError(f"batch_size={batch_size} exceeds the {len(y)} training examples.")

    def augment(ds: tf.data.Dataset) -> tf.data.Dataset:
        seeds = tf.data.Dataset.random(seed=seed).batch(2)  # a stateless seed per batch
        return tf.data.Dataset.zip((ds, seeds)).map(
            lambda xy, s: (augment_batch(xy[0], s, pad=pad, flip=flip), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    return pipeline(
        x,
        y,
        batch_size,
        shuffle_seed=seed,
        repeat=True,
        drop_remainder=True,
        augment=augment if (pad or flip) else None,
    )


# ---------------------------------------------------------------- schedule
@keras.saving.register_keras_serializable(package="regbook")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: linear up to ``peak`` over ``warmup``, then down to 0."""

    def __init__(self, peak: float, total_steps: int, warmup: float = 0.2):
        self.peak = check_nonnegative("peak", peak)
        self.total_steps = check_positive_int("total_steps", total_steps)
        if not 0 < float(warmup) < 1:
            raise RegbookError(f"warmup must be in (0, 1), got {warmup!r}.")
        self.warmup = float(warmup)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        up = max(self.warmup * self.total_steps, 1.0)
        down = max(self.total_steps - up, 1.0)
        rising = step / up
        falling = (self.total_steps - step) / down
        return self.peak * tf.clip_by_value(tf.minimum(rising, falling), 0.0, 1.0)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup": self.warmup}


# ---------------------------------------------------------------- model
def recipe_cnn(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    widths: Sequence[int] = (64, 128, 256, 512),
    dropout: float = 0.2,
    batchnorm: bool = True,
    lambda_: float = 0.0,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
    seed: int = 0,
    name: str = "resnet9",
) -> keras.Model:
    """A ResNet-9-style CNN with batch norm after every convolution, dropout and float32 logits.

    Args:
        widths: filters of the stem and the three stages (inputs need height, width >= 8).
        lambda_: L2 on every kernel, book convention λ/2·Σw²; 0 when using decoupled decay.
        mean, std: per-channel training statistics; if given, the model standardises inputs.
    """
    from .models import regularizer

    shape = tuple(input_shape)
    if len(shape) != 3 or min(shape[:2]) < 8:
        raise RegbookError(
            f"recipe_cnn needs (height, width, channels) with sides >= 8, got {shape}."
        )
    widths = [check_positive_int("width", w) for w in widths]
    if len(widths) != 4:
        raise RegbookError(f"widths needs 4 entries (stem and three stages), got {len(widths)}.")
    rate = check_rate("dropout", dropout)
    seed = check_seed("seed", seed)
    reg = regularizer("l2", lambda_)
    n_classes = check_positive_int("n_classes", n_classes)
    counter = iter(range(100))

    def conv_bn(x, filters):
        i = next(counter)
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=not batchnorm,
            kernel_initializer=keras.initializers.HeNormal(seed=seed + i),
            kernel_regularizer=reg,
            name=f"conv_{i}",
        )(x)
        if batchnorm:
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
        return keras.layers.Activation("relu", name=f"relu_{i}")(x)

    inputs = keras.Input(shape)
    x = inputs
    if mean is not None or std is not None:
        if mean is None or std is None:
            raise RegbookError("give both mean and std (per channel), or neither.")
        m = np.asarray(mean, dtype="float32").reshape(-1)
        s = np.asarray(std, dtype="float32").reshape(-1)
        if m.shape != (shape[2],) or s.shape != (shape[2],) or np.any(s <= 0):
            raise RegbookError(f"mean and std need {shape[2]} entries (std > 0).")
        x = keras.layers.Normalization(mean=m, variance=s**2, name="standardise")(x)
    x = conv_bn(x, widths[0])
    for stage, filters in enumerate(widths[1:]):
        x = conv_bn(x, filters)
        x = keras.layers.MaxPooling2D(name=f"pool_{stage}")(x)
        if stage in (0, 2):
            x = keras.layers.Add(name=f"residual_{stage}")(
                [x, conv_bn(conv_bn(x, filters), filters)]
            )
    x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
    if rate > 0:
        x = keras.layers.Dropout(rate, seed=seed + 1000, name="dropout")(x)
    outputs = keras.layers.Dense(
        n_classes,
        dtype="float32",
        kernel_regularizer=reg,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 99),
        name="logits",
    )(x)
    return keras.Model(inputs, outputs, name=name)


@contextlib.contextmanager
def use_mixed_precision(mode: str = "auto"):
    """Within the block, new layers compute in float16; the previous policy is restored on exit.

    Args:
        mode: ``"auto"`` (only if TensorFlow sees a GPU), ``"on"`` or ``"off"``.
    """
    check_choice("mixed_precision", mode, ("auto", "on", "off"))
    active = mode == "on" or (mode == "auto" and bool(tf.config.list_physical_devices("GPU")))
    previous = keras.mixed_precision.global_policy()
    if active:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield active
    finally:
        keras.mixed_precision.set_global_policy(previous)


# ---------------------------------------------------------------- training
def train_recipe(
    data: Dataset,
    *,
    epochs: int = 24,
    batch_size: int = 512,
    widths: Sequence[int] = (64, 128, 256, 512),
    dropout: float = 0.2,
    batchnorm: bool = True,
    optimizer: str = "sgd",
    peak_lr: float | None = None,
    weight_decay: float = 5e-4,
    lambda_: float = 0.0,
    pad: int = 4,
    flip: bool = True,
    patience: int = 8,
    mixed_precision: str = "auto",
    seed: int = 0,
    label: str = "recipe",
    verbose: int = 0,
) -> Run:
    """Train :func:`recipe_cnn` with augmentation, a one-cycle schedule, decay and early stopping.

    Args:
        data: an image :class:`~regbook.data.Dataset` with pixel values in [0, 1].
        optimizer: ``"sgd"`` (Nesterov momentum 0.9) or ``"adamw"``.
        peak_lr: top of the schedule (default 0.4 for SGD, 3e-3 for AdamW).
        weight_decay: Keras' decoupled decay, multiplied by the learning rate; kernels only.
        pad, flip: augmentation (:func:`augment_batch`); ``pad=0, flip=False`` for none.
        patience: early stopping on ``val_data_loss`` (best weights restored).

    Returns:
        A :class:`~regbook.training.Run`, as :func:`~regbook.training.train` returns.
    """
    if not isinstance(data, Dataset) or data.task != "classification" or data.x_train.ndim != 4:
        raise RegbookError("data must be an image classification Dataset (n, height, width, c).")
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    check_choice("optimizer", optimizer, ("sgd", "adamw"))
    patience = check_positive_int("patience", patience)
    seed = check_seed("seed", seed)
    steps = len(data.y_train) // batch_size
    if steps < 1:
        raise RegbookError(f"batch_size={batch_size} exceeds the {len(data.y_train)} images.")
    if peak_lr is None:
        peak_lr = 0.4 if optimizer == "sgd" else 3e-3
    schedule = OneCycle(peak_lr, epochs * steps)

    keras.utils.clear_session(free_memory=False)
    keras.utils.set_random_seed(seed)
    mean = data.x_train.mean(axis=(0, 1, 2))
    std = data.x_train.std(axis=(0, 1, 2)) + 1e-6
    with use_mixed_precision(mixed_precision):
        model = recipe_cnn(
            data.input_shape,
            data.n_classes,
            widths=widths,
            dropout=dropout,
            batchnorm=batchnorm,
            lambda_=lambda_,
            mean=mean,
            std=std,
            seed=seed,
        )
        wd = check_nonnegative("weight_decay", weight_decay) or None
        if optimizer == "sgd":
            opt = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=wd)
        else:
            opt = keras.optimizers.AdamW(schedule, weight_decay=wd or 0.0)
        if wd:
            opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        loss, metrics = loss_and_metrics("classification")  # the runner's loss and metrics
        model.compile(optimizer=opt, loss=loss, metrics=metrics)
        model.optimizer.build(model.trainable_variables)  # trace the step once (see training)
    train_ds = make_pipeline(
        data.x_train,
        data.y_train,
        batch_size=batch_size,
        training=True,
        pad=pad,
        flip=flip,
        seed=seed,
    )
    eval_bs = max(batch_size, 1024)
    val_ds = make_pipeline(data.x_val, data.y_val, batch_size=eval_bs, training=False)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_data_loss", patience=patience, restore_best_weights=True
    )
    start = time.perf_counter()
    hist = model.fit(
        train_ds,
        epochs=epochs,
        steps_per_epoch=steps,
        validation_data=val_ds,
        callbacks=[stop],
        shuffle=False,  # the pipeline shuffles
        verbose=verbose,
    )
    wall = time.perf_counter() - start
    run = record(model, data, hist.history, label=label, seed=seed, wall=wall)
    run.final["time_per_epoch"] = wall / run.epochs_run
    if not math.isfinite(run.final["test_data_loss"]):
        raise RegbookError("training diverged (non-finite loss): lower peak_lr.")
    return run
