"""regbook.reference.selection against scikit-learn, TensorFlow, finite differences and
simulation."""

import math

import numpy as np
import pytest
import tensorflow as tf
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel
from sklearn.linear_model import Ridge

from regbook.errors import RegbookError
from regbook.reference import selection as S
from regbook.reference.gradcheck import numerical_gradient, relative_error


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    Y = X @ rng.normal(size=(6, 3)) + 0.5 + 0.3 * rng.normal(size=(40, 3))
    return X, Y


# ---------------------------------------------------------------- ridge path
def test_ridge_path_matches_scikit_learn(problem):
    X, Y = problem
    lams = [0.0, 0.1, 3.0, 100.0]
    W, b = S.ridge_path(X, Y, lams)
    assert W.shape == (4, 6, 3) and b.shape == (4, 3)
    for i, lam in enumerate(lams):
        ref = Ridge(alpha=lam).fit(X, Y)
        np.testing.assert_allclose(W[i], ref.coef_.T, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(b[i], ref.intercept_, rtol=1e-8, atol=1e-10)


def test_ridge_path_is_a_stationary_point_of_the_objective(problem):
    X, Y = problem
    W, b = S.ridge_path(X, Y, [2.0])
    dW, db = S.ridge_gradient(W[0], b[0], X, Y, 2.0)
    assert np.abs(dW).max() < 1e-9 and np.abs(db).max() < 1e-9


def test_ridge_gradient_matches_finite_differences_and_tensorflow(problem):
    X, Y = problem
    rng = np.random.default_rng(1)
    W, b, lam = rng.normal(size=(6, 3)), rng.normal(size=3), 0.7
    dW, db = S.ridge_gradient(W, b, X, Y, lam)
    num_W = numerical_gradient(lambda w: S.ridge_objective(w, b, X, Y, lam), W)
    num_b = numerical_gradient(lambda v: S.ridge_objective(W, v, X, Y, lam), b)
    assert relative_error(dW, num_W) < 1e-7 and relative_error(db, num_b) < 1e-7
    Wt, bt = tf.Variable(W), tf.Variable(b)
    with tf.GradientTape() as tape:
        r = tf.matmul(tf.constant(X), Wt) + bt - Y
        obj = 0.5 * tf.reduce_sum(r**2) + 0.5 * lam * tf.reduce_sum(Wt**2)
    gW, gb = tape.gradient(obj, [Wt, bt])
    np.testing.assert_allclose(gW.numpy(), dW, rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), db, rtol=1e-10)
    assert float(obj) == pytest.approx(S.ridge_objective(W, b, X, Y, lam), rel=1e-12)


def test_ridge_path_shrinks_weights_as_lambda_grows(problem):
    X, Y = problem
    W, _ = S.ridge_path(X, Y[:, 0], np.logspace(-3, 4, 8))
    norms = np.linalg.norm(W.reshape(8, -1), axis=1)
    assert np.all(np.diff(norms) < 0)


def test_ridge_path_rejects_bad_input(problem):
    X, Y = problem
    with pytest.raises(RegbookError):
        S.ridge_path(X, Y[:-1], [1.0])
    with pytest.raises(RegbookError):
        S.ridge_path(X, Y, [-1.0])


# ---------------------------------------------------------------- optimism of the maximum
def test_expected_max_normal_known_values_and_simulation():
    assert S.expected_max_normal(1) == pytest.approx(0.0, abs=1e-9)
    assert S.expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-6)
    assert S.expected_max_normal(3) == pytest.approx(1.5 / math.sqrt(math.pi), rel=1e-6)
    rng = np.random.default_rng(0)
    sim = rng.standard_normal((200_000, 20)).max(axis=1).mean()
    assert S.expected_max_normal(20) == pytest.approx(sim, abs=0.01)


def test_selection_optimism_matches_a_binomial_simulation():
    rng = np.random.default_rng(1)
    p, n, k = 0.9, 200, 10
    est = rng.binomial(n, p, size=(100_000, k)) / n
    measured = est.max(axis=1).mean() - p
    assert S.selection_optimism(p, n, k) == pytest.approx(measured, rel=0.05)


@pytest.mark.parametrize("args", [(1.0, 100, 3), (0.9, 0, 3), (0.9, 100, 0), (-0.1, 10, 2)])
def test_selection_optimism_rejects_bad_input(args):
    with pytest.raises(RegbookError):
        S.selection_optimism(*args)


# ---------------------------------------------------------------- random search coverage
def test_p_random_hit_matches_simulation_and_inverse():
    rng = np.random.default_rng(2)
    w, n = 0.05, 20
    hits = (rng.uniform(size=(100_000, n)) < w).any(axis=1).mean()
    assert S.p_random_hit(w, n) == pytest.approx(hits, abs=0.005)
    assert S.n_random_trials(0.05, 0.95) == 59
    assert S.p_random_hit(0.05, 59) >= 0.95 > S.p_random_hit(0.05, 58)
    assert S.n_random_trials(0.5, 0.5) == 1
    assert S.p_random_hit(1.0, 1) == 1.0


@pytest.mark.parametrize("args", [(0.0, 3), (1.5, 3), (0.1, 0)])
def test_p_random_hit_rejects_bad_input(args):
    with pytest.raises(RegbookError):
        S.p_random_hit(*args)


# ---------------------------------------------------------------- Gaussian process, UCB
def test_gp_posterior_matches_scikit_learn():
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, 8)
    y = np.sin(x)
    xq = np.linspace(-3, 3, 50)
    mean, std = S.gp_posterior(x, y, xq, length_scale=0.8, variance=1.5, noise=1e-4)
    kernel = ConstantKernel(1.5, "fixed") * RBF(0.8, "fixed")
    ref = GaussianProcessRegressor(kernel, alpha=1e-4, optimizer=None).fit(x[:, None], y)
    m_ref, s_ref = ref.predict(xq[:, None], return_std=True)
    np.testing.assert_allclose(mean, m_ref, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(std, s_ref, rtol=1e-5, atol=1e-6)


def test_gp_posterior_interpolates_and_is_uncertain_far_away():
    x = np.array([-1.0, 0.0, 2.0])
    y = np.array([0.5, -0.2, 1.0])
    mean, std = S.gp_posterior(x, y, x, noise=1e-8)
    np.testing.assert_allclose(mean, y, atol=1e-5)
    assert np.all(std < 1e-3)
    _, far = S.gp_posterior(x, y, np.array([50.0]), variance=2.0)
    assert far[0] == pytest.approx(math.sqrt(2.0), rel=1e-6)


def test_ucb_and_kernel_checks():
    np.testing.assert_allclose(S.ucb([0.1, 0.2], [1.0, 0.0], beta=2.0), [2.1, 0.2])
    with pytest.raises(RegbookError):
        S.ucb([0.0], [1.0], beta=-1.0)
    with pytest.raises(RegbookError):
        S.rbf_kernel(np.zeros(2), np.zeros(2), length_scale=0.0)
    with pytest.raises(RegbookError):
        S.gp_posterior(np.zeros(3), np.zeros(2), np.zeros(1))
