"""Past one machine: launch a search as several processes, train on several devices.

Nothing here replaces an engine; it sets up the ones readers already have. KerasTuner's
chief/worker mode: every process runs the *same* search script, and three environment
variables give each its role (:func:`worker_env`): ``KERASTUNER_TUNER_ID`` (``"chief"``
runs the oracle as a gRPC server and blocks; ``"tuner0"``, ``"tuner1"``, ... ask it for
trials, train, and report back), ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``
(where the chief listens). Optuna's parallel mode: every process opens the same study in
one RDB storage (SQLite, PostgreSQL, MySQL) and calls ``study.optimize``.
:func:`launch` starts such processes on one machine (``127.0.0.1``), as a cluster's
scheduler would start them on many; :func:`record_trial` notes in a trial's folder who ran
it and when, and :func:`read_trials` reads what KerasTuner wrote;
:func:`mirrored_strategy` returns ``tf.distribute.MirroredStrategy`` when several devices
are visible. Introduced in chapter 10 ("Past one machine").
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegbookError, check_choice, check_nonnegative_int, check_positive

__all__ = [
    "ENGINES",
    "TRIAL_RECORD",
    "Process",
    "Launch",
    "free_port",
    "worker_env",
    "launch",
    "record_trial",
    "read_trials",
    "mirrored_strategy",
]

ENGINES = ("keras-tuner", "optuna")
#: Written into a KerasTuner trial's folder by :func:`record_trial`.
TRIAL_RECORD = "worker.json"
_KT_VARS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def free_port(ip: str = "127.0.0.1") -> int:
    """A TCP port on ``ip`` that is free now (the OS picks it), for the chief's oracle."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


def worker_env(tuner_id: str, ip: str, port: int) -> dict[str, str]:
    """The three variables KerasTuner reads to run as the chief or as worker ``tuner_id``."""
    if not isinstance(tuner_id, str) or not tuner_id.strip():
        raise RegbookError(
            f"tuner_id must be 'chief' or a worker name such as 'tuner0', got {tuner_id!r}."
        )
    if not isinstance(ip, str) or not ip:
        raise RegbookError(f"ip must be the chief's address such as '127.0.0.1', got {ip!r}.")
    port = check_nonnegative_int("port", port)
    if not 1 <= port <= 65535:
        raise RegbookError(f"port must be in 1..65535 (a TCP port), got {port}.")
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": ip,
        "KERASTUNER_ORACLE_PORT": str(port),
    }


@dataclass
class Process:
    """One launched process: its role, exit status, wall time and log file."""

    role: str
    returncode: int | None
    seconds: float
    log: Path
    stopped: bool = False  # terminated by the launcher (see :func:`launch`)

    def tail(self, n: int = 20) -> str:
        """The last ``n`` lines of the process's output."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-n:])


@dataclass
class Launch:
    """What :func:`launch` returns: the processes, the wall time, and whether it timed out."""

    processes: list[Process] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when no process failed (the chief stopped by the launcher counts as done)."""
        return not self.timed_out and all(p.returncode == 0 or p.stopped for p in self.processes)

    def check(self) -> Launch:
        """Return self, or raise one line quoting the first failed process's last lines."""
        if self.ok:
            return self
        bad = next(p for p in self.processes if not (p.returncode == 0 or p.stopped))
        why = "timed out" if self.timed_out else f"exited with status {bad.returncode}"
        raise RegbookError(f"{bad.role} {why}; its last lines:\n{bad.tail()}")


def _env(extra: Mapping[str, str], base: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in (base if base is not None else os.environ).items()}
    for key in _KT_VARS:  # a stale role from the parent must not leak into a child
        env.pop(key, None)
    env.update(extra)
    return env


