"""Claims as experiments: a hypothesis stated before the run, then a paired test over seeds.

A chapter writes, in the cell *before* its experiment::

    claim = claims.Claim(
        "ch5_dropout_noise",
        "Dropout 0.5 raises test accuracy on digits with 30 % flipped labels",
        metric="test accuracy", direction="increase", margin=0.03,
        section="ch5-how-much",
    )

and, after it, one line that compares the two settings seed by seed::

    claim.check(baseline=acc["none"], treatment=acc["dropout 0.5"], seeds=cfg.seeds)

``check`` computes the per-seed differences (treatment − baseline), their mean, a t-based
95 % confidence interval (``scipy.stats``), the signs and a standardised effect size. It
raises :class:`ClaimFailed` with one line naming the claim and the numbers unless the
interval supports the claim, glues the numbers for the prose (``{glue:text}`ch5_x_mean```,
``..._lo``, ``..._hi``, ``..._n`` and the sentence ``ch5_x``), and records the claim in a
JSON file per chapter, from which the book's evidence index is built (``make claims``).

Directions: ``"increase"`` holds when the whole interval lies above ``+margin``,
``"decrease"`` when it lies below ``−margin``, and ``"equivalent"`` when it lies inside
``[−margin, +margin]`` (a stated bound on a difference, not an absence of evidence).
Introduced in chapter 5.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from .errors import RegbookError, check_choice

__all__ = [
    "Claim",
    "ClaimFailed",
    "Comparison",
    "paired",
    "MIN_SEEDS",
    "claims_dir",
    "load_records",
    "failure_rate",
    "supports",
]

#: A stochastic comparison needs at least this many seeds (the book's evidence standard).
MIN_SEEDS = 5
DIRECTIONS = ("increase", "decrease", "equivalent")
_ID = re.compile(r"^(ch\d+|errata)_[a-z0-9_]+$")  # errata_...: the errata demonstrations


def chapter_key(chapter: str) -> int:
    """Sort key of a claim's chapter: ``"ch5"`` -> 5; ``"errata"`` (the appendix) last."""
    return int(chapter[2:]) if chapter.startswith("ch") else 10_000


