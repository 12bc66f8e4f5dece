"""The claims of Zemouri (2020) section 4.4 turned into verdicts, on a synthetic metrics table."""

import pandas as pd

from avalib.zemouri_report import PAPER_BETAS, PAPER_GAMMAS, claims, thresholds_table


def synthetic(omniglot_100_works: bool) -> pd.DataFrame:
    """MNIST as the paper describes it: blurred until beta = 0.005, labels lost from 0.1,
    restored by gamma; Omniglot fails in 2-D (and in 100-D unless told otherwise)."""
    rows = []
    for dataset in ("mnist", "omniglot_characters"):
        for latent in (2, 100):
            for gamma in PAPER_GAMMAS:
                for beta in PAPER_BETAS:
                    sharp = 0.5 if beta < 0.005 else 0.9
                    agreement = 0.95 if beta < 0.1 else (0.9 if gamma else 0.2)
                    mse = 0.05 if latent == 100 else 0.06
                    if dataset == "omniglot_characters" and (latent == 2 or not omniglot_100_works):
                        mse = 0.1
                    rows.append(dict(dataset=dataset, Kz=latent, gamma=gamma, beta=beta, pixel_mse=mse,
                                     label_agreement=agreement, sharpness_ratio=sharp,
                                     frechet_distance=10.0, mean_image_mse=0.1))
    return pd.DataFrame(rows)


def verdicts(frame):
    return {row.claim.split(":")[0]: row.verdict for row in claims(frame).itertuples()}


def test_paper_like_metrics_make_the_claims_hold():
    found = verdicts(synthetic(omniglot_100_works=True))
    assert found["A"] == "holds" and found["B0"] == "holds" and found["B4"] == "holds"
    assert found["B1"] == "holds" and found["B3"] == "holds" and found["C"] == "holds"
    assert found["D"] == "holds"


def test_omniglot_failing_in_100_d_as_well_is_inconclusive():
    assert verdicts(synthetic(omniglot_100_works=False))["D"] == "inconclusive"


def test_thresholds_are_the_first_betas_that_cross():
    table = thresholds_table(synthetic(True)).set_index(["dataset", "Kz"])
    assert table.loc[("mnist", 2), "epsilon_1"] == 0.005
    assert table.loc[("mnist", 2), "epsilon_2"] == 0.1
