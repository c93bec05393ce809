"""Bad input gets one clear line (a RegbookError naming the quantity), never a raw NumPy
error or a silent NaN; NumPy scalars are accepted wherever Python numbers are (issue 12)."""

import numpy as np
import pytest

from regbook import data
from regbook.errors import (
    RegbookError,
    check_finite_array,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_probability,
    check_seed,
)
from regbook.reference import activations as A
from regbook.reference import applications as app
from regbook.reference import batchnorm as BN
from regbook.reference import clipping as C
from regbook.reference import dropout as D
from regbook.reference import early_stopping as ES
from regbook.reference import penalties as P
from regbook.reference import selection as S
from regbook.reference.biasvar import bias_variance, fit_polynomial


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg and "np.float" not in msg and "np.int" not in msg, msg
    return msg


# ---------------------------------------------------------------- the shared checks
def test_positive_check_names_the_quantity():
    with pytest.raises(RegbookError) as e:
        check_positive("learning rate", -1)
    assert one_line(e) == "learning rate must be positive (> 0), got -1."
    with pytest.raises(RegbookError, match="lr must be a finite number > 0"):
        check_positive("lr", float("nan"))
    assert check_positive("lr", np.float32(0.5)) == 0.5


def test_nonnegative_message_mentions_strength_only_for_strengths():
    with pytest.raises(RegbookError) as e:
        check_nonnegative("noise", -1)
    assert one_line(e) == "noise must be >= 0, got -1."
    with pytest.raises(RegbookError) as e:
        check_nonnegative("lambda_", np.float64(-0.5))
    assert one_line(e) == (
        "lambda_ must be >= 0 (a regularization strength cannot be negative), got -0.5."
    )
    for bad in ("0.1", True, None, float("inf")):
        with pytest.raises(RegbookError, match="finite number"):
            check_nonnegative("tau", bad)


@pytest.mark.parametrize("good", [0, 7, np.int64(3), np.uint8(5), np.int32(0)])
def test_seed_accepts_python_and_numpy_integers(good):
    assert check_seed("seed", good) == int(good) and type(check_seed("seed", good)) is int


@pytest.mark.parametrize("bad", [True, np.bool_(False), 1.0, "x", None, -1])
def test_seed_rejects_everything_else(bad):
    with pytest.raises(RegbookError) as e:
        check_seed("seed", bad)
    assert one_line(e).startswith("seed must be")


def test_integer_and_probability_checks_accept_numpy_scalars():
    assert check_positive_int("n", np.int64(3)) == 3
    assert check_nonnegative_int("k", np.int64(0)) == 0
    assert check_probability("p", np.float32(1.0)) == 1.0
    for bad in (float("nan"), float("inf"), 2.5, "3"):
        with pytest.raises(RegbookError, match="n must be a positive integer"):
            check_positive_int("n", bad)
    with pytest.raises(RegbookError, match=r"p must be in \[0, 1\], got 1.5"):
        check_probability("p", np.float64(1.5))


def test_finite_array_check():
    np.testing.assert_array_equal(check_finite_array("x", [1, 2]), [1.0, 2.0])
    with pytest.raises(RegbookError) as e:
        check_finite_array("x", [1.0, np.nan, np.inf])
    assert "x must contain only finite numbers" in one_line(e) and "2 of its 3" in str(e.value)
    with pytest.raises(RegbookError, match="array of numbers"):
        check_finite_array("x", ["a", "b"])


# ---------------------------------------------------------------- ridge at λ = 0
def test_ridge_svd_cutoff_is_relative_to_the_largest_singular_value():
    X, y = 1e-7 * np.eye(3), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(P.ridge_svd(X, y, 0.0), np.linalg.pinv(X) @ y, rtol=1e-12)
    np.testing.assert_allclose(P.ridge_shrinkage(X, 0.0), np.ones(3))
    # Rank-deficient: the round-off direction is still dropped (the minimum-norm solution).
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(8, 3)) @ rng.normal(size=(3, 5))
    yr = rng.normal(size=8)
    np.testing.assert_allclose(P.ridge_svd(Xr, yr, 0.0), np.linalg.pinv(Xr) @ yr, atol=1e-10)
    np.testing.assert_allclose(P.ridge_shrinkage(Xr, 0.0), [1, 1, 1, 0, 0], atol=1e-12)


def test_selection_ridge_path_at_lambda_zero_is_the_minimum_norm_solution():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 30))  # more features than examples
    X -= X.mean(axis=0)
    y = rng.normal(size=10)
    y -= y.mean()
    W, b = S.ridge_path(X, y, [0.0, 1e-3])
    np.testing.assert_allclose(W[0, :, 0], np.linalg.pinv(X) @ y, atol=1e-10)
    np.testing.assert_allclose(b[0], 0.0, atol=1e-12)
    # and it is the limit of small λ > 0
    np.testing.assert_allclose(W[1], W[0], atol=1e-3)


