"""The study's one verdict rule on small hand-made inputs."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from avalib import claims as verdicts

LEFT = np.array([0.30, 0.32, 0.31, 0.33, 0.29])


def test_paired_p_values_are_the_t_distributions_one_sided_ones():
    right = LEFT - np.array([0.010, 0.004, 0.012, -0.002, 0.008])
    test = verdicts.compare(LEFT, right, ">")
    assert test.seeds == 5
    assert test.p_holds == pytest.approx(stats.ttest_rel(LEFT, right, alternative="greater").pvalue)
    assert test.p_fails == pytest.approx(stats.ttest_rel(LEFT, right, alternative="less").pvalue)
    assert test.difference == pytest.approx(0.0064)


def _verdicts(tests):
    return verdicts.verdict_words(verdicts.decide(tests))


def test_two_standard_errors_are_not_enough_with_five_seeds():
    """t = 2.2 with 4 degrees of freedom: beyond the old 2-SE rule, yet p = 0.046 one-sided, so
    Holm beside one undecided claim (level 0.025) leaves it inconclusive."""
    differences = np.array([1.0, -0.2, 0.9, 0.1, 0.5])
    t = differences.mean() / (differences.std(ddof=1) / math.sqrt(5))
    assert 2.0 < t < 2.3
    test = verdicts.compare(differences, np.zeros(5), ">")
    clear = verdicts.compare(LEFT + 1 + np.array([0.01, -0.01, 0.0, 0.02, -0.02]), LEFT, ">")
    noise = verdicts.compare(np.array([0.1, -0.1, 0.2, -0.2, 0.05]), np.zeros(5), ">")
    decided = verdicts.decide([test, clear, noise])
    assert [d.verdict for d in decided] == ["inconclusive", "holds", "inconclusive"]
    assert decided[0].p_holds > 0.025 and decided[0].level == pytest.approx(0.025)


def test_complementary_answers_enter_the_family_once():
    """ "holds" and "does not hold" partition the outcomes: a claim is one hypothesis, with the
    smaller one-sided p; two claims make a family of two."""
    up = verdicts.compare(LEFT + np.array([0.05, 0.06, 0.05, 0.07, 0.06]), LEFT, ">")
    down = verdicts.compare(LEFT, LEFT + np.array([0.05, 0.06, 0.05, 0.07, 0.06]), ">")
    decided = verdicts.decide([up, down])
    smaller = sorted([up.p_holds, down.p_fails])
    assert decided[0].p_holds == pytest.approx(max(2 * smaller[0], smaller[1]) if up.p_holds == smaller[1]
                                               else 2 * smaller[0])
    assert math.isnan(decided[0].p_fails) and math.isnan(decided[1].p_holds)


def test_directions_and_reversals():
    up = LEFT + np.array([0.05, 0.06, 0.05, 0.07, 0.06])
    decided = _verdicts([verdicts.compare(up, LEFT, ">"), verdicts.compare(up, LEFT, "<"),
                         verdicts.compare(LEFT, up, "<")])
    assert decided == ["holds", "does not hold", "holds"]


def test_no_larger_than_is_a_non_inferiority_test():
    equal = LEFT + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0])
    larger = LEFT + 0.05 + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0])
    decided = _verdicts([verdicts.compare(equal, LEFT, "<=", margin=0.01),
                         verdicts.compare(larger, LEFT, "<=", margin=0.01),
                         verdicts.compare(equal, LEFT, "<", margin=0.0)])
    assert decided == ["holds", "does not hold", "inconclusive"]


def test_welch_p_values_are_scipys():
    right = np.array([0.20, 0.26, 0.22, 0.31, 0.24, 0.27])
    test = verdicts.compare(LEFT, right, ">", paired=False)
    assert test.method == "Welch t" and test.seeds == 5
    assert test.p_holds == pytest.approx(stats.ttest_ind(LEFT, right, equal_var=False,
                                                         alternative="greater").pvalue)
    interval = stats.ttest_ind(LEFT, right, equal_var=False).confidence_interval(0.95)
    assert (test.low, test.high) == pytest.approx((interval.low, interval.high))


def test_the_paired_interval_is_scipys():
    right = LEFT - np.array([0.010, 0.004, 0.012, -0.002, 0.008])
    test = verdicts.compare(LEFT, right, ">")
    interval = stats.ttest_rel(LEFT, right).confidence_interval(0.95)
    assert (test.low, test.high) == pytest.approx((interval.low, interval.high))
    assert test.interval == verdicts.T_INTERVAL


def test_equivalence_is_two_one_sided_t_tests():
    """TOST: the larger of the two one-sided p-values against -e and +e (scipy's t tests)."""
    differences = np.array([0.004, -0.003, 0.001, 0.002, -0.001])
    margin = verdicts.Equivalence(0.01, "+-0.01")
    test = verdicts.compare(differences, np.zeros(5), ">", equivalence=margin)
    lower = stats.ttest_1samp(differences, -0.01, alternative="greater").pvalue
    upper = stats.ttest_1samp(differences, 0.01, alternative="less").pvalue
    assert test.p_equivalent == pytest.approx(max(lower, upper))
    assert _verdicts([test]) == ["equivalent (no effect beyond +-0.01)"]
    wide = verdicts.compare(differences * 10, np.zeros(5), ">", equivalence=margin)
    assert _verdicts([wide]) == ["inconclusive"]             # within +-0.01 is not shown


def test_a_shown_direction_comes_before_equivalence():
    small_rise = np.array([0.0040, 0.0042, 0.0041, 0.0043, 0.0039])      # > 0 and within +-0.01
    margin = verdicts.Equivalence(0.01, "+-0.01")
    rise = verdicts.compare(small_rise, np.zeros(5), ">", equivalence=margin)
    fall = verdicts.compare(-small_rise, np.zeros(5), ">", equivalence=margin)
    assert _verdicts([rise, fall]) == ["holds", "equivalent (no effect beyond +-0.01)"]


def _sign_flip_by_hand(differences, point, above):
    """The exact sign-flip p-value by enumerating all 2^n sign patterns."""
    centred = np.asarray(differences) - point
    observed = centred.mean()
    means = [np.mean(centred * np.array(signs)) for signs in itertools.product((1, -1), repeat=len(centred))]
    return np.mean([m >= observed - 1e-12 if above else m <= observed + 1e-12 for m in means])


def test_tied_seeds_get_the_exact_sign_flip_p():
    """Every seed gives the same difference (a threshold on the beta grid): p = 1/32 with five
    seeds, the sign test's (scipy.stats.binomtest), never 0 - so five tied seeds in a table with
    other undecided claims stay inconclusive, and the rule says how many seeds would decide."""
    eps_1, eps_2 = np.full(5, 0.001), np.full(5, 0.003)
    test = verdicts.compare(eps_1, eps_2, "<")
    assert test.method == "exact sign-flip" and test.interval == verdicts.SEED_RANGE
    assert test.p_holds == pytest.approx(1 / 32)
    assert test.p_holds == pytest.approx(stats.binomtest(5, 5, 0.5, alternative="greater").pvalue)
    assert test.p_fails == pytest.approx(1.0)
    alone = verdicts.decide([test])[0]
    assert alone.verdict == "holds"                          # 1/32 < 0.05 when it is the only claim
    noise = [verdicts.compare(np.array([0.1, -0.1, 0.2, -0.2, 0.05]) * k, np.zeros(5), ">") for k in (1, 2)]
    decided = verdicts.decide([test, *noise])
    assert decided[0].verdict == "inconclusive"
    assert decided[0].level == pytest.approx(0.05 / 3)
    assert decided[0].seeds_needed == 6 and 2 ** -6 < 0.05 / 3 < 2 ** -5


def test_two_tied_seeds_decide_nothing():
    """Two seeds in one direction: p = 1/4 at best."""
    test = verdicts.compare(np.full(2, 0.005), np.full(2, 0.003), ">")
    assert test.p_holds == pytest.approx(0.25)
    assert _verdicts([test]) == ["inconclusive"]


def test_grid_valued_measures_use_the_exact_test():
    eps = np.array([0.005, 0.005, 0.003, 0.005, 0.01])
    test = verdicts.compare(eps, np.full(5, 0.003), ">", discrete=True)
    assert test.method == "exact sign-flip"
    assert test.p_holds == pytest.approx(_sign_flip_by_hand(eps - 0.003, 0.0, True))
    assert (test.low, test.high) == (0.0, pytest.approx(0.007))


def test_unpaired_constant_groups_get_the_exact_permutation_p():
    test = verdicts.compare(np.full(5, 1.0), np.full(5, 0.0), ">", paired=False)
    assert test.method == "exact permutation"
    assert test.p_holds == pytest.approx(1 / math.comb(10, 5))


def test_identical_runs_are_undecided_until_enough_seeds_show_equivalence():
    """Two models that are one computation (AVA3 and AVA4 in the authors' code): "higher" is
    neither shown nor refuted by any number of seeds; "no larger" holds by the exact test; with an
    equivalence margin five seeds give p = 1/32 per bound and seven decide it."""
    margin = verdicts.Equivalence(0.01, "+-0.01")
    tie = verdicts.compare(LEFT, LEFT, ">", equivalence=margin)
    assert tie.p_holds == 1.0 and tie.p_fails == 1.0 and tie.p_equivalent == pytest.approx(1 / 32)
    decided = verdicts.decide([tie])[0]
    assert decided.verdict == "inconclusive" and decided.seeds_needed_for == "equivalent"
    assert decided.seeds_needed == 6              # two hypotheses: 2^-6 < 0.05 / 2 < 2^-5
    assert _verdicts([verdicts.compare(LEFT, LEFT, "<=", margin=0.01)]) == ["holds"]
    seven = np.linspace(0.3, 0.36, 7)
    assert _verdicts([verdicts.compare(seven, seven, ">", equivalence=margin)]) == [
        "equivalent (no effect beyond +-0.01)"]


def test_a_tie_with_one_rival_keeps_the_lowest_mean_claim_open():
    """ "AVA3 has the lowest mean" when AVA4 is the same computation: not shown, not refuted."""
    noise = np.array([0.003, -0.002, 0.001, -0.003, 0.001])
    rivals = [verdicts.compare(LEFT, LEFT, "<"), verdicts.compare(LEFT, LEFT + 0.1 + noise, "<")]
    combined, index = verdicts.against_all(rivals, "<")
    assert index == 0 and combined.p_holds == 1.0
    assert _verdicts([combined]) == ["inconclusive"]


def test_seeds_needed_is_the_noncentral_t_power():
    """The fewest seeds with power >= 0.8 for a one-sided t test (scipy.stats.nct): enough at n,
    not at n - 1."""
    n = int(verdicts.seeds_for_t(0.5, 1.0, 0.01))
    power = lambda k: stats.nct.sf(stats.t.isf(0.01, k - 1), k - 1, 0.5 * math.sqrt(k))
    assert power(n) >= 0.8 > power(n - 1)
    assert verdicts.seeds_for_t(0.0, 1.0, 0.01) == math.inf
    assert verdicts.seeds_for_t(1.0, 0.0, 0.01) == 7                 # 2^-7 < 0.01 < 2^-6


def test_an_undecided_claim_reports_its_interval_and_seeds_needed():
    differences = np.array([0.02, -0.01, 0.03, 0.0, 0.015])
    test = verdicts.compare(differences, np.zeros(5), ">")
    decision = verdicts.decide([test])[0]
    assert decision.verdict == "inconclusive" and decision.seeds_needed_for == "holds"
    assert decision.seeds_needed == verdicts.seeds_for_t(differences.mean(), differences.std(ddof=1), 0.05)
    claim = verdicts.judged("P", "1", "words", "measured", "test", "file.csv", test, decision)
    assert claim.seeds == 5 and claim.interval_low < 0 < claim.interval_high
    assert claim.seed_sensitive                                      # SD 0.016 > mean 0.011
    assert list(verdicts.claims_frame([claim]).columns) == verdicts.CLAIM_COLUMNS


def test_diverged_seeds_are_dropped_and_too_few_are_inconclusive():
    left = np.array([0.3, math.nan, math.nan, math.nan, 0.2])
    test = verdicts.compare(left, LEFT, ">")
    assert test.seeds == 2
    gone = verdicts.compare(np.full(5, math.nan), LEFT, ">")
    assert _verdicts([gone]) == ["inconclusive (fewer than 2 seeds with finite values)"]


def test_holm_matches_a_hand_computation():
    adjusted = verdicts.holm([0.01, 0.04, 0.03, 0.005, math.nan])
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])


