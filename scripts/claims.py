#!/usr/bin/env python
"""Print the evidence index: every claim that the executed notebooks recorded.

The notebooks write their claims to ``_build/claims/ch<N>.json`` (or to
``$REGBOOK_CLAIMS_DIR``) when they run: ``make book`` or ``make test`` first.
Usage: ``make claims`` or ``python scripts/claims.py [folder]``. Exit status 1 if a
recorded claim failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regbook.claims import claims_dir, load_records  # noqa: E402


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else claims_dir()
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


if __name__ == "__main__":
    sys.exit(main())
