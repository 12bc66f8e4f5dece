"""Tables 1-3, paper-vs-ours, the ranking claims and trivial-image baselines for the AVA study."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from avalib.download import REPOSITORY_ROOT
from avalib.metrics import balance_metric
from avalib.nets import logistic
from avalib.nguyen import VARIANTS, NguyenResult

PAPER_DIR = REPOSITORY_ROOT / "data" / "nguyen2024"
MODELS = list(VARIANTS)
STATISTICS = ["Mean", "Maximum", "Minimum", "SD"]


def paper_tables_1_2() -> pd.DataFrame:
    return pd.read_csv(PAPER_DIR / "bm_tables_1_2.csv", index_col="learning_rate")


def paper_table_3() -> pd.DataFrame:
    return pd.read_csv(PAPER_DIR / "bm_table_3.csv", index_col="statistic")


def long_frame(results: list[NguyenResult]) -> pd.DataFrame:
    """One row per (protocol, model, learning rate, repeat): BM (NaN if diverged) and status."""
    rows = []
    for result in results:
        config = result.config
        for repeat in range(config.repeats):
            for index, rate in enumerate(config.learning_rates):
                step = int(result.diverged_at_step[repeat, index])
                rows.append(dict(protocol=config.protocol, model=result.variant, learning_rate=rate,
                                 repeat=repeat, bm=float(result.balance_metric[repeat, index]),
                                 diverged_at_step=step if step >= 0 else None))
    return pd.DataFrame(rows)


def tables_1_2(frame: pd.DataFrame) -> pd.DataFrame:
    """BM per (protocol, learning rate) x model: mean and sample SD over repeats, and how many
    repeats diverged (those count as missing, never as a number)."""
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
    """'mean ± sd' strings per model, with '(k diverged)' where repeats diverged, for Markdown."""
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


def table_3_per_repeat(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 3 as the paper computes it (Mean, Max, Min, sample SD over the 19 learning rates of
    a column), once per repeat; NaN where any rate of that repeat diverged."""
    def statistics(bm: pd.Series) -> pd.Series:
        values = bm.to_numpy()
        if np.isnan(values).any():
            return pd.Series({s: math.nan for s in STATISTICS})
        return pd.Series({"Mean": values.mean(), "Maximum": values.max(),
                          "Minimum": values.min(), "SD": values.std(ddof=1)})
    return frame.groupby(["protocol", "model", "repeat"])["bm"].apply(statistics).unstack()


def table_3(per_repeat: pd.DataFrame) -> pd.DataFrame:
    """Table 3 per protocol: mean over repeats, with the SD over repeats and the number used."""
    grouped = per_repeat.groupby(["protocol", "model"])
    out = pd.concat({"mean": grouped.mean(), "sd_over_repeats": grouped.std(ddof=1),
                     "repeats_used": grouped.count()}, axis=1)
    return out.reindex(MODELS, level="model")


def versus_paper(tables: pd.DataFrame, summary_3: pd.DataFrame) -> pd.DataFrame:
    """Every cell of Tables 1-3, paper vs ours (mean over repeats): difference and its size in
    units of our SD over repeats."""
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
                                 ours_sd=summary_3.loc[(protocol, model), ("sd_over_repeats", statistic)]))
    frame = pd.DataFrame(rows)
    frame["difference"] = frame["ours"] - frame["paper"]
    frame["difference_in_sd"] = frame["difference"] / frame["ours_sd"]
    return frame


