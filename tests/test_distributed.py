"""regbook.distributed and scripts/distributed_search.py: KerasTuner's chief/worker mode,
Optuna's shared RDB storage and tf.distribute.MirroredStrategy, on 127.0.0.1 and the CPU.

Every search runs in child processes (KerasTuner reads its role from the environment when
a tuner is created; TensorFlow's logical devices must be set before it starts), bounded
by a trial budget and a timeout.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from regbook import RegbookError, distributed

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "distributed_search.py"
# seconds per launch: far above what each takes on an idle CPU, for a CPU shared with others
TIMEOUT = 900


# --- the small pieces ---------------------------------------------------------------------


def test_worker_env_names_the_three_variables():
    env = distributed.worker_env("tuner1", "127.0.0.1", 8000)
    assert env == {
        "KERASTUNER_TUNER_ID": "tuner1",
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": "8000",
    }


@pytest.mark.parametrize(
    "args, words",
    [(("", "127.0.0.1", 8000), "tuner_id"), (("chief", "", 8000), "ip"),
     (("chief", "127.0.0.1", 0), "port"), (("chief", "127.0.0.1", 8000.5), "port")],
)  # fmt: skip
def test_worker_env_rejects_bad_values(args, words):
    with pytest.raises(RegbookError, match=words):
        distributed.worker_env(*args)


def test_free_port_can_be_bound():
    import socket

    port = distributed.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    "kwargs, words",
    [({"n_workers": -1}, "n_workers"), ({"n_workers": 1, "engine": "ray"}, "engine"),
     ({"n_workers": 1, "timeout": 0}, "timeout")],
)  # fmt: skip
def test_launch_rejects_bad_values(kwargs, words, tmp_path):
    with pytest.raises(RegbookError, match=words):
        distributed.launch([sys.executable, "-c", "pass"], log_dir=tmp_path, **kwargs)


def test_launch_sets_roles_and_stops_at_the_timeout(tmp_path):
    show = "import os; print(os.environ.get('KERASTUNER_TUNER_ID'))"
    run = distributed.launch([sys.executable, "-c", show], 2, log_dir=tmp_path)
    assert run.ok and [p.role for p in run.processes] == ["chief", "tuner0", "tuner1"]
    assert [p.tail().strip() for p in run.processes[1:]] == ["tuner0", "tuner1"]
    slow = distributed.launch(
        [sys.executable, "-c", "import time; time.sleep(60)"], 0, timeout=1, log_dir=tmp_path
    )
    assert slow.timed_out and not slow.ok and slow.seconds < 30
    with pytest.raises(RegbookError, match="timed out"):
        slow.check()
    # a chief that fails stops the launch at once, not at the timeout
    role = "os.environ['KERASTUNER_TUNER_ID']"
    crash = f"import os, sys, time; sys.exit(3) if {role} == 'chief' else time.sleep(60)"
    failed = distributed.launch([sys.executable, "-c", crash], 1, timeout=120, log_dir=tmp_path)
    assert not failed.ok and not failed.timed_out and failed.seconds < 30
    with pytest.raises(RegbookError, match="chief exited with status 3"):
        failed.check()


def test_mirrored_strategy_falls_back_to_the_default_strategy():
    import tensorflow as tf

    one = distributed.mirrored_strategy(min_devices=2, device_type="CPU")  # one CPU here
    assert one is tf.distribute.get_strategy() and one.num_replicas_in_sync == 1
    with pytest.raises(RegbookError, match="device_type"):
        distributed.mirrored_strategy(device_type="TPU")


# --- KerasTuner: a chief and two workers ------------------------------------------------


def _search(workers, directory, out):
    cmd = [sys.executable, str(SCRIPT), "--workers", str(workers), "--max-trials", "6",
           "--epochs", "1", "--seed", "3", "--timeout", str(TIMEOUT),
           "--directory", str(directory), "--json", str(out)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_chief_and_two_workers_share_one_oracle(tmp_path):
    """A chief and workers tuner0, tuner1 on 127.0.0.1 against one plain process.

    What is deterministic: the chief's oracle is the only sampler, and RandomSearch draws
    trial k's values from its seed state after k draws, whoever asks. So trial k has the
    same hyper-parameters in both runs; which worker runs it depends on timing. Each trial
    seeds its own weights, dropout and shuffling (`keras.utils.set_random_seed` in the
    build function), so its score does not depend on what its process ran before; TF's
    CPU kernels may still round differently between processes, hence a tolerance of one
    validation digit (1/360) on the scores, and the same best trial unless two settings
    tie within it.
    """
    procs = {w: _search(w, tmp_path / f"w{w}", tmp_path / f"w{w}.json") for w in (0, 2)}
    for proc in procs.values():
        output = proc.communicate(timeout=TIMEOUT + 60)[0].decode()
        assert proc.returncode == 0, output[-3000:]
    one = json.loads((tmp_path / "w0.json").read_text())
    two = json.loads((tmp_path / "w2.json").read_text())

    # one oracle: six trials with the ids 0..5, each run once, by both workers
    trials = two["trial_list"]
    assert [t["trial_id"] for t in trials] == [str(i) for i in range(6)]
    assert all(t["status"] == "COMPLETED" for t in trials)
    assert set(two["per_worker"]) == {"tuner0", "tuner1"}, two["per_worker"]
    assert sum(two["per_worker"].values()) == 6
    assert set(one["per_worker"]) == {"tuner0"}
    oracle = json.loads((tmp_path / "w2" / "digits_mlp" / "oracle.json").read_text())
    # every trial ended (oracle.json is saved before the last one leaves `ongoing_trials`)
    assert sorted(oracle["end_order"], key=int) == [str(i) for i in range(6)]

    # the same settings per trial id; scores within one validation digit
    for a, b in zip(one["trial_list"], trials, strict=True):
        assert a["values"] == pytest.approx(b["values"], rel=1e-12)
        assert a["score"] == pytest.approx(b["score"], abs=1 / 360 + 1e-6)
    assert two["best"]["score"] == pytest.approx(one["best"]["score"], abs=1 / 360 + 1e-6)
    scores = sorted((t["score"] for t in trials), reverse=True)
    if scores[0] - scores[1] > 2 / 360:  # a clear winner must be the same trial
        assert two["best"]["trial_id"] == one["best"]["trial_id"]


# --- Optuna: processes sharing one SQLite study -----------------------------------------

OPTUNA_WORKER = """
import os, sys, time
import optuna

