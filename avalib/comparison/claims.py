"""The surveys' VAE-vs-GAN claims as data, judged on the seed spread by the study's one rule
(``avalib.claims``): Kapoor et al.'s summary table "Aspect / GANs / VAEs" with our numbers in
place of its adjectives, and Aymen (2023) Table 3 (Inception Score) beside ours. A VAE and a GAN
do not share their random streams, so their runs are compared unpaired (Welch)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import stats

from avalib import claims as rule
from avalib.comparison.experiment import METRICS, summary

# Aymen (2023) Table 3, Inception Score (Inception-v3 features); bold marks VAEs in the source.
PAPER_INCEPTION_SCORES = pd.DataFrame(
    [("MNIST", "VAE", 3.32), ("MNIST", "GAN", 9.05), ("CelebA", "VAE", 2.78),
     ("CelebA", "GAN", 7.02), ("CIFAR-10", "VAE", 3.0), ("CIFAR-10", "GAN", 6.8)],
    columns=["dataset", "model", "paper_inception_score"])

# Kapoor et al., the summary table "Aspect / GANs / VAEs", verbatim.
PAPER_ASPECTS = {
    "Training Stability": ("Low", "High"),
    "Output Quality": ("High (sharp images)", "Moderate (blurry outputs)"),
    "Latent Space": ("Unstructured", "Structured & interpretable"),
    "Computational Complexity": ("High", "Moderate"),
}


KAPOOR = "Kapoor et al. (GANs and VAEs study)"
AYMEN = "Aymen (2023)"
NGUYEN = "Nguyen, Abdalla & Amer (2024)"
BASELINES = ("GAN", "VAE", "Zemouri")
STEM = "04_vae_vs_gan"      # the notebook whose tables a claim cites (``stem``: 06 on CIFAR-10)


def _values(runs: pd.DataFrame, dataset: str, model: str, column: str) -> np.ndarray:
    rows = runs[(runs.dataset == dataset) & (runs.model == model)].sort_values("seed")
    return rows[column].to_numpy(dtype=float)


# Timings are noisy (another process on a 2-core machine slows a run): a timing claim is decided
# only by a ratio beyond TIMING_BAND either way, shown over seeds (on log seconds).
TIMING_BAND = 1.5


def _spread(values: np.ndarray) -> np.ndarray:
    """|x - median| per seed: comparing these means compares spreads (Brown-Forsythe)."""
    return np.abs(values - np.median(values))


# (aspect, column, what we measured, the survey holds if, relation GAN vs VAE, what is compared:
# "values", their "spread" over seeds, or a "timing" beyond TIMING_BAND)
ASPECT_TESTS = [
    ("Training Stability", "frechet_distance", "spread over seeds of the Frechet distance "
     "(mean |x - median|)", "GAN's spread larger", ">", "spread"),
    ("Output Quality", "sharpness_ratio", "sample sharpness / real (1 = as sharp, < 1 blurred)",
     "GAN's higher", ">", "values"),
    ("Output Quality", "frechet_distance", "Frechet distance samples vs test (lower = better)",
     "GAN's lower", "<", "values"),
    ("Latent Space", "interpolation_roughness", "largest / mean image step along interpolations",
     "GAN's higher (jumpier)", ">", "values"),
    ("Computational Complexity", "train_seconds_per_epoch", "training seconds per epoch",
     f"GAN's higher by more than {TIMING_BAND:g}x", ">", "timing"),
]


def sd_ratio_interval(left: np.ndarray, right: np.ndarray, level: float = 0.95,
                      resamples: int = 4000) -> tuple[float, float, float]:
    """SD(left) / SD(right) over seeds with a percentile bootstrap interval (seeds resampled
    within each model; scipy.stats.bootstrap): how far apart two spreads may be, given the seeds.
    NaN where either has fewer than 3 finite values."""
    left, right = left[np.isfinite(left)], right[np.isfinite(right)]
    if min(len(left), len(right)) < 3:
        return math.nan, math.nan, math.nan
    ratio = lambda a, b, axis=-1: np.std(a, ddof=1, axis=axis) / np.std(b, ddof=1, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = stats.bootstrap((left, right), ratio, n_resamples=resamples, confidence_level=level,
                                   method="percentile", random_state=0).confidence_interval
    return float(ratio(left, right)), float(interval.low), float(interval.high)


def _hybrids(table: pd.DataFrame, dataset: str) -> list[str]:
    """The models of ``dataset`` beside GAN and VAE (the Zemouri hybrid, the AVA variants) that
    were trained at as many seeds as the fewer of the two: a first-seed-only twin's one value is not a mean over
    seeds and would read as one beside the others (``lean_coincidence`` reports the twins)."""
    seeds = min(table.loc[(dataset, model), "seeds"] for model in ("GAN", "VAE"))
    return [model for (d, model) in table.index
            if d == dataset and model not in ("GAN", "VAE") and table.loc[(d, model), "seeds"] >= seeds]


def _paired(runs: pd.DataFrame, dataset: str, model: str, other: str, column: str, with_seeds: bool = False):
    """``column`` of ``model`` and of ``other`` at the seeds both were trained with, seed by seed
    (and those seeds)."""
    rows = runs[runs.dataset == dataset]
    both = rows[rows.model == model][["seed", column]].merge(
        rows[rows.model == other][["seed", column]], on="seed", suffixes=("", "_other")).sort_values("seed")
    values = both[column].to_numpy(dtype=float), both[f"{column}_other"].to_numpy(dtype=float)
    return (*values, both.seed.to_numpy()) if with_seeds else values


def aspects(runs: pd.DataFrame, stem: str = STEM) -> tuple[pd.DataFrame, list[rule.Claim]]:
    """Kapoor et al.'s claims (one per aspect, measure and dataset), GAN vs VAE judged by the
    study's rule (Welch t over seeds, Holm over the table), and the table that shows them: the
    survey's adjectives replaced by our numbers, the hybrids (Zemouri, the AVA variants) beside
    them. Spreads come with the GAN / VAE SD ratio and its bootstrap interval over seeds."""
    table = summary(runs)
    rows, tests = [], []
    for dataset in dict.fromkeys(runs.dataset):
        for aspect, column, measure, holds_if, relation, compared in ASPECT_TESTS:
            gan, vae = _values(runs, dataset, "GAN", column), _values(runs, dataset, "VAE", column)
            spread = compared == "spread"
            if spread:
                gan, vae = _spread(gan), _spread(vae)
            if compared == "timing":
                tests.append(rule.compare_beyond(np.log(gan), np.log(vae), relation,
                                                 float(np.log(TIMING_BAND)), paired=False))
            else:
                tests.append(rule.compare(gan, vae, relation, paired=False))
            statistic = f"{column}_sd" if spread else column
            row = {"aspect": aspect, "dataset": dataset,
                   "survey (GANs / VAEs)": " / ".join(PAPER_ASPECTS[aspect]),
                   "measure": measure + (" (SD shown)" if spread else ""),
                   "GAN": table.loc[(dataset, "GAN"), statistic],
                   "VAE": table.loc[(dataset, "VAE"), statistic],
                   **{model: table.loc[(dataset, model), statistic] for model in _hybrids(table, dataset)},
                   "survey holds if": holds_if, "seeds": tests[-1].seeds}
            if spread:
                row["GAN / VAE SD"], row["SD ratio 95% low"], row["SD ratio 95% high"] = sd_ratio_interval(
                    _values(runs, dataset, "GAN", column), _values(runs, dataset, "VAE", column))
            rows.append(row)
    claims = [rule.judged(
        KAPOOR, "summary table", f"{row['aspect']}: GANs {PAPER_ASPECTS[row['aspect']][0]}, "
        f"VAEs {PAPER_ASPECTS[row['aspect']][1]}",
        f"{row['measure']}: GAN {row['GAN']:.4g}, VAE {row['VAE']:.4g}",
        f"{row['survey holds if']}: {test.method} over {row['seeds']} seeds, Holm",
        f"{stem}/aspects.csv", test, decision, condition=row["dataset"])
        for row, test, decision in zip(rows, tests, rule.decide(tests))]
    return pd.DataFrame(rows).assign(verdict=[claim.verdict for claim in claims]), claims


def inception_table(runs: pd.DataFrame, judges: pd.DataFrame | None = None, stem: str = STEM
                    ) -> tuple[pd.DataFrame, list[rule.Claim]]:
    """Aymen (2023)'s claim "GAN > VAE" per dataset of its Table 3 (Welch t over seeds, Holm over
    datasets), and the table that shows it: Table 3 beside our classifier Inception Score (mean
    +- SD over seeds) and, from ``judges`` (``accuracy_table``), the test accuracy of the judge that
    gave it, on the datasets ``runs`` measured. Their IS used Inception-v3, ours a domain classifier with 10 classes, on another scale:
    only the ordering compares; ours is the claim's verdict in words."""
    table = summary(runs).reset_index()
    names = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
    accuracy = judges.test_accuracy if judges is not None else pd.Series(dtype=float)
    ours = pd.DataFrame({"dataset": table.dataset.map(names).fillna(table.dataset),
                         "model": table.model,
                         "our_classifier_inception_score": table.classifier_inception_score,
                         "our_sd": table.classifier_inception_score_sd,
                         "judge_test_accuracy": table.dataset.map(accuracy)})
    merged = PAPER_INCEPTION_SCORES.merge(ours, on=["dataset", "model"], how="outer")
    merged = merged[merged.dataset.isin(ours.dataset)]             # the datasets measured here
    datasets = [d for d in dict.fromkeys(runs.dataset)
                if {"GAN", "VAE"} <= set(runs[runs.dataset == d].model)]
    tests = [rule.compare(_values(runs, d, "GAN", "classifier_inception_score"),
                          _values(runs, d, "VAE", "classifier_inception_score"), ">", paired=False)
             for d in datasets]
    decisions = {names.get(d, d): (t, v) for d, t, v in zip(datasets, tests, rule.decide(tests))}
    verdicts = {name: decision.verdict for name, (_, decision) in decisions.items()}
    words = {rule.HOLDS: "GAN > VAE", rule.FAILS: "VAE > GAN"}
    paper = PAPER_INCEPTION_SCORES.pivot(index="dataset", columns="model", values="paper_inception_score")
    paper_order = {d: "GAN > VAE" if r.GAN > r.VAE else "VAE > GAN" for d, r in paper.iterrows()}
    merged["paper_ordering"] = merged.dataset.map(lambda d: paper_order.get(d, ""))
    merged["our_ordering"] = merged.dataset.map(
        lambda d: words.get(verdicts[d], "not resolved by the seeds") if d in verdicts else "")
    claims = [rule.judged(
        AYMEN, "Table 3", "GANs have a higher Inception Score than VAEs (Table 3; the text says "
        "the VAEs performed better)",
        "classifier IS: " + ", ".join(f"{r.model} {r.our_classifier_inception_score:.2f}"
                                       for r in merged[merged.dataset == name].itertuples()),
        f"GAN > VAE: {decisions[name][0].method} over seeds, Holm over datasets",
        f"{stem}/inception_score_vs_paper.csv", *decisions[name], condition=name)
        for name in dict.fromkeys(merged.dataset) if name in verdicts and name in paper_order]
    return merged, claims


