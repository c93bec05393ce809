"""regbook.reference.clipping against TensorFlow's clip ops and one step of Keras 3
optimizers with clipnorm / clipvalue / global_clipnorm."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import clipping as C

RNG = np.random.default_rng(0)
GRADS = [
    RNG.standard_normal((4, 3)) * 3.0,
    RNG.standard_normal(3) * 0.2,
    RNG.standard_normal((3, 1)),
]


def test_clip_by_value_matches_tf():
    g = GRADS[0]
    np.testing.assert_allclose(C.clip_by_value(g, 1.5), tf.clip_by_value(g, -1.5, 1.5).numpy())


@pytest.mark.parametrize("c", [0.1, 1.0, 100.0])
def test_clip_by_norm_matches_tf(c):
    for g in GRADS:
        np.testing.assert_allclose(C.clip_by_norm(g, c), tf.clip_by_norm(g, c).numpy(), rtol=1e-12)


@pytest.mark.parametrize("c", [0.5, 2.0, 1e3])
def test_clip_by_global_norm_matches_tf(c):
    ours, norm = C.clip_by_global_norm(GRADS, c)
    theirs, tf_norm = tf.clip_by_global_norm([tf.constant(g) for g in GRADS], c)
    assert norm == pytest.approx(float(tf_norm), rel=1e-12)
    assert norm == pytest.approx(float(tf.linalg.global_norm(GRADS)), rel=1e-12)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12)


def test_norm_clipping_keeps_the_direction_and_value_clipping_does_not():
    g = np.array([10.0, 0.5])
    by_norm = C.clip_by_norm(g, 1.0)
    by_value = C.clip_by_value(g, 1.0)
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert np.linalg.norm(by_norm) == pytest.approx(1.0)
    assert cos(by_norm, g) == pytest.approx(1.0)
    np.testing.assert_allclose(by_value, [1.0, 0.5])
    assert np.degrees(np.arccos(cos(by_value, g))) > 20  # turned by more than 20 degrees


def test_global_clipping_keeps_the_ratios_between_tensors_per_tensor_clipping_does_not():
    ours = C.keras_clip(GRADS, global_clipnorm=1.0)
    per = C.keras_clip(GRADS, clipnorm=1.0)
    ratio = lambda gs: np.linalg.norm(gs[0]) / np.linalg.norm(gs[1])  # noqa: E731
    assert ratio(ours) == pytest.approx(ratio(GRADS))
    assert ratio(per) < 0.5 * ratio(GRADS)
    assert all(np.linalg.norm(g) <= 1.0 + 1e-12 for g in per)


def test_clipping_is_inactive_below_the_threshold_and_keeps_zero():
    g = GRADS[1]
    np.testing.assert_array_equal(C.clip_by_norm(g, 10.0), g)
    np.testing.assert_array_equal(C.clip_by_norm(np.zeros(3), 1.0), np.zeros(3))
    np.testing.assert_array_equal(C.keras_clip(GRADS)[2], GRADS[2])


def _one_sgd_step(**clip):
    """Weights before and after one plain SGD step (lr = 1) with the given clip option,
    and the raw gradients of that step."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 4)).astype("float32") * 5
    y = rng.standard_normal((32, 1)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    before = [v.numpy().astype(float) for v in model.trainable_variables]
    opt = keras.optimizers.SGD(learning_rate=1.0, **clip)
    opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    after = [v.numpy().astype(float) for v in model.trainable_variables]
    return before, after, [g.numpy().astype(float) for g in grads]


@pytest.mark.parametrize(
    "option", [{"clipnorm": 0.5}, {"clipvalue": 0.05}, {"global_clipnorm": 0.5}, {}]
)
def test_keras_optimizer_clip_options_match_keras_clip(option):
    before, after, grads = _one_sgd_step(**option)
    assert C.global_norm(grads) > 2.0  # large enough that every option clips
    expected = C.keras_clip(grads, **option)
    for b, a, e in zip(before, after, expected, strict=True):
        np.testing.assert_allclose(b - a, e, rtol=2e-5, atol=1e-6)  # Δw = −lr·clip(g)


def test_keras_clipnorm_is_per_variable_and_global_clipnorm_is_global():
    before, after, grads = _one_sgd_step(clipnorm=0.5)
    steps = [np.linalg.norm(b - a) for b, a in zip(before, after, strict=True)]
    assert max(steps) <= 0.5 + 1e-5  # every variable's step is capped at 0.5 ...
    assert C.global_norm([b - a for b, a in zip(before, after, strict=True)]) > 0.5 + 1e-3
    before, after, _ = _one_sgd_step(global_clipnorm=0.5)
    total = C.global_norm([b - a for b, a in zip(before, after, strict=True)])
    assert total == pytest.approx(0.5, rel=1e-5)  # ... global_clipnorm caps the whole step


def test_keras_accepts_only_one_clip_option():
    with pytest.raises(ValueError):
        keras.optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(RegbookError, match="at most one"):
        C.keras_clip(GRADS, clipnorm=1.0, clipvalue=1.0)


def test_bad_thresholds_and_inputs_raise():
    for bad in (0, -1.0, float("nan"), float("inf"), "one", None):
        with pytest.raises(RegbookError, match="> 0"):
            C.clip_by_norm(GRADS[0], bad)
    with pytest.raises(RegbookError, match="> 0"):
        C.clip_by_value(GRADS[0], 0.0)
    with pytest.raises(RegbookError, match="list"):
        C.clip_by_global_norm([], 1.0)
    with pytest.raises(RegbookError, match="list"):
        C.global_norm(np.ones(3))


def test_keras_clips_the_gradient_of_the_penalised_loss_but_not_weight_decay():
    """In fit, the clipped gradient includes kernel_regularizer terms; decoupled
    weight_decay is applied to the weights directly, outside the clipping."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    l2, wd, c = 0.5, 0.1, 0.05

    def model():
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(l2)),
            ]
        )

    m = model()
    kernel, bias = (v.numpy().astype(float) for v in m.trainable_variables)
    residual = x @ kernel + bias - y  # MSE gradient, plus the penalty's 2·l2·W
    g_kernel = 2 * x.T @ residual / len(x) + 2 * l2 * kernel
    g_bias = 2 * residual.mean(axis=0)
    clipped = C.clip_by_global_norm([g_kernel, g_bias], c)[0]

    m.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=c), loss="mse")
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(kernel - m.layers[0].kernel.numpy(), clipped[0], rtol=1e-4)

    m = model()
    m.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=c, weight_decay=wd), loss="mse")
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        kernel - m.layers[0].kernel.numpy(), clipped[0] + wd * kernel, rtol=1e-4
    )