def test_a_claim_against_several_rivals_needs_each():
    noise = np.array([0.003, -0.002, 0.001, -0.003, 0.001])
    beats_all = [verdicts.compare(LEFT + 0.1, LEFT + shift + noise, ">") for shift in (0.0, 0.09, 0.02)]
    combined, index = verdicts.against_all(beats_all, ">")          # the closest rival decides
    assert index == 1 and combined.difference == pytest.approx(0.01)
    loses_one = beats_all[:2] + [verdicts.compare(LEFT + 0.1, LEFT + 0.2 + noise, ">")]
    decided = _verdicts([verdicts.against_all(beats_all, ">")[0], verdicts.against_all(loses_one, ">")[0]])
    assert decided == ["holds", "does not hold"]


def test_bad_relation_and_margin_are_rejected():
    with pytest.raises(ValueError, match="relation='=='"):
        verdicts.compare(LEFT, LEFT, "==")
    with pytest.raises(ValueError, match="margin=-1"):
        verdicts.compare(LEFT, LEFT, ">", margin=-1)


def test_a_noisy_measure_needs_a_difference_beyond_its_band_either_way():
    from avalib import claims as rule
    slower = rule.compare_beyond([2.0, 2.1, 2.05], [1.0, 1.02, 1.01], ">", band=0.5)
    assert _verdicts([slower]) == [rule.HOLDS]
    noise = rule.compare_beyond([1.2, 1.25, 1.22], [1.0, 1.02, 1.01], ">", band=0.5)
    assert _verdicts([noise]) == [rule.INCONCLUSIVE]        # 1.2x: inside the band
    faster = rule.compare_beyond([0.3, 0.31, 0.32], [1.0, 1.02, 1.01], ">", band=0.5)
    assert _verdicts([faster]) == [rule.FAILS]
