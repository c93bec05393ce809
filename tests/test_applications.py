"""regbook.reference.applications (chapter 12), against Keras/TensorFlow, finite
differences and Monte Carlo."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook.errors import RegbookError
from regbook.reference import applications as app
from regbook.reference.gradcheck import numerical_gradient


def test_smooth_labels_matches_keras_label_smoothing():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 16)
    logits = rng.standard_normal((16, 5)).astype("float32")
    q = app.smooth_labels(y, 5, 0.2)
    assert np.allclose(q.sum(axis=1), 1) and np.isclose(q[0, y[0]], 1 - 0.2 + 0.2 / 5)
    ours = -np.mean(np.sum(q * tf.nn.log_softmax(logits).numpy(), axis=1))
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    assert np.isclose(ours, float(keras_loss(np.eye(5)[y], logits)), rtol=1e-5)


def test_label_smoothing_gap_is_the_minimum_of_the_loss():
    K, eps = 6, 0.15
    q = app.smooth_labels(np.array([2]), K, eps)[0]

    def loss(z):
        z = z - z.max()
        return float(-np.sum(q * (z - np.log(np.exp(z).sum()))))

    gap = app.label_smoothing_logit_gap(eps, K)
    z_opt = np.where(np.arange(K) == 2, gap, 0.0)
    assert np.abs(numerical_gradient(loss, z_opt)).max() < 1e-8
    for delta in (-0.3, 0.3):  # moving the gap either way increases the loss
        assert loss(np.where(np.arange(K) == 2, gap + delta, 0.0)) > loss(z_opt)


def test_expected_calibration_error_on_constructed_cases():
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert app.expected_calibration_error(perfect, y) == pytest.approx(0.0)
    # confidence 0.9 everywhere, half right: |0.5 − 0.9| = 0.4
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    assert app.expected_calibration_error(p, y) == pytest.approx(0.4)


def test_mixup_is_a_convex_combination():
    rng = np.random.default_rng(1)
    x = rng.random((50, 3, 2))
    y = np.eye(4)[rng.integers(0, 4, 50)]
    xm, ym, lam = app.mixup(x, y, 0.4, rng)
    assert xm.shape == x.shape and ym.shape == y.shape and lam.shape == (50,)
    assert np.allclose(ym.sum(axis=1), 1) and xm.min() >= 0 and xm.max() <= 1
    # each mixed label has weight λ on its own class
    assert np.all(ym[np.arange(50), y.argmax(1)] >= lam - 1e-12)


def test_noisy_input_loss_by_monte_carlo_and_its_gradient():
    rng = np.random.default_rng(2)
    X, y, w = rng.standard_normal((30, 4)), rng.standard_normal(30), rng.standard_normal(4)
    sigma = 0.7
    mc = np.mean(
        [np.mean(((X + sigma * rng.standard_normal(X.shape)) @ w - y) ** 2) for _ in range(20000)]
    )
    assert mc == pytest.approx(app.noisy_input_loss(X, y, w, sigma), rel=0.01)
    # its gradient is that of the MSE plus an L2 penalty with λ = 2σ² (book convention)
    g = numerical_gradient(lambda v: app.noisy_input_loss(X, y, v, sigma), w)
    assert np.allclose(g, 2 / 30 * X.T @ (X @ w - y) + 2 * sigma**2 * w, atol=1e-6)


def test_fgsm_matches_tensorflow_and_is_the_linear_worst_case():
    rng = np.random.default_rng(3)
    X, w, b = rng.standard_normal((6, 5)), rng.standard_normal(5), 0.2
    y = np.array([1, -1, 1, -1, 1, 1])
    xt = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(tf.math.softplus(-y * (tf.linalg.matvec(xt, w) + b)))
    grad = tape.gradient(loss, xt).numpy()
    x_adv = app.fgsm(X, grad, 0.2, clip=None)
    assert np.allclose(x_adv - X, 0.2 * np.sign(grad))
    worst = app.linear_adversarial_logistic_loss(X, y, w, b, 0.2)
    assert np.allclose(np.logaddexp(0, -y * (x_adv @ w + b)), worst)
    clipped = app.fgsm(X, grad, 5.0)
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_synthetic_reviews_are_reproducible_and_labelled_by_sentiment():
    t1, l1 = app.synthetic_reviews(200, seed=4, label_noise=0.0)
    t2, l2 = app.synthetic_reviews(200, seed=4, label_noise=0.0)
    assert t1 == t2 and np.array_equal(l1, l2)
    score = np.array(
        [
            sum(w in app.POSITIVE_WORDS for w in t.split())
            - sum(w in app.NEGATIVE_WORDS for w in t.split())
            for t in t1
        ]
    )
    assert np.all(l1[score > 0] == 1) and np.all(l1[score < 0] == 0)
    assert 0.3 < l1.mean() < 0.7


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: app.smooth_labels(np.array([0, 3]), 3, 0.1), "labels in"),
        (lambda: app.smooth_labels(np.array([0]), 1, 0.1), "at least 2"),
        (lambda: app.smooth_labels(np.array([0]), 3, 1.0), "epsilon"),
        (lambda: app.label_smoothing_logit_gap(0.0, 10), "infinite"),
        (lambda: app.expected_calibration_error(np.ones((3, 2)), np.zeros(4)), "shape"),
        (lambda: app.mixup(np.ones((3, 2)), np.ones((3, 2)), 0.0, np.random.default_rng()), "> 0"),
        (lambda: app.mixup(np.ones((3, 2)), np.ones(3), 0.2, np.random.default_rng()), "one-hot"),
        (lambda: app.noisy_input_loss(np.ones((3, 2)), np.ones(3), np.ones(3), 0.1), "need X"),
        (lambda: app.noisy_input_loss(np.ones((3, 2)), np.ones(3), np.ones(2), -1), "sigma"),
        (lambda: app.fgsm(np.ones(3), np.ones(2), 0.1), "shape"),
        (
            lambda: app.linear_adversarial_logistic_loss(
                np.ones((2, 2)), np.array([0, 1]), np.ones(2), 0.0, 0.1
            ),
            "-1 and \\+1",
        ),
        (lambda: app.synthetic_reviews(0), "n_docs"),
        (lambda: app.synthetic_reviews(5, length=(10, 5)), "length"),
        (lambda: app.synthetic_reviews(5, label_noise=0.6), "label_noise"),
        (lambda: app.synthetic_reviews(5, n_rare=-1), "n_rare"),
    ],
)
def test_bad_input_raises_a_clear_error(call, match):
    with pytest.raises(RegbookError, match=match):
        call()
