"""Sphinx extension: the evidence index (book/evidence.md) is generated at build time.

Every executed notebook records its claims in ``_build/claims/ch<N>.json``
(:mod:`regbook.claims`). This extension makes Sphinx read the evidence page *after* every
notebook (so the executions of this build are in), always (so it is never stale), and fills
it from the records: one row per claim, linked to the section that makes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCNAME = "book/evidence"
MARKER = "<!-- evidence-table -->"


def _root(app) -> Path:
    return Path(app.confdir)


def _records(app) -> list[dict]:
    root = _root(app)
    sys.path.insert(0, str(root))
    try:
        from regbook.claims import load_records
    finally:
        sys.path.remove(str(root))
    return load_records(root / "_build" / "claims")


def _fmt(x: float) -> str:
    return f"{x:+.3f}" if abs(x) >= 1e-3 or x == 0 else f"{x:+.1e}"


def table(records: list[dict]) -> str:
    """The Markdown of the index: a summary line and one table row per claim."""
    if not records:
        return "*No claims were recorded in this build.*\n"
    held = sum(r["passed"] for r in records)
    chapters = {r["chapter"] for r in records}
    lines = [
        f"**{len(records)} claims** from {len(chapters)} chapter"
        f"{'s' if len(chapters) > 1 else ''}; **{held} hold** at the "
        "seeds of this build.\n",
        "| # | claim | metric | hypothesis | measured effect [95 % CI] | seeds | holds |",
        "|---:|---|---|---|---|---:|:---:|",
    ]
    for i, r in enumerate(records, 1):
        name = f"ch. {r['chapter'][2:]}" if r["chapter"] != "errata" else "errata"
        where = f"{{ref}}`{name} <{r['section']}>`" if r["section"] else ""
        want = {
            "increase": f"> {r['margin']:g}",
            "decrease": f"< −{r['margin']:g}",
            "equivalent": f"within ±{r['margin']:g}",
        }[r["direction"]]
        statement = r["statement"].replace("|", "\\|")
        lines.append(
            f"| {i} | {statement} ({where}; `{r['id']}`) | {r['metric']} | {want} | "
            f"{_fmt(r['mean'])} [{_fmt(r['lo'])}, {_fmt(r['hi'])}] | {r['n']} | "
            f"{'yes' if r['passed'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def _read_last(app, env, docnames):
    if DOCNAME in docnames:
        docnames.remove(DOCNAME)
        docnames.append(DOCNAME)


def _always_outdated(app, env, added, changed, removed):
    return [DOCNAME] if DOCNAME in env.found_docs else []


def _fill(app, docname, source):
    if docname == DOCNAME and MARKER in source[0]:
        source[0] = source[0].replace(MARKER, table(_records(app)))


def setup(app):
    app.connect("env-before-read-docs", _read_last)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("source-read", _fill)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
