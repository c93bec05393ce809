"""The training runner (chapter 1): train a Keras model under the active profile and return a
tidy record, or repeat it over seeds. It feeds ``fit`` a prebuilt ``tf.data`` pipeline
(cheaper per epoch on a CPU), tracks the unpenalised ``data_loss`` apart from Keras' ``loss``
(which includes the penalty), and re-evaluates every split in inference mode (:attr:`Run.final`).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from .data import Dataset
from .errors import (
    RegbookError,
    check_choice,
    check_nonnegative,
    check_positive,
    check_positive_int,
)

__all__ = [
    "Run",
    "Runs",
    "make_optimizer",
    "loss_and_metrics",
    "pipeline",
    "Validation",
    "record",
    "train",
    "train_seeds",
    "kernel_weights",
]

OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
}


@dataclass
class Run:
    """What one training run produced: ``label``, ``seed``, ``history``, ``final``, ``model``, ...

    ``history``: per-epoch ``loss`` (with penalty, training mode), ``data_loss``, ``accuracy``
    and ``val_*`` twins (NaN without validation). ``final``: inference-mode
    ``{split}_{metric}``, ``penalty`` and ``gap`` (val minus train data loss).
    """

    label: str
    seed: int
    history: dict[str, np.ndarray]
    final: dict[str, float]
    wall_time: float
    epochs_run: int
    model: keras.Model | None = field(default=None, repr=False)


class Runs(list):
    """A list of :class:`Run` (one per seed) with mean/std helpers."""

    @property
    def label(self) -> str:
        return self[0].label if self else ""

    def values(self, key: str) -> np.ndarray:
        """``final[key]`` of every run, shape ``(n_seeds,)``."""
        return np.array([r.final[key] for r in self], dtype=float)

    def mean(self, key: str) -> float:
        """Mean of ``final[key]`` over seeds."""
        return float(np.mean(self.values(key)))

    def std(self, key: str) -> float:
        """Sample standard deviation of ``final[key]`` over seeds (0 for one seed)."""
        v = self.values(key)
        return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0

    def curves(self, key: str) -> np.ndarray:
        """``history[key]`` of every run, NaN-padded, shape ``(n_seeds, max_epochs)``."""
        n = max(len(r.history[key]) for r in self)
        out = np.full((len(self), n), np.nan)
        for i, r in enumerate(self):
            out[i, : len(r.history[key])] = r.history[key]
        return out

    def summary(self, keys: Sequence[str] = ("train_accuracy", "val_accuracy")) -> str:
        """One line: ``label: key mean ± std, ...``."""
        parts = [
            f"{k} {self.mean(k):.3f} ± {self.std(k):.3f}"
            for k in keys
            if self and k in self[0].final
        ]
        return f"{self.label}: " + ", ".join(parts)


def make_optimizer(
    name: str | keras.optimizers.Optimizer = "adam",
    lr: float = 1e-3,
    weight_decay: float | None = None,
    **kwargs,
) -> keras.optimizers.Optimizer:
    """A Keras optimizer by name (or an instance, returned unchanged), with checked learning rate.

    Args:
        weight_decay: decoupled decay, multiplied by the learning rate (``w ← w − η·wd·w``).
    """
    if isinstance(name, keras.optimizers.Optimizer):
        return name
    check_choice("optimizer", name, OPTIMIZERS)
    check_positive("the learning rate", lr)
    if name == "adamw" and weight_decay is None:
        raise RegbookError(
            "make_optimizer('adamw') needs weight_decay=... (Keras' AdamW would silently use "
            "0.004); pass 0.0 for none."
        )
    if weight_decay is not None:
        kwargs["weight_decay"] = check_nonnegative("weight_decay", weight_decay)
    return OPTIMIZERS[name](learning_rate=lr, **kwargs)


def loss_and_metrics(task: str):
    """The book's loss (from logits) and metrics, ``data_loss`` apart from the penalty."""
    if task == "classification":
        return (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            [
                keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="data_loss"),
                keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            ],
        )
    return keras.losses.MeanSquaredError(), [keras.metrics.MeanSquaredError(name="data_loss")]


def pipeline(
    x,
    y,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    repeat: bool = False,
    sample_weight=None,
    drop_remainder: bool = False,
    augment: Callable[[tf.data.Dataset], tf.data.Dataset] | None = None,
) -> tf.data.Dataset:
    """The book's one ``tf.data`` pipeline: cached, shuffled (if ``shuffle_seed``), batched,
    repeated, optionally augmented per batch, prefetched.
    """
    tensors = (x, y) if sample_weight is None else (x, y, sample_weight)
    ds = tf.data.Dataset.from_tensor_slices(tensors).cache()
    if shuffle_seed is not None:
        ds = ds.shuffle(len(y), seed=int(shuffle_seed), reshuffle_each_iteration=True)
    ds = ds.batch(check_positive_int("batch_size", batch_size), drop_remainder=drop_remainder)
    if repeat:
        ds = ds.repeat()
    if augment is not None:
        ds = augment(ds)
    return ds.prefetch(tf.data.AUTOTUNE)


