"""Every kind of bad input gets one specific, one-line error before Keras is involved."""

import pytest

import regbook
from regbook import data, models, profiles, training
from regbook.errors import OfflineDatasetError, RegbookError


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    return msg


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(RegbookError) as e:
        data.load("mnits")
    msg = one_line(e)
    assert "'mnits'" in msg and "'mnist1d'" in msg and "'digits'" in msg


def test_unknown_dataset_option():
    with pytest.raises(RegbookError, match="Unknown option"):
        data.load("digits", n_sampels=10)


@pytest.mark.parametrize("bad", [-1e-3, -1, float("nan"), "strong"])
def test_negative_or_nonnumeric_strength(bad):
    with pytest.raises(RegbookError) as e:
        models.mlp(4, 2, regularizer_kind="l2", lambda_=bad)
    assert "lambda_" in one_line(e)


def test_negative_weight_decay():
    with pytest.raises(RegbookError, match="weight_decay must be >= 0"):
        training.make_optimizer("adamw", 1e-3, weight_decay=-0.1)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, "half"])
def test_dropout_rate_outside_unit_interval(bad):
    with pytest.raises(RegbookError) as e:
        models.mlp(4, 2, dropout=bad)
    assert "[0, 1)" in one_line(e)


def test_dropout_rate_zero_is_allowed():
    assert models.mlp(4, 2, dropout=0.0).count_params() > 0


def test_unknown_regularizer_and_batchnorm_placement():
    with pytest.raises(RegbookError, match="Unknown regularizer 'l3'"):
        models.mlp(4, 2, regularizer_kind="l3", lambda_=1.0)
    with pytest.raises(RegbookError, match="Unknown batchnorm"):
        models.mlp(4, 2, batchnorm="middle")


def test_online_dataset_requested_offline(monkeypatch):
    monkeypatch.setenv("REGBOOK_OFFLINE", "1")
    with pytest.raises(OfflineDatasetError) as e:
        data.load("cifar10")
    msg = one_line(e)
    assert "cifar10" in msg and "regbook.data.load('digits_images')" in msg


def test_online_dataset_without_network_names_the_offline_alternative(monkeypatch):
    """The download itself failing (no network here, or a broken URL) gives the same error."""
    import keras

    def no_network(*args, **kwargs):
        raise OSError("simulated: no route to host")

    monkeypatch.delenv("REGBOOK_OFFLINE", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(OfflineDatasetError) as e:
        data.load("mnist")
    msg = one_line(e)
    assert "download failed (OSError)" in msg and "regbook.data.load('digits')" in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__  # no chained traceback


def test_unknown_profile(monkeypatch):
    monkeypatch.setenv("REGBOOK_PROFILE", "turbo")
    with pytest.raises(RegbookError) as e:
        profiles.get_profile()
    assert "'quick'" in one_line(e) and "'full'" in str(e.value)


def test_bad_seed_variable(monkeypatch):
    monkeypatch.setenv("REGBOOK_SEED", "seven")
    with pytest.raises(RegbookError, match="REGBOOK_SEED must be an integer"):
        regbook.setup(quiet=True)


def test_unknown_optimizer_and_bad_epochs():
    ds = data.load("moons", n_samples=60)
    with pytest.raises(RegbookError, match="Unknown optimizer 'adamm'"):
        training.train(lambda s: models.mlp(2, 2, (4,), seed=s), ds, epochs=1, optimizer="adamm")
    with pytest.raises(RegbookError, match="epochs must be >= 1"):
        training.train(lambda s: models.mlp(2, 2, (4,), seed=s), ds, epochs=0)


def test_subset_larger_than_training_set():
    ds = data.load("moons", n_samples=60)
    with pytest.raises(RegbookError, match="exceeds the 36 training examples"):
        ds.subset(1000)
