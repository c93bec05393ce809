"""Augmentation helpers (regbook.augment, chapter 8)."""

import keras
import matplotlib
import numpy as np
import pytest

from regbook.augment import (
    RandomShiftScale1D,
    augmented_dataset,
    augmented_samples,
    digits_augmentation,
    expected_noisy_mse,
    image_grid,
    shift_scale_1d,
)
from regbook.errors import RegbookError

matplotlib.use("Agg")


def _matches_roll(out_row, in_row, max_shift, scale_range=(1.0, 1.0)):
    """Is out_row = c·roll(in_row, k) for some |k| ≤ max_shift and c in scale_range?"""
    for k in range(-max_shift, max_shift + 1):
        rolled = np.roll(in_row, k)
        c = float(out_row @ rolled / (rolled @ rolled))
        if np.allclose(out_row, c * rolled, atol=1e-5) and (
            scale_range[0] - 1e-6 <= c <= scale_range[1] + 1e-6
        ):
            return True
    return False


def _shift_of(out_row, in_row, max_shift):
    """The k with out_row ∝ roll(in_row, k)."""
    for k in range(-max_shift, max_shift + 1):
        rolled = np.roll(in_row, k)
        if np.allclose(out_row / np.abs(out_row).max(), rolled / np.abs(rolled).max(), atol=1e-4):
            return k
    return None


def test_shift_scale_1d_rolls_and_scales():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 40))
    out = shift_scale_1d(x, 4, 0.2, np.random.default_rng(1))
    assert out.shape == x.shape
    assert all(_matches_roll(o, i, 4, (0.8, 1.2)) for o, i in zip(out, x, strict=True))
    assert not np.allclose(out, x)  # something happened
    np.testing.assert_array_equal(shift_scale_1d(x, 0, 0.0, rng), x)  # identity at zero


