"""Datasets (chapter 1): offline by default (``digits``, ``mnist1d``, synthetic ones), online
ones (``mnist``, ``cifar10``, ...) through ``keras.datasets`` only when asked.

Without network, online datasets raise :class:`~regbook.errors.OfflineDatasetError`,
which names the offline stand-in. Every loader's ``seed`` fixes the split.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.model_selection import train_test_split

from .errors import (
    OfflineDatasetError,
    RegbookError,
    check_choice,
    check_nonnegative,
    check_positive_int,
    check_probability,
    check_seed,
)

__all__ = ["Dataset", "load", "OFFLINE", "ONLINE", "polynomial_target", "mnist1d_arrays"]

OFFLINE = (
    "digits",
    "digits_images",
    "mnist1d",
    "polynomial",
    "wide_regression",
    "moons",
    "circles",
)
ONLINE = ("mnist", "fashion_mnist", "cifar10", "imdb")
#: The offline dataset to use instead of each online one.
OFFLINE_ALTERNATIVE = {
    "mnist": "digits",
    "fashion_mnist": "mnist1d",
    "cifar10": "digits_images",
    "imdb": "wide_regression",
}


@dataclass
class Dataset:
    """Arrays of one dataset, split and scaled: ``x_train``, ``y_train``, ..., ``info``."""

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input example."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        """Width of the model's output layer (classes, or 1 for regression)."""
        return self.n_classes if self.task == "classification" else 1

    def subset(self, n_train: int, seed: int = 0) -> Dataset:
        """The dataset with only ``n_train`` training examples (stratified); val/test unchanged."""
        n_train = check_positive_int("n_train", n_train)
        if n_train > len(self.y_train):
            raise RegbookError(
                f"n_train={n_train} exceeds the {len(self.y_train)} training examples of "
                f"{self.name!r}; load more data or ask for fewer."
            )
        if n_train == len(self.y_train):
            return self
        strat = self.y_train if self.task == "classification" else None
        if strat is not None and n_train < self.n_classes:
            strat = None
        idx, _ = train_test_split(
            np.arange(len(self.y_train)), train_size=n_train, stratify=strat, random_state=seed
        )
        return replace(self, x_train=self.x_train[idx], y_train=self.y_train[idx])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {self.task}, input_shape={self.input_shape}, "
            f"train/val/test={len(self.y_train)}/{len(self.y_val)}/{len(self.y_test)}"
            + (f", n_classes={self.n_classes})" if self.n_classes else ")")
        )


def _split(
    x, y, *, seed, val_fraction, test_fraction, stratify, name, task, n_classes=None, info=None
) -> Dataset:
    for label, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if check_probability(label, frac) in (0.0, 1.0):
            raise RegbookError(f"{label} must be in (0, 1), got {frac!r}.")
    if val_fraction + test_fraction >= 1:
        raise RegbookError("val_fraction + test_fraction must leave some training data (< 1).")
    strat = y if stratify else None
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=strat, random_state=seed
    )
    strat = y_rest if stratify else None
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest,
        y_rest,
        test_size=val_fraction / (1 - test_fraction),
        stratify=strat,
        random_state=seed + 1,
    )
    return Dataset(
        name,
        task,
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        n_classes=n_classes,
        info=info or {},
    )


# ---------------------------------------------------------------- offline datasets
def _digits(images: bool):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    if images:
        x = x.reshape(-1, 8, 8, 1)
    return x, d.target.astype("int64")


@functools.lru_cache(maxsize=4)
def mnist1d_arrays(num_samples: int):
    """``num_samples`` MNIST-1D sequences ``(n, 40)`` and labels, from the package's generator."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.train_split = 1.0  # we split ourselves
    state = np.random.get_state()  # the generator reseeds NumPy's global RNG; restore it
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(state)
    return d["x"].astype("float32"), d["y"].astype("int64")


def polynomial_target(kind: str = "cubic") -> Callable[[np.ndarray], np.ndarray]:
    """The ``polynomial`` dataset's true function: ``"cubic"`` (2x³ − x) or ``"sine"``."""
    check_choice("target", kind, ("cubic", "sine"))
    if kind == "cubic":
        return lambda x: 2.0 * x**3 - x
    return lambda x: np.sin(np.pi * x)


def _polynomial(n_samples: int, noise: float, target: str, seed: int):
    f = polynomial_target(target)
    rng = np.random.default_rng(seed + 10_007)
    x = rng.uniform(-1, 1, size=n_samples)
    y = f(x) + noise * rng.standard_normal(n_samples)
    return x[:, None].astype("float64"), y, {"f": f, "noise": noise, "target": target}


