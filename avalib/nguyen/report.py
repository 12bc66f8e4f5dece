"""Tables 1-3 of Nguyen et al. (2024), paper vs ours, and how close each protocol comes to them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from avalib.download import REPOSITORY_ROOT
from avalib.nguyen.variants import VARIANTS, NguyenResult

PAPER_DIR = REPOSITORY_ROOT / "data" / "nguyen2024"
MODELS = list(VARIANTS)
STATISTICS = ["Mean", "Maximum", "Minimum", "SD"]

# BM thresholds, each named once. A cell "agrees" with the paper within AGREEMENT_BAND; the same
# band is the non-inferiority margin of the "no larger than" claims. The authors' two logged runs
# differ by up to AUTHORS_RUN_TO_RUN_SPREAD in a cell (spec): a difference smaller than that
# cannot be told from a rerun of their code.
AGREEMENT_BAND = 0.01
AUTHORS_RUN_TO_RUN_SPREAD = 0.02


def paper_tables_1_2() -> pd.DataFrame:
    return pd.read_csv(PAPER_DIR / "bm_tables_1_2.csv", index_col="learning_rate")


def paper_table_3() -> pd.DataFrame:
    return pd.read_csv(PAPER_DIR / "bm_table_3.csv", index_col="statistic")


def long_frame(results: list[NguyenResult]) -> pd.DataFrame:
    """One row per (protocol, model, learning rate, seed): BM (NaN if diverged) and status."""
    rows = []
    for result in results:
        config = result.config
        for seed_index, seed in enumerate(config.seeds):
            for index, rate in enumerate(config.learning_rates):
                step = int(result.diverged_at_step[seed_index, index])
                rows.append(dict(protocol=config.protocol, model=result.variant, learning_rate=rate,
                                 seed=seed, bm=float(result.balance_metric[seed_index, index]),
                                 diverged_at_step=step if step >= 0 else None))
    return pd.DataFrame(rows)


def tables_1_2(frame: pd.DataFrame) -> pd.DataFrame:
    """BM per (protocol, learning rate) x model: mean and sample SD over seeds, and how many
    seeds diverged (those count as missing, never as a number)."""
    grouped = frame.groupby(["protocol", "learning_rate", "model"], sort=False)["bm"]
    summary = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1),
                            "diverged": grouped.apply(lambda s: int(s.isna().sum()))})
    wide = summary.unstack("model")
    wide = wide.reindex(columns=pd.MultiIndex.from_product([["mean", "sd", "diverged"], MODELS]))
    return wide.sort_index(level=["protocol", "learning_rate"], ascending=[True, False])


def flat_columns(wide: pd.DataFrame) -> pd.DataFrame:
    """('mean', 'AVA1') -> 'AVA1 mean', for CSV."""
    flat = wide.copy()
    flat.columns = [f"{model} {statistic}" for statistic, model in wide.columns]
    return flat


def mean_sd_text(wide: pd.DataFrame, decimals: int = 4) -> pd.DataFrame:
    """'mean ± sd' strings per model, with '(k diverged)' where seeds diverged, for Markdown."""
    models = wide["mean"].columns
    text = pd.DataFrame(index=wide.index, columns=models, dtype=object)
    for model in models:
        for index in wide.index:
            mean, sd = wide.loc[index, ("mean", model)], wide.loc[index, ("sd", model)]
            diverged = int(wide.loc[index, ("diverged", model)]) if ("diverged", model) in wide else 0
            cell = "diverged" if math.isnan(mean) else f"{mean:.{decimals}f} ± {sd:.{decimals}f}"
            text.loc[index, model] = cell + (f" ({diverged} diverged)" if diverged and
                                             not math.isnan(mean) else "")
    return text


def table_3_per_seed(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 3 as the paper computes it (Mean, Max, Min, sample SD over the 19 learning rates of
    a column), once per seed; NaN where any rate of that seed diverged."""
    def statistics(bm: pd.Series) -> pd.Series:
        values = bm.to_numpy()
        if np.isnan(values).any():
            return pd.Series({s: math.nan for s in STATISTICS})
        return pd.Series({"Mean": values.mean(), "Maximum": values.max(),
                          "Minimum": values.min(), "SD": values.std(ddof=1)})
    return frame.groupby(["protocol", "model", "seed"])["bm"].apply(statistics).unstack()


