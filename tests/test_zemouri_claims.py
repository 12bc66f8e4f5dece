"""The claims of Zemouri (2020) section 4.4 judged by the study's rule, on synthetic metrics."""

import pandas as pd

from avalib.zemouri.claims import thresholds_table, verdicts
from avalib.zemouri.experiment import PAPER_BETAS, PAPER_GAMMAS

NOISE = (0.004, -0.003, 0.001, 0.002, -0.001, 0.003, -0.002, 0.0005)   # per seed: every comparison has a spread


def synthetic(omniglot_100_works: bool, seeds=(0, 1, 2)) -> pd.DataFrame:
    """MNIST as the paper describes it: blurred until beta = 0.005, labels lost from 0.1,
    restored by gamma; Omniglot fails in 2-D (and in 100-D unless told otherwise)."""
    rows = []
    for seed in seeds:
        for dataset in ("mnist", "omniglot"):
            for latent in (2, 100):
                for gamma in PAPER_GAMMAS:
                    for step, beta in enumerate(PAPER_BETAS):
                        wobble = NOISE[(seed + step + latent + int(10 * gamma)) % len(NOISE)]
                        sharp = 0.5 if beta < 0.005 else 0.9
                        agreement = 0.95 if beta < 0.1 else (0.9 if gamma else 0.2)
                        mse = 0.05 if latent == 100 else 0.06
                        if dataset == "omniglot" and (latent == 2 or not omniglot_100_works):
                            mse = 0.1
                        rows.append(dict(dataset=dataset, Kz=latent, gamma=gamma, beta=beta,
                                         seed=seed, pixel_mse=mse + wobble / 10,
                                         label_agreement=agreement + wobble,
                                         sharpness_ratio=sharp + wobble, frechet_distance=10.0,
                                         mean_image_mse=0.1))
    return pd.DataFrame(rows)


def by_section(frame):
    return {row.section.split("(")[-1].rstrip(")"): row.verdict for row in verdicts(frame).itertuples()}


def test_paper_like_metrics_make_the_claims_hold():
    found = by_section(synthetic(omniglot_100_works=True, seeds=range(8)))
    assert found == {claim: "holds" for claim in ("A", "B0", "B1", "B2", "B3", "B4", "C", "D")}


def test_thresholds_tied_on_the_grid_need_the_exact_test_and_enough_seeds():
    """eps_1 = 0.005 and eps_2 = 0.1 in all three seeds: the exact sign-flip p is 1/8, so B0 and B4
    stay inconclusive (a t test would call a zero spread decisive), with the seeds they need."""
    table = verdicts(synthetic(omniglot_100_works=True)).set_index("section")
    for claim in ("4.4 (B0)", "4.4 (B4)"):
        assert table.loc[claim, "verdict"] == "inconclusive"
        assert table.loc[claim, "method"] == "exact sign-flip"
        assert 3 < table.loc[claim, "seeds_needed"] <= 10
        assert "the grid bounds the answer" in table.loc[claim, "measured"]
    assert table.loc["4.4 (B3)", "verdict"] == "holds"


def test_omniglot_failing_in_100_d_as_well_fails_the_claim_as_worded():
    assert by_section(synthetic(omniglot_100_works=False))["D"] == "does not hold"


def test_one_seed_decides_nothing():
    found = by_section(synthetic(omniglot_100_works=True, seeds=(0,)))
    assert all(verdict.startswith("inconclusive") for verdict in found.values())


def test_thresholds_are_per_seed():
    table = thresholds_table(synthetic(omniglot_100_works=True))
    mnist = table[(table.dataset == "mnist") & (table.Kz == 2)]
    assert mnist.seed.tolist() == [0, 1, 2]
    assert mnist.epsilon_1.tolist() == [0.005] * 3 and mnist.epsilon_2.tolist() == [0.1] * 3


def test_claim_c_counts_every_large_beta_pair_not_only_those_that_lost_labels():
    frame = synthetic(omniglot_100_works=True)
    # omniglot K_z = 100 keeps its labels at beta = 0.5 without gamma, and gamma lowers them
    kept = (frame.dataset == "omniglot") & (frame.Kz == 100) & (frame.beta == 0.5)
    wobble = frame.seed.map(dict(enumerate(NOISE)))
    frame.loc[kept & (frame.gamma == 0.0), "label_agreement"] = 0.95 + wobble
    frame.loc[kept & (frame.gamma == 0.1), "label_agreement"] = 0.85 - wobble
    table = verdicts(frame, budget="300 + 100 Algorithm 2 iterations").set_index("section")
    assert table.loc["4.4 (C)", "verdict"] == "does not hold"
    assert "all 8 (dataset, K_z, large beta) pairs" in table.loc["4.4 (C)", "measured"]
    assert (table.budget == "300 + 100 Algorithm 2 iterations").all() and table.standard_error.notna().all()


