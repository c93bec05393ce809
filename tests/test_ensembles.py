"""Ensembles, bagging, weight averaging and distillation: NumPy references against
simulation, Keras/TensorFlow and finite differences (chapter 13)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import ensembles as E
from regbook.reference.gradcheck import numerical_gradient, relative_error


def test_ensemble_mse_matches_simulation():
    rng = np.random.default_rng(0)
    v, c, k = 2.0, 0.6, 5
    cov = np.full((k, k), c) + (v - c) * np.eye(k)
    errors = rng.multivariate_normal(np.zeros(k), cov, size=400_000)
    simulated = np.mean(errors.mean(axis=1) ** 2)
    assert simulated == pytest.approx(E.ensemble_mse(v, c, k), rel=0.01)
    assert E.ensemble_mse(v, v, k) == pytest.approx(v)  # identical members: no gain
    assert E.ensemble_mse(v, 0.0, k) == pytest.approx(v / k)


def test_error_moments_reproduce_the_ensemble_error_exactly():
    rng = np.random.default_rng(1)
    e = rng.standard_normal((4, 50, 3)) + rng.standard_normal((1, 50, 3))
    v, c = E.error_moments(e)
    assert np.mean(np.sum(e.mean(axis=0) ** 2, axis=-1)) == pytest.approx(E.ensemble_mse(v, c, 4))
    assert v == pytest.approx(np.mean(np.sum(e**2, axis=-1)))


def test_bootstrap_counts():
    counts = E.bootstrap_counts(10_000, rng=3)
    assert counts.sum() == 10_000 and counts.min() >= 0
    assert np.mean(counts == 0) == pytest.approx(np.exp(-1), abs=0.01)
    np.testing.assert_array_equal(counts, E.bootstrap_counts(10_000, rng=3))


def test_softmax_and_average_probs_match_keras():
    z = np.random.default_rng(2).standard_normal((3, 6, 5))
    for t in (1.0, 2.5):
        ours = E.softmax(z, t)
        theirs = keras.ops.softmax(keras.ops.convert_to_tensor(z / t), axis=-1)
        np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(theirs), rtol=1e-6)
    np.testing.assert_allclose(E.average_probs(z).sum(-1), 1.0)
    y = np.array([0, 1, 2, 3, 4, 0])
    p = E.average_probs(z)
    keras_nll = keras.losses.SparseCategoricalCrossentropy()(y, p)
    assert E.nll(p, y) == pytest.approx(float(keras_nll), rel=1e-5)


def test_weight_average_and_ema_match_keras_optimizer():
    rng = np.random.default_rng(4)
    grads = rng.standard_normal((7, 3)).astype("float32")
    var = keras.Variable(np.zeros(3, dtype="float32"))
    opt = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8)
    path = []
    for g in grads:
        opt.apply([keras.ops.convert_to_tensor(g)], [var])
        path.append(keras.ops.convert_to_numpy(var).copy())
    opt.finalize_variable_values([var])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(var), E.ema_weights(path, 0.8), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(E.weight_average(path), np.mean(path, axis=0))
    np.testing.assert_allclose(E.ema_weights(path, 0.0), path[-1])


@pytest.mark.parametrize("t_mul,m_mul,alpha", [(1.0, 1.0, 0.0), (2.0, 0.5, 0.1)])
def test_cosine_restarts_matches_keras(t_mul, m_mul, alpha):
    sched = keras.optimizers.schedules.CosineDecayRestarts(
        0.05, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha
    )
    steps = np.arange(0, 75)
    keras_lr = np.array([float(sched(int(s))) for s in steps])
    ours = E.cosine_restarts(steps, 0.05, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    np.testing.assert_allclose(ours, keras_lr, rtol=1e-5, atol=1e-7)


def test_soft_cross_entropy_matches_keras_and_finite_differences():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((6, 4))
    q = E.softmax(rng.standard_normal((6, 4)))
    t = 3.0
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    assert E.soft_cross_entropy(q, z, t) == pytest.approx(float(loss(q, z / t)), rel=1e-5)
    num = numerical_gradient(lambda v: E.soft_cross_entropy(q, v, t), z)
    assert relative_error(num, E.soft_cross_entropy_grad(q, z, t)) < 1e-7
    zt = tf.Variable(z)
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(q, zt / t))
    grad_tf = tape.gradient(value, zt).numpy()
    assert relative_error(grad_tf, E.soft_cross_entropy_grad(q, z, t)) < 1e-10


@pytest.mark.parametrize(
    "call",
    [
        lambda: E.ensemble_mse(1.0, 2.0, 3),
        lambda: E.ensemble_mse(1.0, 0.5, 0),
        lambda: E.error_moments(np.zeros((1, 5))),
        lambda: E.bootstrap_counts(0),
        lambda: E.softmax(np.ones(3), temperature=0.0),
        lambda: E.average_probs(np.ones(3)),
        lambda: E.nll(np.ones((3, 2)) / 2, np.zeros(4)),
        lambda: E.ema_weights(np.ones((3, 2)), 1.0),
        lambda: E.weight_average([]),
        lambda: E.cosine_restarts(-1, 0.1, 10),
        lambda: E.soft_cross_entropy(np.ones((2, 3)), np.ones((3, 2))),
        lambda: E.soft_cross_entropy_grad(np.ones((2, 3)), np.ones((2, 3)), -1.0),
    ],
)
def test_bad_input_raises_one_clear_error(call):
    with pytest.raises(RegbookError):
        call()
