"""regbook.tuning: the one-standard-error rule and the guards that make KerasTuner failures
loud."""

import sys
import tempfile

import keras
import numpy as np
import pytest

from regbook import data, tuning
from regbook.errors import RegbookError

# KerasTuner 1.4 calls threading.currentThread(), deprecated since Python 3.10.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras_tuner.*")


# ---------------------------------------------------------------- one-standard-error rule
def test_one_standard_error_picks_the_strongest_setting_within_one_se():
    lams = [1e-4, 1e-3, 1e-2, 1e-1]
    means = [0.90, 0.92, 0.915, 0.80]
    sems = [0.01, 0.01, 0.01, 0.01]
    assert tuning.one_standard_error(lams, means, sems) == 2  # 0.915 >= 0.92 - 0.01
    assert tuning.one_standard_error(lams, means, [0.001] * 4) == 1  # only the best is close
    # 0.90 < 0.92 - 0.01, so the smallest eligible value is 1e-3, not 1e-4
    assert tuning.one_standard_error(lams, means, sems, prefer="smallest") == 1
    assert tuning.one_standard_error(lams, means, [0.02] * 4, prefer="smallest") == 0


def test_one_standard_error_for_a_loss():
    lams = [1e-4, 1e-3, 1e-2, 1e-1]
    losses = [0.30, 0.25, 0.27, 0.60]
    assert tuning.one_standard_error(lams, losses, [0.03] * 4, higher_is_better=False) == 2
    assert tuning.one_standard_error(lams, losses, [0.01] * 4, higher_is_better=False) == 1


@pytest.mark.parametrize(
    "args",
    [([1, 2], [0.1], [0.1, 0.1]), ([], [], []), ([1, 2], [0.1, np.nan], [0, 0]), ([1], [1], [-1])],
)
def test_one_standard_error_rejects_bad_input(args):
    with pytest.raises(RegbookError):
        tuning.one_standard_error(*args)


# ---------------------------------------------------------------- KerasTuner guards
def hypermodel(n_outputs=2):
    def build_hp(hp):
        l2 = hp.Float("l2", 1e-4, 1e-1, sampling="log")
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(
                    8, activation="relu", kernel_regularizer=keras.regularizers.L2(l2)
                ),
                keras.layers.Dense(n_outputs),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    return build_hp


def _search(n_outputs, trials=2):
    import keras_tuner as kt

    moons = data.load("moons", n_samples=120, seed=0)
    tuner = kt.RandomSearch(
        hypermodel(n_outputs),
        objective="val_accuracy",
        max_trials=trials,
        directory=tempfile.mkdtemp(),
        project_name="t",
        overwrite=True,
        seed=0,
    )
    try:
        tuner.search(
            moons.x_train,
            moons.y_train,
            epochs=1,
            verbose=0,
            validation_data=(moons.x_val, moons.y_val),
        )
    except RuntimeError:  # KerasTuner's own stop after consecutive failures
        pass
    return tuner


def test_check_trials_passes_a_search_whose_trials_completed():
    tuning.check_trials(_search(n_outputs=2))


def test_failed_trials_are_one_loud_line_even_when_keras_tuner_carries_on():
    # One output for a two-class problem: the build works, the first training step fails.
    with pytest.raises(RegbookError, match="2 of 2 KerasTuner trials failed") as e:
        tuning.check_trials(_search(n_outputs=1))
    assert "\n" not in str(e.value)
    with pytest.raises(RegbookError, match="KerasTuner tuner"):
        tuning.check_trials(object())


def test_missing_tensorboard_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "tensorboard.plugins.hparams", None)
    with pytest.raises(RegbookError, match="pip install tensorboard"):
        tuning.check_tensorboard()
