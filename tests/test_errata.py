"""regbook.reference.errata: the source documents' formulas and code, and their corrections,
checked against finite differences, TensorFlow/Keras and scikit-learn."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import Lasso, Ridge

from regbook.errors import RegbookError
from regbook.reference import errata
from regbook.reference.gradcheck import numerical_gradient, relative_error


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.random((40, 5))
    y = rng.random(40)
    theta = rng.standard_normal(5)
    return X, y, theta


def test_penalized_mse_gradient_matches_finite_differences_and_tensorflow(problem):
    X, y, theta = problem
    lam = 0.3
    ours = errata.penalized_mse_gradient(X, y, theta, lam)
    fd = numerical_gradient(lambda t: errata.penalized_mse(X, y, t, lam), theta)
    assert relative_error(ours, fd) < 1e-7
    t = tf.Variable(theta)
    with tf.GradientTape() as tape:
        J = tf.reduce_mean((tf.linalg.matvec(X, t) - y) ** 2) + lam / 2 * tf.reduce_sum(t**2)
    assert relative_error(ours, tape.gradient(J, t).numpy()) < 1e-12


def test_document_003_gradient_is_off_by_lambda_theta(problem):
    X, y, theta = problem
    diff = errata.doc003_text_gradient(X, y, theta, 0.3) - errata.penalized_mse_gradient(
        X, y, theta, 0.3
    )
    np.testing.assert_allclose(diff, 0.3 * theta)


def test_ridge_minimizer_zeroes_the_gradient_and_matches_sklearn(problem):
    X, y, _ = problem
    lam = 0.2
    w = errata.ridge_minimizer(X, y, lam)
    assert np.abs(errata.penalized_mse_gradient(X, y, w, lam)).max() < 1e-12
    # sklearn's Ridge minimises ‖y − Xw‖² + a‖w‖²; ours is that divided by n with a = nλ/2.
    sk = Ridge(alpha=len(y) * lam / 2, fit_intercept=False).fit(X, y).coef_
    np.testing.assert_allclose(w, sk, atol=1e-10)


def test_doc003_loop_first_step_is_the_documents_update(problem):
    X, y, theta = problem
    path = errata.doc003_gradient_descent(X, y[:, None], theta[:, None], 0.001, 0.01, 1)
    expected = theta - 0.001 * (X.T @ (X @ theta - y) + 0.01 * theta)
    np.testing.assert_allclose(path[1], expected)
    np.testing.assert_allclose(path[0], theta)


def test_doc003_loop_diverges_with_its_own_settings_and_converges_below_the_limit():
    rs = np.random.RandomState(0)
    X, y, theta0 = rs.rand(100, 10), rs.rand(100, 1), rs.rand(10, 1)
    eta_max = errata.max_stable_learning_rate(X.T @ X + 0.01 * np.eye(10))
    assert eta_max < 0.01
    assert np.abs(errata.doc003_gradient_descent(X, y, theta0)[-1]).max() > 1e100
    end = errata.doc003_gradient_descent(X, y, theta0, 0.9 * eta_max, 0.01, 20_000)[-1]
    fixed = np.linalg.solve(X.T @ X + 0.01 * np.eye(10), X.T @ y[:, 0])
    np.testing.assert_allclose(end, fixed, atol=1e-8)
    # ... which is the minimiser of the stated J only for λ' = 2λ/n
    np.testing.assert_allclose(fixed, errata.ridge_minimizer(X, y, 2 * 0.01 / 100), atol=1e-10)


def test_max_stable_learning_rate_is_the_edge_of_stability():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((20, 4))
    H = A.T @ A
    eta = errata.max_stable_learning_rate(H)
    for factor, converges in [(0.99, True), (1.01, False)]:
        e = np.ones(4)
        for _ in range(3000):
            e = e - factor * eta * H @ e
        assert (np.linalg.norm(e) < 1.0) == converges


def test_l1_subgradient_descent_is_near_optimal_but_never_exactly_sparse():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 20))
    y = X[:, :3] @ np.array([2.0, -1.0, 1.5]) + 0.3 * rng.standard_normal(80)
    lam = 0.1
    lasso = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    sub = errata.l1_subgradient_descent(X, y, lam, 0.01, 5000)

    def obj(w):
        return np.sum((X @ w - y) ** 2) / (2 * len(y)) + lam * np.sum(np.abs(w))

    assert obj(sub) < 1.01 * obj(lasso)
    assert np.sum(lasso == 0) >= 10 and np.sum(sub == 0) == 0


def test_doc004_elastic_net_keeps_an_l2_term_at_alpha_one():
    W = np.random.default_rng(3).standard_normal((6, 4))
    assert errata.doc004_elastic_net(W, 1.0, 1.0, 0.5) > np.sum(np.abs(W))
    fro = errata.doc004_elastic_net(W, 0.0, 1.0, 1.0, matrix_norm="frobenius")
    spec = errata.doc004_elastic_net(W, 0.0, 1.0, 1.0)
    assert np.isclose(fro, np.sum(W**2)) and np.isclose(spec, np.linalg.norm(W, 2) ** 2)
    assert spec < fro


def test_batch_norm_matches_keras_in_training_mode():
    rng = np.random.default_rng(4)
    x = (2 + 3 * rng.standard_normal((256, 5))).astype("float32")
    gamma = rng.random(5).astype("float32") + 0.5
    beta = rng.standard_normal(5).astype("float32")
    bn = keras.layers.BatchNormalization()
    bn.build(x.shape)
    bn.gamma.assign(gamma)
    bn.beta.assign(beta)
    expected = bn(x, training=True).numpy()
    np.testing.assert_allclose(errata.batch_norm(x, gamma, beta, bn.epsilon), expected, atol=1e-4)


def test_dropout_ensemble_against_monte_carlo_and_closed_forms():
    rng = np.random.default_rng(5)
    h, W, p = rng.random(8), rng.standard_normal((3, 8)), 0.6
    ens = errata.dropout_ensemble(h, W, p)
    assert int(ens["n_subnetworks"]) == 256
    np.testing.assert_allclose(ens["mean_logits"], p * W @ h)
    z = p * W @ h
    np.testing.assert_allclose(ens["geometric_softmax"], np.exp(z) / np.exp(z).sum())
    masks = rng.random((200_000, 8)) < p
    mc = ((masks * h) @ W.T).mean(axis=0)
    np.testing.assert_allclose(ens["mean_logits"], mc, atol=0.02)


def test_clipped_gradient_descent_converges_to_least_squares():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.standard_normal(60)
    eta = 0.5 * errata.max_stable_learning_rate(2 / 60 * X.T @ X)
    w = errata.clipped_gradient_descent(X, y, eta, clipnorm=0.05, iterations=5000)
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-8)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, y, t: errata.penalized_mse(X, y, t, -1.0), "lambda_"),
        (lambda X, y, t: errata.penalized_mse_gradient(X, y[:-1], t, 0.1), "y must have shape"),
        (lambda X, y, t: errata.penalized_mse(X, y, t[:-1], 0.1), "theta must have shape"),
        (lambda X, y, t: errata.ridge_minimizer(X[0], y, 0.1), "2-D"),
        (lambda X, y, t: errata.doc003_gradient_descent(X, y, t, learning_rate=0), "learning_rate"),
        (lambda X, y, t: errata.doc003_gradient_descent(X, y, t, iterations=0), "iterations"),
        (lambda X, y, t: errata.max_stable_learning_rate(np.zeros((2, 3))), "symmetric"),
        (lambda X, y, t: errata.max_stable_learning_rate(np.zeros((2, 2))), "positive"),
        (lambda X, y, t: errata.l1_subgradient_descent(X, y, 0.1, -1.0, 10), "learning_rate"),
        (lambda X, y, t: errata.doc004_elastic_net(X, 1.5, 1.0, 1.0), "alpha"),
        (lambda X, y, t: errata.doc004_elastic_net(X, 0.5, 0.0, 1.0), "beta1 > 0"),
        (lambda X, y, t: errata.doc004_elastic_net(X, 0.5, 1.0, 1.0, "l1"), "matrix_norm"),
        (lambda X, y, t: errata.batch_norm(X[:1]), "B >= 2"),
        (lambda X, y, t: errata.batch_norm(y), "B >= 2"),
        (lambda X, y, t: errata.dropout_ensemble(np.ones(17), np.ones((2, 17)), 0.5), "1 to 16"),
        (lambda X, y, t: errata.dropout_ensemble(np.ones(3), np.ones((2, 4)), 0.5), "shape"),
        (lambda X, y, t: errata.dropout_ensemble(np.ones(3), np.ones((2, 3)), 0.0), "keep_prob"),
        (lambda X, y, t: errata.clipped_gradient_descent(X, y, 0.1, 0.0, 10), "clipnorm"),
    ],
)
def test_bad_input_raises_a_clear_error(problem, call, match):
    X, y, theta = problem
    with pytest.raises(RegbookError, match=match):
        call(X, y, theta)
