"""Arguments whose spelling differs between the library versions the book runs on:
Colab's and the newest. Introduced in chapter 12.

scikit-learn 1.8 changed how ``LogisticRegression`` is told its penalty: ``l1_ratio``
alone decides (0 is L2, 1 is L1), and ``penalty`` is deprecated (a ``FutureWarning``).
Up to 1.7, ``l1_ratio`` is silently ignored unless ``penalty="elasticnet"``, so
``l1_ratio=1.0`` alone fits an L2 model there.
"""

from __future__ import annotations

import sklearn

from .errors import check_probability

__all__ = ["logistic_penalty"]


def _sklearn_version() -> tuple[int, int]:
    major, minor = sklearn.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def logistic_penalty(l1_ratio: float) -> dict:
    """The penalty arguments of scikit-learn's ``LogisticRegression`` for an L1 share
    ``l1_ratio`` (1 is L1, 0 is L2), spelled for the installed version (chapter 12).

    Use it as ``LogisticRegression(C=C, **logistic_penalty(1.0), solver="liblinear")``.
    """
    ratio = check_probability("l1_ratio", l1_ratio)
    if _sklearn_version() >= (1, 8):
        return {"l1_ratio": ratio}
    if ratio == 1.0:
        return {"penalty": "l1"}
    if ratio == 0.0:
        return {"penalty": "l2"}
    return {"penalty": "elasticnet", "l1_ratio": ratio}
