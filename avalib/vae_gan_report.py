"""The surveys' VAE-vs-GAN claims as numbers: per-run metrics, the measured "Aspect / GANs /
VAEs" table of Kapoor et al., and Table 3 of Aymen (2023) (Inception Score) beside ours."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd
import torch

from avalib.data import load_dataset
from avalib.domain_classifier import DomainClassifierConfig, domain_classifier, judge
from avalib.metrics import (class_coverage, classifier_inception_score, frechet_distance,
                            laplacian_sharpness)
from avalib.nets import DomainClassifier
from avalib.results import verdict
from avalib.vae_gan import ComparisonConfig, TrainedGenerator, train_model

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


def _straight_lines(latent_size: int, count: int, steps: int, generator) -> torch.Tensor:
    """count x steps latent codes, row-major, on straight lines between pairs of prior draws."""
    a = torch.randn(count, latent_size, generator=generator)
    b = torch.randn(count, latent_size, generator=generator)
    weights = torch.linspace(0, 1, steps).view(1, steps, 1)
    return (a.unsqueeze(1) * (1 - weights) + b.unsqueeze(1) * weights).reshape(-1, latent_size)


@torch.no_grad()
def interpolation_roughness(model: TrainedGenerator, pairs: int, steps: int,
                            generator: torch.Generator) -> float:
    """Mean over random prior pairs of (largest step / mean step) of the pixel distance between
    consecutive images along the straight line between two latent codes: 1 for an evenly
    changing path, large when the output jumps (an unstructured latent space)."""
    images = model.decode(_straight_lines(model.latent_size, pairs, steps, generator))
    images = images.reshape(pairs, steps, -1)
    jumps = (images[:, 1:] - images[:, :-1]).norm(dim=2)
    return float((jumps.max(dim=1).values / jumps.mean(dim=1).clamp_min(1e-12)).mean())


@torch.no_grad()
def interpolations(model: TrainedGenerator, rows: int, steps: int, seed: int) -> torch.Tensor:
    """rows x steps images along straight lines between random prior codes (row-major)."""
    generator = torch.Generator().manual_seed(seed)
    return model.decode(_straight_lines(model.latent_size, rows, steps, generator))


def evaluate(model: TrainedGenerator, config: ComparisonConfig, classifier: DomainClassifier,
             sample_count: int) -> tuple[dict, torch.Tensor]:
    """Every number of one run, judged by ``classifier``, and the samples it was scored on."""
    test = load_dataset(config.dataset, "test").subset(sample_count, config.seed)
    generator = torch.Generator().manual_seed(config.seed + 1000)
    start = time.perf_counter()
    samples = model.sample(sample_count, generator)
    sample_seconds = time.perf_counter() - start
    probabilities, features = judge(classifier, samples)
    _, real_features = judge(classifier, test.images)
    reconstructed = model.reconstruct(test.images)
    row = {"dataset": config.dataset, "model": model.name, "seed": config.seed,
           "classifier_inception_score": classifier_inception_score(probabilities),
           "frechet_distance": frechet_distance(features, real_features),
           "class_coverage": class_coverage(probabilities),
           "sharpness_ratio": laplacian_sharpness(samples) / laplacian_sharpness(test.images),
           "reconstruction_mse": (float((reconstructed - test.images).pow(2).mean())
                                  if reconstructed is not None else float("nan")),
           "interpolation_roughness": interpolation_roughness(model, 50, 10, generator),
           "train_seconds_per_epoch": model.train_seconds / model.epochs,
           "sample_ms_per_1000": 1000 * sample_seconds * 1000 / sample_count,
           "parameters": model.parameters, "generator_parameters": model.generator_parameters,
           "final_train_loss": model.history[-1]}
    return row, samples


def run_comparison(models, datasets, seeds, base: ComparisonConfig,
                   judge_config: DomainClassifierConfig, sample_count: int):
    """Train and score every (dataset, model, seed). Returns (runs frame, samples of seed 0,
    trained models of the first seed keyed by (dataset, model name))."""
    rows, samples, trained = [], {}, {}
    for dataset in datasets:
        classifier, _ = domain_classifier(dataclasses.replace(judge_config, dataset=dataset))
        for name in models:
            for seed in seeds:
                config = dataclasses.replace(base, model=name, dataset=dataset, seed=seed)
                model = train_model(config)
                row, images = evaluate(model, config, classifier, sample_count)
                rows.append(row)
                if seed == seeds[0]:
                    samples[(dataset, model.name)] = images
                    trained[(dataset, model.name)] = model
    return pd.DataFrame(rows), samples, trained


METRICS = ["classifier_inception_score", "frechet_distance", "class_coverage", "sharpness_ratio",
           "reconstruction_mse", "interpolation_roughness", "train_seconds_per_epoch",
           "sample_ms_per_1000", "parameters"]


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (dataset, model)."""
    grouped = runs.groupby(["dataset", "model"], sort=False)[METRICS]
    return grouped.mean().join(grouped.std(ddof=1).add_suffix("_sd"))


