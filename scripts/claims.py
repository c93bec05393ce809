#!/usr/bin/env python
"""Print the evidence index: every claim that the executed notebooks recorded.

The notebooks write their claims to ``_build/claims/ch<N>.json`` (or to
``$REGBOOK_CLAIMS_DIR``) when they run: ``make book`` or ``make test`` first.
Usage: ``make claims`` or ``python scripts/claims.py [folder]``. Exit status 1 if a
recorded claim failed.

``python scripts/claims.py --robustness FOLDER...`` (``make seeds``) pools the claims
recorded by runs at several base seeds, one folder per run, and prints for each claim
how often it failed and its estimated chance of failing at a fresh base seed
(:func:`regbook.claims.failure_rate`), worst first. Exit status 1 if any estimate
exceeds 1 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regbook.claims import claims_dir, failure_rate, load_records  # noqa: E402

#: A claim that would fail at more than this share of fresh base seeds is not robust.
MAX_FAILURE_RATE = 0.01


def index(folder: Path | None) -> int:
    records = load_records(folder)
    if not records:
        print(f"no claims recorded in {folder}: run `make book` first.")
        return 0
    print(f"{len(records)} claims recorded in {folder}\n")
    print("| claim | chapter | metric | direction, margin | effect [95 % CI] | seeds | holds |")
    print("|---|---|---|---|---|---:|---|")
    for r in records:
        print(
            f"| {r['id']} | {r['chapter']} | {r['metric']} | {r['direction']} "
            f"{r['margin']:g} | {r['mean']:+.4g} [{r['lo']:+.4g}, {r['hi']:+.4g}] | "
            f"{r['n']} | {'yes' if r['passed'] else 'NO'} |"
        )
    return 0 if all(r["passed"] for r in records) else 1


def robustness(folders: list[Path]) -> int:
    pooled: dict[str, dict] = {}
    for folder in folders:
        for r in load_records(folder):
            p = pooled.setdefault(r["id"], {**r, "diffs": [], "runs": 0, "failed": 0})
            p.update(direction=r["direction"], margin=r["margin"])  # the latest statement
            p["diffs"] += r["diffs"]
            p["runs"] += 1
            p["failed"] += not r["passed"]
    if not pooled:
        print(f"no claims recorded in {', '.join(map(str, folders))}: run `make seeds`.")
        return 0
    rows = []
    for p in pooled.values():
        n = len(p["diffs"]) // max(p["runs"], 1)
        rate = failure_rate(p["diffs"], direction=p["direction"], margin=p["margin"], n=max(n, 2))
        rows.append((rate, p))
    rows.sort(key=lambda row: -row[0])
    print(f"{len(rows)} claims pooled over {len(folders)} runs, worst first\n")
    print(
        "| claim | direction, margin | mean ± sd of the differences | failed runs | "
        "P(fail at a fresh seed) |"
    )
    print("|---|---|---|---:|---:|")
    for rate, p in rows:
        d = p["diffs"]
        mean, sd = float(np.mean(d)), float(np.std(d, ddof=1)) if len(d) > 1 else 0.0
        flag = "  ← not robust" if rate > MAX_FAILURE_RATE else ""
        print(
            f"| {p['id']} | {p['direction']} {p['margin']:g} | {mean:+.4g} ± {sd:.3g} | "
            f"{p['failed']}/{p['runs']} | {100 * rate:.1f} %{flag} |"
        )
    return 0 if all(rate <= MAX_FAILURE_RATE for rate, _ in rows) else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["--robustness"]:
        folders = [Path(a) for a in argv[1:]]
        if not folders:
            print("usage: scripts/claims.py --robustness FOLDER...")
            return 2
        return robustness(folders)
    return index(Path(argv[0]) if argv else claims_dir())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