def _pipeline(x, y, batch_size: int, seed: int, train: bool) -> tf.data.Dataset:
    if train:
        return pipeline(x, y, batch_size, shuffle_seed=seed, repeat=True)
    return pipeline(x, y, batch_size)


class Validation(keras.callbacks.Callback):
    """Callback: validation in one compiled call per epoch, logged as ``val_*``; put it first."""

    def __init__(self, x, y, task: str, freq: int):
        super().__init__()
        self.freq = freq
        self.x = tf.constant(x)
        self.y = tf.constant(y)
        self.task = task
        self._fn = None

    def _make_fn(self):
        model, x, y = self.model, self.x, self.y
        if self.task == "classification":
            xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

            def fn():
                logits = model(x, training=False)
                hits = tf.cast(
                    tf.equal(tf.argmax(logits, axis=-1), tf.cast(y, tf.int64)), tf.float32
                )
                return {"data_loss": xent(y, logits), "accuracy": tf.reduce_mean(hits)}
        else:
            mse = keras.losses.MeanSquaredError()

            def fn():
                return {"data_loss": mse(y, model(x, training=False))}

        return tf.function(fn)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or (epoch + 1) % self.freq:
            return
        if self._fn is None:
            self._fn = self._make_fn()
        res = {k: float(v) for k, v in self._fn().items()}
        res["loss"] = res["data_loss"] + float(sum(float(v) for v in self.model.losses))
        logs.update({f"val_{k}": v for k, v in res.items()})


def kernel_weights(model: keras.Model) -> np.ndarray:
    """All kernel (not bias, not batch-norm) weights of ``model`` as one flat array."""
    return np.concatenate(
        [v.numpy().ravel() for v in model.trainable_weights if v.path.endswith("kernel")]
        or [np.zeros(0)]
    )


def record(
    model: keras.Model,
    data: Dataset,
    raw_history: dict,
    *,
    label: str = "",
    seed: int = 0,
    wall: float = 0.0,
    evaluate: Sequence[str] = ("train", "val", "test"),
    validation_freq: int = 1,
    keep_model: bool = True,
) -> Run:
    """The :class:`Run` of a model trained by ``fit`` (compiled with :func:`loss_and_metrics`)."""
    run_epochs = len(raw_history["loss"])
    history = {"epoch": np.arange(1, run_epochs + 1)}
    val_epochs = [e for e in range(1, run_epochs + 1) if e % validation_freq == 0]
    for key, values in raw_history.items():
        if key == "learning_rate":
            continue
        values = np.asarray(values, dtype=float)
        if key.startswith("val_") and len(values) < run_epochs:
            full = np.full(run_epochs, np.nan)
            full[np.array(val_epochs[: len(values)], dtype=int) - 1] = values[: len(val_epochs)]
            history[key] = full
        else:
            history[key] = values
    final: dict[str, float] = {"penalty": float(sum(float(v) for v in model.losses))}
    splits = {
        "train": (data.x_train, data.y_train),
        "val": (data.x_val, data.y_val),
        "test": (data.x_test, data.y_test),
    }
    for split in evaluate:
        x, y = splits[check_choice("split", split, splits)]
        res = model.evaluate(pipeline(x, y, 4096), verbose=0, return_dict=True)
        final.update({f"{split}_{k}": float(v) for k, v in res.items()})
    if "train_data_loss" in final and "val_data_loss" in final:
        final["gap"] = final["val_data_loss"] - final["train_data_loss"]
    return Run(label, seed, history, final, wall, run_epochs, model if keep_model else None)


