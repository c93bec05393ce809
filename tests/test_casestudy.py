"""regbook.casestudy: the plumbing of chapter 11's full-size (GPU) recipe, on tiny random
arrays: augmentation, pipeline, schedule, model, mixed-precision switch and training."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regbook import casestudy as C
from regbook.data import Dataset
from regbook.errors import RegbookError


def tiny_images(n=48, size=16, channels=3, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, size, size, channels)).astype("float32")
    y = rng.integers(0, n_classes, n).astype("int64")
    return x, y


@pytest.fixture(scope="module")
def tiny():
    x, y = tiny_images(96)
    return Dataset(
        "tiny", "classification", x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:], n_classes=4
    )


# ---------------------------------------------------------------- augmentation
def test_crops_are_windows_of_the_reflection_padded_image():
    x, _ = tiny_images(8, size=12)
    out = C.augment_batch(tf.constant(x), tf.constant([1, 2]), pad=3, flip=False).numpy()
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = np.pad(x, [(0, 0), (3, 3), (3, 3), (0, 0)], mode="reflect")
    for i in range(len(x)):
        windows = [
            (dy, dx)
            for dy in range(7)
            for dx in range(7)
            if np.array_equal(padded[i, dy : dy + 12, dx : dx + 12], out[i])
        ]
        assert windows, f"image {i} is not a crop of its padded version"
    # pixel values stay in [0, 1]: reflection pads with image pixels, not zeros
    assert out.min() >= x.min() and out.max() <= x.max()


def test_flips_mirror_about_half_of_the_images_and_nothing_else():
    x, _ = tiny_images(400, size=8, channels=1)
    out = C.augment_batch(tf.constant(x), tf.constant([3, 4]), pad=0, flip=True).numpy()
    same = np.all(out == x, axis=(1, 2, 3))
    mirrored = np.all(out == x[:, :, ::-1, :], axis=(1, 2, 3))
    assert np.all(same | mirrored)
    assert 0.4 < mirrored.mean() < 0.6


def test_augmentation_is_reproducible_from_its_seed():
    x, _ = tiny_images(8)
    a = C.augment_batch(tf.constant(x), tf.constant([5, 6])).numpy()
    b = C.augment_batch(tf.constant(x), tf.constant([5, 6])).numpy()
    c = C.augment_batch(tf.constant(x), tf.constant([5, 7])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_augmentation_rejects_a_pad_as_large_as_the_image():
    x, _ = tiny_images(2, size=8)
    with pytest.raises(RegbookError, match="pad"):
        C.augment_batch(tf.constant(x), tf.constant([0, 0]), pad=8)


def test_pipeline_shapes_and_label_pairing():
    x, y = tiny_images(50, size=8)
    x[:, 0, 0, 0] = np.arange(50) / 50  # tag each image with its index (a corner pixel)
    ds = C.make_pipeline(x, y, batch_size=16, training=True, seed=0)
    xb, yb = next(iter(ds))
    assert xb.shape == (16, 8, 8, 3) and yb.shape == (16,)
    idx = np.round(xb.numpy()[:, 0, 0, 0] * 50).astype(int)
    np.testing.assert_array_equal(yb.numpy(), y[idx])  # shuffling keeps pairs together
    batches = list(C.make_pipeline(x, y, batch_size=16, training=False))
    assert [len(b[1]) for b in batches] == [16, 16, 16, 2]
    aug = C.make_pipeline(x, y, batch_size=10, training=True, pad=2, flip=True, seed=1)
    assert next(iter(aug))[0].shape == (10, 8, 8, 3)


@pytest.mark.parametrize(
    "kwargs", [dict(batch_size=0), dict(batch_size=100), dict(batch_size=4, seed=1.5)]
)
def test_pipeline_rejects_bad_arguments(kwargs):
    x, y = tiny_images(20, size=8)
    with pytest.raises(RegbookError):
        C.make_pipeline(x, y, training=True, **kwargs)


# ---------------------------------------------------------------- schedule
def test_one_cycle_rises_then_falls_to_zero():
    s = C.OneCycle(0.4, total_steps=100, warmup=0.2)
    lr = np.array([float(s(t)) for t in range(0, 101, 10)])
    np.testing.assert_allclose(lr[[0, 1, 2]], [0.0, 0.2, 0.4], atol=1e-6)
    np.testing.assert_allclose(lr[-1], 0.0, atol=1e-6)
    np.testing.assert_allclose(lr[6], 0.4 * 40 / 80, rtol=1e-5)  # step 60 on the way down
    assert np.all(np.diff(lr[2:]) < 0)
    assert C.OneCycle.from_config(s.get_config()).get_config() == s.get_config()
    for bad in (dict(peak=-1.0, total_steps=10), dict(peak=0.1, total_steps=0)):
        with pytest.raises(RegbookError):
            C.OneCycle(**bad)
    with pytest.raises(RegbookError):
        C.OneCycle(0.1, 10, warmup=1.0)


# ---------------------------------------------------------------- model
def test_recipe_cnn_shapes_switches_and_standardisation():
    x, _ = tiny_images(4, size=16)
    m = C.recipe_cnn(
        (16, 16, 3), 4, widths=(4, 8, 8, 16), mean=x.mean((0, 1, 2)), std=x.std((0, 1, 2))
    )
    assert m(x).shape == (4, 4)
    names = [layer.name for layer in m.layers]
    assert "standardise" in names and "dropout" in names
    assert (
        sum(n.startswith("bn_") for n in names) == 8
        and sum(n.startswith("conv_") for n in names) == 8
    )
    assert sum(n.startswith("residual_") for n in names) == 2
    plain = C.recipe_cnn((8, 8, 1), 3, widths=(2, 2, 2, 2), batchnorm=False, dropout=0.0)
    assert not any(n.startswith("bn_") or n == "dropout" for n in (la.name for la in plain.layers))
    penalised = C.recipe_cnn((8, 8, 1), 3, widths=(2, 2, 2, 2), lambda_=1e-2)
    penalised(np.zeros((1, 8, 8, 1), "float32"))
    assert len(penalised.losses) == 9  # 8 conv kernels + the classifier


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (((4, 4, 3), 2), {}),
        (((16, 16), 2), {}),
        (((16, 16, 3), 2), dict(widths=(4, 4, 4))),
        (((16, 16, 3), 2), dict(dropout=1.0)),
        (((16, 16, 3), 2), dict(mean=np.zeros(3))),
        (((16, 16, 3), 2), dict(mean=np.zeros(2), std=np.ones(2))),
        (((16, 16, 3), 0), {}),
    ],
)
def test_recipe_cnn_rejects_bad_arguments(args, kwargs):
    with pytest.raises(RegbookError):
        C.recipe_cnn(*args, **kwargs)


def test_mixed_precision_is_scoped_and_keeps_float32_logits():
    before = keras.mixed_precision.global_policy().name
    with C.use_mixed_precision("on") as active:
        assert active and keras.mixed_precision.global_policy().name == "mixed_float16"
        m = C.recipe_cnn((8, 8, 1), 3, widths=(2, 2, 2, 2))
    assert keras.mixed_precision.global_policy().name == before
    assert m.get_layer("conv_0").compute_dtype == "float16"
    assert m(np.zeros((2, 8, 8, 1), "float32")).dtype == "float32"
    with C.use_mixed_precision("auto") as active:
        assert active == bool(tf.config.list_physical_devices("GPU"))
    with pytest.raises(RegbookError):
        with C.use_mixed_precision("maybe"):
            pass


# ---------------------------------------------------------------- training, end to end
def test_train_recipe_end_to_end_on_tiny_data(tiny):
    run = C.train_recipe(
        tiny, epochs=2, batch_size=16, widths=(4, 8, 8, 8), pad=2, mixed_precision="off", seed=3
    )
    assert run.epochs_run == 2 and run.model is not None
    for key in ("loss", "data_loss", "accuracy", "val_data_loss", "val_accuracy", "epoch"):
        assert len(run.history[key]) == 2, key
    for split in ("train", "val", "test"):
        assert 0.0 <= run.final[f"{split}_accuracy"] <= 1.0
    assert run.final["penalty"] == 0.0  # decoupled weight decay, no penalty in the loss
    opt = run.model.optimizer
    assert opt.weight_decay == pytest.approx(5e-4) and isinstance(opt, keras.optimizers.SGD)
    assert np.isfinite(run.final["test_data_loss"]) and run.wall_time > 0
    penalised = C.train_recipe(
        tiny,
        epochs=1,
        batch_size=32,
        widths=(4, 4, 4, 4),
        optimizer="adamw",
        weight_decay=0.0,
        lambda_=1e-3,
        pad=0,
        flip=False,
        mixed_precision="off",
    )
    assert penalised.final["penalty"] > 0
    assert isinstance(penalised.model.optimizer, keras.optimizers.AdamW)


def test_train_recipe_with_mixed_precision_uses_loss_scaling(tiny):
    # What the GPU path does, forced on the CPU: float16 layers, a loss-scale optimizer,
    # float32 logits, finite losses, and the global policy restored afterwards.
    run = C.train_recipe(
        tiny, epochs=1, batch_size=32, widths=(4, 4, 4, 4), mixed_precision="on", seed=0
    )
    assert isinstance(run.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert run.model.get_layer("conv_0").compute_dtype == "float16"
    assert run.model.get_layer("logits").compute_dtype == "float32"
    assert np.isfinite(run.final["test_data_loss"])
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize(
    "kwargs",
    [dict(epochs=0), dict(batch_size=1000), dict(optimizer="lion"), dict(patience=0)],
)
def test_train_recipe_rejects_bad_arguments(tiny, kwargs):
    with pytest.raises(RegbookError):
        C.train_recipe(tiny, mixed_precision="off", **kwargs)


def test_train_recipe_needs_images(tiny):
    from dataclasses import replace

    flat = replace(tiny, x_train=tiny.x_train.reshape(64, -1))
    with pytest.raises(RegbookError, match="image"):
        C.train_recipe(flat)