# ---------------------------------------------------------------- online datasets
def _online(name: str):
    if os.environ.get("REGBOOK_OFFLINE", "").strip() not in ("", "0"):
        reason = "REGBOOK_OFFLINE is set"
    else:
        import keras

        loader = getattr(keras.datasets, name)
        try:
            if name == "imdb":
                return loader.load_data(num_words=10_000)
            return loader.load_data()
        except Exception as exc:  # no network: URLError, OSError, ... from keras' get_file
            reason = f"the download failed ({type(exc).__name__})"
    alt = OFFLINE_ALTERNATIVE[name]
    raise OfflineDatasetError(
        f"The online dataset {name!r} is not available: {reason}. It is downloaded once by "
        f"keras.datasets and cached in ~/.keras/datasets, so it needs internet the first "
        f"time. Offline, use regbook.data.load({alt!r}) instead."
    ) from None


def _multi_hot(sequences, num_words: int) -> np.ndarray:
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for i, seq in enumerate(sequences):
        out[i, [w for w in seq if w < num_words]] = 1.0
    return out


# ---------------------------------------------------------------- the one entry point
def load(
    name: str,
    *,
    seed: int = 0,
    n_train: int | None = None,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    **options,
) -> Dataset:
    """Load a dataset by name, split by ``seed``; images scaled to [0, 1], MNIST-1D standardised.

    Args:
        n_train: keep only this many training examples (stratified); None keeps all.
        val_fraction, test_fraction: shares for validation and test (online datasets keep
            their official test set).
        **options: per dataset, e.g. ``num_samples`` (mnist1d), ``n_samples``, ``noise``,
            ``target`` (polynomial), ``n_features``, ``n_informative`` (wide_regression).
    """
    if not isinstance(name, str):
        raise RegbookError(f"Dataset name must be a string, got {name!r}.")
    check_choice("dataset", name, OFFLINE + ONLINE)
    seed = check_seed("seed", seed)
    if n_train is not None:
        n_train = check_positive_int("n_train", n_train)
    split = dict(seed=seed, val_fraction=val_fraction, test_fraction=test_fraction, name=name)

    def opt(key, default):
        return options.pop(key, default)

    if name in ("digits", "digits_images"):
        x, y = _digits(images=name == "digits_images")
        ds = _split(x, y, stratify=True, task="classification", n_classes=10, **split)
    elif name == "mnist1d":
        x, y = mnist1d_arrays(check_positive_int("num_samples", opt("num_samples", 4000)))
        ds = _split(x, y, stratify=True, task="classification", n_classes=10, **split)
    elif name == "polynomial":
        x, y, info = _polynomial(
            check_positive_int("n_samples", opt("n_samples", 60)),
            check_nonnegative("noise", opt("noise", 0.3), hint="a standard deviation"),
            opt("target", "cubic"),
            seed,
        )
        ds = _split(x, y, stratify=False, task="regression", info=info, **split)
    elif name == "wide_regression":
        from sklearn.datasets import make_regression

        x, y, coef = make_regression(
            n_samples=check_positive_int("n_samples", opt("n_samples", 100)),
            n_features=check_positive_int("n_features", opt("n_features", 200)),
            n_informative=check_positive_int("n_informative", opt("n_informative", 10)),
            noise=check_nonnegative("noise", opt("noise", 1.0), hint="a standard deviation"),
            coef=True,
            random_state=seed,
        )
        scale = np.abs(y).std()
        ds = _split(
            x.astype("float32"),
            (y / scale).astype("float32"),
            stratify=False,
            task="regression",
            info={"coef": coef / scale},
            **split,
        )
    elif name in ("moons", "circles"):
        from sklearn import datasets as skd

        maker = skd.make_moons if name == "moons" else skd.make_circles
        kw = {"factor": 0.5} if name == "circles" else {}
        x, y = maker(
            n_samples=check_positive_int("n_samples", opt("n_samples", 400)),
            noise=check_nonnegative("noise", opt("noise", 0.25), hint="a standard deviation"),
            random_state=seed,
            **kw,
        )
        ds = _split(
            x.astype("float32"),
            y.astype("int64"),
            stratify=True,
            task="classification",
            n_classes=2,
            **split,
        )
    else:
        (x, y), (x_test, y_test) = _online(name)
        if name == "imdb":
            x, x_test = _multi_hot(x, 10_000), _multi_hot(x_test, 10_000)
            n_classes = 2
        else:
            x = x.astype("float32") / 255.0
            x_test = x_test.astype("float32") / 255.0
            if x.ndim == 3:
                x, x_test = x[..., None], x_test[..., None]
            n_classes = 10
        y, y_test = y.reshape(-1).astype("int64"), y_test.reshape(-1).astype("int64")
        x_train, x_val, y_train, y_val = train_test_split(
            x, y, test_size=val_fraction, stratify=y, random_state=seed
        )
        ds = Dataset(
            name,
            "classification",
            x_train,
            y_train,
            x_val,
            y_val,
            x_test,
            y_test,
            n_classes=n_classes,
        )
    if options:
        raise RegbookError(f"Unknown option(s) for {name!r}: {', '.join(sorted(options))}.")
    return ds.subset(n_train, seed=seed) if n_train is not None else ds
