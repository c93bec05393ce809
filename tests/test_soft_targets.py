"""regbook.soft_targets (chapter 12): the loop trains, its three switches run, and every fit
starts from the same state."""

import keras
import numpy as np
import pytest

from regbook.errors import RegbookError
from regbook.soft_targets import SoftTrainer


def _build(seed):
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(
                16, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
            ),
            keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    x = rng.random((60, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > x[:, 2] + 0.5).astype(int) + (x[:, 3] > 0.7)
    return x, np.eye(3)[y]


def _loss(model, x, y):
    logits = model(x, training=False)
    return float(keras.losses.categorical_crossentropy(y, logits, from_logits=True).numpy().mean())


def test_fit_lowers_the_loss(tiny):
    x, y = tiny
    trainer = SoftTrainer(_build, 3, lr=1e-2)
    before = _loss(_build(0), x, y)
    after = _loss(trainer.fit(x, y, epochs=100, seed=0), x, y)
    assert after < 0.7 * before


@pytest.mark.parametrize(
    "switches, kw",
    [
        ({}, {"smoothing": 0.2}),
        ({"mixup": True}, {"alpha": 0.4}),
        ({"fgsm": True}, {"eps": 0.1}),
        ({"mixup": True, "fgsm": True}, {"alpha": 0.2, "eps": 0.05, "smoothing": 0.1}),
    ],
)
def test_each_switch_runs_and_gives_finite_weights(tiny, switches, kw):
    x, y = tiny
    model = SoftTrainer(_build, 3, **switches).fit(x, y, epochs=20, seed=1, **kw)
    weights = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights)
    assert not np.allclose(weights[0], _build(1).get_weights()[0])  # it trained


def test_label_smoothing_caps_the_confidence(tiny):
    x, y = tiny
    trainer = SoftTrainer(_build, 3, lr=1e-2)
    conf = {}
    for s in (0.0, 0.3):
        p = keras.ops.softmax(trainer.fit(x, y, epochs=300, seed=0, smoothing=s)(x)).numpy()
        conf[s] = p.max(axis=1).mean()
    assert conf[0.3] < conf[0.0] and conf[0.3] < 1 - 0.3 + 0.3 / 3 + 0.02


def test_same_seed_same_weights_the_state_is_reset(tiny):
    x, y = tiny
    trainer = SoftTrainer(_build, 3, mixup=True)
    first = [w.copy() for w in trainer.fit(x, y, epochs=15, seed=3).get_weights()]
    trainer.fit(x, y, epochs=40, seed=4)  # moves weights, moments and the step counter
    again = trainer.fit(x, y, epochs=15, seed=3).get_weights()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(trainer.opt.iterations.numpy()) == 15
    assert np.isclose(float(trainer.opt.learning_rate.numpy()), 3e-3)


@pytest.mark.parametrize(
    "make, fit_kw, words",
    [
        (lambda: SoftTrainer("not a function", 3), None, "build must be a function"),
        (lambda: SoftTrainer(_build, 1), None, "n_classes must be >= 2"),
        (lambda: SoftTrainer(_build, 3, lr=-1.0), None, "lr must be positive"),
        (lambda: SoftTrainer(_build, 3, mixup="yes"), None, "mixup must be True or False"),
        (lambda: SoftTrainer(_build, 3), {"y_onehot": np.eye(4)[[0] * 60]}, "shape (n, 3)"),
        (lambda: SoftTrainer(_build, 3), {"x": np.full((60, 6), np.nan)}, "finite numbers"),
        (lambda: SoftTrainer(_build, 3), {"x": np.zeros((59, 6))}, "one row per target"),
        (lambda: SoftTrainer(_build, 3), {"smoothing": 1.0}, "smoothing must be < 1"),
        (lambda: SoftTrainer(_build, 3), {"smoothing": -0.1}, "smoothing must be in [0, 1]"),
        (lambda: SoftTrainer(_build, 3), {"eps": -0.1}, "eps must be >= 0"),
        (lambda: SoftTrainer(_build, 3), {"epochs": 0}, "epochs must be >= 1"),
        (lambda: SoftTrainer(_build, 3), {"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_bad_input_gives_one_clear_error(tiny, make, fit_kw, words):
    x, y = tiny
    with pytest.raises(RegbookError) as info:
        trainer = make()
        kw = {"x": x, "y_onehot": y, "epochs": 2, "seed": 0, **(fit_kw or {})}
        trainer.fit(kw.pop("x"), kw.pop("y_onehot"), **kw)
    assert words in str(info.value)
