"""Choosing hyper-parameters: search designs on log scales, k-fold cross-validation of Keras
models driven by scikit-learn splitters, the one-standard-error rule, and a guard that makes
KerasTuner failures loud. Introduced in chapter 10.

Why a guard? KerasTuner catches every exception raised inside a trial, marks the trial as
failed and carries on. A missing package (``tensorboard``, which KerasTuner imports in every
trial), a typo in the build function or a NaN loss therefore do not stop a search: it ends
"successfully" with failed trials and a best model chosen from whatever is left — or none.
:func:`run_search` checks ``tensorboard`` first and raises :class:`~regbook.errors.RegbookError`
if any trial failed or none completed.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import math
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import keras
import numpy as np

from .data import Dataset
from .errors import RegbookError, check_choice, check_positive_int
from .training import Runs, Validation, pipeline, train

__all__ = [
    "log_grid",
    "log_uniform",
    "grid_design",
    "random_design",
    "CVResult",
    "cross_validate",
    "one_standard_error",
    "check_tensorboard",
    "TUNERS",
    "make_tuner",
    "run_search",
    "trials_table",
]

#: The KerasTuner classes :func:`make_tuner` knows, by short name.
TUNERS = ("random", "grid", "bayesian", "hyperband")


def _check_range(name: str, low, high, *, log: bool) -> tuple[float, float]:
    try:
        lo, hi = float(low), float(high)
    except (TypeError, ValueError):
        raise RegbookError(
            f"{name}: low and high must be numbers, got {low!r}, {high!r}."
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        raise RegbookError(f"{name}: need finite low < high, got low={low!r}, high={high!r}.")
    if log and lo <= 0:
        raise RegbookError(
            f"{name}: a log-scale range needs low > 0 (strengths and learning rates are "
            f"positive; use a small value such as 1e-6 instead of 0), got low={low!r}."
        )
    return lo, hi


def log_grid(low: float, high: float, num: int) -> np.ndarray:
    """``num`` values from ``low`` to ``high`` (both included), evenly spaced in log10.

    Args:
        low, high: the range, ``0 < low < high``.
        num: number of grid points (>= 2).

    Returns:
        Array of shape ``(num,)``, e.g. ``log_grid(1e-4, 1e-1, 4)`` = 1e-4, 1e-3, 1e-2, 1e-1.
    """
    lo, hi = _check_range("log_grid", low, high, log=True)
    if check_positive_int("num", num) < 2:
        raise RegbookError("num must be >= 2 for a grid that includes both ends.")
    return np.logspace(math.log10(lo), math.log10(hi), int(num))


def log_uniform(low: float, high: float, size: int, *, seed: int = 0) -> np.ndarray:
    """``size`` random values whose log10 is uniform on ``[log10 low, log10 high]``.

    Each decade gets the same share of the samples, which is what a strength or learning
    rate needs: 1e-4 to 1e-3 matters as much as 1e-2 to 1e-1.

    Args:
        low, high: the range, ``0 < low < high``.
        size: number of samples.
        seed: seed of the NumPy generator.

    Returns:
        Array of shape ``(size,)``.
    """
    lo, hi = _check_range("log_uniform", low, high, log=True)
    rng = np.random.default_rng(seed)
    return 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), check_positive_int("size", size))


def grid_design(axes: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the given values (a full factorial grid).

    Args:
        axes: ``{name: values}``; the first name varies slowest.

    Returns:
        A list of ``prod(len(values))`` dicts ``{name: value}``.
    """
    if not isinstance(axes, Mapping) or not axes:
        raise RegbookError("axes must be a non-empty mapping {name: list of values}.")
    for name, values in axes.items():
        if (
            isinstance(values, str)
            or not isinstance(values, Sequence | np.ndarray)
            or not len(values)
        ):
            raise RegbookError(f"axis {name!r} needs a non-empty list of values, got {values!r}.")
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def random_design(ranges: Mapping[str, tuple], n: int, *, seed: int = 0) -> list[dict[str, float]]:
    """``n`` random points, each coordinate drawn independently from its range.

    Args:
        ranges: ``{name: (low, high)}`` (log-uniform) or ``{name: (low, high, scale)}``
            with ``scale`` ``"log"`` or ``"linear"``.
        n: number of points.
        seed: seed of the NumPy generator.

    Returns:
        A list of ``n`` dicts ``{name: value}``.
    """
    if not isinstance(ranges, Mapping) or not ranges:
        raise RegbookError("ranges must be a non-empty mapping {name: (low, high[, scale])}.")
    n = check_positive_int("n", n)
    rng = np.random.default_rng(seed)
    columns = {}
    for name, spec in ranges.items():
        if not isinstance(spec, tuple | list) or len(spec) not in (2, 3):
            raise RegbookError(f"range {name!r} must be (low, high) or (low, high, scale).")
        scale = spec[2] if len(spec) == 3 else "log"
        check_choice(f"scale of {name!r}", scale, ("log", "linear"))
        lo, hi = _check_range(name, spec[0], spec[1], log=scale == "log")
        if scale == "log":
            columns[name] = 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), n)
        else:
            columns[name] = rng.uniform(lo, hi, n)
    return [{k: float(v[i]) for k, v in columns.items()} for i in range(n)]