def test_beta_claims_are_judged_again_at_each_budget_and_marked_when_the_verdict_changes():
    frame = synthetic(omniglot_100_works=True).assign(n_dis=5, step2_steps=100)
    focus = frame[(frame.dataset == "mnist") & (frame.Kz == 2) & (frame.gamma == 0.0)]
    longer = focus.assign(step2_steps=400,                                       # never sharper
                          sharpness_ratio=0.5 + focus.seed / 1000 + focus.beta / 100)
    other_n_dis = focus.assign(n_dis=1)
    more_seeds = focus.assign(seed=focus.seed + 3)      # the focus has more seeds than the grid
    table = verdicts(pd.concat([frame, more_seeds, longer, other_n_dis]), budget="100 Algorithm 2 iterations")
    assert len(table) == 8 + 5 + 5
    assert table.set_index("section").loc["4.4 (A)", "seeds"] == 3            # paired by seed
    at_400 = table[table.condition == "n_dis = 5, 400 Algorithm 2 iterations"].set_index("section")
    assert at_400.loc["4.4 (B2)", "verdict"] == "does not hold"
    own = table[table.condition.str.endswith("(the sweep's)")].set_index("section")
    assert own.loc["4.4 (B2)", "verdict"] == "holds" and own.loc["4.4 (B2)", "budget_dependent"]
    assert not own.loc["4.4 (B3)", "budget_dependent"] and not own.loc["4.4 (A)", "budget_dependent"]
    assert set(thresholds_table(pd.concat([frame, longer])).step2_steps) == {100, 400}


def test_a_budget_without_a_claims_settings_does_not_mark_it_budget_dependent():
    frame = synthetic(omniglot_100_works=True).assign(n_dis=5, step2_steps=100)
    focus = frame[(frame.dataset == "mnist") & (frame.Kz == 2) & (frame.gamma == 0.0)]
    longer = focus[focus.beta.isin([0.0, 0.005, 0.1])].assign(step2_steps=400)   # a pilot's betas
    table = verdicts(pd.concat([frame, longer]), budget="100 Algorithm 2 iterations")
    at_400 = table[table.condition == "n_dis = 5, 400 Algorithm 2 iterations"].set_index("section")
    assert at_400.loc["4.4 (B1)", "seeds"] == 0 and "fewer than 2 seeds" in at_400.loc["4.4 (B1)", "verdict"]
    own = table[table.condition.str.endswith("(the sweep's)")].set_index("section")
    assert not own.loc["4.4 (B1)", "budget_dependent"]


def test_notebook_03_judges_the_claims_across_datasets_and_notebook_07_the_beta_claims():
    frame = synthetic(omniglot_100_works=True).assign(n_dis=5, step2_steps=100)
    focus = frame[(frame.dataset == "mnist") & (frame.Kz == 2) & (frame.gamma == 0.0)]
    both = pd.concat([frame, focus.assign(n_dis=1)])
    across = verdicts(both, budget="x", letters=("A", "C", "D"), evidence="03_x/metrics.csv")
    assert list(across.section) == ["4.4 (A)", "4.4 (C)", "4.4 (D)"]             # no B, no n_dis 1 rows
    assert set(across.evidence) == {"03_x/metrics.csv"}
    beta = verdicts(pd.concat([focus, focus.assign(n_dis=1)]), budget="x", letters=("B",))
    assert list(beta.section) == [f"4.4 (B{i})" for i in range(5)] * 2           # at n_dis 5, then 1
    assert set(beta.condition.str.split(",").str[0]) == {"n_dis = 5", "n_dis = 1"}


def test_the_sweeps_own_budget_is_named_where_two_budgets_have_as_many_rows():
    focus = synthetic(omniglot_100_works=True).query("dataset == 'mnist' and Kz == 2 and gamma == 0.0")
    tied = pd.concat([focus.assign(n_dis=5, step2_steps=50), focus.assign(n_dis=1, step2_steps=50)])
    table = verdicts(tied, letters=("B",), sweep=(5, 50))
    assert table.condition.iloc[0] == "n_dis = 5, 50 Algorithm 2 iterations (the sweep's)"
    assert verdicts(tied, letters=("B",), sweep=(1, 50)).condition.iloc[0].startswith("n_dis = 1")
