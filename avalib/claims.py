"""Claims as data, and the study's one verdict rule.

A ``Claim`` is one sentence of a paper turned into a test: the paper, the section, the paper's
words, what we measured, the test, the verdict, the file that holds the evidence, and the numbers
that decided it (the effect, its interval over seeds, the seeds, and for an undecided claim the
seeds it would need). Every study writes its claims as a table of these records (``claims.csv`` in
its results folder), and ``avalib.results`` gathers them into the front page ``results/README.md``.

The verdict rule: what does the spread over seeds show about a claimed difference?

A claim compares ``left`` with ``right`` (e.g. AVA5's BM mean with the GAN's), each measured once
per seed. Its *difference* is left - right, per seed when the two share their seeds' random
streams (paired), else of the two means (Welch). Each claim is one of four relations, tested
against a margin m >= 0:

| relation | the claim | holds when the data show | does not hold when the data show |
| --- | --- | --- | --- |
| ``>``  | left is larger | difference > m | difference <= m |
| ``<``  | left is smaller | difference < -m | difference >= -m |
| ``<=`` | left is no larger (non-inferiority) | difference < m | difference >= m |
| ``>=`` | left is no smaller (non-inferiority) | difference > -m | difference <= -m |

With m = 0 the strict claims are ordinary one-sided tests; a "no larger than" claim needs m > 0
(the largest difference that counts as "no larger"). Where a paper claims a difference and the
study names an equivalence margin e for the measure, a third answer is tested: *equivalent*, the
difference lies within +-e (two one-sided tests, TOST: both bounds shown). A claim's verdict is
"holds", else "equivalent (no effect beyond +-e)", else "does not hold", else "inconclusive".

The tests: a one-sided t test over seeds (n - 1 degrees of freedom when paired, Welch's otherwise),
except where its p-value is wrong for the data: when every seed gives the same difference (a zero
spread, e.g. two models that are one computation, or a threshold quantised to a grid) or the
measure takes values on a grid (``discrete``), the exact permutation test over seeds (signs of the
paired differences flipped, or group labels exchanged; ``scipy.stats.permutation_test``): five seeds
all in one direction give p = 1/32, never 0.

"Show" means at family-wise level ``ALPHA`` after Holm's correction over the hypotheses of a table.
A claim's "holds" and "does not hold" are complements (each is the other's null hypothesis: a
partition), so at most one of them is true and the claim enters the family once, with the smaller
of the two p-values (the partitioning principle, Finner & Strassburger 2002); its equivalence test
is one more hypothesis. A claim against several rivals ("the highest mean") holds only if it holds
against each (intersection-union: the largest p) and does not hold if it fails against any
(Bonferroni over the rivals); equivalent if equivalent to each.

For a claim left undecided the rule says how far it is from a verdict: the seeds the observed
effect and spread would need for a power of ``POWER`` at the level its hypothesis faces in the
table's Holm procedure (ALPHA / the hypotheses not yet rejected). That is a power estimate, not a
promise: the effect and the spread of a few seeds are themselves uncertain.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05                 # family-wise error rate of every claims table of the study
POWER = 0.8                  # the power a "seeds needed" estimate asks for
CONFIDENCE = 0.95            # the level of every interval over seeds
MOST_SEEDS = 1000            # a claim that needs more is reported as needing more than this
EXACT_RESAMPLES = 100_000    # permutations beyond this many are sampled (seeded), not enumerated
RELATIONS = {">": "larger", "<": "smaller", "<=": "no larger", ">=": "no smaller"}
HOLDS, FAILS, EQUIVALENT, INCONCLUSIVE = "holds", "does not hold", "equivalent", "inconclusive"
FEW_SEEDS = "fewer than 2 seeds with finite values"
NO_VERDICT_NEAR = "none: the observed effects point to no verdict"
T_INTERVAL, SEED_RANGE = "95 % t interval", "range over seeds"


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and its verdict; ``condition`` names the setting it was judged under
    (a protocol, a dataset), empty when there is one. The numbers that decided it come from
    ``judged``."""

    paper: str
    section: str
    claim: str              # the paper's words (or a faithful paraphrase, marked as such)
    measured: str           # our numbers, in words
    test: str               # the test applied
    verdict: str            # HOLDS, EQUIVALENT (+ margin), FAILS or INCONCLUSIVE (+ reason)
    evidence: str           # the results file with the numbers
    condition: str = ""
    effect: float = math.nan            # the difference, left - right (closest rival)
    interval_low: float = math.nan      # its interval over seeds (``interval`` says which)
    interval_high: float = math.nan
    interval: str = ""
    seeds: int = 0
    seed_sd: float = math.nan           # SD over seeds of one seed's difference
    seed_sensitive: bool = False        # seeds move the difference more than its distance from the tested point
    method: str = ""                    # paired t, Welch t, exact sign-flip, exact permutation
    p_holm: float = math.nan            # Holm-adjusted p of the verdict's (or the closest) hypothesis
    seeds_needed: float = math.nan      # undecided: seeds for POWER at the Holm level (estimate)
    seeds_needed_for: str = ""          # the verdict those seeds would reach