# ---------------------------------------------------------------- NaN and inf are refused
X4 = np.random.default_rng(2).normal(size=(6, 3))
Y4 = np.arange(6.0)
NAN3 = np.array([1.0, np.nan, 2.0])
NAN_X = np.where(np.eye(6, 3) > 0, np.nan, X4)
NAN_23 = np.array([[1.0, 2.0, np.inf], [0.0, 1.0, 2.0]])

NON_FINITE = {
    "l2_penalty": lambda: P.l2_penalty(NAN3, 0.1),
    "l2_penalty_grad": lambda: P.l2_penalty_grad(NAN3, 0.1),
    "ridge_closed_form": lambda: P.ridge_closed_form(NAN_X, Y4, 1.0),
    "ridge_closed_form y": lambda: P.ridge_closed_form(X4, Y4 * np.nan, 1.0),
    "ridge_svd": lambda: P.ridge_svd(NAN_X, Y4, 1.0),
    "ridge_objective": lambda: P.ridge_objective(X4, Y4, NAN3, 1.0),
    "sgd_step": lambda: P.sgd_step(np.ones(3), NAN3, 0.1),
    "adam_step grad": lambda: P.adam_step(np.ones(3), NAN3, P.adam_init(np.ones(3))),
    "adam_step w": lambda: P.adam_step(NAN3, np.ones(3), P.adam_init(np.ones(3))),
    "dropout_forward": lambda: D.dropout_forward(NAN3, np.ones(3), 0.5),
    "dropout_inference": lambda: D.dropout_inference(NAN3, 0.5),
    "batchnorm_forward": lambda: BN.batchnorm_forward(NAN_23),
    "batchnorm_inference": lambda: BN.batchnorm_inference(NAN_23, np.zeros(3), np.ones(3)),
    "layernorm_forward": lambda: BN.layernorm_forward(NAN_23),
    "update_moving": lambda: BN.update_moving(NAN3, np.ones(3)),
    "clip_by_value": lambda: C.clip_by_value(NAN3, 1.0),
    "clip_by_norm": lambda: C.clip_by_norm(NAN3, 1.0),
    "clip_by_global_norm": lambda: C.clip_by_global_norm([np.ones(2), NAN3], 1.0),
    "keras_clip": lambda: C.keras_clip([NAN3]),
    "sigmoid": lambda: A.sigmoid(NAN3),
    "relu": lambda: A.relu(np.array([np.inf, 1.0])),
    "elu_grad": lambda: A.elu_grad(NAN3),
    "selection.ridge_path": lambda: S.ridge_path(NAN_X, Y4, [1.0]),
    "selection.ridge_objective": lambda: S.ridge_objective(NAN3, 0.0, X4, Y4, 1.0),
    "gp_posterior": lambda: S.gp_posterior(NAN3, np.ones(3), np.ones(2)),
    "bias_variance": lambda: bias_variance(np.ones((4, 3)), NAN3, 0.1),
    "fit_polynomial": lambda: fit_polynomial(NAN3, np.ones(3), 1),
    "mixup": lambda: app.mixup(NAN_23, np.eye(2), 0.2, np.random.default_rng(0)),
    "noisy_input_loss": lambda: app.noisy_input_loss(NAN_X, Y4, np.ones(3), 0.1),
    "mse_gradient w": lambda: ES.mse_gradient(NAN3, X4, Y4),
}


@pytest.mark.parametrize("call", NON_FINITE.values(), ids=NON_FINITE.keys())
def test_non_finite_input_is_refused_with_one_line(call):
    with pytest.raises(RegbookError) as e:
        call()
    assert "must contain only finite numbers" in one_line(e)


# ---------------------------------------------------------------- shapes and strengths
@pytest.mark.parametrize(
    "call",
    [
        lambda: ES.mse_loss(np.zeros(4), X4, Y4),
        lambda: ES.mse_gradient(np.zeros((3, 1)), X4, Y4),
        lambda: S.ridge_objective(np.zeros((4, 1)), np.zeros(1), X4, Y4[:, None], 1.0),
        lambda: S.ridge_gradient(np.zeros((3, 2)), np.zeros(1), X4, Y4[:, None], 1.0),
        lambda: S.ridge_gradient(np.zeros((3, 1)), np.zeros(1), X4, Y4[:-1, None], 1.0),
    ],
)
def test_wrong_shapes_give_one_line(call):
    with pytest.raises(RegbookError) as e:
        call()
    assert "shape" in one_line(e) or "(n, c)" in str(e.value)