# ---------------------------------------------------------------- cross-validation
@dataclass
class CVResult:
    """The runs of one k-fold cross-validation.

    Attributes:
        runs: one :class:`~regbook.training.Run` per fold (fold ``i`` used seed ``seed + i``).
        folds: ``(train_indices, val_indices)`` per fold, into the pooled training +
            validation arrays.
    """

    runs: Runs
    folds: list[tuple[np.ndarray, np.ndarray]]

    @property
    def k(self) -> int:
        """Number of folds."""
        return len(self.runs)

    def values(self, key: str = "val_accuracy") -> np.ndarray:
        """``final[key]`` per fold, shape ``(k,)``."""
        return self.runs.values(key)

    def mean(self, key: str = "val_accuracy") -> float:
        """The cross-validation estimate: mean of ``final[key]`` over folds."""
        return self.runs.mean(key)

    def sem(self, key: str = "val_accuracy") -> float:
        """Standard error of the mean over folds, ``std(ddof=1) / sqrt(k)``.

        The folds share training data, so their scores are not independent; this is the
        usual, somewhat optimistic, estimate (chapter 10 discusses it).
        """
        return self.runs.std(key) / math.sqrt(self.k)


def _pooled(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([data.x_train, data.x_val]),
        np.concatenate([data.y_train, data.y_val]),
    )


