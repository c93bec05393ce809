"""L2 penalty, ridge regression and coupled/decoupled decay: NumPy references against
closed forms, scikit-learn, finite differences, and Keras/TensorFlow (chapters 2 and 4)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import penalties as P
from regbook.reference.gradcheck import numerical_gradient, relative_error


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 6))
    w_true = rng.standard_normal(6)
    y = X @ w_true + 0.3 * rng.standard_normal(30)
    return X, y


# ---------------------------------------------------------------- penalty
def test_l2_penalty_matches_keras_with_halved_coefficient():
    w = np.random.default_rng(1).standard_normal((4, 3))
    lam = 0.7
    keras_value = float(keras.regularizers.L2(P.keras_l2_from_lambda(lam))(w))
    assert P.l2_penalty(w, lam) == pytest.approx(keras_value, rel=1e-6)
    assert P.lambda_from_keras_l2(0.01) == pytest.approx(0.02)


def test_l2_penalty_gradient_against_finite_differences_and_tensorflow():
    w = np.random.default_rng(2).standard_normal(5)
    lam = 0.375  # exact in float32: Keras rounds its coefficients to float32
    num = numerical_gradient(lambda v: P.l2_penalty(v, lam), w)
    assert relative_error(num, P.l2_penalty_grad(w, lam)) < 1e-8
    var = tf.Variable(w)
    with tf.GradientTape() as tape:
        value = keras.regularizers.L2(lam / 2)(var)
    assert relative_error(tape.gradient(value, var).numpy(), P.l2_penalty_grad(w, lam)) < 1e-12


# ---------------------------------------------------------------- ridge
def test_ridge_closed_form_svd_and_sklearn_agree(problem):
    from sklearn.linear_model import Ridge

    X, y = problem
    lam = 2.5
    w = P.ridge_closed_form(X, y, lam)
    np.testing.assert_allclose(P.ridge_svd(X, y, lam), w, rtol=1e-10)
    sk = Ridge(alpha=lam, fit_intercept=False).fit(X, y).coef_  # ‖y − Xw‖² + α‖w‖²
    np.testing.assert_allclose(sk, w, rtol=1e-8)
    assert np.max(np.abs(P.ridge_gradient(X, y, w, lam))) < 1e-10


def test_ridge_gradient_against_finite_differences(problem):
    X, y = problem
    w = np.random.default_rng(3).standard_normal(X.shape[1])
    num = numerical_gradient(lambda v: P.ridge_objective(X, y, v, 0.8), w)
    assert relative_error(num, P.ridge_gradient(X, y, w, 0.8)) < 1e-7


def test_ridge_matches_a_keras_dense_layer_with_mse_and_l2():
    # Keras: mean((Xw - y)²) + l2·‖w‖²  ⇔  ½‖Xw − y‖² + (n·l2)/2·‖w‖² (multiply by n/2).
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    l2 = 0.0625  # exact in float32
    w = P.ridge_closed_form(X, y, len(y) * l2)
    w_var = tf.Variable(w[:, None])
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(y[:, None], X @ w_var)
        loss += keras.regularizers.L2(l2)(w_var)
    assert float(tf.reduce_max(tf.abs(tape.gradient(loss, w_var)))) < 1e-10


def test_ridge_shrinkage_factors_reproduce_the_fitted_values(problem):
    X, y = problem
    lam = 4.0
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    f = P.ridge_shrinkage(X, lam)
    np.testing.assert_allclose(f, s**2 / (s**2 + lam))
    np.testing.assert_allclose(U @ (f * (U.T @ y)), X @ P.ridge_closed_form(X, y, lam), rtol=1e-10)
    assert np.all(np.diff(f) <= 0) and np.all((f > 0) & (f < 1))
    np.testing.assert_allclose(P.ridge_shrinkage(X, 0.0), 1.0)


def test_ridge_svd_handles_rank_deficient_x_at_lambda_zero():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 8))  # more features than samples
    y = rng.standard_normal(4)
    w = P.ridge_svd(X, y, 0.0)
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-10)
    with pytest.raises(RegbookError, match="singular"):
        P.ridge_closed_form(X, y, 0.0)


def test_gradient_descent_converges_below_the_bound_and_diverges_above(problem):
    X, y = problem
    lam = 1.0
    bound = P.ridge_max_step(X, lam)
    assert bound == pytest.approx(2 / np.linalg.eigvalsh(X.T @ X + lam * np.eye(6)).max())
    w, hist = P.ridge_gradient_descent(X, y, lam, 0.9 * bound, 3000)
    np.testing.assert_allclose(w, P.ridge_closed_form(X, y, lam), rtol=1e-8)
    assert hist[-1] <= hist[0]
    _, hist_up = P.ridge_gradient_descent(X, y, lam, 1.05 * bound, 3000)
    assert not np.isfinite(hist_up[-1]) or hist_up[-1] > 1e6 * hist_up[0]


def test_map_lambda():
    assert P.map_lambda(0.25, 4.0) == pytest.approx(1 / 16)
    with pytest.raises(RegbookError):
        P.map_lambda(0.0, 1.0)


# ---------------------------------------------------------------- optimizer updates
def _keras_steps(optimizer, w0, grad_fn, steps, l2=0.0, dtype="float32"):
    """Run Keras' optimizer on one variable; grad_fn(w) is the data gradient."""
    var = keras.Variable(w0.astype(dtype), dtype=dtype)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            # data part: <g, w> has gradient g (g held fixed); penalty through Keras' L2
            g = tf.constant(grad_fn(var.numpy().astype(float)), dtype=dtype)
            loss = tf.reduce_sum(g * var.value)
            if l2:
                loss += keras.regularizers.L2(l2)(var.value)
        optimizer.apply_gradients([(tape.gradient(loss, var.value), var)])
    return var.numpy().astype(float)


