"""Tables 1-3, paper-vs-ours and the claims of the AVA study on small hand-made inputs."""

import numpy as np
import pandas as pd
import pytest

from avalib.nguyen import claims as nguyen_claims, report

SHIFTS = [-0.002, -0.001, 0.0, 0.001, 0.002]          # one per repeat, shared by every model


def paper_like_frame(protocol="reference", shift_model=None, shift=0.0, shifted_rates=()):
    """The paper's Tables 1-2 as five repeats: repeat k adds SHIFTS[k] to every cell, so the
    mean over repeats is the paper's cell; optionally one model is moved at some rates."""
    paper = report.paper_tables_1_2()
    rows = []
    for rate in paper.index:
        for model in report.MODELS:
            for repeat, offset in enumerate(SHIFTS):
                extra = shift if model == shift_model and rate in shifted_rates else 0.0
                rows.append(dict(protocol=protocol, model=model, learning_rate=rate, seed=repeat,
                                 bm=paper.loc[rate, model] + offset + extra, diverged_at_step=None))
    return pd.DataFrame(rows)


def test_table_3_is_the_spreadsheets_statistics_per_seed():
    frame = paper_like_frame()
    per_seed = report.table_3_per_seed(frame)
    column = report.paper_tables_1_2()["AVA3"].to_numpy() + SHIFTS[4]
    row = per_seed.loc[("reference", "AVA3", 4)]
    assert row["Mean"] == pytest.approx(column.mean())
    assert row["Maximum"] == pytest.approx(column.max()) and row["Minimum"] == pytest.approx(column.min())
    assert row["SD"] == pytest.approx(column.std(ddof=1))


def test_a_run_on_the_papers_numbers_agrees_with_the_paper_and_the_readings_part_where_moved():
    frame = pd.concat([paper_like_frame(),
                       paper_like_frame("reference_value_derivative", "AVA1", 0.05, (1.0, 0.9))])
    tables = report.tables_1_2(frame)
    summary_3 = report.table_3(report.table_3_per_seed(frame))
    comparison = report.versus_paper(tables, summary_3)
    closeness = report.readings_vs_paper(comparison)
    reference = closeness.loc["reference"]
    assert reference.loc["1-2", "cells"] == 133 and reference.loc["3", "cells"] == 28
    assert reference.loc["1-2", "max_abs_difference"] < 1e-12
    assert reference.loc["3", "max_abs_difference"] <= 0.0001       # the paper rounds to 4 places
    assert reference["share_within_band"].eq(1.0).all()
    moved = closeness.loc[("reference_value_derivative", "1-2")]
    assert moved["share_within_band"] == pytest.approx(131 / 133)
    assert moved["max_abs_difference"] == pytest.approx(0.05)
    parting = report.where_readings_part(tables)
    assert parting.notna().sum().sum() == 2
    assert parting["AVA1"].dropna().index.tolist() == [1.0, 0.9]
    assert parting["AVA1"].dropna().tolist() == pytest.approx([-0.05, -0.05])


def per_seed_frame(means: dict, sds: dict, noise=(0.0004, -0.0003, 0.0001, -0.0002, 0.0)):
    """(protocol, model, repeat) x statistic with the given Mean / SD per model (Maximum and
    Minimum follow the Mean), plus a small per-repeat noise that differs between models."""
    rows = []
    for index, model in enumerate(report.MODELS):
        for repeat in range(5):
            wobble = noise[(repeat + index) % 5]
            mean = means.get(model, 0.2) + wobble
            rows.append(dict(protocol="reference", model=model, seed=repeat, Mean=mean,
                             Maximum=mean + 0.02, Minimum=mean - 0.05,
                             SD=sds.get(model, 0.03) + wobble))
    return pd.DataFrame(rows).set_index(["protocol", "model", "seed"])


def test_claims_follow_the_data_and_the_authors_spread():
    per_seed = per_seed_frame(means={"AVA5": 0.25, "AVA3": 0.12, "VAE": 0.20, "GAN": 0.21},
                                  sds={"AVA5": 0.01, "AVA3": 0.032, "VAE": 0.03, "AVA4": 0.06})
    claims = nguyen_claims.verdicts(per_seed).set_index("claim")
    verdict, authors = claims["verdict"], claims["verdict_vs_authors_spread"]
    words = [claim.words for claim in nguyen_claims.CLAIMS]
    highest, lowest, ava1_gan, ava3_sd, ava4_sd = (words[i] for i in (0, 2, 3, 13, 14))
    assert verdict[highest] == "holds"
    assert authors[highest] == "holds"                          # 0.04 > 0.02
    assert claims.loc[highest, "versus"] == "GAN"               # the closest rival
    assert verdict[lowest] == "holds"
    assert verdict[ava1_gan].startswith("equivalent (no effect beyond +-0.02")   # 0.20 vs 0.21
    assert authors[ava1_gan].startswith("equivalent")
    assert verdict[ava3_sd] == "holds"                          # +0.002 < 0.01
    assert verdict[ava4_sd] == "does not hold"                  # +0.03 > 0.01
    assert authors[ava4_sd] == "does not hold"                  # +0.03 > 0.02
    assert claims["seeds"].eq(5).all()
    assert (claims["interval_low"] <= claims["effect"]).all() and (claims["effect"] <= claims["interval_high"]).all()


def test_diverged_repeats_make_a_claim_inconclusive_not_a_number():
    per_seed = per_seed_frame(means={"AVA5": 0.25}, sds={})
    per_seed.loc[("reference", "AVA5", slice(None)), :] = np.nan
    claims = nguyen_claims.verdicts(per_seed).set_index("claim")
    highest = nguyen_claims.CLAIMS[0].words
    assert claims.loc[highest, "verdict"] == "inconclusive (diverged in 5 of 5 seeds)"
    assert claims.loc[highest, "diverged_seeds"] == 5


def test_figure_6_keeps_the_printed_values_beside_the_paper_protocol_named_in_words():
    per_seed = per_seed_frame(means={}, sds={})
    per_seed = pd.concat([per_seed, per_seed.rename(index={"reference": "paper"}, level="protocol")])
    summary = report.table_3(per_seed)
    panels, errors, points, notes = report.figure_6_panels(summary, ["reference", "paper"], per_seed)
    assert list(panels["Mean"].columns) == [report.PRINTED, "authors' code", "printed rules"]
    assert panels["Mean"][report.PRINTED].tolist() == report.paper_table_3().loc["Mean", report.MODELS].tolist()
    assert len(points["Mean"].loc["AVA1", "printed rules"]) == 5
    assert notes["Mean"].loc["AVA1", "printed rules"] == ""
    assert list(errors["SD"].columns) == list(panels["SD"].columns)
