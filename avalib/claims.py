"""Claims as data, and the study's one verdict rule.

A ``Claim`` is one sentence of a paper turned into a test: the paper, the section, the paper's
words, what we measured, the test, the verdict and the file that holds the evidence. Every study
writes its claims as a table of these records (``claims.csv`` in its results folder), and
``avalib.results`` gathers them into the front page ``results/README.md``.

The verdict rule: is a claimed difference between two measured quantities shown by the spread
over seeds?

A claim compares ``left`` with ``right`` (e.g. AVA5's BM mean with the GAN's), each measured once
per seed. Its *difference* is left - right, per seed when the two share their seeds' random
streams (paired), else of the two means (Welch). Each claim is one of four relations, tested
against a margin m >= 0 with the t distribution (n - 1 degrees of freedom when paired):

| relation | the claim | holds when the data show | does not hold when the data show |
| --- | --- | --- | --- |
| ``>``  | left is larger | difference > m | difference < m |
| ``<``  | left is smaller | difference < -m | difference > -m |
| ``<=`` | left is no larger (non-inferiority) | difference < m | difference > m |
| ``>=`` | left is no smaller (non-inferiority) | difference > -m | difference < -m |

With m = 0 the strict claims are ordinary one-sided tests; a "no larger than" claim needs m > 0
(the largest difference that counts as "no larger").

"Show" means a one-sided test at family-wise level ``ALPHA`` after Holm's correction over every
hypothesis of the table (two per claim: holds, does not hold). Anything else is "inconclusive".
A claim against several rivals ("the highest mean") holds only if it holds against each
(intersection-union: the largest p) and does not hold if it fails against any (Bonferroni over
the rivals).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05                 # family-wise error rate of every claims table of the study
RELATIONS = {">": "larger", "<": "smaller", "<=": "no larger", ">=": "no smaller"}
HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
FEW_SEEDS = "fewer than 2 seeds with finite values"


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and its verdict; ``condition`` names the setting it was judged under
    (a protocol, a dataset), empty when there is one."""

    paper: str
    section: str
    claim: str              # the paper's words (or a faithful paraphrase, marked as such)
    measured: str           # our numbers, in words
    test: str               # the test applied
    verdict: str            # HOLDS, FAILS or INCONCLUSIVE (with a reason in parentheses)
    evidence: str           # the results file with the numbers
    condition: str = ""


CLAIM_COLUMNS = [field for field in Claim.__dataclass_fields__]


def claims_frame(claims: list[Claim], extra: list[dict] | None = None) -> pd.DataFrame:
    """The claims as a table with the standard columns first (and per-claim extra columns)."""
    rows = [asdict(claim) | (extra[i] if extra else {}) for i, claim in enumerate(claims)]
    return pd.DataFrame(rows, columns=None if rows else CLAIM_COLUMNS)


@dataclass(frozen=True)
class Test:
    """One claimed comparison: the difference (left - right), its standard error, the seeds
    used, and the one-sided p-values of "holds" and "does not hold" (before correction)."""

    difference: float
    standard_error: float
    seeds: int
    p_holds: float
    p_fails: float


def _one_sided(mean: float, error: float, df: float, point: float, above: bool) -> float:
    """p of H0: difference <= point (``above``) or >= point, from a t statistic."""
    statistic = (mean - point) / error
    return float(stats.t.sf(statistic, df) if above else stats.t.cdf(statistic, df))


def compare(left, right, relation: str, margin: float = 0.0, paired: bool = True) -> Test:
    """Test one claimed relation between ``left`` and ``right`` (values per seed; NaN = diverged,
    dropped - with its partner when paired)."""
    if relation not in RELATIONS:
        raise ValueError(f"relation={relation!r}: allowed: {', '.join(RELATIONS)}")
    if margin < 0:
        raise ValueError(f"margin={margin!r}: must be >= 0")
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    if paired:
        differences = left - right
        differences = differences[np.isfinite(differences)]
        seeds = len(differences)
        if seeds < 2:
            return Test(math.nan, math.nan, seeds, math.nan, math.nan)
        mean, error, df = differences.mean(), differences.std(ddof=1) / math.sqrt(seeds), seeds - 1
    else:
        left, right = left[np.isfinite(left)], right[np.isfinite(right)]
        seeds = min(len(left), len(right))
        if seeds < 2:
            return Test(math.nan, math.nan, seeds, math.nan, math.nan)
        a, b = left.var(ddof=1) / len(left), right.var(ddof=1) / len(right)
        mean, error = left.mean() - right.mean(), math.sqrt(a + b)
        df = (a + b) ** 2 / (a ** 2 / (len(left) - 1) + b ** 2 / (len(right) - 1)) if a + b else 1
    point, larger = {">": (margin, True), "<": (-margin, False),
                     "<=": (margin, False), ">=": (-margin, True)}[relation]
    if error == 0:         # every seed gave the same difference: the claim is decided exactly
        shown = mean > point if larger else mean < point
        return Test(float(mean), 0.0, seeds, 0.0 if shown else 1.0, 1.0 if shown else 0.0)
    return Test(float(mean), float(error), seeds, _one_sided(mean, error, df, point, above=larger),
                _one_sided(mean, error, df, point, above=not larger))


def compare_beyond(left, right, relation: str, band: float, paired: bool = True) -> Test:
    """A claim about a noisy measure (e.g. a timing): "holds" only when the difference is shown
    beyond ``band`` in the claimed direction, "does not hold" only when shown beyond ``band`` in
    the opposite one; a difference inside the band stays inconclusive, so noise of less than the
    band cannot flip the verdict between the two."""
    if relation not in (">", "<"):
        raise ValueError(f"relation={relation!r}: allowed: >, <")
    claimed = compare(left, right, relation, band, paired)
    opposite = compare(left, right, "<" if relation == ">" else ">", band, paired)
    return Test(claimed.difference, claimed.standard_error, claimed.seeds, claimed.p_holds,
                opposite.p_holds)


def against_all(tests: list[Test], relation: str) -> tuple[Test, int]:
    """Combine a claim's tests against several rivals (intersection-union for "holds",
    Bonferroni for "does not hold"); the difference shown is the one against the closest rival
    (the least favourable to the claim), whose index is returned too."""
    if any(math.isnan(t.p_holds) for t in tests):
        index = next(i for i, t in enumerate(tests) if math.isnan(t.p_holds))
        return tests[index], index
    sign = 1 if relation in (">", ">=") else -1
    index = min(range(len(tests)), key=lambda i: sign * tests[i].difference)
    closest = tests[index]
    return Test(closest.difference, closest.standard_error, closest.seeds,
                max(t.p_holds for t in tests), min(1.0, len(tests) * min(t.p_fails for t in tests))), index


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries are left out of the family and kept NaN)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def decide(tests: list[Test], alpha: float = ALPHA) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The verdict of every test of one table, with Holm's correction over all of its
    hypotheses; returns (verdicts, adjusted p of holding, adjusted p of not holding)."""
    adjusted = holm([t.p_holds for t in tests] + [t.p_fails for t in tests])
    p_holds, p_fails = adjusted[:len(tests)], adjusted[len(tests):]
    verdicts = []
    for test, holds, fails in zip(tests, p_holds, p_fails):
        if test.seeds < 2 or math.isnan(holds):
            verdicts.append(f"{INCONCLUSIVE} ({FEW_SEEDS})")
        else:
            verdicts.append(HOLDS if holds < alpha else FAILS if fails < alpha else INCONCLUSIVE)
    return verdicts, p_holds, p_fails
