"""Population training: many independent Keras models (settings × seeds) in one ``fit``.

A chapter writes each member as an ordinary Keras builder, with the regularizer in view::

    def build(seed, rate):
        return keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(rate, seed=seed),
            keras.layers.Dense(10),
        ])

    pop = population.fit(build, data, settings={"none": {"rate": 0.0},
                                                "dropout 0.5": {"rate": 0.5}},
                         seeds=cfg.seeds, epochs=400, optimizer=keras.optimizers.Adam(1e-3))
    pop["dropout 0.5"].values("test_accuracy")      # one value per seed

Why: on a small CPU, a Keras step of a small model costs far more in overhead than in
arithmetic, so K models stepped together in one compiled function train several times
faster than K calls of ``model.fit`` (``make benchmark-training`` measures it).

A member behaves as if trained alone: it has its own parameters, its own optimizer (a
clone of ``optimizer``, or ``optimizer(**setting)``: learning rates, weight decay and even
the optimizer class may differ between members), its own data loss and penalty
(``member.losses``), and its own history. Its gradient is the gradient of its own loss,
because no parameter is shared. What members **share is the batch order**: one shuffled
``tf.data`` pipeline feeds all of them, so seeds differ in initialisation and dropout
masks, not in the order of the mini-batches. For exactly the dropout masks of a model
trained alone, give each ``Dropout`` layer ``seed=``. Callbacks that change
``model.optimizer`` (e.g. ``ReduceLROnPlateau``) do not reach the members' optimizers; use a
learning-rate schedule in the optimizer instead. Introduced in chapter 5.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from .data import Dataset
from .errors import RegbookError, check_choice, check_positive_int
from .training import Run, Runs, make_optimizer

__all__ = ["fit", "Population", "PopulationModel"]


def _loss_fn(task: str):
    if task == "classification":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return keras.losses.MeanSquaredError()


class _MemberMeans(keras.metrics.Metric):
    """Every member's running means (loss, data loss[, accuracy]) in one (K, m) state.

    One metric instead of K × m ``keras.metrics.Mean``: Keras resets and reads the metrics
    eagerly at every epoch, which for a population of 30 cost more than its training step.
    """

    def __init__(self, k: int, m: int, name: str = "members"):
        super().__init__(name=name)
        self.total = self.add_variable(shape=(k, m), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values):
        self.total.assign_add(tf.cast(values, self.total.dtype))
        self.count.assign_add(1.0)

    def result(self):
        return self.total / tf.maximum(self.count, 1.0)


class PopulationModel(keras.Model):
    """K member models side by side, each stepped by its own optimizer on its own loss."""

    def __init__(self, members: Sequence[keras.Model], optimizers, task: str):
        super().__init__()
        self.members = list(members)
        self.member_optimizers = tuple(optimizers)
        self.task = task
        self.loss_fn = _loss_fn(task)
        self.whats = ("loss", "data_loss", "accuracy")[: 3 if task == "classification" else 2]
        self.tracker = _MemberMeans(len(self.members), len(self.whats))

    @property
    def metrics(self):
        return [self.tracker]

    def call(self, x, training=False):
        return [m(x, training=training) for m in self.members]

    def _member_losses(self, x, y, w, training):
        """Per member: (data loss, penalty, accuracy or None), on one batch."""
        out = []
        for i, m in enumerate(self.members):
            pred = m(x, training=training)
            yi = y[:, i]
            if self.task == "regression":
                pred = tf.reshape(pred, [-1])
            data = self.loss_fn(yi, pred, sample_weight=None if w is None else w[:, i])
            pen = tf.add_n(m.losses) if m.losses else tf.constant(0.0)
            acc = None
            if self.task == "classification":
                hit = tf.equal(tf.argmax(pred, axis=-1), tf.cast(yi, tf.int64))
                acc = tf.reduce_mean(tf.cast(hit, tf.float32))
            out.append((data, pen, acc))
        return out

    def train_step(self, batch):
        x, y, w = batch if len(batch) == 3 else (*batch, None)
        with tf.GradientTape() as tape:
            parts = self._member_losses(x, y, w, training=True)
            total = tf.add_n([d + p for d, p, _ in parts])
        grads = tape.gradient(total, [m.trainable_variables for m in self.members])
        for opt, g, m in zip(self.member_optimizers, grads, self.members, strict=True):
            opt.apply(g, m.trainable_variables)
        values = [(d + p, d, acc)[: len(self.whats)] for d, p, acc in parts]
        self.tracker.update_state(tf.stack([tf.stack(v) for v in values]))
        return {self.tracker.name: self.tracker.result()}


class _Evaluate:
    """One compiled inference-mode pass of every member over a split (chunks of 4096)."""

    def __init__(self, model: PopulationModel, x: np.ndarray, y: np.ndarray):
        self.model = model
        signature = [
            tf.TensorSpec([None, *x.shape[1:]], tf.float32),
            tf.TensorSpec([None, y.shape[1]], tf.as_dtype(y.dtype)),
        ]

        @tf.function(input_signature=signature)  # one trace for every split
        def step(x, y):
            parts = model._member_losses(x, y, None, training=False)
            data = tf.stack([d for d, _, _ in parts])
            pen = tf.stack([p for _, p, _ in parts])
            acc = tf.stack([a if a is not None else tf.constant(np.nan) for _, _, a in parts])
            return data, pen, acc

        self.step = step

    def __call__(self, x, y) -> dict[str, np.ndarray]:
        n = len(x)
        data = np.zeros(len(self.model.members))
        acc = np.zeros_like(data)
        pen = None
        for start in range(0, n, 4096):
            xb = x[start : start + 4096].astype("float32", copy=False)
            yb = y[start : start + 4096]
            d, p, a = (t.numpy().astype(float) for t in self.step(xb, yb))
            data += d * len(xb) / n
            acc += a * len(xb) / n
            pen = p
        return {"data_loss": data, "loss": data + pen, "accuracy": acc}


class _Monitor(keras.callbacks.Callback):
    """Validation every ``freq`` epochs, and per-member restore-best (early stopping)."""

    def __init__(self, evaluate, x, y, freq, monitor, patience, keep_last=False):
        super().__init__()
        self.keep_last, self.last = keep_last, None
        self.evaluate, self.x, self.y, self.freq = evaluate, x, y, freq
        self.monitor, self.patience = monitor, patience
        self.val: list[tuple[int, dict]] = []
        self.best: list[tuple[float, int, list | None]] = []
        self.stopped: list[int | None] = []

    def on_train_begin(self, logs=None):
        k = len(self.model.members)
        self.best = [(math.inf, 0, None)] * k
        self.stopped = [None] * k

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.freq:
            return
        res = self.evaluate(self.x, self.y)
        self.val.append((epoch + 1, res))
        if self.monitor is None:
            return
        key = self.monitor.removeprefix("val_")
        sign = -1.0 if key == "accuracy" else 1.0  # minimise loss, maximise accuracy
        for i, m in enumerate(self.model.members):
            if self.stopped[i] is not None:
                continue
            value = sign * res[key][i]
            if value < self.best[i][0]:
                self.best[i] = (value, epoch + 1, m.get_weights())
            elif self.patience is not None and epoch + 1 - self.best[i][1] >= self.patience:
                self.stopped[i] = epoch + 1

    def on_train_end(self, logs=None):
        for opt, m in zip(self.model.member_optimizers, self.model.members, strict=True):
            if getattr(opt, "use_ema", False):
                opt.finalize_variable_values(m.trainable_variables)
        if self.monitor is None:
            return
        if self.keep_last:  # the weights of the last epoch, before the best are restored
            self.last = [m.get_weights() for m in self.model.members]
        for (_, _, weights), m in zip(self.best, self.model.members, strict=True):
            if weights is not None:
                m.set_weights(weights)


def _clone_optimizer(optimizer, setting: Mapping, lr: float):
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer.__class__.from_config(optimizer.get_config())
    if callable(optimizer):
        opt = optimizer(**setting)
        if not isinstance(opt, keras.optimizers.Optimizer):
            raise RegbookError(
                f"optimizer(**setting) must return a Keras optimizer, got {type(opt).__name__}."
            )
        return opt
    return make_optimizer(optimizer, lr)


def _same(name: str, arrays: list[np.ndarray]) -> np.ndarray:
    first = arrays[0]
    for a in arrays[1:]:
        if a is not first and (a.shape != first.shape or not np.array_equal(a, first)):
            raise RegbookError(
                f"every member must see the same {name} (they share one pipeline); labels "
                "and sample weights may differ per seed, inputs may not."
            )
    return first


class Population(dict):
    """Label → :class:`~regbook.training.Runs` (one run per seed), in the order of the settings.

    Attributes:
        wall_time: seconds spent in the one ``fit`` call.
        last: with ``fit(..., keep_last=True)``, the same runs with the weights of the
            last epoch instead of the restored best ones (training without early
            stopping); else None.
    """

    wall_time: float = 0.0
    last: Population | None = None

    def values(self, key: str) -> dict[str, np.ndarray]:
        """``{label: final[key] per seed}``."""
        return {label: runs.values(key) for label, runs in self.items()}

    def summary(self, keys: Sequence[str] = ("train_accuracy", "test_accuracy")) -> str:
        """One line per setting: mean ± std over seeds."""
        return "\n".join(runs.summary(keys) for runs in self.values_runs())

    def values_runs(self) -> list[Runs]:
        """The :class:`Runs` of every setting."""
        return list(super().values())


def fit(
    build: Callable[..., keras.Model],
    data: Dataset | Callable[[int], Dataset],
    *,
    seeds: Sequence[int],
    settings: Mapping[str, Mapping] | None = None,
    epochs: int,
    optimizer: str
    | keras.optimizers.Optimizer
    | Callable[..., keras.optimizers.Optimizer] = "adam",
    lr: float = 1e-3,
    batch_size: int | None = None,
    validation_freq: int = 1,
    restore_best: str | None = None,
    patience: int | None = None,
    sample_weight: Callable[[int, Mapping], np.ndarray] | None = None,
    evaluate: Sequence[str] = ("train", "val", "test"),
    shuffle_seed: int | None = None,
    keep_last: bool = False,
    progress: bool = True,
) -> Population:
    """Train ``build(seed, **setting)`` for every setting and seed in one compiled model.

    Args:
        build: ``(seed, **setting) -> keras.Model`` returning logits (uncompiled). Global
            Keras seeding is set to the member's seed before each call.
        data: a Dataset, or ``seed -> Dataset`` (e.g. labels flipped per seed). Members may
            differ in their labels, not in their inputs.
        seeds: the seeds, e.g. ``cfg.seeds``.
        settings: ``{label: {argument: value}}``; default one setting ``{"": {}}``.
        epochs: passes over the training set.
        optimizer: a Keras optimizer (cloned per member), ``(**setting) -> optimizer``, or a
            name for :func:`~regbook.training.make_optimizer` with ``lr``.
        batch_size: mini-batch size; None for full batch.
        validation_freq: validate every this many epochs.
        restore_best: ``"val_data_loss"``, ``"val_loss"`` or ``"val_accuracy"``: give each
            member back its weights of its best validation epoch (early stopping per member);
            with ``patience``, a member's best is frozen once it has not improved for that
            many epochs, as ``keras.callbacks.EarlyStopping(restore_best_weights=True)``.
        sample_weight: ``(seed, setting) -> weights of the training examples`` (bagging).
        evaluate: splits re-evaluated in inference mode at the end, into ``Run.final``.
        shuffle_seed: seed of the shared batch order (default: the first seed).
        keep_last: with ``restore_best``, also evaluate every member with the weights of
            its last epoch, into ``result.last`` (a model without early stopping follows
            the same trajectory; early stopping only chooses which weights to keep, so
            one run gives both). Its models are rebuilt with ``build`` and given those
            weights.
        progress: print one line when done.

    Returns:
        A :class:`Population`. ``Run.final`` has ``{split}_{data_loss,loss,accuracy}``,
        ``penalty``, ``gap`` and, with ``restore_best``, ``best_epoch``; ``Run.history``
        has ``loss``, ``data_loss``, ``accuracy`` (training mode) and ``val_*``.
    """
    settings = {"": {}} if settings is None else dict(settings)
    if not settings:
        raise RegbookError("settings must hold at least one {label: {argument: value}}.")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise RegbookError("seeds must hold at least one seed.")
    epochs = check_positive_int("epochs", epochs)
    validation_freq = check_positive_int("validation_freq", validation_freq)
    if restore_best is not None:
        check_choice("restore_best", restore_best, ("val_data_loss", "val_loss", "val_accuracy"))
    if patience is not None:
        patience = check_positive_int("patience", patience)
    if keep_last and restore_best is None:
        raise RegbookError(
            "keep_last=True needs restore_best: without it the last weights are kept."
        )
    members, opts, keys, datasets, weights = [], [], [], [], []
    keras.utils.clear_session(free_memory=False)
    for label, setting in settings.items():
        for seed in seeds:
            ds = data(seed) if callable(data) else data
            if not isinstance(ds, Dataset):
                raise RegbookError("data must be a regbook Dataset or a function seed -> Dataset.")
            keras.utils.set_random_seed(seed)
            model = build(seed, **setting)
            if not isinstance(model, keras.Model):
                raise RegbookError(f"build must return a keras.Model, got {type(model).__name__}.")
            members.append(model)
            opts.append(_clone_optimizer(optimizer, setting, lr))
            keys.append((label, seed))
            datasets.append(ds)
            if sample_weight is not None:
                weights.append(np.asarray(sample_weight(seed, setting), dtype="float32"))
    task = datasets[0].task
    x_train = _same("training inputs", [d.x_train for d in datasets])
    y_train = np.stack([d.y_train for d in datasets], axis=1)
    n = len(x_train)
    if weights and any(w.shape != (n,) for w in weights):
        raise RegbookError(f"sample_weight must return one weight per training example ({n}).")
    batch_size = n if batch_size is None else min(check_positive_int("batch_size", batch_size), n)
    steps = math.ceil(n / batch_size)
    pop = PopulationModel(members, opts, task)
    # A placeholder optimizer: each member's own optimizer does the work in train_step.
    pop.compile(optimizer=keras.optimizers.SGD(0.0), steps_per_execution=steps, jit_compile=False)
    for opt, m in zip(opts, members, strict=True):
        opt.build(m.trainable_variables)  # slots now, not while tracing (traced once)
    tensors = (x_train, y_train) + ((np.stack(weights, axis=1),) if weights else ())
    shuffle = seeds[0] if shuffle_seed is None else int(shuffle_seed)
    # tf.data combines the op seed with TensorFlow's global seed: fix both, so the batch
    # order is that of training.train(seed=shuffle) whatever member was built last.
    tf.random.set_seed(shuffle)
    train_ds = (
        tf.data.Dataset.from_tensor_slices(tensors)
        .cache()
        .shuffle(n, seed=shuffle, reshuffle_each_iteration=True)
        .batch(batch_size)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    evaluator = _Evaluate(pop, x_train, y_train)
    splits = {
        "train": (x_train, y_train),
        "val": (
            _same("validation inputs", [d.x_val for d in datasets]),
            np.stack([d.y_val for d in datasets], axis=1),
        ),
        "test": (
            _same("test inputs", [d.x_test for d in datasets]),
            np.stack([d.y_test for d in datasets], axis=1),
        ),
    }
    monitor = _Monitor(
        evaluator, *splits["val"], validation_freq, restore_best, patience, keep_last
    )
    start = time.perf_counter()
    hist = pop.fit(
        train_ds,
        epochs=epochs,
        steps_per_epoch=steps,
        shuffle=False,
        verbose=0,
        callbacks=[monitor],
    )
    wall = time.perf_counter() - start
    for s in evaluate:
        check_choice("split", s, splits)
    last_pop = None
    if keep_last:
        best_weights = [m.get_weights() for m in members]
        last_models = []
        for m, w, (label, seed) in zip(members, monitor.last, keys, strict=True):
            m.set_weights(w)
            keras.utils.set_random_seed(seed)
            twin = build(seed, **settings[label])
            twin.set_weights(w)
            last_models.append(twin)
        finals_last = {s: evaluator(*splits[s]) for s in evaluate}
        for m, w in zip(members, best_weights, strict=True):
            m.set_weights(w)
    finals = {s: evaluator(*splits[s]) for s in evaluate}
    result = Population()
    result.wall_time = wall
    val_epochs = np.array([e for e, _ in monitor.val], dtype=int)
    # (epochs, members, what): the training-mode means of each epoch
    trained = np.stack([np.asarray(v, dtype=float) for v in hist.history[pop.tracker.name]])

    def make_run(i, label, seed, history, finals, model, best):
        model(x_train[:4096], training=False)  # eager: activity penalties as numbers
        final = {"penalty": float(sum(float(v) for v in model.losses))}
        for split, res in finals.items():
            for what in ("loss", "data_loss", "accuracy"):
                if task == "classification" or what != "accuracy":
                    final[f"{split}_{what}"] = float(res[what][i])
        if "train_data_loss" in final and "val_data_loss" in final:
            final["gap"] = final["val_data_loss"] - final["train_data_loss"]
        if best:
            final["best_epoch"] = float(monitor.best[i][1])
        return Run(label, seed, history, final, wall, epochs, model)

    if keep_last:
        last_pop = Population()
        last_pop.wall_time = wall
    for i, (label, seed) in enumerate(keys):
        history = {"epoch": np.arange(1, epochs + 1)}
        for j, what in enumerate(pop.whats):
            history[what] = trained[:, i, j]
            full = np.full(epochs, np.nan)
            full[val_epochs - 1] = [res[what][i] for _, res in monitor.val]
            history[f"val_{what}"] = full
        run = make_run(i, label, seed, history, finals, members[i], restore_best is not None)
        result.setdefault(label, Runs()).append(run)
        if keep_last:
            twin = make_run(i, label, seed, history, finals_last, last_models[i], False)
            last_pop.setdefault(label, Runs()).append(twin)
    result.last = last_pop
    if progress:
        print(
            f"trained {len(members)} models ({len(settings)} settings × {len(seeds)} seeds) "
            f"for {epochs} epochs in {wall:.1f} s",
            file=sys.stdout,
        )
    return result
