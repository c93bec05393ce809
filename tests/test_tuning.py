"""regbook.tuning: search designs, k-fold cross-validation of Keras models, the
one-standard-error rule, and the guard that makes KerasTuner failures loud."""

import os
import sys

import keras
import numpy as np
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

from regbook import data, models, tuning
from regbook.errors import RegbookError

# KerasTuner 1.4 calls threading.currentThread(), deprecated since Python 3.10.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras_tuner.*")


@pytest.fixture(scope="module")
def moons():
    return data.load("moons", n_samples=120, seed=0)


def build(lam=0.0):
    return lambda s: models.mlp(2, 2, (8,), regularizer_kind="l2", lambda_=lam, seed=s)


# ---------------------------------------------------------------- designs
def test_log_grid_is_even_in_log10():
    g = tuning.log_grid(1e-4, 1e-1, 4)
    np.testing.assert_allclose(g, [1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(
        np.diff(np.log10(tuning.log_grid(3e-5, 2.0, 7))), np.log10(2.0 / 3e-5) / 6
    )


def test_log_uniform_spreads_evenly_over_decades():
    v = tuning.log_uniform(1e-5, 1e-1, 40_000, seed=1)
    assert v.min() >= 1e-5 and v.max() <= 1e-1
    counts = np.histogram(np.log10(v), bins=4, range=(-5, -1))[0]
    np.testing.assert_allclose(counts / len(v), 0.25, atol=0.01)
    np.testing.assert_array_equal(v[:5], tuning.log_uniform(1e-5, 1e-1, 5, seed=1))


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 3), (-1e-3, 1.0, 3), (1.0, 1e-3, 3), (1e-3, 1.0, 1), (1e-3, "a", 3)],
)
def test_log_grid_rejects_bad_ranges(args):
    with pytest.raises(RegbookError):
        tuning.log_grid(*args)


def test_grid_design_is_the_full_product():
    pts = tuning.grid_design({"lambda_": [1e-3, 1e-2, 1e-1], "width": [32, 64]})
    assert len(pts) == 6
    assert pts[0] == {"lambda_": 1e-3, "width": 32} and pts[1] == {"lambda_": 1e-3, "width": 64}
    assert len({p["lambda_"] for p in pts}) == 3


def test_random_design_tries_a_new_value_of_every_coordinate_each_time():
    pts = tuning.random_design({"lambda_": (1e-4, 1e-1), "dropout": (0.0, 0.5, "linear")}, 9)
    assert len(pts) == 9
    assert len({p["lambda_"] for p in pts}) == 9 and len({p["dropout"] for p in pts}) == 9
    assert all(1e-4 <= p["lambda_"] <= 1e-1 and 0 <= p["dropout"] <= 0.5 for p in pts)


@pytest.mark.parametrize(
    "ranges",
    [{}, {"a": (0.0, 1.0)}, {"a": (1e-3, 1.0, "cubic")}, {"a": 5}, {"a": (2.0, 1.0, "linear")}],
)
def test_random_design_rejects_bad_ranges(ranges):
    with pytest.raises(RegbookError):
        tuning.random_design(ranges, 3)


def test_grid_design_rejects_empty_axes():
    with pytest.raises(RegbookError):
        tuning.grid_design({"a": []})
    with pytest.raises(RegbookError):
        tuning.grid_design({})


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


# ---------------------------------------------------------------- cross-validation
def test_cross_validate_uses_every_pooled_example_once_and_never_the_test_set(moons):
    cv = tuning.cross_validate(build(), moons, n_splits=3, seed=4, epochs=2)
    assert cv.k == 3 and len(cv.runs) == 3
    n_pool = len(moons.y_train) + len(moons.y_val)
    val_idx = np.concatenate([va for _, va in cv.folds])
    np.testing.assert_array_equal(np.sort(val_idx), np.arange(n_pool))
    for tr, va in cv.folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == n_pool
    assert [r.seed for r in cv.runs] == [4, 5, 6]
    assert all("test_accuracy" not in r.final for r in cv.runs)
    scores = cv.values("val_accuracy")
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    assert cv.mean() == pytest.approx(scores.mean())
    assert cv.sem() == pytest.approx(scores.std(ddof=1) / np.sqrt(3))


def test_cross_validate_accepts_any_sklearn_splitter(moons):
    cv = tuning.cross_validate(build(), moons, splitter=KFold(2), epochs=1)
    assert cv.k == 2
    strat = StratifiedKFold(4, shuffle=True, random_state=0)
    cv = tuning.cross_validate(build(), moons, splitter=strat, epochs=1, evaluate=("val",))
    assert cv.k == 4 and "train_accuracy" not in cv.runs[0].final
    # stratified folds keep the class balance of the pool
    y = np.concatenate([moons.y_train, moons.y_val])
    for _, va in cv.folds:
        assert abs(y[va].mean() - y.mean()) < 0.1


