"""Run profiles: how big the experiments are on this machine (chapter 1, Setup).

``quick`` (CPU, CI): small data, few epochs, five seeds; ``full`` (chosen when TensorFlow
sees a GPU): full-size runs. ``REGBOOK_PROFILE`` and ``REGBOOK_SEED`` override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import RegbookError, check_choice

__all__ = ["Profile", "PROFILES", "get_profile", "get_seed", "gpu_available"]


@dataclass(frozen=True)
class Profile:
    """Sizes a chapter reads instead of hard-coding them (``n_seeds``, scales, batch size)."""

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
    """Return the active :class:`Profile` (``name``, else ``$REGBOOK_PROFILE``, else by GPU)."""
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