def train(
    model: keras.Model | Callable[[int], keras.Model],
    data: Dataset,
    *,
    epochs: int,
    batch_size: int | None = None,
    lr: float = 1e-3,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    weight_decay: float | None = None,
    optimizer_kwargs: dict | None = None,
    seed: int = 0,
    validation_freq: int = 1,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    evaluate: Sequence[str] = ("train", "val", "test"),
    keep_model: bool = True,
    label: str = "",
    verbose: bool = False,
    jit_compile: bool | str = False,
) -> Run:
    """Train ``model`` on ``data`` and return a :class:`Run`.

    Args:
        model: an uncompiled model, or (preferred) ``seed -> model``, built after seeding.
        batch_size: mini-batch size; None means the whole training set (full batch).
        lr, optimizer, weight_decay, optimizer_kwargs: see :func:`make_optimizer`.
        callbacks: e.g. ``EarlyStopping``; monitor ``val_data_loss`` to ignore the penalty.
        evaluate: splits to re-evaluate in inference mode at the end.
        jit_compile: passed to ``compile``; off by default (XLA costs ~1.5 s/model on a CPU).
    """
    if not isinstance(data, Dataset):
        raise RegbookError(
            f"data must be a regbook Dataset (from regbook.data.load), got {type(data).__name__}."
        )
    epochs = check_positive_int("epochs", epochs)
    validation_freq = check_positive_int("validation_freq", validation_freq)
    n = len(data.y_train)
    batch_size = n if batch_size is None else min(check_positive_int("batch_size", batch_size), n)
    keras.utils.clear_session(free_memory=False)
    keras.utils.set_random_seed(seed)
    net = model(seed) if callable(model) and not isinstance(model, keras.Model) else model
    for cb in callbacks:
        # train_seeds hands the same callbacks to every seed. Up to Keras 3.14 a reused
        # EarlyStopping keeps the best value of its previous fit (keras-team/keras#20256):
        # the new run never beats it, stops after `patience` epochs and restores its first
        # epoch's weights (chapter 11 collapsed to chance so on Colab). Start afresh.
        if isinstance(cb, keras.callbacks.EarlyStopping):
            cb.best = cb.baseline
    loss, metrics = loss_and_metrics(data.task)
    steps = math.ceil(n / batch_size)
    net.compile(
        optimizer=make_optimizer(optimizer, lr, weight_decay, **(optimizer_kwargs or {})),
        loss=loss,
        metrics=metrics,
        steps_per_execution=steps,
        jit_compile=jit_compile,
    )
    # Create the optimizer's slots now. Otherwise Keras creates them while TensorFlow traces
    # the first training step, and a tf.function that creates variables is traced twice
    # (about 0.6 s more per run on a 2-core CPU). Same values either way: the slots start at 0.
    if not net.optimizer.built:
        net.optimizer.build(net.trainable_variables)
    train_ds = _pipeline(data.x_train, data.y_train, batch_size, seed, train=True)
    if len(data.y_val) <= 8192:  # one compiled pass; see Validation
        fit_kw = {
            "callbacks": [
                Validation(data.x_val, data.y_val, data.task, validation_freq),
                *callbacks,
            ]
        }
    else:
        fit_kw = {
            "callbacks": list(callbacks),
            "validation_freq": validation_freq,
            "validation_data": _pipeline(data.x_val, data.y_val, 4096, seed, train=False),
        }
    start = time.perf_counter()
    hist = net.fit(
        train_ds, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=0, **fit_kw
    )
    wall = time.perf_counter() - start
    run = record(
        net,
        data,
        hist.history,
        label=label,
        seed=seed,
        wall=wall,
        evaluate=evaluate,
        validation_freq=validation_freq,
        keep_model=keep_model,
    )
    run_epochs = run.epochs_run
    final = run.final
    if verbose:
        shown = {k: final[k] for k in ("val_accuracy", "val_data_loss") if k in final}
        print(
            f"{label or net.name} seed {seed}: {run_epochs} epochs in {wall:.1f} s, "
            + ", ".join(f"{k} {v:.3f}" for k, v in shown.items())
        )
    return run


def train_seeds(
    model: Callable[[int], keras.Model],
    data: Dataset | Callable[[int], Dataset],
    seeds: Sequence[int],
    *,
    label: str = "",
    progress: bool = True,
    **kwargs,
) -> Runs:
    """Run :func:`train` once per seed and collect the :class:`Runs`.

    Args:
        data: a Dataset, or ``seed -> Dataset`` (e.g. another split per seed).
        progress: print one compact line (a dot per seed, then the mean result).
    """
    if not seeds:
        raise RegbookError("seeds must hold at least one seed.")
    runs = Runs()
    start = time.perf_counter()
    if progress:
        print(f"{label or 'run'} ", end="", flush=True)
    for seed in seeds:
        ds = data(seed) if callable(data) else data
        runs.append(train(model, ds, seed=int(seed), label=label, **kwargs))
        if progress:
            print(".", end="", flush=True)
    if progress:
        key = next((k for k in ("val_accuracy", "val_data_loss") if k in runs[0].final), None)
        tail = f" {key} {runs.mean(key):.3f} ± {runs.std(key):.3f}" if key else ""
        print(f" {len(runs)} seeds, {time.perf_counter() - start:.1f} s{tail}", file=sys.stdout)
    return runs
