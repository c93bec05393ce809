"""regbook.gradients: the deep test networks, per-layer gradient norms, DistanceFromInit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook import gradients
from regbook.errors import RegbookError

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 8)).astype("float32")
Y = RNG.integers(0, 3, 64)


@pytest.mark.parametrize("skip", [None, "residual", "dense"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_deep_mlp_shapes_and_layer_names(skip, batchnorm):
    m = gradients.deep_mlp(8, 3, depth=4, width=6, skip=skip, batchnorm=batchnorm, growth=5)
    assert m(X).shape == (64, 3)
    names = [layer.name for layer in m.layers if hasattr(layer, "kernel")]
    assert names == ["dense_0", "dense_1", "dense_2", "dense_3", "logits"]
    if skip == "dense":  # the logits see every layer's output: 6 + 3·5 features
        assert m.get_layer("logits").kernel.shape == (6 + 3 * 5, 3)
        assert m.get_layer("dense_3").kernel.shape == (6 + 2 * 5, 5)
    if batchnorm:
        assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in m.layers)


def test_deep_mlp_init_scale_and_seed():
    m = gradients.deep_mlp(8, 3, depth=3, width=400, init=3.0, seed=1)
    w = m.get_layer("dense_1").kernel.numpy()
    assert w.std() == pytest.approx(3.0 / np.sqrt(400), rel=0.02)
    same = gradients.deep_mlp(8, 3, depth=3, width=400, init=3.0, seed=1)
    other = gradients.deep_mlp(8, 3, depth=3, width=400, init=3.0, seed=2)
    np.testing.assert_array_equal(w, same.get_layer("dense_1").kernel.numpy())
    assert not np.allclose(w, other.get_layer("dense_1").kernel.numpy())


def test_residual_block_is_identity_plus_branch():
    m = gradients.deep_mlp(8, 3, depth=2, width=5, skip="residual", activation="tanh")
    h0 = m.get_layer("act_0")(m.get_layer("dense_0")(X))
    branch = m.get_layer("dense_1")(np.tanh(h0))
    expected = m.get_layer("logits")(np.tanh(h0 + branch))
    np.testing.assert_allclose(m(X), expected, rtol=1e-5, atol=1e-6)


def test_layer_gradient_norms_match_a_manual_tape():
    m = gradients.deep_mlp(8, 3, depth=3, width=6, activation="tanh")
    norms = gradients.layer_gradient_norms(m, X, Y)
    assert list(norms) == ["dense_0", "dense_1", "dense_2", "logits"]
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(Y, m(X))
    grads = tape.gradient(loss, [m.get_layer(n).kernel for n in norms])
    np.testing.assert_allclose(list(norms.values()), [np.linalg.norm(g) for g in grads], rtol=1e-6)


def test_layer_gradient_norms_regression_uses_mse_on_a_column():
    m = gradients.deep_mlp(8, 1, depth=2, width=4, activation="linear")
    y = RNG.standard_normal(64).astype("float32")
    norms = gradients.layer_gradient_norms(m, X, y)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((m(X)[:, 0] - y) ** 2)
    g = tape.gradient(loss, m.get_layer("logits").kernel)
    assert norms["logits"] == pytest.approx(float(tf.norm(g)), rel=1e-5)


def test_sigmoid_gradients_vanish_and_batchnorm_restores_them():
    x = RNG.standard_normal((128, 8)).astype("float32")
    y = RNG.integers(0, 3, 128)
    ratios = {}
    for bn in (False, True):
        m = gradients.deep_mlp(8, 3, depth=12, width=32, batchnorm=bn, seed=0)
        n = list(gradients.layer_gradient_norms(m, x, y).values())
        ratios[bn] = n[0] / n[-2]
    assert ratios[False] < 1e-4  # (≤ 1/4 per layer)^11
    assert 0.05 < ratios[True] < 20


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"init": 2.5, "activation": "tanh"},
        {"batchnorm": True, "init": "he_normal"},
        {"skip": "residual"},
        {"skip": "dense", "growth": 3},
    ],
)
def test_reinitialize_equals_building_with_that_seed(kwargs):
    m = gradients.deep_mlp(8, 3, depth=4, width=6, seed=0, **kwargs)
    m(X, training=True)  # moves the batch-norm statistics away from their start
    gradients.reinitialize(m, 5)
    fresh = gradients.deep_mlp(8, 3, depth=4, width=6, seed=5, **kwargs)
    assert len(m.weights) == len(fresh.weights)
    for a, b in zip(m.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_hidden_gradient_norms_equal_fresh_models_per_seed():
    got = gradients.hidden_gradient_norms(X, Y, [3, 4], 3, depth=3, width=6, batchnorm=True)
    assert got.shape == (2, 3)
    for row, seed in zip(got, [3, 4], strict=True):
        m = gradients.deep_mlp(8, 3, depth=3, width=6, batchnorm=True, seed=seed)
        norms = gradients.layer_gradient_norms(m, X, Y)
        np.testing.assert_allclose(row, [norms[f"dense_{i}"] for i in range(3)], rtol=1e-5)


def test_reinitialize_refuses_other_models():
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, name="head")])
    with pytest.raises(RegbookError, match="deep_mlp"):
        gradients.reinitialize(m, 1)
    with pytest.raises(RegbookError, match="seed"):
        gradients.reinitialize(gradients.deep_mlp(8, 3, depth=2, width=4), "1")
    with pytest.raises(RegbookError, match="seeds"):
        gradients.hidden_gradient_norms(X, Y, [], 3)


def test_distance_from_init_tracks_the_weights():
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    start = [v.numpy().copy() for v in m.trainable_weights]
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    cb = gradients.DistanceFromInit()
    m.fit(X, X[:, :1], epochs=3, batch_size=64, verbose=0, callbacks=[cb])
    end = [v.numpy() for v in m.trainable_weights]
    expected = np.sqrt(sum(np.sum((e - s) ** 2) for e, s in zip(end, start, strict=True)))
    assert len(cb.distances) == 3
    assert cb.distances[-1] == pytest.approx(expected, rel=1e-6)
    assert 0 < cb.distances[0] < cb.distances[-1]


def test_bad_arguments_raise_one_line_errors():
    with pytest.raises(RegbookError, match="depth"):
        gradients.deep_mlp(8, 3, depth=0)
    with pytest.raises(RegbookError, match="init"):
        gradients.deep_mlp(8, 3, init="orthogonal")
    with pytest.raises(RegbookError, match="init"):
        gradients.deep_mlp(8, 3, init=-1.0)
    with pytest.raises(RegbookError, match="skip"):
        gradients.deep_mlp(8, 3, skip="highway")
    with pytest.raises(RegbookError, match="activation"):
        gradients.deep_mlp(8, 3, activation="swishy")
    with pytest.raises(RegbookError, match="seed"):
        gradients.deep_mlp(8, 3, seed=1.5)
    m = gradients.deep_mlp(8, 3, depth=2, width=4)
    with pytest.raises(RegbookError, match="same length"):
        gradients.layer_gradient_norms(m, X, Y[:10])
    with pytest.raises(RegbookError, match="keras.Model"):
        gradients.layer_gradient_norms("model", X, Y)
