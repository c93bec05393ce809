"""Errors raised by regbook, and the shared validators that raise them (chapter 1, Setup).

Public functions check their arguments before calling Keras, so a bad value gives one
line saying what to change. One check per kind; NumPy scalars pass wherever Python
numbers do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "RegbookError",
    "OfflineDatasetError",
    "check_choice",
    "check_finite_array",
    "check_nonnegative",
    "check_nonnegative_int",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_rate",
    "check_seed",
]

#: Argument names that are regularization strengths (their messages say so).
_STRENGTHS = frozenset({"lambda_", "lambda", "λ", "l1", "l2", "weight_decay"})


class RegbookError(ValueError):
    """A bad argument to a regbook function. The message says what to change."""


class OfflineDatasetError(RegbookError):
    """An online dataset was requested but could not be downloaded."""


def _show(value: Any) -> str:
    """``repr(value)``, with NumPy scalars shown as Python numbers (``-1.0``, not
    ``np.float64(-1.0)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _is_number(value: Any) -> bool:
    """A finite real number: Python or NumPy, not a bool or a string."""
    if isinstance(value, bool | np.bool_ | str | bytes):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _with_hint(hint: str | None) -> str:
    return f" ({hint})" if hint else ""


def check_nonnegative(name: str, value: Any, *, hint: str | None = None) -> float:
    """Return ``float(value)``, or raise if it is negative or not a finite number.

    Args:
        name: the quantity as the reader passed it (e.g. ``"lambda_"``), named in the message.
        hint: a few words on why, added in parentheses.
    """
    if not _is_number(value):
        raise RegbookError(f"{name} must be a finite number, got {_show(value)}.")
    if float(value) < 0:
        if hint is None and name in _STRENGTHS:
            hint = "a regularization strength cannot be negative"
        raise RegbookError(f"{name} must be >= 0{_with_hint(hint)}, got {_show(value)}.")
    return float(value)


def check_positive(name: str, value: Any, *, hint: str | None = None) -> float:
    """Return ``float(value)``, or raise unless it is a finite number > 0 (e.g. a learning rate)."""
    if not _is_number(value):
        raise RegbookError(f"{name} must be a finite number > 0, got {_show(value)}.")
    if float(value) <= 0:
        why = f"; {hint}" if hint else ""
        raise RegbookError(f"{name} must be positive (> 0{why}), got {_show(value)}.")
    return float(value)


def check_probability(name: str, value: Any, *, hint: str | None = None) -> float:
    """Return ``float(value)``, or raise unless ``0 <= value <= 1``."""
    if not _is_number(value) or not 0.0 <= float(value) <= 1.0:
        raise RegbookError(f"{name} must be in [0, 1]{_with_hint(hint)}, got {_show(value)}.")
    return float(value)


def check_rate(name: str, value: Any) -> float:
    """Return a dropout-style rate as float, or raise unless ``0 <= value < 1``."""
    if not _is_number(value) or not 0.0 <= float(value) < 1.0:
        raise RegbookError(
            f"{name} must be in [0, 1) (the fraction of units dropped; 1 would drop "
            f"everything), got {_show(value)}."
        )
    return float(value)


def check_positive_int(name: str, value: Any) -> int:
    """Return ``int(value)``, or raise unless it is a whole number >= 1 (``3.0`` passes)."""
    if not _is_number(value) or int(value) != float(value):
        raise RegbookError(f"{name} must be a positive integer, got {_show(value)}.")
    if value < 1:
        raise RegbookError(f"{name} must be >= 1, got {_show(value)}.")
    return int(value)


def check_nonnegative_int(name: str, value: Any) -> int:
    """Return ``int(value)`` or raise unless it is an integer >= 0 (Python or NumPy)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 0:
        raise RegbookError(f"{name} must be an integer >= 0, got {_show(value)}.")
    return int(value)


def check_seed(name: str, value: Any) -> int:
    """Return a seed as ``int``, or raise unless it is an integer >= 0 (not a bool or float)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise RegbookError(f"{name} must be an integer such as 0 or 42, got {_show(value)}.")
    if value < 0:
        raise RegbookError(f"{name} must be >= 0 (NumPy refuses negative seeds), got {value}.")
    return int(value)


def check_finite_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array, or raise if it is not numeric or holds NaN or inf."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise RegbookError(
            f"{name} must be an array of numbers, got {type(value).__name__}."
        ) from None
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise RegbookError(
            f"{name} must contain only finite numbers, but {bad} of its {arr.size} value(s) "
            "are NaN or inf: check where they come from (a diverged run? missing data?)."
        )
    return arr


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing the valid ones."""
    options = list(choices)
    if value not in options:
        raise RegbookError(
            f"Unknown {name} {value!r}. Choose one of: {', '.join(repr(c) for c in options)}."
        )
    return value