# (claim as the paper words it, statistic, left model, relation, right models)
CLAIMS = [
    ("AVA5 has the highest BM mean", "Mean", "AVA5", ">", [m for m in MODELS if m != "AVA5"]),
    ("AVA5 has the smallest SD (most stable)", "SD", "AVA5", "<", [m for m in MODELS if m != "AVA5"]),
    ("AVA3 has the lowest BM mean (best similarity)", "Mean", "AVA3", "<",
     [m for m in MODELS if m != "AVA3"]),
    ("AVA1 has a higher BM mean than GAN", "Mean", "AVA1", ">", ["GAN"]),
    ("AVA2 has a higher BM mean than GAN", "Mean", "AVA2", ">", ["GAN"]),
    ("AVA5 has a higher BM mean than GAN", "Mean", "AVA5", ">", ["GAN"]),
    ("AVA3 has a lower BM mean than VAE", "Mean", "AVA3", "<", ["VAE"]),
    ("AVA2 has a higher BM maximum than GAN", "Maximum", "AVA2", ">", ["GAN"]),
    ("AVA5 has a higher BM maximum than GAN", "Maximum", "AVA5", ">", ["GAN"]),
    ("AVA3 has a lower BM minimum than VAE", "Minimum", "AVA3", "<", ["VAE"]),
    ("AVA4 has a lower BM minimum than VAE", "Minimum", "AVA4", "<", ["VAE"]),
    ("AVA1 has a smaller SD than GAN", "SD", "AVA1", "<", ["GAN"]),
    ("AVA2 has a smaller SD than GAN", "SD", "AVA2", "<", ["GAN"]),
    ("AVA3 has an SD no larger than VAE's", "SD", "AVA3", "<", ["VAE"]),
    ("AVA4 has an SD no larger than VAE's", "SD", "AVA4", "<", ["VAE"]),
]


def _pair_verdict(left: pd.Series, right: pd.Series, relation: str) -> tuple[float, float, str]:
    """Difference of means (left - right), its standard error over repeats, and a verdict:
    holds / does not hold when the difference is beyond 2 standard errors, else within noise."""
    left, right = left.dropna(), right.dropna()
    if len(left) < 2 or len(right) < 2:
        return math.nan, math.nan, "inconclusive (diverged)"
    difference = left.mean() - right.mean()
    error = math.sqrt(left.var(ddof=1) / len(left) + right.var(ddof=1) / len(right))
    signed = difference if relation == ">" else -difference
    if signed > 2 * error:
        return difference, error, "holds"
    if signed < -2 * error:
        return difference, error, "does not hold"
    return difference, error, "within noise"


def claims(per_repeat: pd.DataFrame) -> pd.DataFrame:
    """Each ranking claim of the paper's section 3, checked per protocol against the spread over
    repeats. A claim against several models holds only if it holds against each; it does not
    hold if it fails against any; otherwise it is within noise. The reported difference is the
    one against the closest competitor."""
    paper = paper_table_3()
    order = {"does not hold": 0, "inconclusive (diverged)": 1, "within noise": 2, "holds": 3}
    rows = []
    for protocol in per_repeat.index.get_level_values("protocol").unique():
        ours = per_repeat.loc[protocol]
        for text, statistic, left, relation, rights in CLAIMS:
            pairs = [(right, *_pair_verdict(ours.loc[left, statistic], ours.loc[right, statistic],
                                             relation)) for right in rights]
            closest = min(pairs, key=lambda p: (order[p[3]], abs(p[1]) if not math.isnan(p[1]) else 0))
            paper_sign = paper.loc[statistic, left] - paper.loc[statistic, closest[0]]
            rows.append(dict(protocol=protocol, claim=text, statistic=statistic,
                             versus=closest[0], paper_difference=paper_sign,
                             our_difference=closest[1], our_standard_error=closest[2],
                             verdict=closest[3]))
    return pd.DataFrame(rows)


def trivial_baselines(images: torch.Tensor, seed: int = 0) -> pd.DataFrame:
    """BM of images that involve no model, scored against the same test images: the reference
    BM (mean |d (1 - d)|) and eq. 17 as printed (no absolute value)."""
    generator = torch.Generator().manual_seed(seed)
    count, channels = images.shape[:2]
    flat = images.reshape(count, channels, -1).double()
    candidates = {
        "constant grey 0.5": torch.full_like(flat[0], 0.5),
        f"constant {float(logistic(torch.tensor(0.0))):.4f} (untrained zero-weight output)":
            torch.full_like(flat[0], float(logistic(torch.tensor(0.0)))),
        "uniform noise": torch.rand(flat[0].shape, generator=generator, dtype=flat.dtype),
        "dataset mean image": flat.mean(0),
        "copy of training image 01": flat[0],
        "black (all 0)": torch.zeros_like(flat[0]),
        "white (all 1)": torch.ones_like(flat[0]),
    }
    rows = [dict(image=name,
                 bm_reference=float(balance_metric(candidate, flat, absolute=True).mean()),
                 bm_equation_17=float(balance_metric(candidate, flat, absolute=False).mean()))
            for name, candidate in candidates.items()]
    return pd.DataFrame(rows)
