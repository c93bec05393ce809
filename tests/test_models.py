"""Model factories: the book's λ convention is converted correctly for Keras."""

import keras
import numpy as np
import pytest

from regbook import models
from regbook.training import kernel_weights


def penalty(model) -> float:
    return float(sum(float(v) for v in model.losses))


@pytest.mark.parametrize("kind", ["l1", "l2", "l1l2"])
def test_penalty_follows_the_book_convention(kind):
    lam, alpha = 0.3, 0.25
    model = models.mlp(5, 3, (7, 4), regularizer_kind=kind, lambda_=lam, l1_ratio=alpha, seed=1)
    model(np.zeros((1, 5), "float32"))
    w = kernel_weights(model).astype("float64")
    l1, l2 = np.abs(w).sum(), (w**2).sum()
    expected = {
        "l1": lam * l1,
        "l2": lam / 2 * l2,
        "l1l2": lam * (alpha * l1 + (1 - alpha) / 2 * l2),
    }
    assert penalty(model) == pytest.approx(expected[kind], rel=1e-5)


def test_biases_and_batchnorm_are_not_penalised():
    model = models.mlp(5, 3, (7,), regularizer_kind="l2", lambda_=1.0, batchnorm="after_activation")
    model(np.zeros((1, 5), "float32"))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            assert layer.bias_regularizer is None and layer.kernel_regularizer is not None
    n_kernels = sum(v.path.endswith("kernel") for v in model.trainable_weights)
    assert len(model.losses) == n_kernels


def test_regularizer_none_when_strength_zero():
    assert models.regularizer("l2", 0.0) is None
    assert isinstance(models.regularizer("l2", 0.2), keras.regularizers.L2)
    assert models.regularizer("l2", 0.2).l2 == pytest.approx(0.1)


def test_same_seed_same_weights_and_dropout_masks():
    a = models.mlp(6, 2, (8,), dropout=0.5, seed=4)
    b = models.mlp(6, 2, (8,), dropout=0.5, seed=4)
    c = models.mlp(6, 2, (8,), dropout=0.5, seed=5)
    np.testing.assert_array_equal(kernel_weights(a), kernel_weights(b))
    assert not np.array_equal(kernel_weights(a), kernel_weights(c))
    x = np.ones((4, 6), "float32")
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))


@pytest.mark.parametrize("placement", [None, "before_activation", "after_activation"])
def test_batchnorm_placement_and_dropout_layers(placement):
    model = models.mlp(6, 2, (8, 8), dropout=0.2, batchnorm=placement)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("BatchNormalization") == (0 if placement is None else 2)
    assert kinds.count("Dropout") == 2
    if placement == "before_activation":
        assert kinds.index("BatchNormalization") < kinds.index("Activation")
    elif placement == "after_activation":
        assert kinds.index("Activation") < kinds.index("BatchNormalization")


def test_small_cnn_shapes_and_spatial_dropout():
    model = models.small_cnn(
        (8, 8, 1),
        10,
        filters=(8, 16),
        dense=16,
        conv_dropout=0.1,
        dropout=0.3,
        batchnorm="before_activation",
        regularizer_kind="l2",
        lambda_=1e-3,
    )
    out = model(np.zeros((2, 8, 8, 1), "float32"))
    assert out.shape == (2, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("SpatialDropout2D") == 2 and kinds.count("Conv2D") == 2
    assert penalty(model) > 0


def test_cnn1d_maps_mnist1d_sequences_to_logits_with_its_regularizers():
    import keras
    import numpy as np

    from regbook import models

    net = models.cnn1d(l2=1e-3, dropout=0.5, batchnorm=True, seed=0)
    out = net(np.zeros((3, 40, 1), "float32"))
    assert tuple(out.shape) == (3, 10)
    assert any(isinstance(layer, keras.layers.Dropout) for layer in net.layers)
    assert len(net.losses) == 5  # one L2 term per kernel: three convolutions, two dense
