"""The study's one verdict rule on small hand-made inputs."""

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


def test_two_standard_errors_are_not_enough_with_five_seeds():
    """t = 2.2 with 4 degrees of freedom: beyond the old 2-SE rule, yet p = 0.046 one-sided, so
    Holm over two claims (four hypotheses) leaves it inconclusive."""
    differences = np.array([1.0, -0.2, 0.9, 0.1, 0.5])
    t = differences.mean() / (differences.std(ddof=1) / math.sqrt(5))
    assert 2.0 < t < 2.3
    test = verdicts.compare(differences, np.zeros(5), ">")
    clear = verdicts.compare(LEFT + 1, LEFT, ">")
    decided, p_holds, _ = verdicts.decide([test, clear])
    assert decided == ["inconclusive", "holds"]
    assert p_holds[0] > 0.05


def test_directions_and_reversals():
    up = LEFT + np.array([0.05, 0.06, 0.05, 0.07, 0.06])
    decided, _, _ = verdicts.decide([verdicts.compare(up, LEFT, ">"), verdicts.compare(up, LEFT, "<"),
                                     verdicts.compare(LEFT, up, "<")])
    assert decided == ["holds", "does not hold", "holds"]


def test_no_larger_than_is_a_non_inferiority_test():
    equal = LEFT + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0])
    larger = LEFT + 0.05 + np.array([0.001, -0.001, 0.0005, -0.0005, 0.0])
    decided, _, _ = verdicts.decide([verdicts.compare(equal, LEFT, "<=", margin=0.01),
                                     verdicts.compare(larger, LEFT, "<=", margin=0.01),
                                     verdicts.compare(equal, LEFT, "<", margin=0.0)])
    assert decided == ["holds", "does not hold", "inconclusive"]


def test_identical_runs_decide_exactly():
    """Two models that are the same computation (AVA1 and AVA2 in the authors' code): "higher"
    does not hold, "no larger" does."""
    decided, _, _ = verdicts.decide([verdicts.compare(LEFT, LEFT, ">"),
                                     verdicts.compare(LEFT, LEFT, "<=", margin=0.01)])
    assert decided == ["does not hold", "holds"]


def test_diverged_seeds_are_dropped_and_too_few_are_inconclusive():
    left = np.array([0.3, math.nan, math.nan, math.nan, 0.2])
    test = verdicts.compare(left, LEFT, ">")
    assert test.seeds == 2
    gone = verdicts.compare(np.full(5, math.nan), LEFT, ">")
    assert verdicts.decide([gone])[0] == ["inconclusive (fewer than 2 seeds with finite values)"]


def test_holm_matches_a_hand_computation():
    adjusted = verdicts.holm([0.01, 0.04, 0.03, 0.005, math.nan])
    np.testing.assert_allclose(adjusted[:4], [0.03, 0.06, 0.06, 0.02])
    assert math.isnan(adjusted[4])


def test_a_claim_against_several_rivals_needs_each():
    noise = np.array([0.003, -0.002, 0.001, -0.003, 0.001])
    beats_all = [verdicts.compare(LEFT + 0.1, LEFT + shift + noise, ">") for shift in (0.0, 0.09, 0.02)]
    combined, index = verdicts.against_all(beats_all, ">")          # the closest rival decides
    assert index == 1 and combined.difference == pytest.approx(0.01)
    loses_one = beats_all[:2] + [verdicts.compare(LEFT + 0.1, LEFT + 0.2, ">")]
    decided, _, _ = verdicts.decide([verdicts.against_all(beats_all, ">")[0],
                                     verdicts.against_all(loses_one, ">")[0]])
    assert decided == ["holds", "does not hold"]


def test_bad_relation_and_margin_are_rejected():
    with pytest.raises(ValueError, match="relation='=='"):
        verdicts.compare(LEFT, LEFT, "==")
    with pytest.raises(ValueError, match="margin=-1"):
        verdicts.compare(LEFT, LEFT, ">", margin=-1)


def test_a_noisy_measure_needs_a_difference_beyond_its_band_either_way():
    from avalib import claims as rule
    slower = rule.compare_beyond([2.0, 2.1, 2.05], [1.0, 1.02, 1.01], ">", band=0.5)
    assert rule.decide([slower])[0] == [rule.HOLDS]
    noise = rule.compare_beyond([1.2, 1.25, 1.22], [1.0, 1.02, 1.01], ">", band=0.5)
    assert rule.decide([noise])[0] == [rule.INCONCLUSIVE]        # 1.2x: inside the band
    faster = rule.compare_beyond([0.3, 0.31, 0.32], [1.0, 1.02, 1.01], ">", band=0.5)
    assert rule.decide([faster])[0] == [rule.FAILS]