def table_3(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Table 3 per protocol: mean over seeds, with the SD over seeds and the number used."""
    grouped = per_seed.groupby(["protocol", "model"])
    out = pd.concat({"mean": grouped.mean(), "sd_over_seeds": grouped.std(ddof=1),
                     "seeds_used": grouped.count()}, axis=1)
    return out.reindex(MODELS, level="model")


def versus_paper(tables: pd.DataFrame, summary_3: pd.DataFrame) -> pd.DataFrame:
    """Every cell of Tables 1-3, paper vs ours (mean over seeds): difference and its size in
    units of our SD over seeds."""
    paper_12, paper_3 = paper_tables_1_2(), paper_table_3()
    rows = []
    for protocol in tables.index.get_level_values("protocol").unique():
        ours = tables.loc[protocol]
        for rate in [r for r in paper_12.index if r in ours.index]:
            for model in MODELS:
                rows.append(dict(protocol=protocol, table="1-2", row=f"lr={rate:g}", model=model,
                                 paper=paper_12.loc[rate, model], ours=ours.loc[rate, ("mean", model)],
                                 ours_sd=ours.loc[rate, ("sd", model)]))
        for statistic in STATISTICS:
            for model in MODELS:
                rows.append(dict(protocol=protocol, table="3", row=statistic, model=model,
                                 paper=paper_3.loc[statistic, model],
                                 ours=summary_3.loc[(protocol, model), ("mean", statistic)],
                                 ours_sd=summary_3.loc[(protocol, model), ("sd_over_seeds", statistic)]))
    frame = pd.DataFrame(rows)
    frame["difference"] = frame["ours"] - frame["paper"]
    frame["difference_in_sd"] = frame["difference"] / frame["ours_sd"]
    return frame


def readings_vs_paper(comparison: pd.DataFrame) -> pd.DataFrame:
    """How close each protocol comes to the printed tables: per protocol and table, the share of
    cells within AGREEMENT_BAND of the paper, and the mean and largest |ours - paper|."""
    frame = comparison.assign(abs_difference=comparison["difference"].abs())
    frame["within_band"] = frame["abs_difference"] <= AGREEMENT_BAND
    return frame.groupby(["protocol", "table"]).agg(
        cells=("abs_difference", "size"), share_within_band=("within_band", "mean"),
        mean_abs_difference=("abs_difference", "mean"),
        max_abs_difference=("abs_difference", "max"))


def where_readings_part(tables: pd.DataFrame, first: str = "reference",
                        second: str = "reference_value_derivative") -> pd.DataFrame:
    """Cells of Tables 1-2 where two protocols' means differ by more than AGREEMENT_BAND:
    (learning rate x model) of ``first - second``, NaN where they agree within the band."""
    difference = tables.loc[first, "mean"] - tables.loc[second, "mean"]
    return difference.where(difference.abs() > AGREEMENT_BAND)


# Nguyen et al.'s protocols (``avalib.nguyen.rules``) in a reader's words, for figures and pages.
PROTOCOL_NAMES = {"reference": "authors' code", "reference_value_derivative": "authors' code, value derivative",
                  "paper": "printed rules", "exact": "true gradients"}
PRINTED = "the paper's Table 3"          # Fig. 6's bars of the printed values, beside our protocols


def figure_6_panels(summary_3: pd.DataFrame, protocols, per_seed: pd.DataFrame | None = None):
    """Fig. 6 as bar panels, one per Table 3 statistic: (panels, errors, points, notes), each a
    model x (the printed values, protocols...) frame; the errors are our SD over seeds (the paper prints none:
    0), the points each seed's value (``per_seed``, Table 3 per seed), the notes "diverged (k of n
    seeds)" where seeds diverged."""
    panels, errors, points, notes = {}, {}, {}, {}
    for statistic in STATISTICS:
        panels[statistic] = pd.DataFrame({PRINTED: paper_table_3().loc[statistic]} | {
            p: summary_3.loc[p, ("mean", statistic)] for p in protocols}).loc[MODELS]
        errors[statistic] = pd.DataFrame({PRINTED: 0.0} | {
            p: summary_3.loc[p, ("sd_over_seeds", statistic)] for p in protocols}).loc[MODELS]
        if per_seed is not None:
            values = {p: {m: per_seed.loc[(p, m), statistic].to_numpy().tolist() for m in MODELS}
                      for p in protocols}
            points[statistic] = pd.DataFrame({PRINTED: {m: [] for m in MODELS}} | values).loc[MODELS]
            notes[statistic] = points[statistic].map(
                lambda v: f"diverged ({sum(x != x for x in v)} of {len(v)} seeds)" if any(x != x for x in v) else "")
    named = [{statistic: frame.rename(columns=PROTOCOL_NAMES) for statistic, frame in part.items()}
             for part in (panels, errors, points, notes)]
    return tuple(named)


def sample_rows(results: list[NguyenResult], rates: list[float]) -> dict[str, torch.Tensor]:
    """The first generation for test image 01, first seed, of every result at ``rates``: one row
    per model and protocol; a diverged run shows as mid-grey and its row label says so."""
    rows = {}
    for result in results:
        columns = [list(result.config.learning_rates).index(rate) for rate in rates]
        images = result.samples[0, columns, 0]
        diverged = [f"{rate:g}" for rate, step in zip(rates, result.diverged_at_step[0, columns])
                    if step >= 0]
        label = f"{result.variant} {result.config.protocol}"
        if diverged:
            label += f"\n(diverged at lr {', '.join(diverged)})"
        rows[label] = torch.nan_to_num(images, nan=0.5)
    return rows
