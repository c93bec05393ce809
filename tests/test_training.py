"""The runner's record: data loss separated from the penalty, validation cadence, seeds."""

import keras
import numpy as np
import pytest

from regbook import data, models, training


@pytest.fixture(scope="module")
def moons():
    return data.load("moons", n_samples=200, seed=0)


def build(lam=0.0, dropout=0.0):
    return lambda s: models.mlp(
        2, 2, (16,), regularizer_kind="l2", lambda_=lam, dropout=dropout, seed=s
    )


def test_record_separates_data_loss_and_penalty(moons):
    run = training.train(build(lam=0.1), moons, epochs=5, seed=0)
    f = run.final
    assert f["penalty"] > 0
    for split in ("train", "val", "test"):
        assert f[f"{split}_loss"] == pytest.approx(f[f"{split}_data_loss"] + f["penalty"], rel=1e-4)
    h = run.history
    assert len(h["epoch"]) == run.epochs_run == 5
    assert np.all(h["loss"] > h["data_loss"])
    np.testing.assert_allclose(
        h["val_loss"] - h["val_data_loss"],
        h["val_loss"][0] * 0 + (h["val_loss"] - h["val_data_loss"]),
    )
    assert run.wall_time > 0 and run.model is not None


def test_validation_data_loss_matches_keras_evaluate(moons):
    run = training.train(build(lam=0.05), moons, epochs=3, seed=1)
    assert run.history["val_data_loss"][-1] == pytest.approx(run.final["val_data_loss"], rel=1e-4)
    assert run.history["val_accuracy"][-1] == pytest.approx(run.final["val_accuracy"], abs=1e-6)


def test_validation_frequency_leaves_nan_elsewhere(moons):
    run = training.train(build(), moons, epochs=6, validation_freq=3, seed=0)
    v = run.history["val_data_loss"]
    assert np.isnan(v[[0, 1, 3, 4]]).all() and np.isfinite(v[[2, 5]]).all()


def test_same_seed_same_run_and_different_seed_differs(moons):
    a = training.train(build(dropout=0.3), moons, epochs=3, batch_size=32, seed=5)
    b = training.train(build(dropout=0.3), moons, epochs=3, batch_size=32, seed=5)
    c = training.train(build(dropout=0.3), moons, epochs=3, batch_size=32, seed=6)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-6)
    assert not np.allclose(a.history["loss"], c.history["loss"])


def test_early_stopping_on_unpenalised_validation_loss(moons):
    stop = keras.callbacks.EarlyStopping(monitor="val_data_loss", patience=2, min_delta=10.0)
    run = training.train(build(lam=0.01), moons, epochs=50, seed=0, callbacks=[stop])
    assert run.epochs_run == 3  # no epoch improves by 10: stops after 1 + patience epochs


def test_train_seeds_aggregates(moons, capsys):
    runs = training.train_seeds(build(), moons, [0, 1, 2], epochs=2, label="tiny")
    assert len(runs) == 3 and runs.label == "tiny"
    vals = runs.values("val_accuracy")
    assert runs.mean("val_accuracy") == pytest.approx(vals.mean())
    assert runs.std("val_accuracy") == pytest.approx(vals.std(ddof=1))
    assert runs.curves("loss").shape == (3, 2)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "3 seeds" in out


def test_regression_task_uses_mse():
    ds = data.load("polynomial", n_samples=50)
    run = training.train(lambda s: models.mlp(1, 1, (8,), seed=s), ds, epochs=2)
    pred = run.model.predict(ds.x_val, verbose=0)[:, 0]
    assert run.final["val_data_loss"] == pytest.approx(np.mean((pred - ds.y_val) ** 2), rel=1e-4)
    assert "val_accuracy" not in run.final


def test_optimizer_weight_decay_is_passed_through():
    opt = training.make_optimizer("sgd", 0.1, weight_decay=0.01, momentum=0.9)
    assert isinstance(opt, keras.optimizers.SGD) and opt.weight_decay == pytest.approx(0.01)


def _traced_functions(fn, seen=None):
    """The tf.functions reachable through the closures of ``fn``: ``[(name, traces)]``."""
    seen = set() if seen is None else seen
    out = []
    for cell in getattr(fn, "__closure__", None) or ():
        value = cell.cell_contents
        if id(value) in seen:
            continue
        seen.add(id(value))
        if hasattr(value, "experimental_get_tracing_count"):
            out.append((value.__name__, value.experimental_get_tracing_count()))
            out += _traced_functions(getattr(value, "_python_function", None), seen)
        elif callable(value) and not isinstance(value, keras.Model):
            out += _traced_functions(value, seen)
    return out


def test_training_step_is_traced_once(moons):
    # The runner builds the optimizer's slots before fit; otherwise TensorFlow traces the
    # training step twice (the first trace creates variables). A plain compile + fit shows
    # the double trace, so this test can tell the two apart.
    x = moons.x_train[:8]
    y = moons.y_train[:8]
    plain = build()(0)
    plain.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    plain.fit(x, y, epochs=2, verbose=0)
    before = _traced_functions(plain.train_function)
    if not before or max(n for _, n in before) < 2:
        pytest.skip(f"this Keras version does not trace twice: {before}")
    run = training.train(build(lam=0.01), moons, epochs=3, seed=0)
    after = _traced_functions(run.model.train_function)
    assert after and all(n == 1 for _, n in after), after


def test_make_optimizer_names_the_learning_rate_and_requires_adamws_decay():
    import pytest

    from regbook.errors import RegbookError
    from regbook.training import make_optimizer

    with pytest.raises(RegbookError, match="learning rate must be positive"):
        make_optimizer("sgd", lr=-1)
    with pytest.raises(RegbookError, match="0.004"):
        make_optimizer("adamw")
    assert float(make_optimizer("adamw", weight_decay=0.0).weight_decay) == 0.0


def test_a_shared_early_stopping_starts_afresh_in_every_run():
    """train_seeds hands one EarlyStopping to every seed; Keras <= 3.14 kept its best value
    across fits (keras-team/keras#20256), so later runs stopped at once (chapter 11)."""
    import keras

    from regbook import data, models, training

    ds = data.load("moons", n_samples=120, seed=0)
    stop = keras.callbacks.EarlyStopping("val_data_loss", patience=2, restore_best_weights=True)
    stop.best = -1.0  # what a previous fit would leave behind: unbeatable
    run = training.train(
        lambda s: models.mlp(2, 2, (8,), seed=s), ds, epochs=6, lr=1e-2, callbacks=[stop]
    )
    assert run.epochs_run == 6 and stop.best is not None and stop.best > 0
