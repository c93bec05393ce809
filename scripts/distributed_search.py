"""A λ/dropout search of a small MLP on scikit-learn's digits, on one or several processes.

    python scripts/distributed_search.py --workers 0          # one process
    python scripts/distributed_search.py --workers 2 --json out.json
    python scripts/distributed_search.py --engine optuna --workers 2

With ``--workers N`` (N >= 1) it launches the *same* script N + 1 times on 127.0.0.1
(KerasTuner: a chief that holds the oracle, and workers tuner0..tuner{N-1}; Optuna: N
processes sharing one SQLite study), waits (at most ``--timeout`` seconds), and prints one
summary line: trials per worker, the best hyper-parameters and score, trials per minute.

``--join`` runs one process of the search and takes its role from the environment, as on
a cluster (KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT; for Optuna
the ``--storage`` URL and REGBOOK_WORKER). Chapter 10, "Past one machine".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
from pathlib import Path

import regbook  # noqa: F401  (quiet TensorFlow logs, TensorFlow backend)
from regbook import distributed

PROJECT = "digits_mlp"


def digits(seed):
    """240 training and 360 validation digits (flat 64 pixels), as in chapter 10."""
    from regbook import data

    ds = data.load("digits", seed=seed).subset(240, seed=seed)
    return ds.x_train, ds.y_train, ds.x_val, ds.y_val


def mlp(l2, rate, seed):
    """The model of every trial: Dense(64, relu) with L2, Dropout, Dense(10) with L2."""
    import keras

    keras.utils.set_random_seed(seed)  # same initial weights for the same setting
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(64, "relu", kernel_regularizer=keras.regularizers.L2(l2)),
            keras.layers.Dropout(rate, seed=seed),
            keras.layers.Dense(10, kernel_regularizer=keras.regularizers.L2(l2)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=False,
    )
    return model


def join_keras_tuner(args):
    """One process of the KerasTuner search; its role comes from KERASTUNER_* variables."""
    import keras_tuner as kt

    x, y, x_val, y_val = digits(args.seed)

    def build(hp):
        l2 = hp.Float("l2", 1e-5, 1e-1, sampling="log")
        return mlp(l2, hp.Float("dropout", 0.0, 0.5), args.seed)

    class RandomSearch(kt.RandomSearch):
        def run_trial(self, trial, *fit_args, **fit_kwargs):
            start = time.time()
            result = super().run_trial(trial, *fit_args, **fit_kwargs)
            folder = self.get_trial_dir(trial.trial_id)
            distributed.record_trial(folder, start, time.time())  # who ran it, when
            return result

    tuner = RandomSearch(
        build,
        objective="val_accuracy",
        max_trials=args.max_trials,
        seed=args.seed + 1,  # KerasTuner reads seed=0 as "no seed" (`seed or random...`)
        directory=args.directory,
        project_name=PROJECT,
    )
    gc.freeze()  # KerasTuner collects garbage before each trial: make that cheap (ch. 10)
    tuner.search(x, y, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val), verbose=0)


def join_optuna(args):
    """One process of the Optuna search: same study, same storage, its own sampler seed."""
    import keras
    import optuna

    x, y, x_val, y_val = digits(args.seed)
    worker = int(os.environ.get("REGBOOK_WORKER", "0"))

    def objective(trial):
        trial.set_user_attr("worker", f"worker{worker}")
        l2 = trial.suggest_float("l2", 1e-5, 1e-1, log=True)
        model = mlp(l2, trial.suggest_float("dropout", 0.0, 0.5), args.seed)
        history = model.fit(
            x, y, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val), verbose=0
        )
        keras.backend.clear_session()
        return max(history.history["val_accuracy"])

    gc.freeze()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=PROJECT,
        storage=args.storage,
        # each process has its own sampler: the same seed would repeat the same settings
        sampler=optuna.samplers.RandomSampler(seed=args.seed + worker),
    )
    # MaxTrialsCallback: stop when the *study* has max_trials, whoever ran them
    study.optimize(
        objective,
        callbacks=[optuna.study.MaxTrialsCallback(args.max_trials, states=None)],
    )


def join(args):
    """Run one process of the search (the engine decides what this process does)."""
    (join_optuna if args.engine == "optuna" else join_keras_tuner)(args)


def optuna_trials(storage):
    """The finished trials of the Optuna study, as dicts like distributed.read_trials."""
    import optuna

    study = optuna.load_study(study_name=PROJECT, storage=storage)
    return [
        {
            "trial_id": t.number,
            "status": t.state.name,
            "score": t.value,
            "values": t.params,
            "tuner_id": t.user_attrs.get("worker"),
            "start": t.datetime_start.timestamp() if t.datetime_start else None,
            "end": t.datetime_complete.timestamp() if t.datetime_complete else None,
        }
        for t in study.trials
    ]


def summarize(args, run, trials):
    """The summary dict: trials per worker, best trial, trials per minute."""
    done = [t for t in trials if t["status"] in ("COMPLETED", "COMPLETE")]
    timed = [t for t in done if t["start"] is not None and t["end"] is not None]
    # the search's own time: first trial's start to last trial's end (no start-up)
    span = max(t["end"] for t in timed) - min(t["start"] for t in timed) if timed else None
    per_worker = {}
    for t in done:
        per_worker[str(t["tuner_id"])] = per_worker.get(str(t["tuner_id"]), 0) + 1
    best = max(done, key=lambda t: t["score"]) if done else None
    return {
        "engine": args.engine,
        "workers": args.workers,
        "max_trials": args.max_trials,
        "epochs": args.epochs,
        "seed": args.seed,
        "trials": len(done),
        "per_worker": per_worker,
        "best": best,
        "search_s": span,
        "wall_s": run.seconds,
        "trials_per_minute": 60 * len(done) / span if span else None,
        "ok": run.ok,
        "processes": {p.role: p.returncode for p in run.processes},
        "trial_list": trials,
    }


def launch(args):
    """Start the processes on 127.0.0.1, wait, and summarize."""
    directory = Path(args.directory)
    if directory.exists():
        shutil.rmtree(directory)  # a fresh search (KerasTuner would otherwise resume)
    directory.mkdir(parents=True)
    command = [sys.executable, os.path.abspath(__file__), "--join"] + args.passthrough
    if args.engine == "optuna":
        import optuna

        args.storage = args.storage or f"sqlite:///{(directory / 'study.db').resolve()}"
        command += ["--storage", args.storage]
        # created once here, so that the workers only load it (no race on the tables)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna.create_study(study_name=PROJECT, storage=args.storage, direction="maximize")
    run = distributed.launch(
        command,
        args.workers,
        engine=args.engine,
        timeout=args.timeout,
        log_dir=directory / "logs",
    )
    if args.engine == "optuna":
        trials = optuna_trials(args.storage)
    else:
        trials = distributed.read_trials(directory, PROJECT)
    return summarize(args, run, trials), run


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=0, help="0: one plain process")
    parser.add_argument("--engine", choices=distributed.ENGINES, default="keras-tuner")
    parser.add_argument("--max-trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--directory", default="_build/distributed_search")
    parser.add_argument("--storage", default=None, help="Optuna RDB URL (default SQLite)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds, all included")
    parser.add_argument("--json", default=None, help="write the summary here")
    parser.add_argument("--join", action="store_true", help="be one process of the search")
    args = parser.parse_args(argv)
    args.directory = os.path.abspath(args.directory)
    args.passthrough = [
        "--engine", args.engine, "--max-trials", str(args.max_trials),
        "--epochs", str(args.epochs), "--seed", str(args.seed),
        "--directory", args.directory,
    ]  # fmt: skip
    return args


def main(argv=None):
    args = parse(argv)
    if args.join:
        join(args)
        return 0
    summary, run = launch(args)
    best = summary["best"]
    hp = ", ".join(f"{k} {v:.3g}" for k, v in best["values"].items()) if best else "none"
    rate = summary["trials_per_minute"]
    print(
        f"{args.engine}, {args.workers} worker(s): {summary['trials']} trials "
        f"{summary['per_worker']}; best {hp}: {best['score'] if best else float('nan'):.3f}; "
        f"{rate if rate else float('nan'):.1f} trials/min "
        f"({summary['search_s'] or 0:.1f} s searching, {summary['wall_s']:.1f} s in all)"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str))
    if not run.ok:
        try:
            run.check()
        except regbook.RegbookError as e:
            print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