def aspects(runs: pd.DataFrame) -> pd.DataFrame:
    """The survey's adjectives replaced by our numbers, one row per (aspect, dataset), VAE vs GAN.
    A mean difference counts only when it exceeds the seeds' spread (2 x the larger SD); a
    spread (stability) differs only when one is more than twice the other."""
    table = summary(runs)
    rows = []
    tests = [
        ("Training Stability", "frechet_distance_sd", "SD over seeds of the Frechet distance",
         "GAN's SD > VAE's", lambda gan, vae: gan > vae),
        ("Output Quality", "sharpness_ratio", "sample sharpness / real (1 = as sharp, < 1 blurred)",
         "VAE's < 1 and GAN's higher", lambda gan, vae: vae < 1 and gan > vae),
        ("Output Quality", "frechet_distance", "Frechet distance samples vs test (lower = better)",
         "GAN's lower", lambda gan, vae: gan < vae),
        ("Latent Space", "interpolation_roughness", "largest / mean image step along interpolations",
         "GAN's higher (jumpier)", lambda gan, vae: gan > vae),
        ("Computational Complexity", "train_seconds_per_epoch", "training seconds per epoch",
         "GAN's higher", lambda gan, vae: gan > vae),
    ]
    for dataset in dict.fromkeys(runs.dataset):
        for aspect, column, measure, test, survey_direction in tests:
            gan, vae = table.loc[(dataset, "GAN"), column], table.loc[(dataset, "VAE"), column]
            if column.endswith("_sd"):
                decided = max(gan, vae) > 2 * min(gan, vae)
            else:
                decided = abs(gan - vae) > 2 * max(table.loc[(dataset, "GAN"), f"{column}_sd"],
                                                   table.loc[(dataset, "VAE"), f"{column}_sd"])
            hybrid = (table.loc[(dataset, "Zemouri"), column]
                      if (dataset, "Zemouri") in table.index else float("nan"))
            rows.append({"aspect": aspect, "dataset": dataset,
                         "survey (GANs / VAEs)": " / ".join(PAPER_ASPECTS[aspect]),
                         "measure": measure, "GAN": gan, "VAE": vae, "Zemouri hybrid": hybrid,
                         "survey holds if": test,
                         "verdict": verdict(survey_direction(gan, vae) if decided else None)})
    return pd.DataFrame(rows)


def inception_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Aymen (2023) Table 3 beside our classifier Inception Score (mean +- SD over seeds). Their
    IS used Inception-v3, ours a domain classifier with 10 classes: only the ordering compares."""
    table = summary(runs).reset_index()
    names = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
    ours = pd.DataFrame({"dataset": table.dataset.map(names).fillna(table.dataset),
                         "model": table.model,
                         "our_classifier_inception_score": table.classifier_inception_score,
                         "our_sd": table.classifier_inception_score_sd})
    merged = PAPER_INCEPTION_SCORES.merge(ours, on=["dataset", "model"], how="outer")
    order = {}
    for dataset, group in merged.groupby("dataset"):
        for column, label in (("paper_inception_score", "paper"), ("our_classifier_inception_score", "ours")):
            values = group.set_index("model")[column]
            spread = group.set_index("model")["our_sd"] if label == "ours" else values * 0
            if {"VAE", "GAN"} <= set(values.dropna().index):
                if abs(values["GAN"] - values["VAE"]) <= 2 * max(spread["GAN"], spread["VAE"]):
                    order.setdefault(dataset, {})[label] = "tie (within 2 SD over seeds)"
                else:
                    order.setdefault(dataset, {})[label] = ("GAN > VAE" if values["GAN"] > values["VAE"]
                                                            else "VAE > GAN")
    merged["paper_ordering"] = merged.dataset.map(lambda d: order.get(d, {}).get("paper", ""))
    merged["our_ordering"] = merged.dataset.map(lambda d: order.get(d, {}).get("ours", ""))
    return merged