def test_selection_objective_keeps_working_for_one_output():
    """Y (n,) with W (d,) and a scalar b, as before the shape checks."""
    W, b = np.array([0.5, -1.0, 2.0]), 0.3
    r = X4 @ W + b - Y4
    assert S.ridge_objective(W, b, X4, Y4, 2.0) == pytest.approx(0.5 * r @ r + W @ W)
    dW, db = S.ridge_gradient(W, b, X4, Y4, 2.0)
    np.testing.assert_allclose(dW, X4.T @ r + 2.0 * W)
    assert db == pytest.approx(r.sum())


def test_selection_objective_and_gradient_reject_negative_lambda():
    W, b = np.zeros((3, 1)), np.zeros(1)
    for fn in (S.ridge_objective, S.ridge_gradient):
        with pytest.raises(RegbookError) as e:
            fn(W, b, X4, Y4[:, None], -1.0)
        assert "lambda_ must be >= 0" in one_line(e)


def test_bias_variance_rejects_a_negative_noise_variance():
    with pytest.raises(RegbookError) as e:
        bias_variance(np.ones((4, 3)), np.ones(3), noise_var=-1)
    assert "noise_var must be >= 0" in one_line(e)
    with pytest.raises(RegbookError, match="f_true"):
        bias_variance(np.ones((4, 3)), np.ones(2), 0.1)


# ---------------------------------------------------------------- data.load
@pytest.mark.parametrize(
    "name, kwargs, word",
    [
        ("polynomial", {"noise": -1}, "noise must be >= 0"),
        ("moons", {"noise": "lots"}, "noise must be a finite number"),
        ("wide_regression", {"noise": float("nan")}, "noise must be a finite number"),
        ("moons", {"seed": "x"}, "seed must be an integer"),
        ("moons", {"seed": 1.5}, "seed must be an integer"),
        ("digits", {"seed": -3}, "seed must be >= 0"),
        ("digits", {"val_fraction": "a fifth"}, "val_fraction must be in [0, 1]"),
        ("digits", {"n_train": 0}, "n_train must be >= 1"),
    ],
)
def test_load_catches_bad_arguments(name, kwargs, word):
    with pytest.raises(RegbookError) as e:
        data.load(name, **kwargs)
    assert word in one_line(e)


def test_load_accepts_numpy_integers():
    a = data.load("moons", seed=np.int64(3), n_samples=np.int64(60))
    b = data.load("moons", seed=3, n_samples=60)
    np.testing.assert_array_equal(a.x_train, b.x_train)


# ---------------------------------------------------------------- generators and scalars
def test_mixup_accepts_none_or_a_seed_for_rng():
    x, y = np.arange(8.0).reshape(4, 2), np.eye(4)
    x_mix, y_mix, t = app.mixup(x, y, 0.2, None)
    assert x_mix.shape == x.shape and y_mix.shape == y.shape and t.shape == (4,)
    a = app.mixup(x, y, 0.2, np.random.default_rng(5))
    b = app.mixup(x, y, 0.2, 5)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(RegbookError, match="rng must be a numpy Generator"):
        app.mixup(x, y, 0.2, "seed")


def test_update_moving_accepts_numpy_floats():
    moving, batch = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    m = np.float32(0.9)
    np.testing.assert_array_equal(
        BN.update_moving(moving, batch, momentum=m),
        BN.update_moving(moving, batch, momentum=float(m)),
    )
    with pytest.raises(RegbookError, match=r"momentum must be in \[0, 1\]"):
        BN.update_moving(moving, batch, momentum=np.float64(1.5))


def test_numpy_scalars_pass_where_python_numbers_do():
    w = np.ones(3)
    assert P.l2_penalty(w, np.float32(0.5)) == pytest.approx(0.75)
    assert D.bernoulli_mask((np.int64(2), 3), np.float32(0.5), seed=np.int64(1)).shape == (2, 3)
    assert S.expected_max_normal(np.int64(2)) == pytest.approx(1 / np.sqrt(np.pi), rel=1e-6)
    assert fit_polynomial(np.linspace(-1, 1, 5), np.ones(5), np.int64(0))(0.3) == pytest.approx(1)


def test_models_accept_a_numpy_integer_seed():
    from regbook import models

    a = models.mlp(4, 2, (3,), seed=np.int64(3))
    b = models.mlp(4, 2, (3,), seed=3)
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(RegbookError) as e:
        models.mlp(4, 2, seed=2.0)
    assert one_line(e).startswith("seed must be an integer")
