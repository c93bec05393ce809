"""Dropout reference (chapter 5) against keras.layers.Dropout, TensorFlow autodiff,
finite differences, and exact enumeration of masks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference.dropout import (
    all_masks,
    bernoulli_mask,
    dropout_backward,
    dropout_forward,
    dropout_inference,
    mask_probabilities,
    mc_dropout_predict,
    mlp_forward,
)
from regbook.reference.gradcheck import numerical_gradient, relative_error


def test_bernoulli_mask_keeps_a_fraction_one_minus_rate():
    m = bernoulli_mask((400, 250), 0.3, seed=0)
    assert set(np.unique(m)) <= {0.0, 1.0}
    assert m.mean() == pytest.approx(0.7, abs=0.005)
    np.testing.assert_array_equal(m, bernoulli_mask((400, 250), 0.3, seed=0))
    assert bernoulli_mask((10,), 0.0, seed=1).min() == 1.0


@pytest.mark.parametrize("scheme", ["inverted", "standard"])
def test_inference_is_the_exact_expectation_over_all_masks(scheme):
    rng = np.random.default_rng(0)
    x = rng.normal(size=8)
    masks = all_masks(8)
    probs = mask_probabilities(masks, 0.4)
    assert probs.sum() == pytest.approx(1.0)
    outs = np.array([dropout_forward(x, m, 0.4, scheme) for m in masks])
    np.testing.assert_allclose(probs @ outs, dropout_inference(x, 0.4, scheme), atol=1e-12)


def test_forward_matches_keras_dropout():
    x = np.random.default_rng(1).normal(size=(64, 32)).astype("float32")
    layer = keras.layers.Dropout(0.25, seed=3)
    y_keras = layer(x, training=True).numpy()
    mask = (y_keras != 0).astype(float)  # x has no exact zeros
    np.testing.assert_allclose(dropout_forward(x, mask, 0.25), y_keras, rtol=1e-6)
    # Keras' default call (no training flag) and training=False are the identity.
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_allclose(dropout_inference(x, 0.25), layer(x, training=False).numpy())


def test_backward_matches_tensorflow_autodiff():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(16, 10)))
    upstream = rng.normal(size=(16, 10))
    layer = keras.layers.Dropout(0.5, seed=4, dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * upstream)
    dx_tf = tape.gradient(loss, x).numpy()
    mask = (y.numpy() != 0).astype(float)
    np.testing.assert_allclose(dropout_backward(upstream, mask, 0.5), dx_tf, rtol=1e-12)


@pytest.mark.parametrize("scheme", ["inverted", "standard"])
def test_backward_matches_finite_differences(scheme):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4))
    mask = bernoulli_mask(x.shape, 0.3, seed=5)
    w = rng.normal(size=(4, 3))

    def loss(v):
        return float(np.sum(np.tanh(dropout_forward(v, mask, 0.3, scheme) @ w)))

    y = dropout_forward(x, mask, 0.3, scheme)
    dy = (1 - np.tanh(y @ w) ** 2) @ w.T
    analytic = dropout_backward(dy, mask, 0.3, scheme)
    assert relative_error(numerical_gradient(loss, x), analytic) < 1e-7
    assert np.all(analytic[mask == 0] == 0)


def test_mlp_forward_matches_a_keras_model_and_averages_to_it_when_linear():
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(3)]
    )
    layers = [
        (w.numpy(), b.numpy()) for w, b in zip(model.weights[::2], model.weights[1::2], strict=True)
    ]
    x = np.random.default_rng(4).normal(size=(7, 6)).astype("float32")
    np.testing.assert_allclose(mlp_forward(x, layers), model(x).numpy(), atol=1e-5)
    # With the identity as activation the network is linear in the masked hidden layer,
    # so the average over many masks approaches the deterministic forward pass.
    ident = lambda z: z  # noqa: E731
    rng = np.random.default_rng(5)
    mc = np.mean(
        [
            mlp_forward(x, layers, 0.5, mode="sample", seed=rng, activation=ident)
            for _ in range(4000)
        ],
        axis=0,
    )
    det = mlp_forward(x, layers, 0.5, activation=ident)
    assert relative_error(mc, det) < 0.05


def test_mc_dropout_predict_shapes_and_deterministic_limit():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(9, 4))
    res = mc_dropout_predict(lambda x: logits, None, n_samples=5)
    assert res["samples"].shape == (5, 9, 4)
    np.testing.assert_allclose(res["mean"].sum(axis=1), 1.0)
    np.testing.assert_allclose(res["std"], 0.0, atol=1e-12)
    np.testing.assert_allclose(res["mutual_info"], 0.0, atol=1e-12)
    # Stochastic predictions: disagreement between samples makes the mutual information > 0.
    noisy = mc_dropout_predict(lambda x: rng.normal(size=(9, 4)) * 3, None, n_samples=50)
    assert np.all(noisy["mutual_info"] > 0) and np.all(noisy["entropy"] <= np.log(4) + 1e-12)


def test_mc_dropout_predict_with_a_keras_model_in_training_mode():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(16),
            keras.layers.Dropout(0.5, seed=1),
            keras.layers.Dense(3),
        ]
    )
    x = np.ones((2, 4), "float32")
    res = mc_dropout_predict(lambda v: model(v, training=True), x, n_samples=20)
    assert res["std"].max() > 0
    res_off = mc_dropout_predict(lambda v: model(v), x, n_samples=5)
    assert res_off["std"].max() < 1e-6
    # One call on stacked copies: every copy gets its own mask, the deterministic limit
    # is unchanged and the spread is there.
    tiled = mc_dropout_predict(lambda v: model(v, training=True), x, n_samples=20, tile=True)
    assert tiled["samples"].shape == (20, 2, 3) and tiled["std"].max() > 0
    tiled_off = mc_dropout_predict(lambda v: model(v), x, n_samples=4, tile=True)
    np.testing.assert_allclose(tiled_off["mean"], res_off["mean"], atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bernoulli_mask((3, 3), 1.0),
        lambda: bernoulli_mask((3, 3), -0.1),
        lambda: bernoulli_mask((3, 0), 0.5),
        lambda: bernoulli_mask((3,), 0.5, seed="a"),
        lambda: dropout_forward(np.ones(3), np.ones(4), 0.5),
        lambda: dropout_forward(np.ones(3), np.array([0.0, 0.5, 1.0]), 0.5),
        lambda: dropout_forward(np.ones(3), np.ones(3), 0.5, scheme="reversed"),
        lambda: dropout_inference(np.ones(3), 1.5),
        lambda: all_masks(21),
        lambda: mask_probabilities(np.ones(3), 0.5),
        lambda: mlp_forward(np.ones((1, 2)), [], 0.5),
        lambda: mlp_forward(np.ones((1, 2)), [(np.ones((2, 1)), np.zeros(1))], mode="train"),
        lambda: mc_dropout_predict(lambda x: np.ones((2, 3)), None, n_samples=0),
        lambda: mc_dropout_predict("model", None),
        lambda: mc_dropout_predict(lambda x: np.ones(3), None, n_samples=2),
    ],
)
def test_bad_input_raises_a_regbook_error(call):
    with pytest.raises(RegbookError):
        call()