storage, name = sys.argv[1], sys.argv[2]
worker = int(os.environ["REGBOOK_WORKER"])
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(
    study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=worker)
)

def objective(trial):
    trial.set_user_attr("worker", worker)
    x = trial.suggest_float("x", -2.0, 2.0)
    time.sleep(0.1)  # long enough for the two processes to interleave
    return (x - 1.0) ** 2

study.optimize(objective, n_trials=5)
"""


def test_optuna_processes_share_one_sqlite_study(tmp_path):
    optuna = pytest.importorskip("optuna")
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(OPTUNA_WORKER))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="toy", storage=storage)  # once, before the workers
    run = distributed.launch(
        [sys.executable, str(script), storage, "toy"],
        2,
        engine="optuna",
        timeout=TIMEOUT,
        log_dir=tmp_path,
    ).check()
    assert [p.role for p in run.processes] == ["worker0", "worker1"]
    study = optuna.load_study(study_name="toy", storage=storage)
    trials = study.trials
    assert len(trials) == 10 and sorted(t.number for t in trials) == list(range(10))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(t.user_attrs["worker"] for t in trials) == [0] * 5 + [1] * 5
    # different sampler seeds per process: no setting is drawn twice
    assert len({t.params["x"] for t in trials}) == 10


# --- MirroredStrategy on two logical CPUs -------------------------------------------------

MIRRORED = """
import json
import numpy as np
import regbook
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]  # before TensorFlow starts its devices
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)
import keras
from regbook.distributed import mirrored_strategy

strategy = mirrored_strategy(device_type="CPU")
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8)).astype("float32")
y = (x @ rng.normal(size=(8, 1)) + 0.1 * rng.normal(size=(64, 1))).astype("float32")
GLOBAL = 16


