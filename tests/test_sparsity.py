"""L1, elastic net, soft-thresholding and ISTA (regbook.reference.sparsity, chapter 3):
checked against Keras' regularizers, TensorFlow's gradients, finite differences,
scikit-learn's Lasso/ElasticNet, and the optimality conditions of the proximal step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import optimize, stats
from sklearn.linear_model import ElasticNet, Lasso

from regbook import models
from regbook.errors import RegbookError
from regbook.reference.gradcheck import numerical_gradient, relative_error
from regbook.reference.sparsity import (
    elastic_net_gradient,
    elastic_net_objective,
    elastic_net_penalty,
    ista,
    l1_penalty,
    l1_subgradient,
    lambda_max,
    laplace_map_lambda,
    prox_elastic_net,
    prox_l1,
    soft_threshold,
    subgradient_descent,
)

RNG = np.random.default_rng(0)


def regression_problem(n=40, d=25, k=4, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[:k] = rng.choice([-1, 1], k) * rng.uniform(0.5, 2.0, k)
    return X, X @ w + noise * rng.standard_normal(n)


def tf_value_and_grad(reg, w):
    v = tf.Variable(w.astype("float32"))
    with tf.GradientTape() as tape:
        value = reg(v)
    return float(value), tape.gradient(value, v).numpy()


# ------------------------------------------------------------- penalties vs Keras
def test_l1_penalty_and_subgradient_match_keras():
    w = RNG.standard_normal((6, 5))
    w[0, :2] = 0.0  # TensorFlow's gradient of |w| at 0 is 0, as is ours
    value, grad = tf_value_and_grad(keras.regularizers.L1(l1=0.3), w)
    assert l1_penalty(w, 0.3) == pytest.approx(value, rel=1e-6)
    np.testing.assert_allclose(l1_subgradient(w, 0.3), grad, rtol=1e-6)
    assert np.all(l1_subgradient(w, 0.3)[0, :2] == 0.0)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
def test_elastic_net_penalty_and_gradient_match_keras_l1l2(alpha):
    lam = 0.7
    w = RNG.standard_normal(30)
    reg = keras.regularizers.L1L2(l1=lam * alpha, l2=lam * (1 - alpha) / 2)
    value, grad = tf_value_and_grad(reg, w)
    assert elastic_net_penalty(w, lam, alpha) == pytest.approx(value, rel=1e-5)
    np.testing.assert_allclose(elastic_net_gradient(w, lam, alpha), grad, rtol=1e-5, atol=1e-6)
    if alpha > 0:  # the book's factory builds the same regularizer (None for pure L2 here)
        book = models.regularizer("l1l2", lam, alpha)
        assert float(book(tf.constant(w, "float32"))) == pytest.approx(value, rel=1e-6)


def test_elastic_net_limits():
    w = RNG.standard_normal(10)
    assert elastic_net_penalty(w, 0.4, 1.0) == pytest.approx(l1_penalty(w, 0.4))
    assert elastic_net_penalty(w, 0.4, 0.0) == pytest.approx(0.4 / 2 * np.sum(w**2))


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_gradients_match_finite_differences_away_from_zero(alpha):
    w = RNG.choice([-1, 1], 12) * RNG.uniform(0.1, 2.0, 12)  # |w_i| >= 0.1: differentiable
    num = numerical_gradient(lambda v: elastic_net_penalty(v, 0.9, alpha), w)
    assert relative_error(num, elastic_net_gradient(w, 0.9, alpha)) < 1e-8
    if alpha == 1.0:
        assert relative_error(num, l1_subgradient(w, 0.9)) < 1e-8


def test_l1_has_no_derivative_at_zero():
    # one-sided slopes at 0 are -λ and +λ: every value in [-λ, λ] is a subgradient
    f = lambda v: l1_penalty(np.array([v]), 0.5)  # noqa: E731
    h = 1e-7
    assert (f(h) - f(0.0)) / h == pytest.approx(0.5)
    assert (f(0.0) - f(-h)) / h == pytest.approx(-0.5)


# ------------------------------------------------------------- soft-thresholding and prox
def test_soft_threshold_cases():
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(soft_threshold(z, 1.0), [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(soft_threshold(z, 0.0), z)


@pytest.mark.parametrize("z", [-2.3, -0.4, 0.0, 0.25, 1.7])
def test_soft_threshold_minimises_the_1d_problem(z):
    tau = 0.6
    res = optimize.minimize_scalar(
        lambda w: 0.5 * (w - z) ** 2 + tau * abs(w),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert soft_threshold(np.array(z), tau) == pytest.approx(res.x, abs=1e-7)


def test_prox_l1_optimality_conditions():
    z = RNG.standard_normal(200)
    eta, lam = 0.5, 1.2
    w = prox_l1(z, eta, lam)
    on = w != 0
    # 0 ∈ w − z + ηλ·∂|w|: equality off zero, |z| ≤ ηλ at zero
    np.testing.assert_allclose(z[on] - w[on], eta * lam * np.sign(w[on]), atol=1e-12)
    assert np.all(np.abs(z[~on]) <= eta * lam)
    assert np.all(np.sign(w[on]) == np.sign(z[on]))  # L1 keeps signs, it does not make w >= 0
    assert 0 < on.sum() < len(z)


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
def test_prox_elastic_net_optimality_and_minimality(alpha):
    z = RNG.standard_normal(100) * 2
    eta, lam = 0.3, 1.5
    w = prox_elastic_net(z, eta, lam, alpha)
    on = w != 0
    # 0 ∈ w − z + ηλ(α·∂|w| + (1−α)·w)
    resid = z - w - eta * lam * (1 - alpha) * w
    np.testing.assert_allclose(resid[on], eta * lam * alpha * np.sign(w[on]), atol=1e-12)
    assert np.all(np.abs(z[~on]) <= eta * lam * alpha + 1e-15)

    def prox_obj(v):
        return 0.5 * np.sum((v - z) ** 2) + eta * elastic_net_penalty(v, lam, alpha)

    best = prox_obj(w)
    for _ in range(50):
        assert prox_obj(w + 1e-3 * RNG.standard_normal(w.shape)) >= best
    if alpha == 0.0:
        np.testing.assert_allclose(w, z / (1 + eta * lam))


# ------------------------------------------------------------- ISTA vs scikit-learn
@pytest.mark.parametrize("accelerated", [False, True])
def test_ista_matches_sklearn_lasso(accelerated):
    X, y = regression_problem()
    lam = 0.1 * lambda_max(X, y)
    res = ista(X, y, lam, n_iter=50_000, tol=1e-12, accelerated=accelerated)
    ref = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    assert res.converged
    np.testing.assert_allclose(res.w, ref.coef_, atol=1e-6)
    assert np.array_equal(res.w == 0, ref.coef_ == 0)
    assert (
        elastic_net_objective(X, y, res.w, lam)
        <= elastic_net_objective(X, y, ref.coef_, lam) + 1e-10
    )


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
def test_ista_matches_sklearn_elastic_net(alpha):
    X, y = regression_problem(seed=1)
    lam = 0.05
    res = ista(X, y, lam, alpha, n_iter=50_000, tol=1e-12)
    ref = ElasticNet(alpha=lam, l1_ratio=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(res.w, ref.fit(X, y).coef_, atol=1e-6)


def test_ista_solution_satisfies_kkt_and_objective_decreases():
    X, y = regression_problem(seed=2)
    lam, alpha = 0.08, 0.7
    res = ista(X, y, lam, alpha, n_iter=50_000, tol=1e-13)
    w = res.w
    corr = X.T @ (y - X @ w) / len(y) - lam * (1 - alpha) * w
    on = w != 0
    np.testing.assert_allclose(corr[on], lam * alpha * np.sign(w[on]), atol=1e-8)
    assert np.all(np.abs(corr[~on]) <= lam * alpha + 1e-8)
    assert np.all(np.diff(res.objective) <= 1e-12)  # step 1/L: monotone


def test_lambda_max_is_where_the_first_feature_enters():
    X, y = regression_problem(seed=3)
    lm = lambda_max(X, y)
    assert np.all(ista(X, y, 1.001 * lm).w == 0)
    w = ista(X, y, 0.99 * lm, n_iter=50_000, tol=1e-13).w
    assert np.flatnonzero(w).tolist() == [int(np.argmax(np.abs(X.T @ y)))]
    assert lambda_max(X, y, alpha=0.5) == pytest.approx(2 * lm)


def test_subgradient_descent_hovers_near_zero_but_never_hits_it():
    X, y = regression_problem(n=60, d=30, seed=4)
    lam = 0.05
    exact = ista(X, y, lam, n_iter=50_000, tol=1e-13).w
    eta = 0.5 / (np.linalg.norm(X, 2) ** 2 / len(y))
    sub = subgradient_descent(X, y, lam, step=eta, n_iter=5000)
    zero = exact == 0
    assert zero.sum() >= 10
    assert np.count_nonzero(sub.w == 0) == 0
    assert np.max(np.abs(sub.w[zero])) <= 2 * eta * lam  # the band |w| ≤ η(λ + |g|) ≤ 2ηλ
    gap = elastic_net_objective(X, y, sub.w, lam) - elastic_net_objective(X, y, exact, lam)
    # the excess is the penalty on the hovering coordinates: at most λ·2ηλ each
    assert 0 <= gap <= 2 * eta * lam**2 * zero.sum()


def test_laplace_prior_map_is_the_lasso():
    X, y = regression_problem(seed=5)
    n, sigma, b = len(y), 0.3, 0.5
    lam = laplace_map_lambda(sigma, b, n)
    assert lam == pytest.approx(sigma**2 / (n * b))

    def neg_log_posterior(w):  # up to log p(y), which does not depend on w
        return -(stats.norm.logpdf(y, X @ w, sigma).sum() + stats.laplace.logpdf(w, 0, b).sum())

    ws = [RNG.standard_normal(X.shape[1]) for _ in range(5)]
    diffs = [neg_log_posterior(w) - n / sigma**2 * elastic_net_objective(X, y, w, lam) for w in ws]
    assert np.ptp(diffs) < 1e-8 * max(abs(d) for d in diffs)


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: l1_penalty(np.ones(3), -0.1), "lambda_"),
        (lambda: elastic_net_penalty(np.ones(3), 0.1, 1.5), "alpha"),
        (lambda: elastic_net_gradient(np.ones(3), 0.1, -0.2), "alpha"),
        (lambda: soft_threshold(np.ones(3), -1.0), "tau"),
        (lambda: soft_threshold(np.array([1.0, np.nan]), 1.0), "finite"),
        (lambda: prox_l1(np.ones(3), 0.0, 1.0), "step"),
        (lambda: prox_elastic_net(np.ones(3), 0.1, 1.0, 2.0), "alpha"),
        (lambda: ista(np.ones(5), np.ones(5), 0.1), "2-D"),
        (lambda: ista(np.ones((5, 2)), np.ones(4), 0.1), "one target per row"),
        (lambda: ista(np.ones((5, 2)), np.ones(5), 0.1, w0=np.ones(3)), "w0"),
        (lambda: ista(np.ones((5, 2)), np.ones(5), 0.1, n_iter=0), "n_iter"),
        (lambda: subgradient_descent(np.ones((5, 2)), np.ones(5), 0.1, step=-1.0), "step"),
        (lambda: elastic_net_objective(np.ones((5, 2)), np.ones(5), np.ones(3), 0.1), "w must"),
        (lambda: lambda_max(np.ones((5, 2)), np.ones(5), alpha=0.0), "alpha > 0"),
        (lambda: laplace_map_lambda(0.0, 1.0, 10), "> 0"),
    ],
)
def test_bad_input_gets_one_clear_line(call, match):
    with pytest.raises(RegbookError, match=match) as e:
        call()
    assert "\n" not in str(e.value)


def test_trace_keeps_every_iterate():
    X, y = regression_problem(seed=6)
    res = ista(X, y, 0.1, n_iter=30, tol=0.0, trace=True)
    assert res.path.shape == (30, X.shape[1])
    np.testing.assert_array_equal(res.path[-1], res.w)
    sub = subgradient_descent(X, y, 0.1, n_iter=20, trace=True)
    assert sub.path.shape == (20, X.shape[1]) and ista(X, y, 0.1, n_iter=5).path is None
