"""The evidence index: the table the build writes from the recorded claims."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("evidence", ROOT / "book/_ext/evidence.py")
evidence = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(evidence)

REC = {
    "id": "ch5_noise_dropout",
    "chapter": "ch5",
    "statement": "Dropout raises test accuracy",
    "section": "ch5-how-much",
    "metric": "test accuracy",
    "direction": "increase",
    "margin": 0.03,
    "mean": 0.13,
    "lo": 0.09,
    "hi": 0.17,
    "n": 5,
    "passed": True,
}


def test_table_has_one_linked_row_per_claim():
    failed = dict(REC, id="ch7_x", chapter="ch7", section="", passed=False, direction="decrease")
    md = evidence.table([REC, failed])
    assert md.startswith("**2 claims** from 2 chapters; **1 hold**")
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(rows) == 2
    assert "{ref}`ch. 5 <ch5-how-much>`" in rows[0] and "+0.130 [+0.090, +0.170]" in rows[0]
    assert "> 0.03" in rows[0] and rows[0].endswith("| yes |")
    assert "< −0.03" in rows[1] and rows[1].endswith("| **no** |")


def test_page_has_the_marker_and_is_in_the_toc():
    assert evidence.MARKER in (ROOT / "book/evidence.md").read_text()
    assert "file: book/evidence" in (ROOT / "_toc.yml").read_text()
    assert evidence.table([]).startswith("*No claims")