def test_cross_validate_rejects_bad_arguments(moons):
    with pytest.raises(RegbookError, match="epochs"):
        tuning.cross_validate(build(), moons)
    with pytest.raises(RegbookError, match="function seed"):
        tuning.cross_validate(build()(0), moons, epochs=1)
    with pytest.raises(RegbookError, match="Dataset"):
        tuning.cross_validate(build(), (moons.x_train, moons.y_train), epochs=1)
    with pytest.raises(RegbookError, match="n_splits"):
        tuning.cross_validate(build(), moons, n_splits=1, epochs=1)
    with pytest.raises(RegbookError, match="splitter"):
        tuning.cross_validate(build(), moons, splitter=3, epochs=1)
    with pytest.raises(RegbookError):
        tuning.cross_validate(build(), moons, epochs=1, evaluate=("test",))


# ---------------------------------------------------------------- KerasTuner guard
def hypermodel(n_outputs=2):
    def build_hp(hp):
        lam = hp.Float("lambda_", 1e-4, 1e-1, sampling="log")
        model = models.mlp(2, n_outputs, (8,), regularizer_kind="l2", lambda_=lam, seed=0)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    return build_hp


def test_run_search_completes_and_writes_outside_the_repository(moons):
    tuner = tuning.make_tuner("random", hypermodel(), max_trials=2, seed=0)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert not os.path.abspath(tuner.directory).startswith(root)
    assert tuning.run_search(tuner, moons, epochs=2) is tuner
    rows = tuning.trials_table(tuner)
    assert len(rows) == 2 and all(r["status"] == "COMPLETED" for r in rows)
    assert all(0 <= r["score"] <= 1 and 1e-4 <= r["lambda_"] <= 1e-1 for r in rows)


def test_hyperband_trials_report_their_epochs(moons):
    tuner = tuning.make_tuner("hyperband", hypermodel(), max_epochs=3, factor=3, seed=0)
    tuning.run_search(tuner, moons, epochs=3, steps_per_epoch=2)
    rows = tuning.trials_table(tuner)
    assert {r["epochs"] for r in rows} == {1, 3}
    assert all(r["status"] == "COMPLETED" for r in rows)


def test_a_failing_trial_raises_instead_of_passing_silently(moons):
    # One output for a two-class problem: the build works, the first training step fails.
    tuner = tuning.make_tuner("random", hypermodel(n_outputs=1), max_trials=3)
    with pytest.raises(RegbookError, match="trial failed") as e:
        tuning.run_search(tuner, moons, epochs=1)
    assert "\n" not in str(e.value)


def test_failed_trials_are_reported_even_when_keras_tuner_carries_on(moons):
    # A tuner made without make_tuner keeps KerasTuner's default (stop after 3 consecutive
    # failures), so with 2 trials the search "succeeds"; run_search still raises.
    import keras_tuner as kt

    tuner = kt.RandomSearch(
        hypermodel(n_outputs=1),
        objective="val_accuracy",
        max_trials=2,
        directory=tuning.make_tuner("random", hypermodel(), max_trials=1).directory,
        project_name="silent",
        overwrite=True,
    )
    with pytest.raises(RegbookError, match="2 of 2 KerasTuner trials failed"):
        tuning.run_search(tuner, moons, epochs=1)


def test_missing_tensorboard_is_a_clear_error(monkeypatch, moons):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "tensorboard.plugins.hparams", None)
    with pytest.raises(RegbookError, match="pip install tensorboard"):
        tuning.check_tensorboard()
    with pytest.raises(RegbookError, match="tensorboard"):
        tuning.make_tuner("random", hypermodel(), max_trials=1)


def test_make_tuner_and_run_search_reject_bad_arguments(moons):
    with pytest.raises(RegbookError, match="Unknown tuner kind"):
        tuning.make_tuner("genetic", hypermodel(), max_trials=2)
    with pytest.raises(RegbookError, match="max_trials"):
        tuning.make_tuner("random", hypermodel())
    with pytest.raises(RegbookError, match="max_epochs"):
        tuning.make_tuner("hyperband", hypermodel())
    with pytest.raises(RegbookError, match="no max_trials"):
        tuning.make_tuner("hyperband", hypermodel(), max_trials=3, max_epochs=3)
    with pytest.raises(RegbookError, match="hypermodel"):
        tuning.make_tuner("random", 42, max_trials=2)
    tuner = tuning.make_tuner("random", hypermodel(), max_trials=1)
    with pytest.raises(RegbookError, match="KerasTuner tuner"):
        tuning.run_search(object(), moons, epochs=1)
    with pytest.raises(RegbookError, match="Dataset"):
        tuning.run_search(tuner, (moons.x_train, moons.y_train), epochs=1)
    with pytest.raises(RegbookError, match="epochs"):
        tuning.run_search(tuner, moons, epochs=0)
