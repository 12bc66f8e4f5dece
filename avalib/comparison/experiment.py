"""What notebooks 04 and 06 call: every model of the comparison trained and scored per (dataset, seed),
and the summary over seeds. The surveys' claims are judged in ``avalib.comparison.claims``."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd
import torch

from avalib import cache
from avalib.data import load_dataset
from avalib.fanout import Part, compute
from avalib.comparison import ava
from avalib.comparison.trainer import ComparisonConfig, TrainedGenerator, train_model
from avalib.domain_classifier import (COLOUR_DATASETS, DomainClassifier, DomainClassifierConfig,
                                      domain_classifier, judge, train_judges)
from avalib.metrics import (class_coverage, classifier_inception_score, frechet_distance,
                            laplacian_sharpness, precision_recall)

# What one unit keeps of its first seed for the figures: samples, and lines x steps images
# along straight lines between prior codes.
SHOWN_SAMPLES, LINES, LINE_STEPS = 40, 3, 12


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
    images = model.generate(_straight_lines(model.latent_size, pairs, steps, generator))
    images = images.reshape(pairs, steps, -1)
    jumps = (images[:, 1:] - images[:, :-1]).norm(dim=2)
    return float((jumps.max(dim=1).values / jumps.mean(dim=1).clamp_min(1e-12)).mean())


@torch.no_grad()
def interpolations(model: TrainedGenerator, rows: int, steps: int, seed: int) -> torch.Tensor:
    """rows x steps images along straight lines between random prior codes (row-major)."""
    generator = torch.Generator().manual_seed(seed)
    return model.generate(_straight_lines(model.latent_size, rows, steps, generator))


def evaluate(model: TrainedGenerator, config: ComparisonConfig, classifier: DomainClassifier,
             sample_count: int) -> tuple[dict, torch.Tensor]:
    """Every number of one run, judged by ``classifier``, and the samples it was scored on."""
    test = load_dataset(config.dataset, "test").subset(sample_count, config.seed)
    if model.diverged:                           # reported as such, never as a number
        row = {"dataset": config.dataset, "model": model.name, "seed": config.seed,
               **{metric: float("nan") for metric in METRICS},
               "generator_updates": model.generator_updates, "diverged_at_step": model.diverged_at_step,
               "parameters": model.parameters, "generator_parameters": model.generator_parameters,
               "final_train_loss": float("nan"), **{key: float("nan") for key in ava.OUTPUTS}}
        return row, torch.full((0, *test.images.shape[1:]), float("nan"))
    generator = torch.Generator().manual_seed(config.seed + 1000)
    start = time.perf_counter()
    samples = model.sample(sample_count, generator)
    sample_seconds = time.perf_counter() - start
    probabilities, features = judge(classifier, samples)
    _, real_features = judge(classifier, test.images)
    reconstructed = model.reconstruct(test.images)
    precision, recall = precision_recall(real_features, features)
    row = {"dataset": config.dataset, "model": model.name, "seed": config.seed,
           "classifier_inception_score": classifier_inception_score(probabilities),
           "frechet_distance": frechet_distance(features, real_features),
           "class_coverage": class_coverage(probabilities),
           "precision": precision, "recall": recall,
           "sharpness_ratio": laplacian_sharpness(samples) / laplacian_sharpness(test.images),
           "reconstruction_mse": (float((reconstructed - test.images).pow(2).mean())
                                  if reconstructed is not None else float("nan")),
           "interpolation_roughness": interpolation_roughness(model, 50, 10, generator),
           "train_seconds_per_epoch": model.train_seconds / model.epochs,
           "train_seconds": model.train_seconds, "generator_updates": model.generator_updates,
           "diverged_at_step": model.diverged_at_step,
           "sample_ms_per_1000": 1000 * sample_seconds * 1000 / sample_count,
           "parameters": model.parameters, "generator_parameters": model.generator_parameters,
           "final_train_loss": model.history[-1],
           **{key: model.discriminator_outputs.get(key, float("nan")) for key in ava.OUTPUTS}}
    return row, samples


def score_run(config: ComparisonConfig, judge_config: DomainClassifierConfig, sample_count: int) -> dict:
    """Unit: train ``config`` (``train_model``, a unit of its own), score it, and keep ``SHOWN_SAMPLES`` samples and ``LINES`` x
    ``LINE_STEPS`` interpolation images (cached by the fan-out: the timings of a rerun from the
    cache are those of the run that trained it)."""
    classifier, _ = domain_classifier(judge_config.on(config.dataset))
    model = cache.unit(train_model, config=config)    # its own unit: a change to scoring keeps it
    row, samples = evaluate(model, config, classifier, sample_count)
    lines = samples[:0] if model.diverged else interpolations(model, LINES, LINE_STEPS, config.seed)
    return {"row": row, "samples": samples[:SHOWN_SAMPLES], "interpolations": lines}


def run_cost(config: ComparisonConfig, **_) -> float:
    """A run's work, for starting the longest first: images seen in training (epochs x training
    images) x the pixels of one (a colour 32 x 32 image has ~4x a 28 x 28 grey one's)."""
    pixels = 32 * 32 * 3 if config.dataset in COLOUR_DATASETS else 28 * 28
    return config.epochs * (config.train_size or 60_000) * pixels


def comparison_units(models, datasets, seeds, base: ComparisonConfig, judge_config: DomainClassifierConfig,
                     sample_count: int, first_seed_only=()) -> Part:
    """The units (``avalib.fanout.Part``: ``score_run``, its keys, ``run_cost``) of every
    (dataset, model, seed) and the ``first_seed_only`` models at the first seed."""
    configs = [dataclasses.replace(base, model=name, dataset=dataset, seed=seed)
               for dataset in datasets
               for name, its_seeds in [*((m, seeds) for m in models), *((m, seeds[:1]) for m in first_seed_only)]
               for seed in its_seeds]
    return score_run, [{"config": c, "judge_config": judge_config, "sample_count": sample_count}
                       for c in configs], run_cost


def comparison_results(keys: list[dict], units: list[dict], models, seeds):
    """(runs frame, samples and interpolation images of the first seed of ``models``, each keyed
    by (dataset, model name)) from the units of ``comparison_units``."""
    samples, lines = {}, {}
    for config, unit in zip((key["config"] for key in keys), units):
        if config.seed == seeds[0] and config.model in models:
            samples[(config.dataset, unit["row"]["model"])] = unit["samples"]
            lines[(config.dataset, unit["row"]["model"])] = unit["interpolations"]
    return pd.DataFrame([unit["row"] for unit in units]), samples, lines


def run_comparison(models, datasets, seeds, base: ComparisonConfig,
                   judge_config: DomainClassifierConfig, sample_count: int,
                   scheduler: str | None = None, threads: int = 1, first_seed_only=()):
    """Train and score every unit of ``comparison_units`` on ``scheduler`` (``avalib.fanout``),
    the judges first. Returns ``comparison_results``."""
    train_judges(judge_config, datasets, scheduler, threads)
    function, keys, cost = comparison_units(models, datasets, seeds, base, judge_config, sample_count,
                                            first_seed_only)
    units = compute(function, keys, scheduler, threads, "comparison runs", cost=cost)
    return comparison_results(keys, units, models, seeds)


METRICS = ["classifier_inception_score", "frechet_distance", "class_coverage", "precision", "recall",
           "sharpness_ratio", "reconstruction_mse", "interpolation_roughness",
           "train_seconds_per_epoch", "train_seconds", "generator_updates", "sample_ms_per_1000",
           "parameters"]


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (dataset, model), with the number of seeds and
    of diverged seeds: a (dataset, model) with any diverged seed has no mean (NaN), never a mean
    over the seeds that survived."""
    frame = runs.assign(diverged=runs.get("diverged_at_step", pd.Series(-1, index=runs.index)) >= 0)
    grouped = frame.groupby(["dataset", "model"], sort=False)
    values = grouped[METRICS + [key for key in ava.OUTPUTS if key in runs]]
    table = values.mean().join(values.std(ddof=1).add_suffix("_sd"))
    table[frame.diverged.groupby([frame.dataset, frame.model], sort=False).any().reindex(table.index)
          .to_numpy()] = float("nan")
    table["seeds"] = grouped.size()
    table["diverged_seeds"] = grouped.diverged.sum()
    return table
