"""Chapter 15's NumPy references (L2-SP, a convolution as a tied dense matrix, the
Π-model's consistency loss, pseudo-labels) against finite differences and Keras/TF."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import penalties as P
from regbook.reference import sharing as S
from regbook.reference.gradcheck import numerical_gradient, relative_error


class L2SP(keras.regularizers.Regularizer):
    """The chapter's Keras form: ``α/2·‖w − w⁰‖²``."""

    def __init__(self, alpha, w0):
        self.alpha = float(alpha)
        self.w0 = np.asarray(w0, dtype="float32")

    def __call__(self, w):
        return 0.5 * self.alpha * keras.ops.sum(keras.ops.square(w - self.w0))

    def get_config(self):
        return {"alpha": self.alpha, "w0": self.w0.tolist()}


def test_l2sp_penalty_and_gradient_against_finite_differences():
    rng = np.random.default_rng(0)
    w, w0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    num = numerical_gradient(lambda v: S.l2sp_penalty(v, w0, 0.3), w)
    assert relative_error(num, S.l2sp_penalty_grad(w, w0, 0.3)) < 1e-8
    # w0 = 0 gives the book's L2 penalty λ/2·‖w‖².
    assert S.l2sp_penalty(w, np.zeros_like(w), 0.3) == pytest.approx(P.l2_penalty(w, 0.3))


def test_l2sp_matches_a_keras_regularizer_and_its_tensorflow_gradient():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((5, 2)).astype("float32")
    w = w0 + 0.1 * rng.standard_normal((5, 2)).astype("float32")
    reg = L2SP(0.5, w0)
    var = tf.Variable(w)
    with tf.GradientTape() as tape:
        value = reg(var)
    assert float(value) == pytest.approx(S.l2sp_penalty(w, w0, 0.5), rel=1e-5)
    grad = tape.gradient(value, var).numpy()
    assert relative_error(grad, S.l2sp_penalty_grad(w, w0, 0.5)) < 1e-5
    again = L2SP.from_config(reg.get_config())
    np.testing.assert_array_equal(again.w0, w0)


def test_conv1d_matrix_reproduces_a_keras_conv1d():
    rng = np.random.default_rng(2)
    layer = keras.layers.Conv1D(3, 5, padding="same", use_bias=False)
    x = rng.standard_normal((4, 12, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    M = S.conv1d_matrix(layer.kernel.numpy(), 12)
    assert M.shape == (24, 36)
    np.testing.assert_allclose(x.reshape(4, -1) @ M, out.reshape(4, -1), atol=1e-5)
    # 5·2·3 = 30 free numbers fill the 24·36 matrix (the rest are zeros).
    assert len(np.unique(M[M != 0])) <= 30


def test_consistency_loss_and_gradient():
    rng = np.random.default_rng(3)
    z1, z2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    num = numerical_gradient(lambda v: S.consistency_loss(v, z2), z1)
    assert relative_error(num, S.consistency_loss_grad(z1, z2)) < 1e-7
    t1, t2 = tf.constant(z1), tf.constant(z2)
    with tf.GradientTape() as tape:
        tape.watch(t1)
        d = tf.nn.softmax(t1) - tf.nn.softmax(t2)
        value = tf.reduce_mean(tf.reduce_sum(d**2, axis=-1))
    assert float(value) == pytest.approx(S.consistency_loss(z1, z2), rel=1e-10)
    grad = tape.gradient(value, t1).numpy()
    assert relative_error(grad, S.consistency_loss_grad(z1, z2)) < 1e-10
    assert S.consistency_loss(z1, z1) == 0.0


def test_pseudo_labels_keep_only_confident_rows():
    probs = S.softmax(np.array([[4.0, 0.0, 0.0], [0.2, 0.1, 0.0]]))
    labels, keep = S.pseudo_labels(probs, 0.9)
    assert labels.tolist() == [0, 0]
    assert keep.tolist() == [True, False]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: S.l2sp_penalty(np.ones(3), np.ones(4), 0.1), "same shape"),
        (lambda: S.l2sp_penalty(np.ones(3), np.ones(3), -1.0), "alpha must be >= 0"),
        (lambda: S.conv1d_matrix(np.ones((4, 1, 1)), 10), "odd width"),
        (lambda: S.consistency_loss(np.ones((2, 3)), np.ones((3, 3))), "two views"),
        (lambda: S.pseudo_labels(np.ones((2, 3)), 0.5), "summing to 1"),
        (lambda: S.pseudo_labels(np.full((1, 2), 0.5), 1.5), "threshold must be in"),
    ],
)
def test_bad_input_gives_one_clear_line(call, match):
    with pytest.raises(RegbookError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
