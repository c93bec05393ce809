"""regbook.claims: paired comparisons, claims that can fail, and their records."""

import json

import numpy as np
import pytest
from scipy import stats

from regbook import claims
from regbook.errors import RegbookError

A = np.array([0.70, 0.71, 0.69, 0.72, 0.70])
B = A + np.array([0.08, 0.06, 0.09, 0.07, 0.10])


@pytest.fixture(autouse=True)
def _records_in_tmp(tmp_path, monkeypatch):
    """Keep the test claims out of the book's own records (_build/claims)."""
    monkeypatch.setenv("REGBOOK_CLAIMS_DIR", str(tmp_path))


def test_paired_interval_matches_the_t_formula():
    c = claims.paired(A, B)
    d = B - A
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert c.mean == pytest.approx(d.mean())
    assert (c.lo, c.hi) == pytest.approx((d.mean() - half, d.mean() + half))
    assert c.effect == pytest.approx(d.mean() / d.std(ddof=1))
    assert (c.positive, c.negative, c.n) == (5, 0, 5)


def test_a_claim_holds_or_fails_with_one_line(tmp_path):
    up = claims.Claim(
        "ch99_up",
        "B beats A",
        metric="accuracy",
        direction="increase",
        margin=0.05,
        section="ch99-sec",
    )
    c = up.check(A, B, seeds=range(5), glue=False)
    assert c.lo > 0.05
    too_big = claims.Claim(
        "ch99_big", "B beats A by 10 points", metric="accuracy", direction="increase", margin=0.10
    )
    with pytest.raises(claims.ClaimFailed) as err:
        too_big.check(A, B, seeds=range(5), glue=False)
    msg = str(err.value)
    assert "\n" not in msg and "ch99_big" in msg and "+0.08" in msg and "above +0.1" in msg
    down = claims.Claim(
        "ch99_down", "A is below B", metric="accuracy", direction="decrease", margin=0.05
    )
    down.check(B, A, seeds=range(5), glue=False)
    with pytest.raises(claims.ClaimFailed):
        down.check(A, B, seeds=range(5), glue=False)
    same = claims.Claim(
        "ch99_same", "no change", metric="loss", direction="equivalent", margin=0.02
    )
    same.check(A, A + np.array([0.001, -0.002, 0.0, 0.002, -0.001]), seeds=range(5), glue=False)
    with pytest.raises(claims.ClaimFailed):
        same.check(A, B, seeds=range(5), glue=False)
    # every checked claim is recorded, the failed ones too
    records = json.loads((tmp_path / "ch99.json").read_text())["claims"]
    by_id = {r["id"]: r for r in records}
    assert by_id["ch99_up"]["passed"] and not by_id["ch99_big"]["passed"]
    assert by_id["ch99_up"]["section"] == "ch99-sec" and by_id["ch99_up"]["n"] == 5
    assert claims.load_records(tmp_path)[0]["chapter"] == "ch99"


def test_claims_reject_bad_definitions_and_too_few_seeds():
    with pytest.raises(RegbookError, match="claim id"):
        claims.Claim("dropout", "x", metric="m", direction="increase", margin=0)
    with pytest.raises(RegbookError, match="direction"):
        claims.Claim("ch1_x", "x", metric="m", direction="up", margin=0)
    with pytest.raises(RegbookError, match="margin"):
        claims.Claim("ch1_x", "x", metric="m", direction="increase", margin=-1)
    c = claims.Claim("ch1_x", "x", metric="m", direction="increase", margin=0)
    with pytest.raises(RegbookError, match=">= 5 seeds"):
        c.check(A[:3], B[:3], seeds=range(3), glue=False)
    with pytest.raises(RegbookError, match="NaN"):
        claims.paired([1, np.nan], [1, 2])
    with pytest.raises(RegbookError, match="one value per seed"):
        claims.paired([1, 2, 3], [1, 2])


def test_sentence_for_the_prose():
    c = claims.Claim("ch1_s", "x", metric="m", direction="increase", margin=0.0)
    c.check(A, B, seeds=range(5), glue=False)
    assert c.sentence().startswith("+0.080 (95 % CI +0.")
    assert c.sentence().endswith("5 of 5 seeds up)")


def test_failure_rate_is_small_for_a_clear_effect_and_large_at_the_margin():
    rng = np.random.default_rng(0)
    clear = 0.10 + 0.01 * rng.standard_normal(10)
    assert claims.failure_rate(clear, direction="increase", margin=0.02) < 0.001
    at_margin = 0.02 + 0.01 * rng.standard_normal(10)
    assert claims.failure_rate(at_margin, direction="increase", margin=0.02) > 0.5
    assert claims.failure_rate(-clear, direction="decrease", margin=0.02) < 0.001
    assert claims.failure_rate(clear, direction="decrease", margin=0.02) == 1.0
    tiny = 0.001 * rng.standard_normal(10)
    assert claims.failure_rate(tiny, direction="equivalent", margin=0.02) < 0.001


def test_failure_rate_matches_the_t_interval_on_a_known_case():
    # d ~ N(mu, 1) with n = 5: the interval's lower end is above 0 with probability
    # P(T > t_{0.975,4}) for a noncentral t with noncentrality mu * sqrt(5).
    mu = 1.0
    rng = np.random.default_rng(1)
    pilot = rng.standard_normal(100_000)
    pilot = (pilot - pilot.mean()) / pilot.std(ddof=1) + mu
    power = stats.nct.sf(stats.t.ppf(0.975, 4), 4, mu * np.sqrt(5))
    rate = claims.failure_rate(pilot, direction="increase", margin=0.0, draws=200_000)
    assert abs(rate - (1 - power)) < 0.005


def test_failure_rate_rejects_bad_input_in_one_line():
    with pytest.raises(RegbookError, match="direction"):
        claims.failure_rate([1, 2, 3], direction="up", margin=0)
    with pytest.raises(RegbookError, match=">= 3 pilot"):
        claims.failure_rate([1, 2], direction="increase", margin=0)
    with pytest.raises(RegbookError, match="NaN"):
        claims.failure_rate([1, np.nan, 3], direction="increase", margin=0)


def test_sentence_never_prints_a_negative_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("REGBOOK_CLAIMS_DIR", str(tmp_path))
    claim = claims.Claim(
        "ch2_tiny", "a tiny difference", metric="x", direction="equivalent", margin=0.01
    )
    base = np.zeros(5)
    diffs = np.array([-3e-4, 1e-4, -2e-4, 4e-4, -1e-4])
    claim.check(base, base + diffs, seeds=range(5), glue=False)
    text = claim.sentence()
    assert "-0.000" not in text and "+0.000" in text, text


def test_errata_claims_are_an_appendix_sorted_after_the_chapters(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "_REGISTRY", {})
    monkeypatch.setenv("REGBOOK_CLAIMS_DIR", str(tmp_path))
    c = claims.Claim("errata_x", "x", metric="m", direction="increase", margin=0)
    assert c.chapter == "errata"
    assert sorted(["errata", "ch12", "ch2"], key=claims.chapter_key) == ["ch2", "ch12", "errata"]
