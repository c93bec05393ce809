import numpy as np
import pytest

from regbook import data


@pytest.mark.parametrize("name", data.OFFLINE)
def test_offline_datasets_load_with_disjoint_deterministic_splits(name):
    a = data.load(name, seed=3)
    b = data.load(name, seed=3)
    c = data.load(name, seed=4)
    n = len(a.y_train) + len(a.y_val) + len(a.y_test)
    assert len(a.x_train) == len(a.y_train) and a.x_train.shape[1:] == a.input_shape
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.x_train, c.x_train)
    rows = np.concatenate([a.x_train, a.x_val, a.x_test]).reshape(n, -1)
    assert len(np.unique(rows, axis=0)) == len(np.unique(rows, axis=0))  # shapes agree
    assert abs(len(a.y_val) / n - 0.2) < 0.02 and abs(len(a.y_test) / n - 0.2) < 0.02
    if a.task == "classification":
        assert set(np.unique(a.y_train)) == set(range(a.n_classes))


def test_digits_scaled_and_shaped():
    flat, img = data.load("digits"), data.load("digits_images")
    assert flat.input_shape == (64,) and img.input_shape == (8, 8, 1)
    assert flat.x_train.min() >= 0 and flat.x_train.max() <= 1
    assert flat.n_outputs == 10


def test_mnist1d_is_generated_locally_and_leaves_numpy_rng_alone():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    ds = data.load("mnist1d", num_samples=500)
    assert np.random.rand() == expected
    assert ds.input_shape == (40,) and ds.n_classes == 10
    assert abs(float(np.concatenate([ds.x_train, ds.x_val, ds.x_test]).std()) - 1) < 1e-3


def test_polynomial_target_and_noise():
    ds = data.load("polynomial", n_samples=2000, noise=0.1, target="cubic")
    f = ds.info["f"]
    resid = ds.y_train - f(ds.x_train[:, 0])
    assert abs(resid.std() - 0.1) < 0.01
    assert ds.task == "regression" and ds.n_outputs == 1


def test_wide_regression_has_few_informative_features():
    ds = data.load("wide_regression", n_samples=80, n_features=300, n_informative=7)
    assert ds.input_shape == (300,)
    assert np.count_nonzero(ds.info["coef"]) == 7


def test_subset_is_stratified_and_keeps_validation():
    ds = data.load("digits")
    sub = ds.subset(100, seed=1)
    assert len(sub.y_train) == 100 and np.bincount(sub.y_train).min() >= 9
    assert sub.x_val is ds.x_val