def verdicts(*claims: list[rule.Claim]) -> pd.DataFrame:
    """The claims table of notebook 04: the claims of both surveys (``aspects``,
    ``inception_table``) and the AVA paper's (``ava_table``), in that order."""
    return rule.claims_frame([claim for part in claims for claim in part])


# The AVA paper's claims that real images can test, each against the VAE that AVA extends (same
# networks, data, budget, seeds): (claim, the paper's words, column, relation, what is compared).
# "spread": mean |x - median| over seeds (Brown-Forsythe); "log": on log values with a relative
# margin; "timing": a ratio beyond TIMING_BAND.
RECONSTRUCTION_MARGIN = 1.1            # "no worse": at most 10 % more reconstruction error
# Equivalence (no effect): AVA adds adversarial terms to the VAE, so the scale of its possible
# effect on a sample measure is the GAN-VAE gap of the dataset: an AVA that moved less than
# EQUIVALENCE_SHARE of the way from the VAE's mean towards the GAN's (values, or spreads over
# seeds) has no effect beyond that; a reconstruction within a factor RECONSTRUCTION_MARGIN of the
# VAE's, and a time per epoch within a factor TIMING_BAND, neither.
EQUIVALENCE_SHARE = 0.10
AVA_TESTS = [
    ("samples closer to the data than the VAE's",
     "auditing quality can improve the accuracy of generated data (section 2)",
     "frechet_distance", "<", "values", 0.0),
    ("samples sharper than the VAE's",
     "VAE lacks mechanisms to assess the quality of generated data (section 2)",
     "sharpness_ratio", ">", "values", 0.0),
    ("reconstructions no worse than the VAE's (at most 10 % more MSE)",
     "better encoding and decoding performance of the DGM (section 5)",
     "reconstruction_mse", "<=", "log", float(np.log(RECONSTRUCTION_MARGIN))),
    ("training stabler across seeds than the VAE (smaller spread of the Frechet distance)",
     "AVA variants are stabler than traditional DGMs such as VAE and GAN (section 4)",
     "frechet_distance", "<", "spread", 0.0),
    (f"costs more per epoch than the VAE (beyond {TIMING_BAND:g}x)",
     "each AVA is more complicated than VAE and GAN (section 4)",
     "train_seconds_per_epoch", ">", "timing", float(np.log(TIMING_BAND))),
]