CLAIM_COLUMNS = [field.name for field in fields(Claim)]


def claims_frame(claims: list[Claim], extra: list[dict] | None = None) -> pd.DataFrame:
    """The claims as a table with the standard columns first (and per-claim extra columns)."""
    rows = [asdict(claim) | (extra[i] if extra else {}) for i, claim in enumerate(claims)]
    return pd.DataFrame(rows, columns=None if rows else CLAIM_COLUMNS)


@dataclass(frozen=True)
class Equivalence:
    """An equivalence margin: the difference counts as no effect within +-``margin`` (on the
    scale the test runs on); ``words`` says it for a reader, e.g. "+-0.02 BM"."""

    margin: float
    words: str

    def __post_init__(self):
        if not self.margin > 0:
            raise ValueError(f"Equivalence margin={self.margin!r}: must be > 0 ({self.words})")


@dataclass(frozen=True)
class Test:
    """One claimed comparison: the difference (left - right), its standard error and interval,
    the seeds used, the one-sided p-values of "holds" and "does not hold" (before correction),
    and, with an equivalence margin, the TOST p of "equivalent"."""

    difference: float
    standard_error: float
    seeds: int
    p_holds: float
    p_fails: float
    low: float = math.nan
    high: float = math.nan
    method: str = ""
    spread: float = math.nan            # SD of one seed's difference (paired) or sqrt(SD_l^2 + SD_r^2)
    toward_holds: float = math.nan      # how far the difference lies on the "holds" side of its point
    toward_fails: float = math.nan      # ... on the "does not hold" side of its point (< 0: other side)
    p_equivalent: float = math.nan
    equivalence: Equivalence | None = None
    complements: bool = True            # "holds" and "does not hold" partition the outcomes
    parts: tuple = ()                   # a claim against several rivals: the test against each

    @property
    def interval(self) -> str:
        return "" if math.isnan(self.low) else (SEED_RANGE if self.method.startswith("exact") else T_INTERVAL)


def _nothing(seeds: int, equivalence: Equivalence | None = None) -> Test:
    return Test(math.nan, math.nan, seeds, math.nan, math.nan, equivalence=equivalence)


def _t_p(mean: float, error: float, df: float, point: float, above: bool) -> float:
    """p of H0: difference <= point (``above``) or >= point, from a t statistic."""
    statistic = (mean - point) / error
    return float(stats.t.sf(statistic, df) if above else stats.t.cdf(statistic, df))


