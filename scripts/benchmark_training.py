#!/usr/bin/env python
"""Population training against one ``model.fit`` per model: the speed-up on this machine.

For K = 8 and K = 20 small MLPs (64 → 128 → 128 → 10, dropout 0.3, L2) on 600 digits,
100 epochs of mini-batches of 128, it times (a) K separate Keras models each compiled and
trained with plain ``model.fit`` on NumPy arrays, one after the other, and (b) the same K
models trained together by ``regbook.population.fit``. Tracing and compilation are part of
both times, as they are in a chapter. Usage: ``make benchmark-training``.
"""

from __future__ import annotations

import sys
import time

import keras  # noqa: E402

import regbook  # noqa: F401  (quiet TensorFlow first)
from regbook import data, population  # noqa: E402

EPOCHS, BATCH = 100, 128


def build(seed, rate=0.3):
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                128, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)
            ),
            keras.layers.Dropout(rate, seed=seed),
            keras.layers.Dense(
                128, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)
            ),
            keras.layers.Dropout(rate, seed=seed + 1),
            keras.layers.Dense(10),
        ]
    )


def one_at_a_time(ds, seeds) -> float:
    start = time.perf_counter()
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build(seed)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        model.fit(ds.x_train, ds.y_train, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    return time.perf_counter() - start


def together(ds, seeds) -> float:
    start = time.perf_counter()
    population.fit(
        build,
        ds,
        seeds=seeds,
        epochs=EPOCHS,
        batch_size=BATCH,
        validation_freq=EPOCHS,
        optimizer=keras.optimizers.Adam(1e-3),
        evaluate=(),
        progress=False,
    )
    return time.perf_counter() - start


def main() -> int:
    ds = data.load("digits", seed=0).subset(600, seed=0)
    rows = []
    for k in (8, 20):
        seeds = list(range(k))
        alone, pop = one_at_a_time(ds, seeds), together(ds, seeds)
        rows.append((k, alone, pop, alone / pop))
        print(f"  K={k}: {alone:.1f} s one at a time, {pop:.1f} s together", file=sys.stderr)
    print(f"\n{EPOCHS} epochs, batch {BATCH}, 600 digits, MLP 64-128-128-10 with dropout and L2\n")
    print("| models | one `fit` each (s) | one population (s) | speed-up |")
    print("|---:|---:|---:|---:|")
    for k, alone, pop, ratio in rows:
        print(f"| {k} | {alone:.1f} | {pop:.1f} | {ratio:.1f}× |")
    return 0 if rows[0][3] >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
