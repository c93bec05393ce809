"""The NumPy early-stopping rule against keras.callbacks.EarlyStopping, and gradient descent
against ridge regression (regbook.reference.early_stopping, chapter 7)."""

import keras
import numpy as np
import pytest

from regbook.errors import RegbookError
from regbook.reference.early_stopping import (
    closest_ridge_lambda,
    early_stopping,
    effective_lambda,
    gd_filter,
    gd_path,
    hessian_eigh,
    mse_gradient,
    mse_loss,
    ridge_filter,
    ridge_path,
    ridge_solution,
)
from regbook.reference.gradcheck import numerical_gradient, relative_error


# ------------------------------------------------------------------ the stopping rule
@pytest.fixture(scope="module")
def tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    return model


def keras_decision(model, values, **kwargs):
    """Drive the real callback epoch by epoch with the given monitored values."""
    cb = keras.callbacks.EarlyStopping(monitor="val_x", mode=kwargs.pop("mode", "min"), **kwargs)
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_begin()
    epochs = 0
    for epoch, v in enumerate(values):
        epochs += 1
        logs = {} if np.isnan(v) else {"val_x": float(v)}
        if not logs:  # Keras warns about the missing key and skips the epoch
            with pytest.warns(UserWarning):
                cb.on_epoch_end(epoch, logs)
        else:
            cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return epochs, cb.best_epoch + 1, cb.stopped_epoch


def random_curve(rng, n=40):
    kind = rng.integers(4)
    t = np.arange(n)
    if kind == 0:  # U-shaped validation loss with noise
        v = (t / n - 0.4) ** 2 + 0.02 * rng.standard_normal(n)
    elif kind == 1:  # random walk
        v = np.cumsum(rng.standard_normal(n))
    elif kind == 2:  # plateaus and exact ties
        v = np.round(rng.uniform(0, 1, n), 1)
    else:  # decreasing in small steps (min_delta matters)
        v = 1 - np.cumsum(rng.uniform(0, 0.02, n))
    if rng.uniform() < 0.3:  # some epochs without validation
        v[rng.uniform(size=n) < 0.3] = np.nan
        v[0] = 0.5 if np.isnan(v[0]) else v[0]
    return v


def test_early_stopping_matches_keras_on_many_curves(tiny_model):
    rng = np.random.default_rng(0)
    for _ in range(300):
        v = random_curve(rng)
        kw = {
            "patience": int(rng.integers(0, 8)),
            "min_delta": float(rng.choice([0.0, 0.005, 0.05])),
            "mode": str(rng.choice(["min", "max"])),
            "start_from_epoch": int(rng.choice([0, 0, 3])),
        }
        if rng.uniform() < 0.2:
            kw["baseline"] = float(np.nanmedian(v))
        ours = early_stopping(v, **kw)
        epochs, best, stopped_epoch = keras_decision(tiny_model, v, restore_best_weights=True, **kw)
        assert ours.epochs_run == epochs, (v, kw)
        assert ours.stopped == (stopped_epoch > 0), (v, kw)
        assert ours.best_epoch == best, (v, kw)


def test_early_stopping_by_hand():
    v = [1.0, 0.8, 0.9, 0.7, 0.75, 0.76, 0.74, 0.8]
    r = early_stopping(v, patience=2)
    assert (r.stopped, r.epochs_run, r.best_epoch, r.best_value) == (True, 6, 4, 0.7)
    # min_delta: 0.8 -> 0.7 is an improvement of 0.1 > 0.05; 1.0 -> 0.8 too.
    r = early_stopping(v, patience=2, min_delta=0.15)
    assert (r.epochs_run, r.best_epoch) == (4, 2)
    # patience 0 and 1 are the same rule.
    assert early_stopping(v, patience=0) == early_stopping(v, patience=1)
    # never stops: runs to the end and still reports the best epoch
    r = early_stopping(v, patience=100)
    assert (r.stopped, r.epochs_run, r.best_epoch) == (False, 8, 4)
    # NaN epochs are not counted
    r = early_stopping([1.0, np.nan, 2.0, np.nan, 3.0], patience=2)
    assert (r.stopped, r.epochs_run, r.best_epoch) == (True, 5, 1)


