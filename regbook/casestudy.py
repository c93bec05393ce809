"""The full-size run of chapter 11's case study: a small residual CNN for CIFAR-10 (and
Fashion-MNIST) that uses every regularizer of the book at once.

The recipe: images in [0, 1], standardised per channel inside the model; label-preserving
augmentation on the fly in a ``tf.data`` pipeline (reflection-padded random crops and
horizontal flips — fine for photos and clothes, wrong for digits); a ResNet-9-style
network with batch normalization after every convolution, dropout before the classifier
and an L2 penalty or decoupled weight decay; SGD with Nesterov momentum and a one-cycle
learning-rate schedule; early stopping on the unpenalised validation loss; and mixed
precision (``mixed_float16``) when a GPU is present. It is designed to reach >= 90 %
CIFAR-10 test accuracy in well under 10 minutes on one modern GPU.

This path needs a GPU and the internet (``keras.datasets``), so the book's CPU build cannot
run it; ``tests/test_casestudy.py`` exercises every piece on tiny random arrays.
Introduced in chapter 11.
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
    """Random crops of reflection-padded images and random horizontal flips, per example.

    Each image is padded by ``pad`` pixels on every side (mirroring the border), a window of
    the original size is cut out at a random offset (a shift of up to ``pad`` pixels in
    each direction), and, if ``flip``, mirrored left–right with probability ½. Both are
    label-preserving for CIFAR-10 and Fashion-MNIST; a flip is *not* for digits.

    Args:
        x: a batch of images ``(batch, height, width, channels)``.
        seed: a stateless seed, shape ``(2,)`` integers (a new one for every batch).
        pad: the largest shift in pixels (0 for no crops).
        flip: whether to flip.

    Returns:
        The augmented batch, same shape and dtype as ``x``.
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
    """A ``tf.data`` pipeline: shuffled, repeated, augmented batches for training; plain
    batches for evaluation.

    Args:
        x: images ``(n, height, width, channels)`` in [0, 1]; y: labels ``(n,)``.
        batch_size: examples per batch (training drops the last incomplete batch).
        training: shuffle, repeat forever and augment (set ``steps_per_epoch`` in ``fit``).
        pad, flip: augmentation, see :func:`augment_batch` (training only).
        seed: seeds the shuffling and the augmentation.

    Returns:
        The dataset of ``(images, labels)`` batches.
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
    """One-cycle learning rate: linear warm-up from 0 to ``peak`` over the first
    ``warmup`` fraction of the steps, then linear decay to 0 at ``total_steps``.

    Args:
        peak: the largest learning rate.
        total_steps: length of training in optimizer steps.
        warmup: fraction of the steps spent warming up, in (0, 1).
    """

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
    """A ResNet-9-style CNN: a stem, three stages (conv → pool, with a residual pair of
    convs in the first and last), global max pooling, dropout and a linear classifier.

    Every convolution is followed by batch normalization (if ``batchnorm``) and ReLU. The
    spatial size halves in each stage, so inputs need height and width >= 8.

    Args:
        input_shape: ``(height, width, channels)``.
        n_classes: number of classes.
        widths: filters of the stem and the three stages.
        dropout: rate before the classifier.
        batchnorm: batch normalization after every convolution.
        lambda_: L2 penalty on every kernel in the book's convention (λ/2·Σw²); 0 when
            the optimizer applies decoupled weight decay instead.
        mean, std: per-channel statistics of the training images, shape ``(channels,)``;
            if given, the model standardises its inputs first.
        seed: seeds the initializers and the dropout layer.
        name: the model's name.

    Returns:
        An uncompiled model mapping ``(batch, *input_shape)`` to float32 logits
        ``(batch, n_classes)`` (float32 even under a mixed-precision policy).
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
    """Within the block, new layers compute in float16 (variables stay float32).

    Args:
        mode: ``"auto"`` (only if TensorFlow sees a GPU), ``"on"`` or ``"off"``.

    Yields:
        True if mixed precision is active. The previous global policy is restored on exit,
        so models built later are unaffected.
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
    """Train :func:`recipe_cnn` on ``data`` with augmentation, a one-cycle schedule,
    weight decay, early stopping and (on a GPU) mixed precision.

    Args:
        data: an image :class:`~regbook.data.Dataset` with pixel values in [0, 1].
        epochs: passes over the training set (the schedule spans all of them).
        batch_size: examples per step.
        widths, dropout, batchnorm, lambda_: the model (:func:`recipe_cnn`).
        optimizer: ``"sgd"`` (Nesterov momentum 0.9) or ``"adamw"``.
        peak_lr: top of the one-cycle schedule (default 0.4 for SGD, 3e-3 for AdamW).
        weight_decay: decoupled decay per unit learning rate (Keras: ``w ← w − η·wd·w``);
            kernels only, not biases or batch-norm parameters.
        pad, flip: augmentation (:func:`augment_batch`); ``pad=0, flip=False`` for none.
        patience: early stopping on ``val_data_loss`` (best weights restored).
        mixed_precision: ``"auto"``, ``"on"`` or ``"off"`` (:func:`use_mixed_precision`).
        seed: seeds everything.
        label: name of the run.
        verbose: Keras' ``fit`` verbosity (0 silent, 2 one line per epoch).

    Returns:
        A :class:`~regbook.training.Run` (history with ``loss``, ``data_loss``,
        ``accuracy`` and their ``val_`` twins; ``final`` with inference-mode
        train/val/test metrics; ``model``), so the chapter's plots and tables take it.
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
