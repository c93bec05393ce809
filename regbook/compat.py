"""Arguments whose spelling differs between Colab's library versions and the newest (chapter 12).

scikit-learn 1.8 lets ``l1_ratio`` alone choose ``LogisticRegression``'s penalty; up to
1.7 ``l1_ratio`` is silently ignored unless ``penalty="elasticnet"``.
"""

from __future__ import annotations

import sklearn

from .errors import check_probability

__all__ = ["logistic_penalty"]


def _sklearn_version() -> tuple[int, int]:
    major, minor = sklearn.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def logistic_penalty(l1_ratio: float) -> dict:
    """``LogisticRegression`` penalty arguments for L1 share ``l1_ratio`` (installed version)."""
    ratio = check_probability("l1_ratio", l1_ratio)
    if _sklearn_version() >= (1, 8):
        return {"l1_ratio": ratio}
    if ratio == 1.0:
        return {"penalty": "l1"}
    if ratio == 0.0:
        return {"penalty": "l2"}
    return {"penalty": "elasticnet", "l1_ratio": ratio}
