"""regbook.reference.constraints against Keras (MaxNorm, one SGD step with a
kernel_constraint, one SAM step written with tf.GradientTape), against closed forms (ridge,
the KKT multiplier, the exact weight-noise loss of a linear model, eigenvalues) and against
finite differences (Hessian-vector products)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import constraints as C

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = X @ np.array([2.0, -1.0, 0.5]) + 0.1 * RNG.standard_normal(40)


@pytest.mark.parametrize("axis", [0, 1])
def test_max_norm_matches_keras(axis):
    W = RNG.standard_normal((6, 4)) * np.array([0.1, 1.0, 3.0, 10.0])
    got = keras.constraints.MaxNorm(2.0, axis=axis)(W.astype("float32")).numpy()
    np.testing.assert_allclose(C.max_norm(W, 2.0, axis=axis), got, atol=1e-5)
    assert np.all(np.linalg.norm(C.max_norm(W, 2.0, axis=axis), axis=axis) <= 2.0 + 1e-12)


def test_keras_steps_then_projects():
    dense = keras.layers.Dense(4, kernel_constraint=keras.constraints.MaxNorm(1.0, axis=0))
    dense.build((None, 6))
    W0 = RNG.standard_normal((6, 4))
    dense.kernel.assign(W0)
    x = RNG.standard_normal((16, 6)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(dense(x) ** 2)
    g = tape.gradient(loss, dense.kernel.value).numpy()
    keras.optimizers.SGD(0.5).apply_gradients([(g, dense.kernel)])
    np.testing.assert_allclose(
        dense.kernel.numpy(), C.sgd_max_norm_step(W0, g, 0.5, 1.0), atol=1e-5
    )


def test_constrained_solution_is_ridge_and_multiplier_is_lambda():
    w_ls = np.linalg.lstsq(X, Y, rcond=None)[0]
    c = 0.5 * np.linalg.norm(w_ls)
    w_c, lam = C.constrained_least_squares(X, Y, c)
    assert lam > 0 and abs(np.linalg.norm(w_c) - c) < 1e-8
    np.testing.assert_allclose(C.kkt_multiplier(X, Y, w_c), lam, rtol=1e-6)
    np.testing.assert_allclose(w_c, C.ridge(X, Y, lam), atol=1e-10)
    # projected gradient descent lands on the same point
    w, step = np.zeros(3), 1.0 / np.linalg.norm(X, 2) ** 2
    for _ in range(5000):
        w = C.max_norm((w - step * X.T @ (X @ w - Y))[:, None], c)[:, 0]
    np.testing.assert_allclose(w, w_c, atol=1e-6)


def test_inactive_constraint_has_zero_multiplier():
    w_ls = np.linalg.lstsq(X, Y, rcond=None)[0]
    w_c, lam = C.constrained_least_squares(X, Y, 2 * np.linalg.norm(w_ls))
    assert lam == 0.0
    assert abs(C.kkt_multiplier(X, Y, w_c)) < 1e-8


def test_weight_noise_linear_matches_monte_carlo():
    w, eta = np.array([1.0, 0.5, -0.3]), 0.2
    eps = np.sqrt(eta) * np.random.default_rng(1).standard_normal((200_000, 3))
    mc = np.mean(((w + eps) @ X.T - Y) ** 2)
    np.testing.assert_allclose(C.weight_noise_loss_linear(X, Y, w, eta), mc, rtol=5e-3)
    assert C.weight_noise_loss_linear(X, Y, w, 0.0) == pytest.approx(np.mean((X @ w - Y) ** 2))


def test_sam_step_matches_tf_and_reduces_to_gd():
    W0 = RNG.standard_normal((3, 2))
    T = RNG.standard_normal((40, 2))

    def grad_np(w):
        w = w.reshape(3, 2)
        return (X.T @ (X @ w - T) / len(X)).ravel()

    w_np = C.sam_step(W0.ravel(), grad_np, lr=0.1, rho=0.05).reshape(3, 2)
    v = tf.Variable(W0)
    Xt, Tt = tf.constant(X), tf.constant(T)

    def grad_tf():
        with tf.GradientTape() as tape:
            loss = 0.5 * tf.reduce_sum((Xt @ v - Tt) ** 2) / len(X)
        return tape.gradient(loss, v)

    g = grad_tf()
    e = 0.05 * g / tf.norm(g)
    v.assign_add(e)
    g_sam = grad_tf()
    v.assign_sub(e)
    v.assign_sub(0.1 * g_sam)
    np.testing.assert_allclose(v.numpy(), w_np, atol=1e-12)
    gd = W0.ravel() - 0.1 * grad_np(W0.ravel())
    np.testing.assert_allclose(C.sam_step(W0.ravel(), grad_np, 0.1, 0.0), gd)


def test_power_iteration_and_finite_difference_hvp():
    A = RNG.standard_normal((5, 5))
    H = A @ A.T
    lam, vec = C.power_iteration(lambda v: H @ v, RNG.standard_normal(5), iters=500)
    assert lam == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)
    np.testing.assert_allclose(np.abs(vec), np.abs(np.linalg.eigh(H)[1][:, -1]), atol=1e-6)

    def grad(w):  # L = Σ cosh(w) + ½ wᵀHw
        return np.sinh(w) + H @ w

    w, v = RNG.standard_normal(5), RNG.standard_normal(5)
    exact = np.cosh(w) * v + H @ v
    np.testing.assert_allclose(C.finite_difference_hvp(grad, w, v), exact, rtol=1e-7)


def test_perturbation_sharpness_of_a_quadratic():
    h = np.array([1.0, 4.0, 9.0])
    w = np.array([1.0, 1.0, 1.0])

    def loss(ws):
        return 0.5 * np.sum(h * (ws[0] - w) ** 2)

    # E[½ dᵀ diag(h) d] with ‖d‖ = r‖w‖ uniform on the sphere = ½ r²‖w‖² · mean(h)
    got = C.perturbation_sharpness(loss, [w], radius=0.1, n_directions=4000, seed=0)
    assert got == pytest.approx(0.5 * 0.01 * 3 * h.mean(), rel=0.05)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: C.max_norm(np.ones((2, 2)), 0.0), "c must be positive"),
        (lambda: C.max_norm([[np.nan]], 1.0), "W"),
        (lambda: C.sgd_max_norm_step(np.ones((2, 2)), np.ones(2), 0.1, 1.0), "shape"),
        (lambda: C.constrained_least_squares(X, Y, -1.0), "radius"),
        (lambda: C.kkt_multiplier(X, Y, np.zeros(3)), "must not be zero"),
        (lambda: C.weight_noise_loss_linear(X, Y, np.ones(3), -0.1), "variance"),
        (lambda: C.sam_step(np.ones(2), lambda w: w, 0.1, -1.0), "rho"),
        (lambda: C.power_iteration(lambda v: v, np.zeros(3)), "must not be zero"),
        (lambda: C.perturbation_sharpness(lambda w: 0.0, [], 0.1), "non-empty"),
    ],
)
def test_bad_input_raises_one_clear_error(call, words):
    with pytest.raises(RegbookError, match=words):
        call()