def cross_validate(
    build: Callable[[int], keras.Model],
    data: Dataset,
    *,
    splitter=None,
    n_splits: int = 5,
    seed: int = 0,
    evaluate: Sequence[str] = ("train", "val"),
    **train_kwargs,
) -> CVResult:
    """k-fold cross-validation of a Keras model builder, folds from a scikit-learn splitter.

    The training and validation sets of ``data`` are pooled and re-split into k folds; each
    fold serves once as the validation set while the model trains on the other k − 1.
    The test set is never touched.

    Args:
        build: function ``seed -> uncompiled model`` (as for :func:`regbook.training.train`).
        data: a :class:`~regbook.data.Dataset`.
        splitter: any scikit-learn splitter with ``split(x, y)`` (``KFold``,
            ``StratifiedKFold``, ``RepeatedStratifiedKFold``, ...). Default:
            ``StratifiedKFold(n_splits, shuffle=True, random_state=seed)`` for
            classification, ``KFold`` for regression.
        n_splits: folds of the default splitter (>= 2).
        seed: fold ``i`` trains with seed ``seed + i``; also seeds the default splitter.
        evaluate: splits re-evaluated after training (``"train"``, ``"val"``).
        **train_kwargs: passed to :func:`regbook.training.train` (``epochs`` is required).

    Returns:
        A :class:`CVResult`; e.g. ``cv.mean("val_accuracy")``, ``cv.sem("val_accuracy")``.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if not callable(build) or isinstance(build, keras.Model):
        raise RegbookError(
            "build must be a function seed -> uncompiled model (each fold needs a fresh model)."
        )
    if not isinstance(data, Dataset):
        raise RegbookError(
            f"data must be a regbook Dataset (from regbook.data.load), got {type(data).__name__}."
        )
    if "epochs" not in train_kwargs:
        raise RegbookError("cross_validate needs epochs=... (passed on to regbook.training.train).")
    for split in evaluate:
        check_choice("split", split, ("train", "val"))
    if splitter is None:
        if check_positive_int("n_splits", n_splits) < 2:
            raise RegbookError(f"n_splits must be >= 2, got {n_splits!r}.")
        cls = StratifiedKFold if data.task == "classification" else KFold
        splitter = cls(n_splits=n_splits, shuffle=True, random_state=seed)
    elif not hasattr(splitter, "split"):
        raise RegbookError(
            f"splitter must be a scikit-learn splitter with a split(x, y) method, got {splitter!r}."
        )
    x, y = _pooled(data)
    folds, runs = [], Runs()
    for i, (tr, va) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fold = replace(
            data,
            name=f"{data.name} (fold {i + 1})",
            x_train=x[tr],
            y_train=y[tr],
            x_val=x[va],
            y_val=y[va],
            x_test=x[:0],
            y_test=y[:0],
        )
        train_kwargs.setdefault("keep_model", False)
        runs.append(train(build, fold, seed=seed + i, evaluate=tuple(evaluate), **train_kwargs))
        folds.append((tr, va))
    if len(runs) < 2:
        raise RegbookError("the splitter produced fewer than 2 folds.")
    return CVResult(runs, folds)


def one_standard_error(
    params: Sequence[float],
    means: Sequence[float],
    sems: Sequence[float],
    *,
    higher_is_better: bool = True,
    prefer: str = "largest",
) -> int:
    """The one-standard-error rule: the simplest setting whose score is within one standard
    error of the best score.

    "Simplest" means the strongest regularization, so for a strength λ it is the largest
    (``prefer="largest"``); for a size (width, degree) it is the smallest.

    Args:
        params: the hyper-parameter values, shape ``(n,)``.
        means: their mean scores (e.g. cross-validated accuracy), shape ``(n,)``.
        sems: the standard errors of those means, shape ``(n,)``.
        higher_is_better: True for accuracy, False for a loss.
        prefer: ``"largest"`` or ``"smallest"`` parameter among the eligible settings.

    Returns:
        The index of the chosen setting.
    """
    p, m, s = (np.asarray(a, dtype=float) for a in (params, means, sems))
    if p.ndim != 1 or not (p.shape == m.shape == s.shape) or p.size == 0:
        raise RegbookError(
            f"params, means and sems must be 1-D of equal, non-zero length; got shapes "
            f"{p.shape}, {m.shape}, {s.shape}."
        )
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))) or np.any(s < 0):
        raise RegbookError("means must be finite and sems finite and >= 0.")
    check_choice("prefer", prefer, ("largest", "smallest"))
    best = int(np.argmax(m) if higher_is_better else np.argmin(m))
    if higher_is_better:
        eligible = np.flatnonzero(m >= m[best] - s[best])
    else:
        eligible = np.flatnonzero(m <= m[best] + s[best])
    pick = np.argmax if prefer == "largest" else np.argmin
    return int(eligible[pick(p[eligible])])


# ---------------------------------------------------------------- KerasTuner
def check_tensorboard() -> None:
    """Raise a clear error unless TensorBoard's hparams API can be imported.

    KerasTuner (TensorFlow backend) imports ``tensorboard.plugins.hparams`` at the start of
    every trial. Without the package each trial raises ``ImportError``, which KerasTuner
    records as a failed trial and does not re-raise.
    """
    try:
        from tensorboard.plugins.hparams import api  # noqa: F401
    except ImportError as exc:
        raise RegbookError(
            "KerasTuner needs the tensorboard package (it imports tensorboard.plugins.hparams "
            f"in every trial, and every trial fails without it: {exc}). "
            "Install it with: pip install tensorboard"
        ) from None


def _tuner_classes() -> dict:
    import keras_tuner as kt

    return {
        "random": kt.RandomSearch,
        "grid": kt.GridSearch,
        "bayesian": kt.BayesianOptimization,
        "hyperband": kt.Hyperband,
    }


def make_tuner(
    kind: str,
    hypermodel,
    *,
    objective: str = "val_accuracy",
    max_trials: int | None = None,
    seed: int = 0,
    directory: str | None = None,
    **kwargs,
):
    """A KerasTuner tuner whose trial files go to a fresh temporary directory.

    Args:
        kind: ``"random"``, ``"grid"``, ``"bayesian"`` or ``"hyperband"``.
        hypermodel: a function ``hp -> compiled keras.Model`` or a ``keras_tuner.HyperModel``.
        objective: the logged metric to optimise (``"val_accuracy"`` is maximised,
            ``"val_data_loss"`` minimised; :func:`run_search` logs both).
        max_trials: number of trials (random, grid, bayesian; a grid stops early when it
            has tried every point). Hyperband takes ``max_epochs`` and ``factor`` in
            ``kwargs`` instead.
        seed: the tuner's random seed.
        directory: where trials are written; default a new temporary directory that is
            removed when Python exits (never the repository).
        **kwargs: passed to the tuner (e.g. ``num_initial_points`` for Bayesian
            optimization, ``max_epochs`` and ``factor`` for Hyperband).

    Returns:
        The tuner. It stops the search at the first failed trial
        (``max_consecutive_failed_trials=1``); run it with :func:`run_search`.
    """
    check_choice("tuner kind", kind, TUNERS)
    if not callable(hypermodel) and not hasattr(hypermodel, "build"):
        raise RegbookError("hypermodel must be a function hp -> compiled model or a HyperModel.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RegbookError(f"seed must be an integer, got {seed!r}.")
    if kind == "hyperband":
        if max_trials is not None:
            raise RegbookError(
                "Hyperband has no max_trials: its budget is max_epochs and factor (kwargs)."
            )
        if "max_epochs" not in kwargs:
            raise RegbookError("Hyperband needs max_epochs=... (the longest training).")
        check_positive_int("max_epochs", kwargs["max_epochs"])
    else:
        kwargs["max_trials"] = check_positive_int("max_trials", max_trials)
    check_tensorboard()
    if directory is None:
        directory = tempfile.mkdtemp(prefix="regbook-keras-tuner-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    kwargs.setdefault("max_consecutive_failed_trials", 1)
    return _tuner_classes()[kind](
        hypermodel,
        objective=objective,
        seed=seed,
        directory=directory,
        project_name=kind,
        overwrite=True,
        **kwargs,
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no message)"


class _BuildOptimizer(keras.callbacks.Callback):
    """Create the optimizer's slots before the first step, so that TensorFlow traces the
    training step once instead of twice (see :func:`regbook.training.train`)."""

    def on_train_begin(self, logs=None):
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)


def run_search(
    tuner,
    data: Dataset,
    *,
    epochs: int,
    batch_size: int | None = None,
    steps_per_epoch: int | None = None,
    seed: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    **fit_kwargs,
):
    """Run ``tuner.search`` on ``data`` and raise if any trial failed.

    The training set goes in as a cached, shuffled, repeated ``tf.data`` pipeline and the
    validation set is evaluated once per epoch in one compiled call (as in
    :func:`regbook.training.train`), which logs ``val_accuracy``/``val_data_loss`` for the
    tuner's objective. Hyperband resumes a trial from the weights of an earlier one but with
    a fresh optimizer; the warning Keras prints about the optimizer state is filtered.

    Args:
        tuner: a KerasTuner tuner (e.g. from :func:`make_tuner`).
        data: a :class:`~regbook.data.Dataset`; its test set is not used.
        epochs: epochs per trial (Hyperband chooses its own, up to ``max_epochs``).
        batch_size: mini-batch size; None is the full training set.
        steps_per_epoch: optimizer steps that make one "epoch" (default: one pass).
        seed: seeds the shuffling.
        callbacks: extra Keras callbacks (e.g. ``EarlyStopping``).
        **fit_kwargs: passed to ``tuner.search`` (and on to ``model.fit``).

    Returns:
        The tuner, after a search in which every trial completed.

    Raises:
        RegbookError: if tensorboard is missing, a trial failed, or no trial completed.
    """
    check_tensorboard()
    if not hasattr(tuner, "search") or not hasattr(tuner, "oracle"):
        raise RegbookError(f"tuner must be a KerasTuner tuner, got {type(tuner).__name__}.")
    if not isinstance(data, Dataset):
        raise RegbookError(
            f"data must be a regbook Dataset (from regbook.data.load), got {type(data).__name__}."
        )
    epochs = check_positive_int("epochs", epochs)
    n = len(data.y_train)
    batch_size = n if batch_size is None else min(check_positive_int("batch_size", batch_size), n)
    steps = (
        math.ceil(n / batch_size)
        if steps_per_epoch is None
        else check_positive_int("steps_per_epoch", steps_per_epoch)
    )
    validation = Validation(data.x_val, data.y_val, data.task, 1)
    # KerasTuner calls keras.backend.clear_session() before every trial, which runs
    # gc.collect() over the whole heap (~0.3 s each in a notebook that has imported
    # TensorFlow). Freezing the objects that exist now exempts them from those collections;
    # everything the search creates is still collected. Unfrozen again below.
    gc.freeze()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        try:
            tuner.search(
                pipeline(data.x_train, data.y_train, batch_size, shuffle_seed=seed, repeat=True),
                steps_per_epoch=steps,
                epochs=epochs,
                callbacks=[_BuildOptimizer(), validation, *callbacks],
                shuffle=False,
                verbose=0,
                **fit_kwargs,
            )
        except RuntimeError as exc:  # the oracle's "consecutive failures" stop
            raise RegbookError(f"A KerasTuner trial failed: {_last_line(exc)}") from None
        finally:
            gc.unfreeze()
    trials = list(tuner.oracle.trials.values())
    failed = [t for t in trials if t.status in ("FAILED", "INVALID")]
    if failed:
        raise RegbookError(
            f"{len(failed)} of {len(trials)} KerasTuner trials failed; the first error was: "
            f"{_last_line(failed[0].message)}"
        )
    if not any(t.status == "COMPLETED" for t in trials):
        raise RegbookError("The KerasTuner search completed no trial (is the budget zero?).")
    return tuner


def trials_table(tuner) -> list[dict]:
    """One dict per trial, in the order they ran: its hyper-parameters, score and status.

    KerasTuner's bookkeeping entries (``tuner/epochs`` etc.) are renamed without the prefix;
    ``epochs`` is the epoch count the trial trained to (Hyperband), else absent.

    Args:
        tuner: a tuner after :func:`run_search`.

    Returns:
        A list of dicts with keys ``trial``, ``score``, ``status`` and the hyper-parameters.
    """
    rows = []
    for trial_id in sorted(tuner.oracle.trials):
        t = tuner.oracle.trials[trial_id]
        row = {"trial": trial_id, "score": t.score, "status": t.status}
        for key, value in t.hyperparameters.values.items():
            row[key.removeprefix("tuner/")] = value
        rows.append(row)
    return rows
