#!/usr/bin/env python
"""Execute every chapter notebook and print a table of wall time and peak memory.

The time budgets live here (not in timed tests): each chapter should run in about a
minute in the ``quick`` profile on a 2-core CPU, the whole book well inside CI's 90 min.

Usage:
    python scripts/benchmark.py                 # every notebook in notebooks/
    python scripts/benchmark.py notebooks/01_*.ipynb
    python scripts/benchmark.py --save out/     # also keep the executed notebooks

Exit status 1 if a notebook fails or goes over budget (so it can gate a release).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0  # per chapter, quick profile, this 2-core CPU
SLACK = 1.25  # a chapter between budget and budget*slack is flagged, above it fails
BOOK_BUDGET_S = 10 * 60.0  # all notebooks together, quick profile (the house standard)


def run_one(path: str, save: str | None) -> None:
    """Child process: execute one notebook, print JSON with time and peak memory."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except Exception as exc:  # report, do not crash the table
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
    wall = time.perf_counter() - start
    if save:
        Path(save).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(save) / Path(path).name)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel
    print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024, "error": error}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--save", help="folder for the executed notebooks")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_one(args.one, args.save)
        return 0
    paths = args.notebooks or sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    env = dict(os.environ, REGBOOK_PROFILE=os.environ.get("REGBOOK_PROFILE", "quick"))
    # The kernel spec runs `python` from PATH: make it this interpreter (the venv's).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    rows, failed = [], False
    print(f"profile: {env['REGBOOK_PROFILE']}, budget {BUDGET_S:.0f} s per chapter", flush=True)
    for p in paths:
        cmd = [sys.executable, __file__, "--one", p] + (["--save", args.save] if args.save else [])
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        try:
            res = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            res = {"wall": float("nan"), "peak_mib": float("nan"), "error": out.stderr[-300:]}
        status = "ok"
        if res["error"]:
            status, failed = "FAILED: " + res["error"], True
        elif res["wall"] > BUDGET_S * SLACK:
            status, failed = "OVER BUDGET", True
        elif res["wall"] > BUDGET_S:
            status = "over budget (within slack)"
        rows.append((Path(p).name, res["wall"], res["peak_mib"], status))
        print(f"  {Path(p).name}: {res['wall']:.1f} s {status}", file=sys.stderr, flush=True)
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"\n| {'notebook':<{width}} | wall (s) | peak RSS (MiB) | status |")
    print(f"|{'-' * (width + 2)}|---------:|---------------:|--------|")
    for name, wall, mem, status in rows:
        print(f"| {name:<{width}} | {wall:8.1f} | {mem:14.0f} | {status} |")
    total = sum(r[1] for r in rows)
    print(
        f"| {'total':<{width}} | {total:8.1f} | {'':>14} | "
        f"{'ok' if total <= BOOK_BUDGET_S else 'OVER BOOK BUDGET'} |"
    )
    return 1 if failed or total > BOOK_BUDGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