def build(bn, sync):
    l2 = keras.regularizers.L2(1e-2)  # the penalty must be counted once, not per replica
    layers = [keras.Input((8,)), keras.layers.Dense(16, kernel_regularizer=l2)]
    if bn:
        layers.append(keras.layers.BatchNormalization(synchronized=sync, momentum=0.5))
    return keras.Sequential(layers + [keras.layers.Activation("relu"), keras.layers.Dense(1)])


def train(bn, sync, strat, weights):
    with strat.scope():
        model = build(bn, sync)
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    h = model.fit(x, y, batch_size=GLOBAL, epochs=3, shuffle=False, verbose=0)
    stats = [np.asarray(w) for w in model.weights if "moving" in w.path]
    return h.history["loss"], stats, model.get_weights()


out = {"replicas": strategy.num_replicas_in_sync}
dist = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(GLOBAL))


@tf.function
def per_replica_rows(batch):
    return strategy.run(lambda a: tf.shape(a)[0], (batch,))


out["shapes"] = [
    [int(n) for n in strategy.experimental_local_results(per_replica_rows(b))] for b in dist
]
for bn, sync in [(False, False), (True, True), (True, False)]:
    keras.utils.set_random_seed(0)
    w0 = build(bn, sync).get_weights()
    l1, s1, w1 = train(bn, sync, tf.distribute.get_strategy(), w0)
    l2, s2, w2 = train(bn, sync, strategy, w0)
    out[f"{bn},{sync}"] = {
        "loss": float(max(abs(a - b) / abs(a) for a, b in zip(l1, l2))),  # relative
        "stats": max((float(np.max(np.abs(a - b))) for a, b in zip(s1, s2)), default=0.0),
        "weights": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)),
    }
print("RESULT", json.dumps(out))
"""


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    """Run the MirroredStrategy script in a fresh process; its result as a dict."""
    script = tmp_path_factory.mktemp("mirrored") / "mirrored.py"
    script.write_text(MIRRORED)
    out = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(s for s in out.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


@pytest.mark.slow
def test_mirrored_splits_the_global_batch(mirrored):
    assert mirrored["replicas"] == 2
    assert mirrored["shapes"] == [[8, 8]] * 4  # 64 examples, global batch 16: 8 per replica


@pytest.mark.slow
def test_mirrored_losses_match_one_device(mirrored):
    plain = mirrored["False,False"]
    assert plain["loss"] < 1e-5 and plain["weights"] < 1e-5


@pytest.mark.slow
def test_mirrored_batch_norm_is_synchronised_only_when_asked(mirrored):
    """synchronized=True: each replica normalises with the statistics of the whole global
    batch (an all-reduce), so training and the moving statistics match one device.
    synchronized=False (Keras's default): each replica normalises with the statistics of
    its own 8 examples, so the losses and the moving variance differ from one device."""
    synced, local = mirrored["True,True"], mirrored["True,False"]
    assert synced["loss"] < 1e-5 and synced["stats"] < 1e-5 and synced["weights"] < 1e-5
    assert local["stats"] > 1e-3 and local["loss"] > 1e-4


# --- the recorded benchmark that chapter 10 quotes -----------------------------------------


def test_recorded_benchmark_is_what_the_script_writes():
    """benchmarks/distributed-search.json comes from `make benchmark-distributed`: the
    script's budget, both runs, each trial run once, rates that match the trial count."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import benchmark_distributed as bench
    finally:
        sys.path.pop(0)
    rec = json.loads(bench.RECORD.read_text())
    assert rec["budget"] == bench.BUDGET
    assert set(rec["runs"]) == {"0", "2"}
    assert set(rec["runs"]["2"]["per_worker"]) == {"tuner0", "tuner1"}
    for run in rec["runs"].values():
        assert sum(run["per_worker"].values()) == bench.BUDGET["max_trials"]
        assert 0 < run["trials_per_minute"] < 60 * bench.BUDGET["max_trials"]
        # the rate counts the search, not process start-up: at least the trials' share
        assert run["trials_per_minute"] >= 60 * bench.BUDGET["max_trials"] / run["wall_s"]
