"""regbook.compat: the penalty of LogisticRegression, spelled for this scikit-learn."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from regbook import RegbookError, compat


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 30))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def test_l1_and_l2_fit_what_they_say_without_warnings():
    x, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a FutureWarning would show on the page
        penalty = compat.logistic_penalty
        l1 = LogisticRegression(C=0.1, solver="liblinear", **penalty(1.0))
        l2 = LogisticRegression(C=0.1, solver="liblinear", **penalty(0.0))
        l1.fit(x, y)
        l2.fit(x, y)
    assert np.count_nonzero(l1.coef_) <= 5  # L1: exact zeros
    assert np.count_nonzero(l2.coef_) == 30  # L2: none


@pytest.mark.parametrize(
    ("version", "ratio", "expected"),
    [
        ((1, 6), 1.0, {"penalty": "l1"}),
        ((1, 6), 0.0, {"penalty": "l2"}),
        ((1, 7), 0.5, {"penalty": "elasticnet", "l1_ratio": 0.5}),
        ((1, 8), 1.0, {"l1_ratio": 1.0}),
        ((2, 0), 0.0, {"l1_ratio": 0.0}),
    ],
)
def test_spelling_per_version(monkeypatch, version, ratio, expected):
    monkeypatch.setattr(compat, "_sklearn_version", lambda: version)
    assert compat.logistic_penalty(ratio) == expected


def test_version_parsing(monkeypatch):
    monkeypatch.setattr(compat.sklearn, "__version__", "1.10.dev0")
    assert compat._sklearn_version() == (1, 10)


def test_bad_ratio():
    with pytest.raises(RegbookError, match="l1_ratio must be in"):
        compat.logistic_penalty(1.5)
