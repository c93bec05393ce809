#!/usr/bin/env python
"""Trials per minute of chapter 10's search: one process against a chief and 2 workers.

Runs ``scripts/distributed_search.py`` twice, one after the other, with the same budget
(KerasTuner random search, 8 trials of 5 epochs, seed 1): first as one plain process, then
as a chief and two workers on 127.0.0.1. Prints both rates and their ratio, and records
them with the machine, the date and the commit in ``benchmarks/distributed-search.json``,
which chapter 10 quotes in its quick profile (its full profile measures live). The ratio
depends on the machine: on the book's 2-core build machine the two workers share the
cores with the chief. Usage: ``make benchmark-distributed``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "benchmarks" / "distributed-search.json"
BUDGET = {"max_trials": 8, "epochs": 5, "seed": 1}


def run(workers: int, folder: Path) -> dict:
    out = folder / f"w{workers}.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "distributed_search.py"),
           "--workers", str(workers), "--max-trials", str(BUDGET["max_trials"]),
           "--epochs", str(BUDGET["epochs"]), "--seed", str(BUDGET["seed"]),
           "--directory", str(folder / f"w{workers}"), "--json", str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the search with {workers} workers failed:\n{done.stdout[-2000:]}")
    s = json.loads(out.read_text())
    return {k: s[k] for k in ("trials_per_minute", "per_worker", "wall_s")}


def main() -> None:
    load = os.getloadavg()[0]  # other work on the machine slows both runs
    with tempfile.TemporaryDirectory() as tmp:
        runs = {str(w): run(w, Path(tmp)) for w in (0, 2)}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    record = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "commit": commit or "unknown",
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}",
        "load_average_before": round(load, 2),
        "budget": BUDGET,
        "runs": runs,
    }
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    one, two = (runs[w]["trials_per_minute"] for w in ("0", "2"))
    print(f"| processes | trials/min |\n|---|---:|\n| 1 | {one:.1f} |\n"
          f"| chief + 2 workers | {two:.1f} |\nspeed-up x{two / one:.2f} "
          f"({record['machine']}); recorded in {RECORD.relative_to(ROOT)}")  # fmt: skip


if __name__ == "__main__":
    main()