def _exact_p(left: np.ndarray, right: np.ndarray | None, point: float, above: bool) -> float:
    """p of H0: difference <= point (``above``) or >= point by the exact permutation test: signs
    of the paired differences minus ``point`` flipped (``right`` None), or the labels of the two
    groups exchanged after ``point`` is taken off ``left``."""
    alternative = "greater" if above else "less"
    if right is None:
        data, kind = (left - point,), "samples"
        statistic = lambda x, axis=-1: np.mean(x, axis=axis)
    else:
        data, kind = (left - point, right), "independent"
        statistic = lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis)
    result = stats.permutation_test(data, statistic, permutation_type=kind, alternative=alternative,
                                    vectorized=True, n_resamples=EXACT_RESAMPLES, random_state=0)
    return float(result.pvalue)


def _point(relation: str, margin: float) -> tuple[float, bool]:
    """The value the difference is tested against and whether the claim says it lies above it."""
    return {">": (margin, True), "<": (-margin, False), "<=": (margin, False), ">=": (-margin, True)}[relation]


def compare(left, right, relation: str, margin: float = 0.0, paired: bool = True,
            equivalence: Equivalence | None = None, discrete: bool = False) -> Test:
    """Test one claimed relation between ``left`` and ``right`` (values per seed; NaN = diverged,
    dropped - with its partner when paired), and with ``equivalence`` whether the difference is
    within its margin. ``discrete``: the values lie on a grid (the exact test decides)."""
    if relation not in RELATIONS:
        raise ValueError(f"relation={relation!r}: allowed: {', '.join(RELATIONS)}")
    if margin < 0:
        raise ValueError(f"margin={margin!r}: must be >= 0")
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    if paired:
        if left.shape != right.shape:
            raise ValueError(f"paired values differ in length: left {left.shape}, right {right.shape}")
        differences = left - right
        differences = differences[np.isfinite(differences)]
        seeds = len(differences)
        if seeds < 2:
            return _nothing(seeds, equivalence)
        tied = np.ptp(differences) == 0                      # every seed the same difference
        mean, spread, df = differences.mean(), 0.0 if tied else differences.std(ddof=1), seeds - 1
        error = spread / math.sqrt(seeds)
        samples = (differences, None)
    else:
        left, right = left[np.isfinite(left)], right[np.isfinite(right)]
        seeds = min(len(left), len(right))
        if seeds < 2:
            return _nothing(seeds, equivalence)
        tied = np.ptp(left) == 0 and np.ptp(right) == 0      # each group one value
        a, b = (0.0, 0.0) if tied else (left.var(ddof=1) / len(left), right.var(ddof=1) / len(right))
        mean, error = left.mean() - right.mean(), math.sqrt(a + b)
        spread = 0.0 if tied else math.sqrt(left.var(ddof=1) + right.var(ddof=1))
        df = (a + b) ** 2 / (a ** 2 / (len(left) - 1) + b ** 2 / (len(right) - 1)) if a + b else 1
        samples = (left, right)
    point, above = _point(relation, margin)
    exact = discrete or tied or error == 0
    if exact:
        p = lambda at, side: _exact_p(*samples, at, side)
        low, high = ((differences.min(), differences.max()) if paired
                     else (left.min() - right.max(), left.max() - right.min()))
        method = "exact sign-flip" if paired else "exact permutation"
    else:
        p = lambda at, side: _t_p(mean, error, df, at, side)
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, df) * error
        low, high, method = mean - half, mean + half, "paired t" if paired else "Welch t"
    p_equivalent = math.nan
    if equivalence is not None:
        p_equivalent = max(p(-equivalence.margin, True), p(equivalence.margin, False))
    toward = float(mean - point if above else point - mean)
    return Test(float(mean), float(error), seeds, p(point, above), p(point, not above), float(low),
                float(high), method, float(spread), toward, -toward, p_equivalent, equivalence)