class ClaimFailed(AssertionError):
    """A claim whose confidence interval does not support it."""


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of two settings over the same seeds.

    Attributes:
        diffs: per-seed differences, treatment − baseline.
        mean, lo, hi: mean difference and its confidence interval.
        sd: standard deviation of the differences (ddof 1).
        effect: standardised effect size ``mean / sd`` (Cohen's d_z; inf when sd is 0).
        positive, negative: how many seeds moved up, down.
        confidence: the level of the interval.
    """

    diffs: np.ndarray
    mean: float
    lo: float
    hi: float
    sd: float
    effect: float
    positive: int
    negative: int
    confidence: float

    @property
    def n(self) -> int:
        """Number of seeds."""
        return len(self.diffs)

    def __str__(self) -> str:
        pct = round(100 * self.confidence)
        return (
            f"{self.mean:+.4g} [{pct} % CI {self.lo:+.4g}, {self.hi:+.4g}], "
            f"d_z {self.effect:+.2f}, {self.positive}/{self.n} seeds up"
        )


def _as_values(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise RegbookError(f"{name} must be a list of numbers, one per seed.") from None
    if not np.all(np.isfinite(arr)):
        raise RegbookError(f"{name} holds NaN or inf: {np.round(arr, 4).tolist()}.")
    return arr


def paired(baseline, treatment, *, confidence: float = 0.95) -> Comparison:
    """Compare ``treatment`` with ``baseline`` seed by seed: differences and a t-based CI.

    Args:
        baseline, treatment: one value per seed, in the same seed order.
        confidence: level of the two-sided interval.
    """
    a = _as_values("baseline", baseline)
    b = _as_values("treatment", treatment)
    if len(a) != len(b):
        raise RegbookError(
            f"baseline and treatment need one value per seed each, got {len(a)} and {len(b)}."
        )
    if len(a) < 2:
        raise RegbookError("a paired comparison needs at least 2 seeds.")
    if not 0 < float(confidence) < 1:
        raise RegbookError(f"confidence must be in (0, 1), got {confidence!r}.")
    d = b - a
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd > 0:
        lo, hi = stats.ttest_1samp(d, 0.0).confidence_interval(float(confidence))
        lo, hi = float(lo), float(hi)
        effect = mean / sd
    else:  # every seed moved by exactly the same amount
        lo = hi = mean
        effect = math.copysign(math.inf, mean) if mean else 0.0
    return Comparison(
        d, mean, lo, hi, sd, effect, int(np.sum(d > 0)), int(np.sum(d < 0)), float(confidence)
    )


def claims_dir() -> Path | None:
    """Where executed notebooks record their claims: ``$REGBOOK_CLAIMS_DIR``, else
    ``_build/claims`` of the book's checkout when running inside it, else None (Colab)."""
    env = os.environ.get("REGBOOK_CLAIMS_DIR", "").strip()
    if env:
        return Path(env)
    for folder in (Path.cwd(), *Path.cwd().parents[:2]):
        if (folder / "_toc.yml").exists() and (folder / "regbook").is_dir():
            return folder / "_build" / "claims"
    return None


def load_records(folder: Path | str | None = None) -> list[dict]:
    """Every recorded claim under ``folder`` (default :func:`claims_dir`), by chapter."""
    folder = Path(folder) if folder is not None else claims_dir()
    if folder is None or not folder.is_dir():
        return []
    records = []
    paths = [*folder.glob("ch*.json"), *folder.glob("errata.json")]
    for path in sorted(paths, key=lambda p: chapter_key(p.stem)):
        records.extend(json.loads(path.read_text())["claims"])
    return records


def failure_rate(
    diffs,
    *,
    direction: str,
    margin: float,
    n: int = MIN_SEEDS,
    confidence: float = 0.95,
    draws: int = 20_000,
    seed: int = 0,
) -> float:
    """Estimated chance that a claim fails at a fresh base seed (for choosing set-ups).

    Models the per-seed differences seen in pilot runs (pooled over several base seeds,
    so that the spread between data splits is included) as normal, draws ``draws``
    experiments of ``n`` seeds, and returns the share whose interval does not support
    the claim. A claim that fails in more than about 1 % of draws needs a larger effect
    or more seeds before it is asserted; ``make seeds`` prints this for every claim.
    """
    check_choice("direction", direction, DIRECTIONS)
    d = _as_values("diffs", diffs)
    if len(d) < 3:
        raise RegbookError(f"failure_rate needs >= 3 pilot differences, got {len(d)}.")
    if int(n) < 2:
        raise RegbookError(f"n must be >= 2 seeds, got {n!r}.")
    rng = np.random.default_rng(seed)
    sim = rng.normal(d.mean(), d.std(ddof=1), size=(int(draws), int(n)))
    lo, hi = stats.ttest_1samp(sim, 0.0, axis=1).confidence_interval(float(confidence))
    return float(1.0 - np.mean(supports(direction, float(margin), lo, hi)))


def supports(direction: str, margin: float, lo, hi):
    """Whether an interval [lo, hi] supports a claim (elementwise for arrays).

    increase: the whole interval above +margin; decrease: below −margin; equivalent:
    inside ±margin.
    """
    if direction == "increase":
        return lo > margin
    if direction == "decrease":
        return hi < -margin
    return (lo >= -margin) & (hi <= margin)


_REGISTRY: dict[str, dict[str, dict]] = {}  # chapter -> claim id -> record


def _record(chapter: str, rec: dict) -> None:
    _REGISTRY.setdefault(chapter, {})[rec["id"]] = rec
    folder = claims_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    body = {"chapter": chapter, "claims": list(_REGISTRY[chapter].values())}
    (folder / f"{chapter}.json").write_text(json.dumps(body, indent=1))


def _glue(values: dict) -> None:
    from . import glue

    glue(**values)


@dataclass
class Claim:
    """A hypothesis about a paired difference, stated before the experiment runs.

    Args:
        id: ``ch<N>_name`` (lower case, digits, underscores): the glue prefix and the key in
            the evidence index.
        statement: the hypothesis in one sentence, as the prose states it.
        metric: what is compared, e.g. ``"test accuracy"``.
        direction: ``"increase"``, ``"decrease"`` or ``"equivalent"`` (treatment vs baseline).
        margin: the smallest change that counts (or, for ``"equivalent"``, the largest).
        section: the MyST label of the section that makes the claim (for the index's link).
        min_seeds: fewest seeds accepted (5 by the book's standard).
    """

    id: str
    statement: str
    metric: str
    direction: str
    margin: float
    section: str = ""
    min_seeds: int = MIN_SEEDS
    result: Comparison | None = field(default=None, repr=False)

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise RegbookError(
                f"a claim id looks like 'ch5_dropout_noise' (ch<N>_, then lower case, digits "
                f"and underscores), got {self.id!r}."
            )
        check_choice("direction", self.direction, DIRECTIONS)
        try:
            margin = float(self.margin)
        except (TypeError, ValueError):
            margin = math.nan
        if not math.isfinite(margin) or margin < 0:
            raise RegbookError(f"the margin must be a number >= 0, got {self.margin!r}.")
        self.margin = margin

    @property
    def chapter(self) -> str:
        """``"ch5"`` for a claim ``ch5_...``; ``"errata"`` for ``errata_...``."""
        return _ID.match(self.id).group(1)

    def holds(self, c: Comparison) -> bool:
        """Whether the interval of ``c`` supports the claim."""
        return bool(supports(self.direction, self.margin, c.lo, c.hi))

    def _needed(self) -> str:
        return {
            "increase": f"the whole CI above {self.margin:+.4g}",
            "decrease": f"the whole CI below {-self.margin:+.4g}",
            "equivalent": f"the whole CI inside ±{self.margin:.4g}",
        }[self.direction]

    def check(
        self,
        baseline,
        treatment,
        *,
        seeds: Sequence[int],
        confidence: float = 0.95,
        glue: bool = True,
    ) -> Comparison:
        """Test the claim on per-seed values; raise :class:`ClaimFailed` unless it holds.

        Args:
            baseline, treatment: one value per seed, ``seeds[i]`` for both at position i.
            seeds: the seeds, recorded with the result.
        """
        seeds = [int(s) for s in seeds]
        if len(set(seeds)) != len(seeds):
            raise RegbookError(f"seeds must be distinct, got {seeds}.")
        if len(seeds) < self.min_seeds:
            raise RegbookError(
                f"claim {self.id} needs >= {self.min_seeds} seeds, got {len(seeds)}; "
                "use cfg.seeds (5 in every profile)."
            )
        c = paired(baseline, treatment, confidence=confidence)
        if c.n != len(seeds):
            raise RegbookError(f"{len(seeds)} seeds but {c.n} values per setting.")
        self.result = c
        passed = self.holds(c)
        _record(
            self.chapter,
            {
                "id": self.id,
                "chapter": self.chapter,
                "statement": self.statement,
                "section": self.section,
                "metric": self.metric,
                "direction": self.direction,
                "margin": self.margin,
                "mean": c.mean,
                "lo": c.lo,
                "hi": c.hi,
                "effect": c.effect if math.isfinite(c.effect) else None,
                "positive": c.positive,
                "n": c.n,
                "seeds": seeds,
                "diffs": c.diffs.tolist(),
                "confidence": c.confidence,
                "passed": passed,
            },
        )
        if glue:
            _glue(
                {
                    f"{self.id}_mean": c.mean,
                    f"{self.id}_abs": abs(c.mean),
                    f"{self.id}_lo": c.lo,
                    f"{self.id}_hi": c.hi,
                    f"{self.id}_n": c.n,
                    f"{self.id}_up": c.positive,
                    self.id: self.sentence(),
                }
            )
        if not passed:
            raise ClaimFailed(
                f"claim {self.id} ({self.metric}, {self.direction}) failed: {c}; "
                f"needed {self._needed()}."
            )
        print(f"claim {self.id} holds: {self.metric} {c}")
        return c

    def sentence(self, digits: int = 3) -> str:
        """``+0.079 (95 % CI +0.065 to +0.093, 5 of 5 seeds up)`` for the prose."""
        c = self.result
        if c is None:
            raise RegbookError(f"claim {self.id} has not been checked yet.")

        def f(x: float) -> str:  # no "-0.000": a value that rounds to zero prints as +0.000
            return f"{round(x, digits) + 0.0:+.{digits}f}"

        ups = c.negative if self.direction == "decrease" else c.positive
        word = "down" if self.direction == "decrease" else "up"
        return (
            f"{f(c.mean)} ({round(100 * c.confidence)} % CI {f(c.lo)} to "
            f"{f(c.hi)}, {ups} of {c.n} seeds {word})"
        )

    def to_dict(self) -> dict:
        """The claim's definition (without its result)."""
        d = asdict(self)
        d.pop("result")
        return d