def _ava_models(runs: pd.DataFrame, dataset: str) -> list[str]:
    """The AVA variants of ``dataset`` trained with at least 2 seeds (the claims' models)."""
    rows = runs[(runs.dataset == dataset) & runs.model.str.startswith("AVA")]
    seeds = rows.groupby("model", sort=False).seed.nunique()
    return [model for model, count in seeds.items() if count >= 2]


def ava_table(runs: pd.DataFrame, stem: str = STEM) -> tuple[pd.DataFrame, list]:
    """One row per (dataset, AVA variant, claim): AVA's value, the VAE's, the seeds, diverged
    seeds, and the verdict by the study's rule, Holm over the table. An AVA variant shares the
    VAE's initial weights, mini-batches and noise seed by seed, so values are compared per seed
    (paired t); spreads over seeds and timings (which the machine, not the seed, moves) by Welch.
    A variant with a diverged seed is not scored: its stability claim does not hold, the others
    are inconclusive (diverged), never judged on the seeds that survived."""
    table = summary(runs)
    rows, tests = [], []
    for dataset in dict.fromkeys(runs.dataset):
        vae_runs = _values(runs, dataset, "VAE", "frechet_distance")
        for model in _ava_models(runs, dataset):
            diverged = int(table.loc[(dataset, model), "diverged_seeds"])
            for claim, words, column, relation, compared, margin in AVA_TESTS:
                paired = compared in ("values", "log")
                left, right = (_paired(runs, dataset, model, "VAE", column) if paired else
                               (_values(runs, dataset, model, column), _values(runs, dataset, "VAE", column)))
                if compared == "spread":
                    left, right = _spread(left), _spread(right)
                if compared in ("log", "timing"):
                    left, right = np.log(left), np.log(right)
                equivalence = _ava_equivalence(runs, dataset, column, compared)
                test = (rule.compare_beyond(left, right, relation, margin, paired=False, equivalence=equivalence)
                        if compared == "timing" else
                        rule.compare(left, right, relation, margin, paired, equivalence=equivalence))
                statistic = f"{column}_sd" if compared == "spread" else column
                rows.append({"dataset": dataset, "model": model, "claim": claim, "paper says": words,
                             "measure": column + (" (SD shown)" if compared == "spread" else ""),
                             "AVA": table.loc[(dataset, model), statistic],
                             "VAE": table.loc[(dataset, "VAE"), statistic],
                             "seeds": test.seeds, "VAE seeds": len(vae_runs),
                             "diverged seeds": diverged, "relation": relation,
                             "equivalence margin": equivalence.words if equivalence else "",
                             "test": test.method})
                tests.append(test)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame, []
    decisions = rule.decide(tests)
    verdicts = rule.verdict_words(decisions)
    for i, row in frame.iterrows():
        if row["diverged seeds"]:
            verdicts[i] = (rule.FAILS if row.claim.startswith("training stabler")
                           else f"{rule.INCONCLUSIVE} (diverged in {row['diverged seeds']} seeds)")
    frame["verdict"] = verdicts
    claims = [dataclasses.replace(
        rule.judged(NGUYEN, "sections 2, 4, 5 (tested on real images)", f"{row['paper says']}: "
                    f"{row['model']}'s {row['claim']}",
                    f"{row['measure']}: {row['model']} {row['AVA']:.4g}, VAE {row['VAE']:.4g}"
                    + (f"; diverged in {row['diverged seeds']} seeds" if row["diverged seeds"] else ""),
                    f"{row['relation']}: {row['test']} over {row['seeds']} seeds, Holm"
                    + (f"; equivalent within {row['equivalence margin']}" if row["equivalence margin"] else ""),
                    f"{stem}/ava_claims.csv", test, decision, condition=row["dataset"]),
        verdict=row["verdict"])
        for row, test, decision in zip(frame.to_dict("records"), tests, decisions)]
    columns = ["effect", "interval_low", "interval_high", "seeds_needed", "seeds_needed_for", "seed_sensitive"]
    frame = frame.join(rule.claims_frame(claims)[columns])
    return frame, claims


