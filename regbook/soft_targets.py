"""A full-batch training loop on soft targets: label smoothing, mixup and FGSM (chapter 12).

Label smoothing only changes the targets, so ``model.fit`` with
``keras.losses.CategoricalCrossentropy(label_smoothing=...)`` does it. Mixup and
adversarial training change the *batch* at every step, which is what this loop is for::

    trainer = SoftTrainer(build, n_classes=10, mixup=True)
    model = trainer.fit(x, keras.utils.to_categorical(y, 10), epochs=300, seed=0, alpha=0.2)

One ``tf.function`` is traced per trainer and reused across seeds and settings; every
:meth:`SoftTrainer.fit` starts from the initial weights of ``build(seed)`` and from the
optimizer's initial state (moments, step counter and learning rate restored to the values
they had when the trainer was made), so two fits with the same arguments give the same
weights. Introduced in chapter 12.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from .errors import (
    RegbookError,
    check_finite_array,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    check_seed,
)

__all__ = ["SoftTrainer"]


def _check_flag(name: str, value) -> bool:
    """``value`` as a bool, or raise unless it is True or False (chapter 12)."""
    if not isinstance(value, bool | np.bool_):
        raise RegbookError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


class SoftTrainer:
    """Full-batch Adam on soft targets, with label smoothing, mixup and FGSM (chapter 12).

    Args:
        build: ``build(seed)`` returns an uncompiled Keras model that outputs logits.
        n_classes: number of classes K (the width of the one-hot targets).
        lr: Adam's learning rate.
        mixup: train on mixed pairs, ``t ~ Beta(alpha, alpha)`` per example.
        fgsm: train on the batch and its FGSM perturbation of radius ``eps``, half and half.
    """

    def __init__(
        self,
        build: Callable[[int], keras.Model],
        n_classes: int,
        lr: float = 3e-3,
        mixup: bool = False,
        fgsm: bool = False,
    ):
        if not callable(build):
            raise RegbookError(
                f"build must be a function build(seed) -> keras.Model, got {build!r}."
            )
        self.K = check_positive_int("n_classes", n_classes)
        if self.K < 2:
            raise RegbookError(f"n_classes must be >= 2, got {n_classes!r}.")
        self.build = build
        self.mixup = _check_flag("mixup", mixup)
        self.fgsm = _check_flag("fgsm", fgsm)
        self.model = build(0)
        if not isinstance(self.model, keras.Model):
            raise RegbookError(f"build(seed) must return a keras.Model, got {self.model!r}.")
        self.opt = keras.optimizers.Adam(check_positive("lr", lr))
        self.opt.build(self.model.trainable_variables)
        # The optimizer's initial state, restored by every fit: no matching of names.
        self._opt_init = [np.array(v.numpy()) for v in self.opt.variables]
        self._loop = tf.function(self._train)

    def loss(self, y, logits):
        """Mean cross-entropy between soft targets ``y`` and ``softmax(logits)``."""
        return tf.reduce_mean(keras.losses.categorical_crossentropy(y, logits, from_logits=True))

    def _train(self, x, y, epochs, seed, smoothing, alpha, eps):
        """The traced loop: ``epochs`` full-batch Adam steps (chapter 12)."""
        n, model = tf.shape(x)[0], self.model
        y = (1 - smoothing) * y + smoothing / self.K  # label smoothing
        for i in tf.range(epochs):
            s = tf.stack([seed, i])
            xb, yb = x, y
            if self.mixup:  # t ~ Beta(α, α) via two Gamma draws; partner = a permutation
                g1 = tf.random.stateless_gamma([n, 1], seed=s, alpha=alpha)
                g2 = tf.random.stateless_gamma([n, 1], seed=s + [1, 0], alpha=alpha)
                t = g1 / (g1 + g2)
                perm = tf.argsort(tf.random.stateless_uniform([n], seed=s + [2, 0]))
                xb = t * x + (1 - t) * tf.gather(x, perm)
                yb = t * y + (1 - t) * tf.gather(y, perm)
            if self.fgsm:  # train on clean and FGSM examples, half and half
                with tf.GradientTape() as tape:
                    tape.watch(xb)
                    lx = self.loss(yb, model(xb, training=True))
                x_adv = tf.clip_by_value(xb + eps * tf.sign(tape.gradient(lx, xb)), 0.0, 1.0)
                xb, yb = tf.concat([xb, x_adv], 0), tf.concat([yb, yb], 0)
            with tf.GradientTape() as tape:
                loss = self.loss(yb, model(xb, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            self.opt.apply(grads, model.trainable_variables)

    def reset(self, seed: int) -> None:
        """Initial weights of ``build(seed)`` and the optimizer's initial state."""
        seed = check_seed("seed", seed)
        keras.utils.set_random_seed(seed)
        self.model.set_weights(self.build(seed).get_weights())
        for v, value in zip(self.opt.variables, self._opt_init, strict=True):
            v.assign(value)

    def fit(
        self,
        x,
        y_onehot,
        *,
        epochs: int,
        seed: int,
        smoothing: float = 0.0,
        alpha: float = 0.2,
        eps: float = 0.0,
    ) -> keras.Model:
        """Train from scratch for ``epochs`` full-batch steps and return the model.

        Args:
            x: inputs, shape ``(n, ...)``; with ``fgsm`` they must lie in [0, 1].
            y_onehot: one-hot (or soft) targets, shape ``(n, n_classes)``.
            epochs: number of full-batch steps.
            seed: initial weights, mixup draws and dropout masks.
            smoothing: label-smoothing weight in [0, 1): target ``(1 - s) e_y + s / K``.
            alpha: mixup's Beta(α, α) parameter (> 0; used with ``mixup``).
            eps: FGSM radius in the max norm (>= 0; used with ``fgsm``).
        """
        x = check_finite_array("x", x)
        y = check_finite_array("y_onehot", y_onehot)
        if y.ndim != 2 or y.shape[1] != self.K:
            raise RegbookError(
                f"y_onehot must have shape (n, {self.K}) (one-hot targets, e.g. "
                f"np.eye({self.K})[y]), got shape {y.shape}."
            )
        if x.ndim < 2 or len(x) != len(y):
            raise RegbookError(
                f"x must have shape (n, ...) with one row per target: got {x.shape} "
                f"for {len(y)} targets."
            )
        if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-4):
            raise RegbookError("y_onehot rows must be probabilities that sum to 1.")
        epochs = check_positive_int("epochs", epochs)
        smoothing = check_probability("smoothing", smoothing)
        if smoothing == 1.0:
            raise RegbookError("smoothing must be < 1 (1 would make every target uniform).")
        alpha = check_positive("alpha", alpha, hint="the Beta(α, α) parameter of mixup")
        eps = check_nonnegative("eps", eps, hint="an attack radius")
        self.reset(seed)
        args = [(x, "float32"), (y, "float32"), (epochs, "int32"), (int(seed), "int32")]
        args += [(smoothing, "float32"), (alpha, "float32"), (eps, "float32")]
        self._loop(*[tf.constant(a, dtype=t) for a, t in args])
        return self.model
