"""Batch-normalization reference (chapter 6) against keras.layers.BatchNormalization /
LayerNormalization, TensorFlow autodiff and finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference.batchnorm import (
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    layernorm_forward,
    update_moving,
)
from regbook.reference.gradcheck import numerical_gradient, relative_error


def _bn_layer(d, gamma, beta, **kw):
    layer = keras.layers.BatchNormalization(dtype="float64", **kw)
    layer.build((None, d))
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    return layer


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(12, 5)) * np.array([1, 2, 3, 4, 5.0])
    return x, rng.normal(size=5), rng.normal(size=5)


def test_forward_matches_keras_in_training_mode(batch):
    x, g, b = batch
    y, cache = batchnorm_forward(x, g, b)
    layer = _bn_layer(5, g, b)
    np.testing.assert_allclose(y, layer(x, training=True).numpy(), atol=1e-10)
    # Per feature over the batch: every column of x_hat has mean 0 and variance ~1.
    np.testing.assert_allclose(cache["x_hat"].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(cache["x_hat"].var(axis=0), cache["var"] / (cache["var"] + 1e-3))


def test_forward_on_images_normalizes_per_channel():
    x = np.random.default_rng(1).normal(size=(4, 3, 3, 2)) + np.array([1.0, -2.0])
    y, cache = batchnorm_forward(x, eps=1e-5)
    layer = keras.layers.BatchNormalization(dtype="float64", epsilon=1e-5)
    np.testing.assert_allclose(y, layer(x, training=True).numpy(), atol=1e-10)
    assert cache["mean"].shape == (2,)


def test_moving_average_update_follows_keras_momentum_convention(batch):
    x, g, b = batch
    layer = _bn_layer(5, g, b, momentum=0.9)
    mean, var = np.zeros(5), np.ones(5)
    rng = np.random.default_rng(2)
    for _ in range(5):
        xb = x + rng.normal(size=x.shape)
        layer(xb, training=True)
        _, cache = batchnorm_forward(xb, g, b)
        mean = update_moving(mean, cache["mean"], 0.9)
        var = update_moving(var, cache["var"], 0.9)  # Keras uses the biased variance
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-10)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-10)
    x_new = rng.normal(size=(3, 5))
    np.testing.assert_allclose(
        batchnorm_inference(x_new, mean, var, g, b),
        layer(x_new, training=False).numpy(),
        atol=1e-10,
    )


def test_pytorch_momentum_is_one_minus_keras_momentum():
    old, new = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    torch_style = (1 - 0.1) * old + 0.1 * new  # PyTorch, momentum=0.1
    np.testing.assert_allclose(update_moving(old, new, 0.9), torch_style)


def test_trainable_false_runs_in_inference_mode(batch):
    x, g, b = batch
    layer = _bn_layer(5, g, b)
    layer.trainable = False
    expected = batchnorm_inference(x, np.zeros(5), np.ones(5), g, b)
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, atol=1e-10)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(5))


def test_backward_matches_tensorflow_autodiff(batch):
    x, g, b = batch
    upstream = np.random.default_rng(3).normal(size=x.shape)
    layer = _bn_layer(5, g, b)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt, training=True) * upstream)
    dx_tf, dg_tf, db_tf = tape.gradient(loss, [xt, layer.gamma, layer.beta])
    _, cache = batchnorm_forward(x, g, b)
    dx, dg, db = batchnorm_backward(upstream, cache)
    np.testing.assert_allclose(dx, dx_tf.numpy(), atol=1e-10)
    np.testing.assert_allclose(dg, dg_tf.numpy(), atol=1e-10)
    np.testing.assert_allclose(db, db_tf.numpy(), atol=1e-10)


def test_backward_matches_finite_differences(batch):
    x, g, b = batch
    x = x[:6, :3]
    g, b = g[:3], b[:3]
    w = np.random.default_rng(4).normal(size=(3, 2))

    def loss_of(xv, gv, bv):
        y, _ = batchnorm_forward(xv, gv, bv)
        return float(np.sum(np.sin(y @ w)))

    y, cache = batchnorm_forward(x, g, b)
    dy = np.cos(y @ w) @ w.T
    dx, dg, db = batchnorm_backward(dy, cache)
    assert relative_error(numerical_gradient(lambda v: loss_of(v, g, b), x), dx) < 1e-6
    assert relative_error(numerical_gradient(lambda v: loss_of(x, v, b), g), dg) < 1e-6
    assert relative_error(numerical_gradient(lambda v: loss_of(x, g, v), b), db) < 1e-6
    # The sum of dx over the batch is zero for every feature (the mean is subtracted).
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-10)


def test_layernorm_matches_keras_and_differs_from_batchnorm(batch):
    x, g, b = batch
    layer = keras.layers.LayerNormalization(dtype="float64")
    layer.build((None, 5))
    layer.gamma.assign(g)
    layer.beta.assign(b)
    ln = layernorm_forward(x, g, b)
    np.testing.assert_allclose(ln, layer(x).numpy(), atol=1e-10)
    # Layer norm of one example does not depend on the rest of the batch; BN's does.
    np.testing.assert_allclose(layernorm_forward(x[:1], g, b), ln[:1], atol=1e-12)
    assert not np.allclose(batchnorm_forward(x[:2], g, b)[0][:1], batchnorm_forward(x, g, b)[0][:1])


def test_batch_of_one_in_training_mode_outputs_beta():
    y, _ = batchnorm_forward(np.array([[5.0, -3.0]]), np.array([2.0, 2.0]), np.array([0.5, 1.0]))
    np.testing.assert_allclose(y, [[0.5, 1.0]])


@pytest.mark.parametrize(
    "call",
    [
        lambda: batchnorm_forward(np.ones(3)),
        lambda: batchnorm_forward(np.ones((3, 2)), gamma=np.ones(3)),
        lambda: batchnorm_forward(np.ones((3, 2)), eps=0.0),
        lambda: batchnorm_forward(np.ones((3, 2)), eps=-1e-3),
        lambda: batchnorm_backward(np.ones((3, 2)), {}),
        lambda: batchnorm_backward(np.ones((2, 2)), batchnorm_forward(np.ones((3, 2)))[1]),
        lambda: batchnorm_inference(np.ones((3, 2)), np.zeros(3), np.ones(2)),
        lambda: batchnorm_inference(np.ones((3, 2)), np.zeros(2), -np.ones(2)),
        lambda: update_moving(np.zeros(2), np.ones(2), momentum=1.5),
        lambda: update_moving(np.zeros(2), np.ones(2), momentum="0.9"),
        lambda: update_moving(np.zeros(2), np.ones(3)),
        lambda: layernorm_forward(np.ones((2, 3, 4))),
    ],
)
def test_bad_input_raises_a_regbook_error(call):
    with pytest.raises(RegbookError):
        call()