def launch(
    command: Sequence[str],
    n_workers: int,
    *,
    engine: str = "keras-tuner",
    ip: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 600.0,
    chief_grace: float = 2.0,
    env: Mapping[str, str] | None = None,
    log_dir: str | os.PathLike | None = None,
    cwd: str | os.PathLike | None = None,
) -> Launch:
    """Run ``command`` as one process (``n_workers=0``) or as a distributed search.

    Args:
        command: the program every process runs, e.g. ``[sys.executable, "search.py"]``.
        n_workers: 0 runs it once, plainly. For ``"keras-tuner"``, a chief plus
            ``n_workers`` workers (:func:`worker_env`); for ``"optuna"``, ``n_workers``
            identical processes with ``REGBOOK_WORKER`` = 0, 1, ... (they meet in the
            storage named in ``command``).
        engine: ``"keras-tuner"`` or ``"optuna"``.
        timeout: seconds; then every process still running is killed (also when the chief
            fails: its workers would wait an hour for it).
        chief_grace: seconds the chief may take to exit after the last worker. KerasTuner's
            chief re-checks every 20 s before exiting; its oracle has saved every trial by
            then, so the launcher stops it instead (``Process.stopped``).
        log_dir: where each process's output goes (``<role>.log``); default the cwd.
    """
    command = [str(c) for c in command]
    if not command:
        raise RegbookError("command must name a program, e.g. [sys.executable, 'search.py'].")
    n_workers = check_nonnegative_int("n_workers", n_workers)
    check_choice("engine", engine, ENGINES)
    timeout = check_positive("timeout", timeout)
    chief_grace = check_positive("chief_grace", chief_grace)
    log_dir = Path(log_dir if log_dir is not None else (cwd or "."))
    log_dir.mkdir(parents=True, exist_ok=True)

    if n_workers == 0:
        roles = {"single": {}}
    elif engine == "optuna":
        roles = {f"worker{i}": {"REGBOOK_WORKER": str(i)} for i in range(n_workers)}
    else:
        port = free_port(ip) if port is None else port
        roles = {"chief": worker_env("chief", ip, port)}
        roles.update({f"tuner{i}": worker_env(f"tuner{i}", ip, port) for i in range(n_workers)})

    start = time.perf_counter()
    running: dict[str, tuple[subprocess.Popen, float, Path, object]] = {}
    for role, extra in roles.items():
        log = log_dir / f"{role}.log"
        handle = open(log, "w")  # noqa: SIM115  (closed below, when the process ends)
        proc = subprocess.Popen(
            command,
            env=_env(extra, env),
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        running[role] = (proc, time.perf_counter(), log, handle)

    result = Launch()
    done: dict[str, Process] = {}
    deadline = start + timeout
    workers_done_at = None
    while running:
        now = time.perf_counter()
        for role, (proc, t0, log, handle) in list(running.items()):
            if proc.poll() is not None:
                handle.close()
                done[role] = Process(role, proc.returncode, time.perf_counter() - t0, log)
                del running[role]
        others = [r for r in running if r != "chief"]
        if "chief" in running and not others:
            workers_done_at = workers_done_at or now
            if now - workers_done_at > chief_grace:
                proc, t0, log, handle = running.pop("chief")
                proc.terminate()
                proc.wait(10)
                handle.close()
                done["chief"] = Process("chief", proc.returncode, now - t0, log, stopped=True)
                continue
        chief_failed = "chief" in done and done["chief"].returncode != 0
        if running and (now > deadline or chief_failed):  # workers would wait for an hour
            result.timed_out = not chief_failed
            for role, (proc, t0, log, handle) in running.items():
                proc.kill()
                proc.wait(10)
                handle.close()
                done[role] = Process(role, proc.returncode, now - t0, log)
            running.clear()
        time.sleep(0.05)
    result.processes = [done[role] for role in roles]
    result.seconds = time.perf_counter() - start
    return result


def record_trial(trial_dir: str | os.PathLike, start: float, end: float) -> None:
    """Write who ran a KerasTuner trial (``KERASTUNER_TUNER_ID``) and when, into its folder.

    Args:
        start, end: ``time.time()`` before and after the trial.
    """
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
    record = {"tuner_id": tuner_id, "start": float(start), "end": float(end)}
    (Path(trial_dir) / TRIAL_RECORD).write_text(json.dumps(record))


def read_trials(directory: str | os.PathLike, project_name: str) -> list[dict]:
    """The trials KerasTuner saved under ``directory/project_name``, in trial-id order.

    Each is a dict: ``trial_id``, ``status``, ``score``, ``values`` (the hyper-parameters),
    and ``tuner_id``, ``start``, ``end`` from :func:`record_trial` (None without it).
    """
    project = Path(directory) / project_name
    if not project.is_dir():
        raise RegbookError(f"No KerasTuner project at {project}: check directory and name.")
    trials = []
    for path in sorted(project.glob("trial_*/trial.json")):
        state = json.loads(path.read_text())
        record = path.parent / TRIAL_RECORD
        who = json.loads(record.read_text()) if record.exists() else {}
        trials.append(
            {
                "trial_id": state["trial_id"],
                "status": state["status"],
                "score": state.get("score"),
                "values": state["hyperparameters"]["values"],
                "tuner_id": who.get("tuner_id"),
                "start": who.get("start"),
                "end": who.get("end"),
            }
        )
    return trials


def mirrored_strategy(min_devices: int = 2, device_type: str = "GPU"):
    """``tf.distribute.MirroredStrategy`` over the visible devices of ``device_type`` when
    there are at least ``min_devices`` of them, else TensorFlow's default strategy."""
    import tensorflow as tf

    min_devices = check_nonnegative_int("min_devices", min_devices)
    check_choice("device_type", device_type, ("GPU", "CPU"))
    devices = tf.config.list_logical_devices(device_type)
    if len(devices) >= max(min_devices, 2):
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()
