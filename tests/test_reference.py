"""NumPy reference implementations, checked against closed forms and finite differences."""

import numpy as np
import pytest

from regbook.reference.biasvar import bias_variance, fit_polynomial
from regbook.reference.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    f = lambda v: float(v @ A @ v + np.sin(v).sum())  # noqa: E731
    analytic = (A + A.T) @ x + np.cos(x)
    assert relative_error(numerical_gradient(f, x), analytic) < 1e-8


def test_fit_polynomial_equals_monomial_least_squares():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 30)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(30)
    p = fit_polynomial(x, y, 5)
    coef = np.polyfit(x, y, 5)
    grid = np.linspace(-1, 1, 11)
    np.testing.assert_allclose(p(grid), np.polyval(coef, grid), atol=1e-8)


def test_bias_variance_terms_on_a_constructed_example():
    # predictions = truth + offset + zero-mean spread: bias² = offset², variance = spread².
    f = np.array([0.0, 1.0, 2.0])
    spread = np.array([[1.0], [-1.0]]) * np.ones((2, 3))
    preds = f + 0.5 + spread
    t = bias_variance(preds, f, noise_var=0.2)
    assert t["bias2"] == pytest.approx(0.25)
    assert t["variance"] == pytest.approx(1.0)
    assert t["total"] == pytest.approx(1.45)


def test_bias_variance_decomposition_adds_up_by_simulation():
    rng = np.random.default_rng(2)
    f = np.sin
    x_test = np.linspace(-1, 1, 50)
    preds = []
    for _ in range(400):
        x = rng.uniform(-1, 1, 20)
        preds.append(fit_polynomial(x, f(x) + 0.3 * rng.standard_normal(20), 2)(x_test))
    preds = np.array(preds)
    t = bias_variance(preds, f(x_test), 0.09)
    y_new = f(x_test) + 0.3 * rng.standard_normal(preds.shape)
    measured = np.mean((y_new - preds) ** 2)
    assert t["total"] == pytest.approx(measured, rel=0.03)
