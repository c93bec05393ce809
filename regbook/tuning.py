"""The one-standard-error rule, and guards that make KerasTuner failures loud (chapter 10).

KerasTuner records an exception in a trial (missing ``tensorboard``, a typo, a NaN) as a
failed trial and carries on; call :func:`check_tensorboard` before a search and
:func:`check_trials` after it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import RegbookError, check_choice

__all__ = ["one_standard_error", "check_tensorboard", "check_trials"]


def one_standard_error(
    params: Sequence[float],
    means: Sequence[float],
    sems: Sequence[float],
    *,
    higher_is_better: bool = True,
    prefer: str = "largest",
) -> int:
    """Index of the simplest setting whose score is within one standard error of the best.

    Args:
        higher_is_better: True for accuracy, False for a loss.
        prefer: ``"largest"`` (a strength λ) or ``"smallest"`` (a size) among the eligible.
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


# ---------------------------------------------------------------- KerasTuner guards
def check_tensorboard() -> None:
    """Raise unless ``tensorboard.plugins.hparams`` imports (KerasTuner needs it in every trial)."""
    try:
        from tensorboard.plugins.hparams import api  # noqa: F401
    except ImportError as exc:
        raise RegbookError(
            "KerasTuner needs the tensorboard package (it imports tensorboard.plugins.hparams "
            f"in every trial, and every trial fails without it: {exc}). "
            "Install it with: pip install tensorboard"
        ) from None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no message)"


def check_trials(tuner) -> None:
    """Raise one line (the first trial's own error) unless every trial of ``tuner`` completed."""
    if not hasattr(tuner, "oracle"):
        raise RegbookError(f"tuner must be a KerasTuner tuner, got {type(tuner).__name__}.")
    trials = list(tuner.oracle.trials.values())
    failed = [t for t in trials if t.status in ("FAILED", "INVALID")]
    if failed:
        raise RegbookError(
            f"{len(failed)} of {len(trials)} KerasTuner trials failed; the first error was: "
            f"{_last_line(failed[0].message)}"
        )
    if not any(t.status == "COMPLETED" for t in trials):
        raise RegbookError("The KerasTuner search completed no trial (is the budget zero?).")
