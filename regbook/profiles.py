"""Run profiles: how big the experiments are on this machine.

``quick`` is the CPU profile (the default without a GPU, and in CI): small data, few
epochs, five seeds (the evidence standard), each chapter in about a minute on two cores.
``full`` is picked automatically when TensorFlow sees a GPU and runs the full-size experiments. The
environment variables ``REGBOOK_PROFILE`` and ``REGBOOK_SEED`` override both choices.
Introduced in chapter 1 (Setup).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import RegbookError, check_choice

__all__ = ["Profile", "PROFILES", "get_profile", "get_seed", "gpu_available"]


@dataclass(frozen=True)
class Profile:
    """Sizes that a chapter reads instead of hard-coding them.

    Attributes:
        name: ``"quick"`` or ``"full"``.
        n_seeds: how many seeds an experiment that compares settings repeats over.
        epoch_scale: multiply a chapter's epoch counts by this.
        data_scale: multiply a chapter's training-set sizes by this (capped by the data).
        allow_online: whether chapters may reach the online datasets (MNIST, CIFAR-10, ...).
        batch_size: default mini-batch size for the training runner.
    """

    name: str
    n_seeds: int
    epoch_scale: float
    data_scale: float
    allow_online: bool
    batch_size: int
    extra: dict = field(default_factory=dict)

    def epochs(self, quick: int) -> int:
        """Epoch count for this profile given the ``quick`` one."""
        return max(1, round(quick * self.epoch_scale))

    def size(self, quick: int, cap: int | None = None) -> int:
        """Dataset size for this profile given the ``quick`` one, capped at ``cap``."""
        n = max(1, round(quick * self.data_scale))
        return min(n, cap) if cap is not None else n


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick", n_seeds=5, epoch_scale=1.0, data_scale=1.0, allow_online=False, batch_size=256
    ),
    "full": Profile(
        "full", n_seeds=5, epoch_scale=3.0, data_scale=4.0, allow_online=True, batch_size=128
    ),
}


def gpu_available() -> bool:
    """Whether TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def get_profile(name: str | None = None) -> Profile:
    """Return the active profile.

    Args:
        name: ``"quick"`` or ``"full"``; if None, ``$REGBOOK_PROFILE`` decides, else
            ``full`` when a GPU is visible and ``quick`` otherwise.

    Returns:
        The :class:`Profile`.
    """
    if name is None:
        name = os.environ.get("REGBOOK_PROFILE", "").strip().lower() or None
    if name is None:
        name = "full" if gpu_available() else "quick"
    check_choice("profile", name, PROFILES)
    return PROFILES[name]


def get_seed(default: int = 0) -> int:
    """The base seed: ``$REGBOOK_SEED`` if set (an integer), else ``default``."""
    raw = os.environ.get("REGBOOK_SEED", "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RegbookError(f"REGBOOK_SEED must be an integer, got {raw!r}.") from None