def ava_differences(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, AVA variant, measure, seed) of the paired claims: AVA - VAE at that seed (log
    AVA / VAE for reconstruction MSE, as its claim is tested), with the claim's equivalence margin
    on the same scale: the per-seed points of the AVA claims' figure."""
    rows = []
    for dataset in dict.fromkeys(runs.dataset):
        for model in _ava_models(runs, dataset):
            for claim, _, column, _, compared, _ in AVA_TESTS:
                if compared not in ("values", "log"):
                    continue
                left, right, seeds = _paired(runs, dataset, model, "VAE", column, with_seeds=True)
                difference = np.log(left / right) if compared == "log" else left - right
                margin = _ava_equivalence(runs, dataset, column, compared)
                rows += [{"dataset": dataset, "model": model,
                          "setting": f"{dataset}, {model.split(' ', 1)[-1]} rules", "measure": column + (" (log AVA / VAE)" if compared == "log" else " (AVA - VAE)"),
                          "seed": seed, "difference": value, "margin": margin.margin if margin else math.nan}
                         for seed, value in zip(seeds, difference)]
    return pd.DataFrame(rows)


def _ava_equivalence(runs: pd.DataFrame, dataset: str, column: str, compared: str) -> rule.Equivalence | None:
    """The equivalence margin of an AVA-vs-VAE claim (``EQUIVALENCE_SHARE``, ``RECONSTRUCTION_MARGIN``,
    ``TIMING_BAND``), on the scale its test runs on; None where the GAN has no such value."""
    if compared == "log":
        return rule.Equivalence(float(np.log(RECONSTRUCTION_MARGIN)), f"a factor {RECONSTRUCTION_MARGIN:g} of the VAE's")
    if compared == "timing":
        return rule.Equivalence(float(np.log(TIMING_BAND)), f"a factor {TIMING_BAND:g} of the VAE's")
    gan, vae = _values(runs, dataset, "GAN", column), _values(runs, dataset, "VAE", column)
    if compared == "spread":
        gan, vae = _spread(gan), _spread(vae)
    gap = abs(np.nanmean(gan) - np.nanmean(vae)) if len(gan) and len(vae) else math.nan
    if not gap > 0:
        return None
    return rule.Equivalence(float(EQUIVALENCE_SHARE * gap),
                            f"+-{EQUIVALENCE_SHARE * gap:.3g}, {EQUIVALENCE_SHARE:.0%} of the GAN-VAE gap")


NOT_TIMED = ("train_seconds_per_epoch", "train_seconds", "sample_ms_per_1000")


def coincidence(runs: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Per (dataset, seed, lean variant, plain twin): the largest absolute difference over every
    measured number but the timings - 0 where the two trained exactly alike."""
    numbers = [m for m in METRICS if m not in NOT_TIMED]
    rows = []
    for lean, plain in pairs:
        a = runs[runs.model == lean].set_index(["dataset", "seed"])[numbers]
        b = runs[runs.model == plain].set_index(["dataset", "seed"])[numbers]
        for key in a.index.intersection(b.index):
            difference = (a.loc[key] - b.loc[key]).abs()
            rows.append({"dataset": key[0], "seed": key[1], "lean": lean, "plain": plain,
                         "largest |difference|": float(np.nanmax(difference.to_numpy(dtype=float))),
                         "identical": bool((a.loc[key].fillna(-1) == b.loc[key].fillna(-1)).all())})
    return pd.DataFrame(rows)