def compare_beyond(left, right, relation: str, band: float, paired: bool = True,
                   equivalence: Equivalence | None = None) -> Test:
    """A claim about a noisy measure (e.g. a timing): "holds" only when the difference is shown
    beyond ``band`` in the claimed direction, "does not hold" only when shown beyond ``band`` in
    the opposite one; a difference inside the band stays inconclusive (or, with ``equivalence``,
    is shown within its margin), so noise of less than the band cannot flip the verdict. The two
    are not complements: both enter the Holm family."""
    if relation not in (">", "<"):
        raise ValueError(f"relation={relation!r}: allowed: >, <")
    claimed = compare(left, right, relation, band, paired, equivalence)
    opposite = compare(left, right, "<" if relation == ">" else ">", band, paired)
    return dataclasses.replace(claimed, p_fails=opposite.p_holds, toward_fails=opposite.toward_holds,
                               complements=False)


def against_all(tests: list[Test], relation: str) -> tuple[Test, int]:
    """Combine a claim's tests against several rivals (intersection-union for "holds" and for
    "equivalent", Bonferroni for "does not hold"); the difference shown is the one against the
    closest rival (the least favourable to the claim), whose index is returned too."""
    if any(math.isnan(t.p_holds) for t in tests):
        index = next(i for i, t in enumerate(tests) if math.isnan(t.p_holds))
        return tests[index], index
    sign = 1 if relation in (">", ">=") else -1
    index = min(range(len(tests)), key=lambda i: sign * tests[i].difference)
    closest = tests[index]
    equivalent = [t.p_equivalent for t in tests]
    return dataclasses.replace(
        closest, p_holds=max(t.p_holds for t in tests),
        p_fails=min(1.0, len(tests) * min(t.p_fails for t in tests)),
        p_equivalent=max(equivalent) if all(np.isfinite(equivalent)) else math.nan,
        complements=all(t.complements for t in tests), parts=tuple(tests)), index


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


@dataclass(frozen=True)
class Decision:
    """The verdict of one test in its table: the Holm-adjusted p of each of its hypotheses (NaN
    where it has none), the level an undecided hypothesis faced, and the seeds it would need."""

    verdict: str
    p_holds: float
    p_fails: float
    p_equivalent: float
    level: float
    seeds_needed: float = math.nan
    seeds_needed_for: str = ""

    @property
    def p_holm(self) -> float:
        """The adjusted p of the verdict's hypothesis, or of the closest one when undecided."""
        chosen = {HOLDS: self.p_holds, FAILS: self.p_fails, EQUIVALENT: self.p_equivalent}
        word = self.verdict.split(" (")[0]
        return chosen.get(word, np.nanmin([self.p_holds, self.p_fails, self.p_equivalent, 1.0]))


def _hypotheses(test: Test) -> list[tuple[str, float]]:
    """The hypotheses a test adds to its table's family: (the verdict its rejection gives, p)."""
    if test.seeds < 2 or math.isnan(test.p_holds):
        return []
    if test.complements:      # a partition: the claim enters once, with the side the data favour
        found = [(HOLDS, test.p_holds) if test.p_holds <= test.p_fails else (FAILS, test.p_fails)]
    else:
        found = [(HOLDS, test.p_holds), (FAILS, test.p_fails)]
    if test.equivalence is not None and math.isfinite(test.p_equivalent):
        found.append((EQUIVALENT, test.p_equivalent))
    return found


def seeds_for_t(distance: float, spread: float, level: float, power: float = POWER,
                exact: bool = False) -> float:
    """The fewest seeds (>= 2) at which a one-sided t test at ``level`` has ``power`` when the true
    difference lies ``distance`` beyond the tested point and one seed's difference has SD
    ``spread`` (noncentral t, ``scipy.stats.nct``; n - 1 degrees of freedom); inf when
    ``distance`` <= 0 or more than MOST_SEEDS would be needed. ``exact``: the claim is decided by
    the exact test, which also needs 2^-n below ``level`` (``seeds_for_sign``)."""
    if not distance > 0 or not math.isfinite(spread):
        return math.inf
    floor = seeds_for_sign(level) if exact or spread == 0 else 2.0
    if spread == 0:
        return floor
    for n in range(int(floor), MOST_SEEDS + 1):
        df = n - 1
        if stats.nct.sf(stats.t.isf(level, df), df, min(distance / spread * math.sqrt(n), 1e6)) >= power:
            return float(n)
    return math.inf


