"""Choosing hyper-parameters: the one-standard-error rule, and guards that make KerasTuner
failures loud. Introduced in chapter 10, which calls scikit-learn (``ParameterGrid``,
``ParameterSampler``, ``GridSearchCV``), KerasTuner and Optuna by their own names.

Why guards? KerasTuner catches every exception raised inside a trial, marks the trial as
failed and carries on. A missing package (``tensorboard``, which KerasTuner imports in every
trial), a typo in the build function or a NaN loss therefore do not stop a search: it ends
"successfully" with failed trials and a best model chosen from whatever is left, or none.
Call :func:`check_tensorboard` before a search and :func:`check_trials` after it.
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


# ---------------------------------------------------------------- KerasTuner guards
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