def test_restore_best_weights_restores_even_without_stopping():
    """Keras 3 restores the best weights at the end of training whether or not it stopped."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(64)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])
            logs["val_fake"] = [3.0, 1.0, 2.0, 2.5, 2.7, 2.9][epoch]  # best at epoch 2

    es = keras.callbacks.EarlyStopping(
        "val_fake", mode="min", patience=50, restore_best_weights=True
    )
    hist = model.fit(x, y, epochs=6, batch_size=64, verbose=0, callbacks=[Snap(), es])
    assert len(hist.history["loss"]) == 6 and es.stopped_epoch == 0  # never stopped
    for w, w_best in zip(model.get_weights(), snapshots[1], strict=True):
        np.testing.assert_array_equal(w, w_best)
    assert early_stopping(hist.history["val_fake"], patience=50).best_epoch == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"values": []},
        {"values": [[1.0, 2.0]]},
        {"values": [1.0], "patience": -1},
        {"values": [1.0], "patience": 1.5},
        {"values": [1.0], "mode": "lowest"},
        {"values": [1.0], "min_delta": float("nan")},
        {"values": [1.0], "start_from_epoch": -2},
        {"values": [1.0], "baseline": float("inf")},
    ],
)
def test_early_stopping_bad_input(kwargs):
    values = kwargs.pop("values")
    with pytest.raises(RegbookError):
        early_stopping(values, **kwargs)


# ------------------------------------------------------- gradient descent versus ridge
@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(3)
    n, p = 60, 8
    X = rng.standard_normal((n, p)) * np.logspace(0, -1.5, p)  # spread-out spectrum
    y = X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n)
    return X, y


def test_gradient_against_finite_differences(regression):
    X, y = regression
    w = np.random.default_rng(4).standard_normal(X.shape[1])
    for lam in (0.0, 0.7):
        num = numerical_gradient(lambda v, lam=lam: mse_loss(v, X, y, lam), w)
        assert relative_error(num, mse_gradient(w, X, y, lam)) < 1e-7


def test_loss_and_gradient_match_keras(regression):
    import tensorflow as tf

    X, y = regression
    lam = 0.3
    w = np.random.default_rng(5).standard_normal(X.shape[1])
    var = tf.Variable(w.astype("float32"))
    reg = keras.regularizers.L2(lam / 2)  # the book's λ/2·Σw²
    with tf.GradientTape() as tape:
        pred = tf.linalg.matvec(tf.constant(X, tf.float32), var)
        loss = keras.losses.MeanSquaredError()(tf.constant(y, tf.float32), pred) + reg(var)
    assert float(loss) == pytest.approx(mse_loss(w, X, y, lam), rel=1e-5)
    np.testing.assert_allclose(
        tape.gradient(loss, var).numpy(), mse_gradient(w, X, y, lam), rtol=1e-4, atol=1e-5
    )


def test_gd_path_matches_keras_sgd(regression):
    X, y = regression
    lr, steps = 0.1, 25
    path = gd_path(X, y, lr, steps)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((X.shape[1],)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    model.compile(keras.optimizers.SGD(learning_rate=lr), keras.losses.MeanSquaredError())
    model.fit(
        X.astype("float32"),
        y.astype("float32"),
        batch_size=len(y),
        epochs=steps,
        shuffle=False,
        verbose=0,
    )
    np.testing.assert_allclose(model.get_weights()[0][:, 0], path[-1], rtol=1e-4, atol=1e-5)


def test_closed_forms_of_both_paths(regression):
    X, y = regression
    s, V = hessian_eigh(X)
    w_star = ridge_solution(X, y, 0.0)
    lr = 1.0 / s[-1]
    path = gd_path(X, y, lr, 40)
    for t in (1, 7, 40):
        closed = V @ (gd_filter(s, lr, t) * (V.T @ w_star))
        np.testing.assert_allclose(path[t], closed, atol=1e-10)
    for lam in (1e-3, 0.1, 5.0):
        closed = V @ (ridge_filter(s, lam) * (V.T @ w_star))
        np.testing.assert_allclose(ridge_solution(X, y, lam), closed, atol=1e-10)
        assert np.abs(mse_gradient(ridge_solution(X, y, lam), X, y, lam)).max() < 1e-12


def test_ridge_matches_scikit_learn(regression):
    from sklearn.linear_model import Ridge

    X, y = regression
    lam = 0.2
    # sklearn minimises ‖y − Xw‖² + α‖w‖²; dividing by n gives ours with λ/2 = α/n.
    sk = Ridge(alpha=len(y) * lam / 2, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(ridge_solution(X, y, lam), sk.coef_, rtol=1e-8)
    assert ridge_path(X, y, [lam, 2 * lam]).shape == (2, X.shape[1])


def test_early_stopping_resembles_ridge_with_lambda_one_over_eta_t(regression):
    X, y = regression
    s, _ = hessian_eigh(X)
    lr = 0.5 / s[-1]
    path = gd_path(X, y, lr, 1000)
    # While GD is still far from converged in the flattest direction (t < 1/(η·s_min)
    # ≈ 2100 here), the closest ridge solution has λ·η·t near ln 2 ≈ 0.69 ...
    for t in (1, 5, 20, 100, 500, 1000):
        lam = closest_ridge_lambda(path[t], X, y)
        assert 0.4 < lam * lr * t < 1.0, (t, lam * lr * t)
        # ... and it is close to the GD iterate.
        w_r = ridge_solution(X, y, lam)
        assert np.linalg.norm(w_r - path[t]) < 0.2 * np.linalg.norm(path[t])
    assert effective_lambda(lr, 10) == pytest.approx(1 / (lr * 10))
    np.testing.assert_allclose(effective_lambda(lr, np.array([1, 2])), [1 / lr, 0.5 / lr])


def test_filters_agree_at_both_ends():
    s = np.logspace(-6, 2, 50)
    eta, t = 1e-3, 1000  # η·s ≤ 0.1
    g, r = gd_filter(s, eta, t), ridge_filter(s, effective_lambda(eta, t))
    assert np.all(np.abs(g - r) < 0.21)  # max of 1 − e^{−x} − x/(1 + x) is 0.204 (x ≈ 2.5)
    assert abs(g[0] - r[0]) < 1e-6 and abs(g[-1] - r[-1]) < 0.02


@pytest.mark.parametrize(
    "call",
    [
        lambda X, y: gd_path(X, y, lr=10.0, steps=5),  # diverges
        lambda X, y: gd_path(X, y, lr=0.0, steps=5),
        lambda X, y: gd_path(X, y, lr=0.1, steps=0),
        lambda X, y: gd_path(X[:, 0], y, lr=0.1, steps=5),
        lambda X, y: ridge_solution(X, y[:-1], 0.1),
        lambda X, y: ridge_solution(X, y, -1.0),
        lambda X, y: ridge_path(X, y, []),
        lambda X, y: ridge_filter(np.ones(3), 0.0),
        lambda X, y: effective_lambda(0.0, 10),
        lambda X, y: effective_lambda(0.1, 0),
        lambda X, y: closest_ridge_lambda(np.zeros(3), X, y),
        lambda X, y: closest_ridge_lambda(np.zeros(X.shape[1]), X, y, bounds=(1.0, 0.1)),
        lambda X, y: mse_loss(np.zeros(X.shape[1]), X * np.nan, y),
    ],
)
def test_implicit_l2_bad_input(regression, call):
    X, y = regression
    with pytest.raises(RegbookError):
        call(X, y)
