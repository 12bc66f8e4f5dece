"""Notebook 05's plan: which claims of notebook 03 get more seeds, which settings that trains, and
the claims judged again on the pooled seeds (synthetic metrics, no training)."""

import dataclasses
import json
from pathlib import Path

from types import SimpleNamespace

import pandas as pd
import pytest

from avalib import results
from avalib.zemouri import more_seeds
from avalib.zemouri.claims import verdicts
from avalib.zemouri.experiment import judged_rows
from avalib.zemouri.run import AblationRun, BetaThresholdsRun
from test_zemouri_claims import synthetic

SWEEP = "n_dis = 5, 50 Algorithm 2 iterations (the sweep's)"
PILOT = "n_dis = 5, 400 Algorithm 2 iterations"


def ablation_run(**changes) -> AblationRun:
    values = dict(profile="smoke", datasets=["mnist", "omniglot_alphabets"], latent_sizes=[2, 100],
                  seeds=[0, 1, 2], train_size=300, step1_epochs=1, n_dis=5, warmup_steps=3, step2_steps=50,
                  test_size=100, threads=1, scheduler=None, device="cpu",
                  betas=[0.0, 0.0001, 0.001, 0.003, 0.005, 0.01, 0.1, 0.5], gammas=[0.0, 0.1],
                  example_count=8, judge_train_size=500, judge_epochs=1)
    return AblationRun(**(values | changes))


def thresholds_run(**changes) -> BetaThresholdsRun:
    """A source with notebook 07's focus and budget pilot (its n_dis 1, its pilot's betas)."""
    values = dataclasses.asdict(ablation_run()) | dict(
        focus_seeds=[], focus_n_dis=[1], focus_step2_steps=[], pilot_betas=[0.0, 0.005, 0.1], pilot_steps=[25, 400])
    values = {name: values[name] for name in BetaThresholdsRun.parameter_names()}
    return BetaThresholdsRun(**(values | changes))


def metrics(seeds) -> pd.DataFrame:
    frame = synthetic(omniglot_100_works=True, seeds=seeds).replace({"dataset": {"omniglot": "omniglot_alphabets"}})
    return frame.assign(n_dis=5, step2_steps=50)[more_seeds.SETTING_INDEX + [
        "pixel_mse", "label_agreement", "sharpness_ratio", "frechet_distance", "mean_image_mse"]]


def source(seeds=(0, 1, 2)) -> more_seeds.Source:
    measured = metrics(seeds)
    claims = verdicts(measured, budget="the sweep's", letters=AblationRun.claim_letters)
    return more_seeds.Source(Path("results/03_beta_gamma_ablation"), ablation_run(), claims, measured, "abc")


def claim_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(section=s, condition=c, verdict=v, seeds=n, seeds_needed=k)
                         for s, c, v, n, k in rows])


def test_only_inconclusive_claims_within_reach_are_chosen():
    claims = claim_rows(("4.4 (A)", SWEEP, "inconclusive", 3, 6.0), ("4.4 (B0)", SWEEP, "inconclusive", 10, 17.0),
                        ("4.4 (C)", SWEEP, "holds", 3, float("nan")),
                        ("4.4 (B1)", PILOT, "inconclusive (fewer than 2 seeds with finite values)", 0, float("nan")),
                        ("4.4 (D)", SWEEP, "inconclusive", 3, 3.0))   # needs no more than it has
    assert list(more_seeds.wanted(claims, 10).section) == ["4.4 (A)"]
    assert list(more_seeds.wanted(claims, 20).section) == ["4.4 (A)", "4.4 (B0)"]


def claim(section, condition, n_dis=None, step2_steps=None):
    return SimpleNamespace(section=section, condition=condition, n_dis=n_dis, step2_steps=step2_steps)


def test_each_claim_reads_its_own_settings_at_its_condition():
    run = ablation_run()
    a, pilot = more_seeds.settings(claim("4.4 (A)", SWEEP), run)
    assert not pilot and {(c.dataset, c.latent_size, c.beta, c.gamma) for c in a} == {
        (d, k, 0.0, 0.0) for d in run.datasets for k in run.latent_sizes}
    c, _ = more_seeds.settings(claim("4.4 (C)", SWEEP), run)
    assert len(c) == 2 * 2 * 2 * 2 and {x.beta for x in c} == {0.1, 0.5}
    focus = thresholds_run()
    b, pilot = more_seeds.settings(claim("4.4 (B3)", PILOT), focus)
    assert pilot and [x.beta for x in b] == focus.pilot_betas and {x.step2_steps for x in b} == {400}
    b, pilot = more_seeds.settings(claim("4.4 (B3)", "n_dis = 1, 50 Algorithm 2 iterations"), focus)
    assert not pilot and {x.n_dis for x in b} == {1} and [x.beta for x in b] == focus.betas
    d, _ = more_seeds.settings(claim("4.4 (D)", SWEEP), run)
    assert {(x.dataset, x.latent_size, x.beta, x.gamma) for x in d} == {("omniglot_alphabets", k, 0.0, 0.0)
                                                                       for k in run.latent_sizes}
    typed, _ = more_seeds.settings(claim("4.4 (B3)", "words only", n_dis=1.0, step2_steps=50.0), focus)
    assert typed == b, "a row's n_dis and step2_steps decide, not its words"
    with pytest.raises(ValueError, match="section 'E'"):
        more_seeds.settings(claim("E", SWEEP), run)