def _grad_fn(w):
    return np.sin(3 * w) + w**3  # a nonlinear "data gradient" with varied scales


def test_sgd_coupled_equals_decoupled_and_keras():
    rng = np.random.default_rng(6)
    w0, lr, lam = rng.standard_normal(7), 0.125, 0.375  # exact in float32, as Keras keeps them
    g = _grad_fn(w0)
    coupled = P.sgd_step(w0, g, lr, lambda_=lam)
    decoupled = P.sgd_step(w0, g, lr, weight_decay=lam)
    np.testing.assert_allclose(coupled, decoupled, rtol=1e-14)
    k_wd = _keras_steps(keras.optimizers.SGD(lr, weight_decay=lam), w0, _grad_fn, 1)
    k_l2 = _keras_steps(keras.optimizers.SGD(lr), w0, _grad_fn, 1, l2=lam / 2)
    np.testing.assert_allclose(k_wd, coupled, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(k_l2, coupled, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "beta_2, dtype, tol", [(0.999, "float32", 5e-5), (1 - 2**-10, "float64", 1e-6)]
)
@pytest.mark.parametrize("mode", ["plain", "l2", "decoupled"])
def test_adam_matches_keras_over_several_steps(mode, beta_2, dtype, tol):
    # Tolerance relative to how far the weights moved. In float32 the weights themselves
    # carry rounding errors of ~1e-7·|w|, and Keras uses float32(0.999) = 0.99900001 in
    # the bias correction but 1 − 0.999 in the moment update (a 6.5e-6 relative error in
    # every step). In float64 with a β₂ for which both are exact the agreement is ~1e-8.
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(9) * np.logspace(-2, 1, 9)
    lr, lam, steps = 0.01, 0.5, 5
    kw = {"l2": {"lambda_": lam}, "decoupled": {"weight_decay": lam}}.get(mode, {})
    w, state = w0.copy(), P.adam_init(w0)
    for _ in range(steps):
        w, state = P.adam_step(w, _grad_fn(w), state, lr, beta_2=beta_2, **kw)
    if mode == "decoupled":
        opt = keras.optimizers.AdamW(lr, weight_decay=lam, beta_2=beta_2)
    else:
        opt = keras.optimizers.Adam(lr, beta_2=beta_2)
    l2 = lam / 2 if mode == "l2" else 0.0
    keras_w = _keras_steps(opt, w0, _grad_fn, steps, l2=l2, dtype=dtype)
    assert state.t == steps
    assert np.max(np.abs(w - keras_w)) <= tol * np.max(np.abs(keras_w - w0))


def test_keras_adam_with_weight_decay_is_adamw():
    w0 = np.linspace(-2, 2, 5)
    a = _keras_steps(keras.optimizers.Adam(0.01, weight_decay=0.2), w0, _grad_fn, 3)
    b = _keras_steps(keras.optimizers.AdamW(0.01, weight_decay=0.2), w0, _grad_fn, 3)
    np.testing.assert_array_equal(a, b)


def test_adam_l2_and_adamw_differ_per_parameter():
    # One step from zero moments: Adam normalises g + λw, so the penalty's share of the
    # step depends on the gradient's size; AdamW shrinks every weight by η·wd.
    w = np.ones(3)
    g = np.array([1e-3, 1.0, 1e3])
    lr, lam = 0.1, 0.5
    w_l2, _ = P.adam_step(w, g, P.adam_init(w), lr, lambda_=lam)
    w_plain, _ = P.adam_step(w, g, P.adam_init(w), lr)
    w_w, _ = P.adam_step(w, g, P.adam_init(w), lr, weight_decay=lam)
    np.testing.assert_allclose(w_plain - w_w, lr * lam * w, rtol=1e-12)
    extra = w_plain - w_l2  # extra shrinkage due to the coupled penalty
    assert extra[0] > 100 * extra[2]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call",
    [
        lambda: P.l2_penalty(np.ones(3), -1.0),
        lambda: P.l2_penalty_grad(np.ones(3), float("nan")),
        lambda: P.ridge_closed_form(np.ones(3), np.ones(3), 1.0),
        lambda: P.ridge_closed_form(np.ones((3, 2)), np.ones(4), 1.0),
        lambda: P.ridge_objective(np.ones((3, 2)), np.ones(3), np.ones(3), 1.0),
        lambda: P.ridge_gradient_descent(np.ones((3, 2)), np.ones(3), 1.0, 0.0, 10),
        lambda: P.ridge_gradient_descent(np.ones((3, 2)), np.ones(3), 1.0, 0.1, 0),
        lambda: P.ridge_max_step(np.zeros((3, 2)), 0.0),
        lambda: P.ridge_shrinkage(np.ones(3), 1.0),
        lambda: P.sgd_step(np.ones(3), np.ones(4), 0.1),
        lambda: P.sgd_step(np.ones(3), np.ones(3), 0.1, weight_decay=-0.1),
        lambda: P.adam_step(np.ones(3), np.ones(3), P.adam_init(np.ones(2))),
        lambda: P.adam_step(np.ones(3), np.ones(3), P.adam_init(np.ones(3)), beta_1=1.0),
        lambda: P.adam_step(np.ones(3), np.ones(3), P.adam_init(np.ones(3)), lr=-1.0),
        lambda: P.keras_l2_from_lambda(-0.1),
    ],
)
def test_bad_input_raises_a_clear_error(call):
    with pytest.raises(RegbookError):
        call()
