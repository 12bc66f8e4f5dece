"""The surveys' VAE-vs-GAN claims as data, judged on the seed spread by the study's one rule
(``avalib.claims``): Kapoor et al.'s summary table "Aspect / GANs / VAEs" with our numbers in
place of its adjectives, and Aymen (2023) Table 3 (Inception Score) beside ours. A VAE and a GAN
do not share their random streams, so their runs are compared unpaired (Welch)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from avalib import claims as rule
from avalib.comparison.experiment import summary

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


def aspects(runs: pd.DataFrame) -> pd.DataFrame:
    """The survey's adjectives replaced by our numbers, one row per (aspect, measure, dataset):
    GAN vs VAE (and the Zemouri hybrid beside them), judged by the study's rule (Welch t over
    seeds, Holm over the table)."""
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
            hybrid = (table.loc[(dataset, "Zemouri"), statistic]
                      if (dataset, "Zemouri") in table.index else float("nan"))
            rows.append({"aspect": aspect, "dataset": dataset,
                         "survey (GANs / VAEs)": " / ".join(PAPER_ASPECTS[aspect]),
                         "measure": measure + (" (SD shown)" if spread else ""),
                         "GAN": table.loc[(dataset, "GAN"), statistic],
                         "VAE": table.loc[(dataset, "VAE"), statistic], "Zemouri hybrid": hybrid,
                         "survey holds if": holds_if, "seeds": tests[-1].seeds})
    frame = pd.DataFrame(rows)
    frame["verdict"] = rule.decide(tests)[0]
    return frame


def inception_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Aymen (2023) Table 3 beside our classifier Inception Score (mean +- SD over seeds). Their
    IS used Inception-v3, ours a domain classifier with 10 classes: only the ordering compares.
    Our ordering is the rule's verdict on "GAN > VAE" (Welch t over seeds, Holm over datasets)."""
    table = summary(runs).reset_index()
    names = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
    ours = pd.DataFrame({"dataset": table.dataset.map(names).fillna(table.dataset),
                         "model": table.model,
                         "our_classifier_inception_score": table.classifier_inception_score,
                         "our_sd": table.classifier_inception_score_sd})
    merged = PAPER_INCEPTION_SCORES.merge(ours, on=["dataset", "model"], how="outer")
    datasets = [d for d in dict.fromkeys(runs.dataset)
                if {"GAN", "VAE"} <= set(runs[runs.dataset == d].model)]
    tests = [rule.compare(_values(runs, d, "GAN", "classifier_inception_score"),
                          _values(runs, d, "VAE", "classifier_inception_score"), ">", paired=False)
             for d in datasets]
    words = {rule.HOLDS: "GAN > VAE", rule.FAILS: "VAE > GAN"}
    ours_order = {names.get(d, d): words.get(v, "not resolved by the seeds")
                  for d, v in zip(datasets, rule.decide(tests)[0])}
    paper = PAPER_INCEPTION_SCORES.pivot(index="dataset", columns="model", values="paper_inception_score")
    paper_order = {d: "GAN > VAE" if r.GAN > r.VAE else "VAE > GAN" for d, r in paper.iterrows()}
    merged["paper_ordering"] = merged.dataset.map(lambda d: paper_order.get(d, ""))
    merged["our_ordering"] = merged.dataset.map(lambda d: ours_order.get(d, ""))
    return merged


def judge(aspect_table: pd.DataFrame, inception: pd.DataFrame) -> pd.DataFrame:
    """The claims of both surveys as records, from the two tables above."""
    claims = []
    for row in aspect_table.to_dict("records"):
        gans, vaes = row["survey (GANs / VAEs)"].split(" / ")
        claims.append(rule.Claim(
            KAPOOR, "summary table", f"{row['aspect']}: GANs {gans}, VAEs {vaes}",
            f"{row['measure']}: GAN {row['GAN']:.4g}, VAE {row['VAE']:.4g}",
            f"{row['survey holds if']}: Welch t over {row['seeds']} seeds, Holm", row["verdict"],
            "04_vae_vs_gan/aspects.csv", condition=row["dataset"]))
    in_paper = set(PAPER_INCEPTION_SCORES.dataset)
    for dataset, group in inception.dropna(subset=["our_ordering"]).groupby("dataset", sort=False):
        if dataset not in in_paper or not group.our_ordering.iloc[0]:
            continue
        order = group.our_ordering.iloc[0]
        verdict = (rule.HOLDS if order == "GAN > VAE" else rule.FAILS if order == "VAE > GAN"
                   else rule.INCONCLUSIVE)
        claims.append(rule.Claim(
            AYMEN, "Table 3", "GANs have a higher Inception Score than VAEs (Table 3; the text says "
            "the VAEs performed better)",
            f"classifier IS: " + ", ".join(f"{r.model} {r.our_classifier_inception_score:.2f}"
                                            for r in group.itertuples()),
            "GAN > VAE: Welch t over seeds, Holm over datasets", verdict,
            "04_vae_vs_gan/inception_score_vs_paper.csv", condition=dataset))
    return rule.claims_frame(claims)