def test_the_plan_trains_only_the_seeds_notebook_03_did_not_measure():
    found = source()
    extra = found.measured[(found.measured.dataset == "mnist") & (found.measured.Kz == 2)
                           & (found.measured.seed == 0)].assign(seed=3)
    found = more_seeds.Source(found.folder, found.run, found.claims,
                              pd.concat([found.measured, extra], ignore_index=True), "abc")
    chosen = claim_rows(("4.4 (A)", SWEEP, "inconclusive", 3, 5.0), ("4.4 (D)", SWEEP, "inconclusive", 3, 4.0))
    sweep, pilot = more_seeds.plan(chosen, found)
    assert not pilot
    keys = [(c.dataset, c.latent_size, c.seed, c.gamma, c.beta) for c in sweep]
    assert len(keys) == len(set(keys))           # a setting two claims share is trained once
    assert {key[:3] for key in keys} == {(d, k, s) for d in ("mnist", "omniglot_alphabets")
                                         for k in (2, 100) for s in (3, 4)}
    # MNIST K_z = 100 at seed 3 is trained here, so 03's rows of MNIST at seed 3 are trained again:
    # A's pair (K_z = 100 vs 2 at one seed) is then measured on one machine
    again = {(c.gamma, c.beta) for c in sweep if (c.dataset, c.latent_size, c.seed) == ("mnist", 2, 3)}
    assert again == set(zip(extra.gamma, extra.beta))
    assert {(c.dataset, c.latent_size, c.seed, c.gamma, c.beta) for c in sweep if c.seed == 4} == {
        (d, k, 4, 0.0, 0.0) for d in ("mnist", "omniglot_alphabets") for k in (2, 100)}


def test_the_pooled_claims_are_judged_with_notebook_03s_seeds_beside_them():
    found = source()
    added = metrics(range(3, 8))
    check = more_seeds.reproduction_setting(found)
    assert (check.dataset, check.latent_size, check.beta, check.gamma, check.seed) == ("mnist", 2, 0.0, 0.0, 0)
    key = pd.MultiIndex.from_frame(found.measured[more_seeds.SETTING_INDEX])
    again = found.measured[key.isin([more_seeds._key(check)])].assign(pixel_mse=lambda f: f.pixel_mse + 0.001)
    rows = more_seeds.pooled(found, pd.concat([added, again], ignore_index=True), check)
    assert set(rows.notebook) == {"03", "05"} and len(rows) == len(found.measured) + len(added)
    twice = more_seeds.measured_twice(found, again)
    assert len(twice) == len(more_seeds._metrics(found))
    reproduced = more_seeds.reproduction_check(found, twice)
    assert reproduced.loc["pixel_mse", "mean |difference|"] == pytest.approx(0.001)
    assert (reproduced.loc["label_agreement", "identical"], reproduced.loc["pixel_mse", "identical"]) == (1, 0)
    sd = found.measured.query("dataset == 'mnist' and Kz == 2 and beta == 0 and gamma == 0").pixel_mse.std()
    assert reproduced.loc["pixel_mse", "SD over seeds (03)"] == pytest.approx(sd)
    chosen = found.claims[found.claims.section == "4.4 (A)"]
    claims = more_seeds.judged_again(found, rows, chosen, evidence="05_zemouri_more_seeds/measured.csv")
    a = claims.set_index("section").loc["4.4 (A)"]
    assert (a.seeds, a.seeds_in_03, bool(a.chosen)) == (8, 3, True)
    again_here = verdicts(pd.concat([found.measured, added]), budget="x", letters=AblationRun.claim_letters)
    assert a.verdict == again_here.set_index("section").loc["4.4 (A)"].verdict
    assert not claims.section.str.contains("B").any()             # notebook 03 judges no beta claim
    assert set(claims.evidence) == {"05_zemouri_more_seeds/measured.csv"}
    differences = more_seeds.seed_differences(rows, claims)
    assert set(differences[differences.claim.str.startswith("4.4 (A)")].seed) == set(range(8))


