"""regbook: the companion package of the executable textbook on regularization.

Import it before TensorFlow/Keras (it quiets TensorFlow's start-up log and selects the
TensorFlow backend), then call ``cfg = regbook.setup()`` once per notebook (chapter 1).
"""

from __future__ import annotations

import os

# Must happen before TensorFlow is imported anywhere. setdefault: a reader's own choice wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # also silences oneDNN's start-up notice
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from dataclasses import dataclass  # noqa: E402

from .errors import OfflineDatasetError, RegbookError  # noqa: E402
from .profiles import Profile, get_profile, get_seed  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Config",
    "setup",
    "banner",
    "glue",
    "RegbookError",
    "OfflineDatasetError",
    "__version__",
]


@dataclass(frozen=True)
class Config:
    """What :func:`setup` chose: ``profile``, base ``seed`` and ``seeds``."""

    profile: Profile
    seed: int

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.profile.n_seeds)]


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for g in gpus:
            try:
                names.append(
                    tf.config.experimental.get_device_details(g).get("device_name", g.name)
                )
            except Exception:  # pragma: no cover - depends on the driver
                names.append(g.name)
        return "GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


def banner(cfg: Config) -> str:
    """The one-line summary printed by :func:`setup`."""
    import keras
    import tensorflow as tf

    return (
        f"regbook {__version__} | TensorFlow {tf.__version__} | Keras {keras.__version__} | "
        f"device: {_device()} | profile: {cfg.profile.name} | seed: {cfg.seed}"
    )


def setup(seed: int = 0, profile: str | None = None, quiet: bool = False) -> Config:
    """Choose profile and seed, seed everything, set the plot style and print a banner (chapter 1).

    Args:
        seed: the notebook's default base seed; ``$REGBOOK_SEED`` overrides it.
        profile: ``"quick"`` or ``"full"``; default ``$REGBOOK_PROFILE``, else by GPU.
    """
    import keras
    import tensorflow as tf

    from . import plots

    tf.get_logger().setLevel("ERROR")
    cfg = Config(get_profile(profile), get_seed(seed))
    keras.utils.set_random_seed(cfg.seed)
    plots.set_style()
    if not quiet:
        print(banner(cfg))
    return cfg


def glue(name: str | None = None, value=None, display: bool = False, **values) -> None:
    """Make values available to the prose as ``{glue:text}`name``` (chapter 1).

    Call ``glue("ch5_gap", gap)`` or ``glue(ch5_gap=gap, ch5_n=n)``; outside a book build
    (e.g. Colab) it does nothing and returns None.
    """
    if name is not None:
        values = {name: value, **values}
    elif value is not None:
        raise RegbookError("glue: give a name with the value, or use keyword arguments.")
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - Colab
        return
    for key, val in values.items():
        if hasattr(val, "item") and getattr(val, "shape", None) == ():
            val = val.item()  # NumPy scalar -> Python number: myst-nb formats its repr
        _glue(key, val, display=display)
