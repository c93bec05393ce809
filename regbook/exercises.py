"""Auto-checks for exercises: call ``check(...)`` with your answer to get a one-line verdict.

Introduced in chapter 1 (Exercises).
"""

from __future__ import annotations

import numpy as np

__all__ = ["check"]


def check(
    answer,
    expected,
    *,
    what: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hint: str = "",
) -> None:
    """Print a one-line verdict on an exercise answer; raise ``AssertionError`` if it is wrong.

    Args:
        what: how to name the quantity in the message.
        rtol, atol: tolerances as in ``numpy.allclose``.
    """
    a, e = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    if a.shape != e.shape:
        raise AssertionError(f"{what} has shape {a.shape}, expected {e.shape}. {hint}".strip())
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(a - e)))
        raise AssertionError(f"{what} is off by up to {err:.3g}. {hint}".strip())
    print(f"✓ {what} is correct.")