def seeds_for_sign(level: float) -> float:
    """The fewest seeds at which the exact sign-flip test can reach ``level``: n seeds all in one
    direction give p = 2^-n."""
    return float(max(2, math.floor(math.log2(1 / level)) + 1))


def _seeds_needed(test: Test, level: float) -> tuple[float, str]:
    """The fewest seeds for POWER at ``level`` toward any verdict, with that verdict: "holds" and
    "equivalent" need it against every rival (the most seeds of the parts), "does not hold"
    against one (the fewest, at the level shared by the rivals); inf when the observed effects
    point to none (e.g. a difference of exactly the tested point)."""
    parts = test.parts or (test,)
    need = lambda t, distance, at: seeds_for_t(distance, t.spread, at, exact=t.method.startswith("exact"))
    options = [(max(need(t, t.toward_holds, level) for t in parts), HOLDS),
               (min(need(t, t.toward_fails, level / len(parts)) for t in parts), FAILS)]
    if test.equivalence is not None:
        options.append((max(need(t, test.equivalence.margin - abs(t.difference), level) for t in parts),
                        EQUIVALENT))
    seeds, verdict = min(options, key=lambda option: option[0])
    return (seeds, verdict) if math.isfinite(seeds) else (math.inf, NO_VERDICT_NEAR)


def equivalent_words(equivalence: Equivalence) -> str:
    return f"{EQUIVALENT} (no effect beyond {equivalence.words})"


def decide(tests: list[Test], alpha: float = ALPHA) -> list[Decision]:
    """The verdict of every test of one table, with Holm's correction over all of its hypotheses
    (``_hypotheses``), and for every undecided one the seeds it would need (a power estimate)."""
    owners, answers, p_values = [], [], []
    for number, test in enumerate(tests):
        for answer, p in _hypotheses(test):
            owners.append(number)
            answers.append(answer)
            p_values.append(p)
    adjusted = holm(p_values)
    rejected = int((adjusted < alpha).sum())
    level = alpha / max(1, len(p_values) - rejected)
    decisions = []
    for number, test in enumerate(tests):
        mine = {answer: p for owner, answer, p in zip(owners, answers, adjusted) if owner == number}
        shown = [answer for answer in (HOLDS, EQUIVALENT, FAILS) if mine.get(answer, 1.0) < alpha]
        p_of = [mine.get(answer, math.nan) for answer in (HOLDS, FAILS, EQUIVALENT)]
        if not mine:
            decisions.append(Decision(f"{INCONCLUSIVE} ({FEW_SEEDS})", *p_of, level))
        elif shown:
            verdict = equivalent_words(test.equivalence) if shown[0] == EQUIVALENT else shown[0]
            decisions.append(Decision(verdict, *p_of, level))
        else:
            decisions.append(Decision(INCONCLUSIVE, *p_of, level, *_seeds_needed(test, level)))
    return decisions


def verdict_words(decisions: list[Decision]) -> list[str]:
    return [decision.verdict for decision in decisions]


def judged(paper: str, section: str, claim: str, measured: str, test_text: str, evidence: str,
           test: Test, decision: Decision, condition: str = "") -> Claim:
    """A ``Claim`` with the numbers of its test and of its decision."""
    distance = abs(test.toward_holds)
    sensitive = bool(math.isfinite(test.spread) and distance < test.spread)
    return Claim(paper, section, claim, measured, test_text, decision.verdict, evidence, condition,
                 effect=test.difference, interval_low=test.low, interval_high=test.high,
                 interval=test.interval, seeds=test.seeds, seed_sd=test.spread,
                 seed_sensitive=sensitive, method=test.method, p_holm=float(decision.p_holm),
                 seeds_needed=decision.seeds_needed, seeds_needed_for=decision.seeds_needed_for)
