"""regbook.reference.activations against Keras/TensorFlow and finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import activations as A
from regbook.reference.gradcheck import numerical_gradient, relative_error

# Points away from the kink at 0, where one-sided derivatives differ.
X = np.array([-6.0, -2.5, -1.0, -0.3, -1e-3, 2e-3, 0.4, 1.0, 3.0, 7.0])

KERAS = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad, keras.activations.sigmoid),
    "tanh": (A.tanh, A.tanh_grad, keras.activations.tanh),
    "relu": (A.relu, A.relu_grad, keras.activations.relu),
    "leaky_relu": (
        lambda x: A.leaky_relu(x, 0.1),
        lambda x: A.leaky_relu_grad(x, 0.1),
        lambda x: keras.activations.leaky_relu(x, negative_slope=0.1),
    ),
    "elu": (
        lambda x: A.elu(x, 0.7),
        lambda x: A.elu_grad(x, 0.7),
        lambda x: keras.activations.elu(x, alpha=0.7),
    ),
}


def _tf_value_and_grad(fn, x):
    t = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = fn(t)
        total = tf.reduce_sum(y)
    return np.asarray(y), np.asarray(tape.gradient(total, t))


@pytest.mark.parametrize("name", list(KERAS))
def test_activation_and_derivative_match_keras(name):
    f, df, kf = KERAS[name]
    y, dy = _tf_value_and_grad(kf, X)
    # Keras stores slope parameters in float32, hence rtol 1e-7.
    np.testing.assert_allclose(f(X), y, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(df(X), dy, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", list(A.ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    f, df = A.ACTIVATIONS[name]
    num = numerical_gradient(lambda v: float(np.sum(f(v))), X)
    assert relative_error(num, df(X)) < 1e-7


def test_keras_layers_leaky_relu_and_prelu():
    x = X[None, :].astype("float32")
    leaky = keras.layers.LeakyReLU(negative_slope=0.3)
    np.testing.assert_allclose(np.asarray(leaky(x)), A.leaky_relu(x, 0.3), rtol=1e-6)
    prelu = keras.layers.PReLU()
    prelu.build(x.shape)
    assert np.all(np.asarray(prelu.alpha) == 0)  # starts as a plain ReLU
    alpha = np.linspace(-0.5, 0.5, x.shape[1]).astype("float32")
    prelu.alpha.assign(alpha)
    xt = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        out = tf.reduce_sum(prelu(xt))
    np.testing.assert_allclose(np.asarray(prelu(x)), A.prelu(x, alpha), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        np.asarray(tape.gradient(out, xt)), A.prelu_grad(x, alpha), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        np.asarray(tape.gradient(out, prelu.alpha)), A.prelu_grad_alpha(x)[0], rtol=1e-6
    )


def test_prelu_alpha_gradient_by_finite_differences():
    x = X.reshape(2, 5)
    alpha = np.array([0.1, 0.2, 0.3, -0.2, 0.5])
    num = numerical_gradient(lambda a: float(np.sum(A.prelu(x, a))), alpha)
    np.testing.assert_allclose(num, A.prelu_grad_alpha(x).sum(axis=0), atol=1e-8)


def test_derivative_bounds_that_chapter_9_uses():
    grid = np.linspace(-10, 10, 200_001)
    assert A.sigmoid_grad(grid).max() == pytest.approx(0.25, abs=1e-12)
    assert A.sigmoid_grad(0.0) == 0.25
    assert A.tanh_grad(grid).max() == pytest.approx(1.0, abs=1e-12)
    assert np.all(A.leaky_relu_grad(grid, 0.01) > 0)  # never exactly zero
    assert np.all(A.relu_grad(grid[grid < 0]) == 0)  # zero for every negative input
    np.testing.assert_allclose(A.elu_grad(X[X < 0]), A.elu(X[X < 0]) + 1.0)


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise"):
        s = A.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])


@pytest.mark.parametrize(
    "kind, cls, args",
    [
        ("glorot", keras.initializers.GlorotNormal, (300, 500)),
        ("glorot", keras.initializers.GlorotUniform, (300, 500)),
        ("he", keras.initializers.HeNormal, (400, 300)),
        ("he", keras.initializers.HeUniform, (400, 300)),
        ("lecun", keras.initializers.LecunNormal, (400, 300)),
    ],
)
def test_init_variance_matches_keras_initializers(kind, cls, args):
    fan_in, fan_out = args
    w = np.asarray(cls(seed=0)((fan_in, fan_out)))
    assert w.var() == pytest.approx(A.init_variance(kind, fan_in, fan_out), rel=0.02)


def test_he_keeps_and_glorot_halves_the_relu_second_moment():
    # E[z_{l+1}²] = n·Var(w)·E[ReLU(z_l)²] = n·Var(w)·E[z_l²]/2: He keeps it, Glorot (n_in =
    # n_out) halves it per layer. Finite width adds noise of some 10 % per layer.
    rng = np.random.default_rng(0)
    n, depth = 1000, 6
    for kind, expected in (("he", 1.0), ("glorot", 0.5**depth)):
        z = rng.standard_normal((1000, n))  # pre-activations of layer 1, E[z²] = 1
        for _ in range(depth):
            w = rng.standard_normal((n, n)) * np.sqrt(A.init_variance(kind, n, n))
            z = A.relu(z) @ w
        assert 0.7 < np.mean(z**2) / expected < 1.45, kind


def test_bad_arguments_raise_one_line_errors():
    with pytest.raises(RegbookError, match="negative_slope"):
        A.leaky_relu(X, -0.1)
    with pytest.raises(RegbookError, match="alpha"):
        A.elu(X, float("nan"))
    with pytest.raises(RegbookError, match="kind"):
        A.init_variance("xavier", 10, 10)
    with pytest.raises(RegbookError, match="fan_out"):
        A.init_variance("glorot", 10)
    with pytest.raises(RegbookError, match="fan_in"):
        A.init_variance("he", 0)