def test_random_shift_scale_layer_matches_the_numpy_rule():
    x = np.random.default_rng(2).standard_normal((64, 40)).astype("float32")
    layer = RandomShiftScale1D(3, 0.1, seed=0)
    out = np.asarray(layer(x, training=True))
    assert all(_matches_roll(o, i, 3, (0.9, 1.1)) for o, i in zip(out, x, strict=True))
    shifts_used = {_shift_of(o, i, 3) for o, i in zip(out, x, strict=True)}
    assert len(shifts_used) >= 5  # the shifts vary from example to example
    # identity outside training, in predict, and on a direct call without training=True
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    model = keras.Sequential([keras.Input((40,)), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    # serialisable
    clone = RandomShiftScale1D.from_config(layer.get_config())
    assert (clone.max_shift, clone.max_scale, clone.seed) == (3, 0.1, 0)


def test_random_shift_scale_layer_trains_inside_fit():
    x = np.random.default_rng(3).standard_normal((32, 40)).astype("float32")
    y = np.arange(32) % 10
    model = keras.Sequential(
        [keras.Input((40,)), RandomShiftScale1D(2, 0.1, seed=1), keras.layers.Dense(10)]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))


def test_digits_augmentation_layers_and_value_range():
    layers = digits_augmentation(
        translate=0.125, rotate=10, zoom=0.1, contrast=0.3, brightness=0.2, noise=0.05, seed=3
    )
    names = [type(layer).__name__ for layer in layers]
    assert names == [
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
        "RandomContrast",
        "RandomBrightness",
        "GaussianNoise",
    ]
    assert layers[1].factor == pytest.approx((-10 / 360, 10 / 360))
    x = np.random.default_rng(4).uniform(0, 1, (16, 8, 8, 1)).astype("float32")
    out = np.asarray(layers[4](x))  # brightness with value_range (0, 1) stays in [0, 1]
    assert out.min() >= 0 and out.max() <= 1
    wrong = keras.layers.RandomBrightness(0.2, seed=0)  # default value_range (0, 255)
    assert np.asarray(wrong(x)).max() > 2  # what goes wrong without value_range
    assert len(digits_augmentation(translate=0, rotate=0)) == 0


def test_augmented_samples_shape_and_original_first():
    x = np.random.default_rng(5).uniform(0, 1, (3, 8, 8, 1)).astype("float32")
    out = augmented_samples(digits_augmentation(seed=0), x, n_draws=4)
    assert out.shape == (3, 5, 8, 8, 1)
    np.testing.assert_array_equal(out[:, 0], x)
    assert not np.allclose(out[:, 1:], x[:, None])


def test_augmented_dataset_augments_each_epoch():
    x = np.random.default_rng(6).uniform(0, 1, (20, 8, 8, 1)).astype("float32")
    y = np.arange(20) % 10
    ds = augmented_dataset(x, y, digits_augmentation(seed=1), batch_size=20, seed=0)
    (xb1, yb1), (xb2, yb2) = list(ds.take(2))
    assert xb1.shape == (20, 8, 8, 1) and sorted(np.asarray(yb1)) == sorted(y)
    # the same images come back differently augmented in the next epoch
    order1, order2 = (
        np.argsort(np.asarray(yb1), kind="stable"),
        np.argsort(np.asarray(yb2), kind="stable"),
    )
    assert not np.allclose(np.asarray(xb1)[order1], np.asarray(xb2)[order2])
    once = augmented_dataset(x, y, [], batch_size=8, seed=0, repeat=False)
    assert sum(int(b[0].shape[0]) for b in once) == 20


def test_image_grid_draws_one_mosaic():
    x = np.random.default_rng(7).uniform(0, 1, (2, 3, 8, 8, 1))
    ax = image_grid(x, row_labels=["a", "b"], col_labels=["1", "2", "3"])
    (im,) = ax.get_images()
    assert im.get_array().shape == (2 * 9 - 1, 3 * 9 - 1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: digits_augmentation(translate=1.5),
        lambda: digits_augmentation(rotate=-5),
        lambda: digits_augmentation(rotate=180),
        lambda: digits_augmentation(brightness=float("nan")),
        lambda: digits_augmentation(seed=1.5),
        lambda: shift_scale_1d(np.zeros((2, 5)), -1, 0.1, np.random.default_rng(0)),
        lambda: shift_scale_1d(np.zeros((2, 5)), 1, 1.0, np.random.default_rng(0)),
        lambda: shift_scale_1d(np.zeros(5), 1, 0.1, np.random.default_rng(0)),
        lambda: shift_scale_1d(np.zeros((2, 5)), 1, 0.1, 0),
        lambda: RandomShiftScale1D(2.5, 0.1),
        lambda: augmented_samples([], np.zeros((2, 8, 8)), 2),
        lambda: augmented_samples([], np.zeros((2, 8, 8, 1)), 0),
        lambda: augmented_dataset(np.zeros((3, 2)), np.zeros(2), [], batch_size=2),
        lambda: image_grid(np.zeros((2, 8, 8))),
    ],
)
def test_augment_bad_input(call):
    with pytest.raises(RegbookError):
        call()


# ------------------------------------------------------------- input noise = L2 penalty
def test_expected_noisy_mse_against_keras_gaussian_noise_and_ridge():
    from regbook.reference.early_stopping import mse_gradient, mse_loss, ridge_solution
    from regbook.reference.gradcheck import numerical_gradient, relative_error

    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 5))
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(40)
    w = rng.standard_normal(5)
    sigma = 0.3
    closed = expected_noisy_mse(w, X, y, sigma)
    # Monte Carlo with Keras' own noise layer (training=True adds the noise)
    noise = keras.layers.GaussianNoise(sigma, seed=0)
    Xs = np.repeat(X[None], 4000, axis=0).reshape(-1, 5).astype("float32")
    noisy = np.asarray(noise(Xs, training=True), dtype=float).reshape(4000, 40, 5)
    mc = np.mean((noisy @ w - y) ** 2)
    assert mc == pytest.approx(closed, rel=0.01)
    # it is the book's ridge objective with λ = 2σ², so ridge's solution minimises it
    assert closed == pytest.approx(mse_loss(w, X, y, 2 * sigma**2))
    grad = numerical_gradient(lambda v: expected_noisy_mse(v, X, y, sigma), w)
    assert relative_error(grad, mse_gradient(w, X, y, 2 * sigma**2)) < 1e-7
    w_star = ridge_solution(X, y, 2 * sigma**2)
    g_star = numerical_gradient(lambda v: expected_noisy_mse(v, X, y, sigma), w_star)
    assert np.abs(g_star).max() < 1e-6
    with pytest.raises(RegbookError):
        expected_noisy_mse(w, X, y, -0.1)
    with pytest.raises(RegbookError):
        expected_noisy_mse(w[:-1], X, y, 0.1)
