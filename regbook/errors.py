"""Errors raised by regbook, and the small validators that raise them.

Every public function checks its arguments *before* calling into Keras, so a reader who
passes a bad value sees one line that says what was wrong and what to do, not a deep
TensorFlow stack trace. Introduced in chapter 1 (Setup).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = [
    "RegbookError",
    "OfflineDatasetError",
    "check_choice",
    "check_nonnegative",
    "check_positive_int",
    "check_rate",
]


class RegbookError(ValueError):
    """A bad argument to a regbook function. The message says what to change."""


class OfflineDatasetError(RegbookError):
    """An online dataset was requested but could not be downloaded."""


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``float(value)`` or raise if it is negative or not a finite number.

    Args:
        name: the argument's name, used in the message (e.g. ``"lambda_"``).
        value: the value to check.

    Returns:
        The value as a float.
    """
    if not _is_number(value):
        raise RegbookError(f"{name} must be a finite number, got {value!r}.")
    if float(value) < 0:
        raise RegbookError(
            f"{name} must be >= 0 (a regularization strength cannot be negative), got {value!r}."
        )
    return float(value)


def check_rate(name: str, value: Any) -> float:
    """Return a dropout-style rate as float, or raise unless ``0 <= value < 1``.

    Args:
        name: the argument's name, used in the message (e.g. ``"dropout"``).
        value: the fraction of units to drop.

    Returns:
        The rate as a float.
    """
    if not _is_number(value) or not 0.0 <= float(value) < 1.0:
        raise RegbookError(
            f"{name} must be in [0, 1) (the fraction of units dropped; 1 would drop "
            f"everything), got {value!r}."
        )
    return float(value)


def check_positive_int(name: str, value: Any) -> int:
    """Return ``int(value)`` or raise unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise RegbookError(f"{name} must be a positive integer, got {value!r}.")
    if value < 1:
        raise RegbookError(f"{name} must be >= 1, got {value!r}.")
    return int(value)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing the valid ones."""
    options = list(choices)
    if value not in options:
        raise RegbookError(
            f"Unknown {name} {value!r}. Choose one of: {', '.join(repr(c) for c in options)}."
        )
    return value