def test_a_block_trained_here_replaces_notebook_03s_rows_of_that_block():
    found = source()
    check = more_seeds.reproduction_setting(found)
    one = found.measured[(found.measured.dataset == "omniglot_alphabets") & (found.measured.seed == 1)
                         & (found.measured.Kz == 100)].head(1)
    rows = more_seeds.pooled(found, one, check)
    block = rows[(rows.dataset == "omniglot_alphabets") & (rows.seed == 1)]
    assert list(block.notebook) == ["05"]        # no pair of that seed mixes 03's rows with these
    assert len(rows) == len(found.measured) - ((found.measured.dataset == "omniglot_alphabets")
                                               & (found.measured.seed == 1)).sum() + 1


def test_earlier_results_are_found_beside_this_run_or_where_they_are_published(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "REPOSITORY_ROOT", tmp_path)
    monkeypatch.setenv(results.RESULTS_DIR_VARIABLE, str(tmp_path / "staging"))
    monkeypatch.delenv(results.PUBLISHED_DIR_VARIABLE, raising=False)
    with pytest.raises(FileNotFoundError, match="make notebook-03_beta_gamma_ablation PROFILE=smoke"):
        results.earlier_results("03_beta_gamma_ablation", "smoke")
    published = tmp_path / "published" / "03_beta_gamma_ablation"
    published.mkdir(parents=True)
    (published / "provenance.json").write_text(json.dumps({"parameters": {"profile": "smoke"}}))
    monkeypatch.setenv(results.PUBLISHED_DIR_VARIABLE, str(tmp_path / "published"))
    assert results.earlier_results("03_beta_gamma_ablation", "smoke") == published
    beside = tmp_path / "staging" / "03_beta_gamma_ablation"
    beside.mkdir(parents=True)                   # a run that did not finish (no provenance) is passed over
    assert results.earlier_results("03_beta_gamma_ablation", "smoke") == published
    (beside / "provenance.json").write_text(json.dumps({"parameters": {"profile": "default"}}))
    assert results.earlier_results("03_beta_gamma_ablation", "smoke") == published   # another profile's
    (beside / "provenance.json").write_text(json.dumps({"parameters": {"profile": "smoke"}}))
    assert results.earlier_results("03_beta_gamma_ablation", "smoke") == beside


def test_the_claims_read_the_sweep_and_the_pilots_longest_budget_only():
    metrics = pd.DataFrame({"step2_steps": [50, 50], "beta": [0.0, 0.1], "pixel_mse": [1.0, 2.0],
                            "mean_image_mse": [9.0, 9.0]})
    pilot = pd.DataFrame({"step2_steps": [25, 50, 400, 400], "beta": [0.0, 0.0, 0.0, 0.1],
                          "pixel_mse": [5.0, 6.0, 3.0, 4.0]})
    rows = judged_rows(metrics, pilot, [25, 50, 400])
    assert list(rows.step2_steps) == [50, 50, 400, 400] and list(rows.pixel_mse) == [1.0, 2.0, 3.0, 4.0]
    assert list(rows.columns) == list(metrics.columns) and list(rows.index) == [0, 1, 2, 3]
    assert judged_rows(metrics, pilot, [25, 50]).equals(metrics)        # the longest is the sweep's
    assert judged_rows(metrics, pd.DataFrame(), []).equals(metrics)     # no pilot at all


def test_with_03s_bits_confirmed_only_the_missing_settings_train_and_03s_rows_stay():
    """Where the fingerprints say this machine computes what notebook 03 did, no block is trained
    again: the plan holds only the settings 03 lacks, and every 03 row pools as 03's."""
    found = source()
    chosen = claim_rows(("4.4 (A)", SWEEP, "inconclusive", 3, 5.0))
    sweep, _ = more_seeds.plan(chosen, found, complete_blocks=False)
    assert {c.seed for c in sweep} == {3, 4}
    assert len(sweep) == 2 * 2 * 2                                   # datasets x K_z x seeds 3, 4
    added = metrics(range(3, 5))
    check = more_seeds.reproduction_setting(found)
    again = found.measured.iloc[:1]
    rows = more_seeds.pooled(found, pd.concat([added, again], ignore_index=True), check, complete_blocks=False)
    assert (rows.notebook == "03").sum() == len(found.measured)
    assert (rows.notebook == "05").sum() == len(added)


def test_the_same_computation_needs_every_unit_and_its_03_fingerprint():
    table = pd.DataFrame({"unit": ["step1", "trained"], "key": ["a", "b"],
                          "fingerprint_in_03": ["x", "y"], "fingerprint_here": ["x", "y"]})
    assert more_seeds.same_computation(table.assign(same=True))
    assert not more_seeds.same_computation(table.assign(same=[True, False]))
    assert not more_seeds.same_computation(table.iloc[:0].assign(same=[]))
