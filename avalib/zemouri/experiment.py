"""What notebooks 02 and 03 call: step-1 quality, the 2-D latent space, and reconstruction metrics
per (dataset, K_z, beta, gamma) for the pictures of Zemouri (2020) section 4.4."""

from __future__ import annotations

import dataclasses
import functools

import pandas as pd
import torch

from avalib.data import load_dataset
from avalib.fanout import compute
from avalib.domain_classifier import DomainClassifier, DomainClassifierConfig, domain_classifier, judge
from avalib.metrics import frechet_distance, laplacian_sharpness
from avalib.training import in_batches
from avalib.zemouri.model import ZemouriModel, feature_reconstruction_loss, kl_loss
from avalib.zemouri.trainer import ZemouriConfig, encoder_classifier, reconstruct, train, warm_start

ACTIVE_UNIT_VARIANCE = 0.01       # Burda et al. (2016)'s threshold for an active latent unit
PAPER_BETAS = (0.0, 0.001, 0.003, 0.005, 0.01, 0.1, 0.5)
PAPER_GAMMAS = (0.0, 0.1)


def test_images(dataset: str, count: int | None, seed: int = 0):
    return load_dataset(dataset, "test").subset(count, seed)


@torch.no_grad()
def step1_row(model: ZemouriModel, test_count: int | None) -> dict:
    """Classifier accuracy on the test split (on the posterior mean), the test KL (eq. 4, summed
    over latent units, nats per image) and the active latent units (Burda et al. 2016: the
    variance over test images of a unit's posterior mean exceeds ACTIVE_UNIT_VARIANCE)."""
    test = test_images(model.config.dataset, test_count)
    mean, log_variance = in_batches(model.encoder, test.images)
    logits, = in_batches(model.classifier, mean)
    return {"dataset": model.config.dataset, "Kz": model.config.latent_size, "seed": model.config.seed,
            "kl_reduction": model.config.kl_reduction, "kl_weight": model.config.kl_weight,
            "classes": int(load_dataset(model.config.dataset, "train").labels.max()) + 1,
            "classifier_test_accuracy": float((logits.argmax(1) == test.labels).float().mean()),
            "test_kl_nats": float(kl_loss(mean, log_variance, "sum")),
            "active_units": int((mean.var(0) > ACTIVE_UNIT_VARIANCE).sum()),
            "train_last_epoch_cat": model.history["step1"]["last_epoch_cat"]}


@torch.no_grad()
def latent_codes(model: ZemouriModel, test_count: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior means of test images and their labels (the points of Fig. 7)."""
    test = test_images(model.config.dataset, test_count)
    return in_batches(model.encoder, test.images)[0], test.labels


@torch.no_grad()
def latent_grid(model: ZemouriModel, codes: torch.Tensor, steps: int = 15) -> torch.Tensor:
    """Images decoded from a steps x steps grid spanning the 2nd-98th percentiles of the codes
    of a 2-D latent space (Fig. 8), row-major from (low z1, high z2)."""
    low, high = codes.quantile(0.02, dim=0), codes.quantile(0.98, dim=0)
    z1 = torch.linspace(float(low[0]), float(high[0]), steps)
    z2 = torch.linspace(float(high[1]), float(low[1]), steps)
    grid = torch.stack(torch.meshgrid(z2, z1, indexing="ij"), dim=-1).flip(-1).reshape(-1, 2)
    return model.decoder(grid)


@torch.no_grad()
def reconstruction_metrics(model: ZemouriModel, images: torch.Tensor, labels: torch.Tensor,
                           classifier: DomainClassifier,
                           real_judgement: tuple[torch.Tensor, torch.Tensor]) -> dict:
    """Pixel MSE, the deep-feature loss L_rec (eq. 9), label agreement of reconstructions under
    the independent domain classifier (share predicted as the true label), sharpness of outputs
    relative to the inputs (Laplacian ratio, 1 = as sharp), and the Frechet distance between
    reconstructions and inputs on the domain classifier's features. ``real_judgement`` is
    ``judge(classifier, images)``, computed once per test set by the caller."""
    decoded = reconstruct(model, images)
    features = [in_batches(lambda batch: tuple(model.encoder.encode(batch)[2]), x)
                for x in (images, decoded)]
    real_probabilities, real_features = real_judgement
    probabilities, decoded_features = judge(classifier, decoded)
    return {"pixel_mse": float((decoded - images).pow(2).mean()),
            "feature_loss": float(feature_reconstruction_loss(*features, model.config.alphas)),
            "label_agreement": float((probabilities.argmax(1) == labels).float().mean()),
            "label_agreement_inputs": float((real_probabilities.argmax(1) == labels).float().mean()),
            "sharpness_ratio": laplacian_sharpness(decoded) / laplacian_sharpness(images),
            "frechet_distance": frechet_distance(decoded_features, real_features)}


@functools.lru_cache(maxsize=4)
def _scoring_context(judge_config: DomainClassifierConfig, dataset: str, test_count: int):
    """What every setting of one dataset is scored against, computed once per process: the test
    images, the judge, its judgement of the real images and the mean image's pixel MSE."""
    test = test_images(dataset, test_count)
    classifier, _ = domain_classifier(dataclasses.replace(judge_config, dataset=dataset))
    return (test, classifier, judge(classifier, test.images),
            float((test.images - test.images.mean(0)).pow(2).mean()))


def score_setting(config: ZemouriConfig, judge_config: DomainClassifierConfig, test_count: int,
                  example_count: int) -> dict:
    """One unit of the sweep: train ``config`` (cached) and score it on the first ``test_count``
    test images (drawn with seed 0: the same for every seed, so seeds are paired). Returns the
    metrics row and the reconstructions of the first ``example_count`` test images."""
    test, classifier, real_judgement, mean_image_mse = _scoring_context(judge_config, config.dataset,
                                                                        test_count)
    model = train(config)
    row = {"dataset": config.dataset, "Kz": config.latent_size, "gamma": config.gamma,
           "beta": config.beta, "seed": config.seed,
           **reconstruction_metrics(model, test.images, test.labels, classifier, real_judgement),
           "mean_image_mse": mean_image_mse}
    shown = reconstruct(model, test.images[:example_count])
    correct = judge(classifier, shown)[0].argmax(1) == test.labels[:example_count]
    return {"row": row, "examples": shown, "example_correct": correct}


def sweep(base: ZemouriConfig, datasets, latent_sizes, betas, gammas, seeds, test_count: int,
          example_count: int, judge_config: DomainClassifierConfig, scheduler: str | None = None,
          threads: int = 1):
    """Train and score every (dataset, K_z, gamma, beta, seed), as units of work on ``scheduler``
    (``avalib.fanout``): first the starts they share (step 1, warm-up), then the settings.
    Returns (metrics frame, examples, frames): ``examples[(dataset, Kz)]`` maps "input" and
    "g=.. b=.." to ``example_count`` images of the first seed's models; ``frames`` the same keys
    to Fig. 9's frame colours (``figure_9_frames``)."""
    for dataset in datasets:                          # the judges, before any worker needs them
        domain_classifier(dataclasses.replace(judge_config, dataset=dataset))
    starts = [dataclasses.replace(base, dataset=d, latent_size=k, seed=s)
              for d in datasets for k in latent_sizes for s in seeds]
    compute(warm_start, [{"config": c} for c in starts], scheduler, threads, "step 1 and warm-ups")
    settings = [dataclasses.replace(base, dataset=d, latent_size=k, gamma=g, beta=b, seed=s)
                for d in datasets for k in latent_sizes for g in gammas for b in betas for s in seeds]
    units = compute(score_setting, [{"config": c, "judge_config": judge_config,
                                     "test_count": test_count, "example_count": example_count}
                                    for c in settings], scheduler, threads, "settings")
    frame = pd.DataFrame([unit["row"] for unit in units])
    frame.attrs["test_count"] = test_count
    examples, correct = {}, {}
    for config, unit in zip(settings, units):
        if config.seed == seeds[0]:
            key = (config.dataset, config.latent_size)
            shown = examples.setdefault(key, {"input": test_images(config.dataset, test_count)
                                              .images[:example_count]})
            shown[f"g={config.gamma} b={config.beta}"] = unit["examples"]
            correct.setdefault(key, {})[(config.gamma, config.beta)] = unit["example_correct"]
    return frame, examples, {key: figure_9_frames(marks) for key, marks in correct.items()}


def figure_9_frames(correct: dict[tuple[float, float], torch.Tensor]) -> dict[str, list]:
    """The paper's frames on the Fig. 9 grids, per row "g=.. b=..": red where the judge's label
    of a reconstruction differs from its input's, green where gamma > 0 restored the label that
    gamma = 0 lost at the same beta; no frame otherwise."""
    frames = {}
    for (gamma, beta), right in correct.items():
        lost = correct.get((0.0, beta))
        frames[f"g={gamma} b={beta}"] = [
            "red" if not ok else "green" if gamma > 0 and lost is not None and not lost[i] else None
            for i, ok in enumerate(right.tolist())]
    return frames


def step1_models(base: ZemouriConfig, datasets, latent_sizes, seeds=(0,)) -> dict:
    """Step 1 (the encoder-classifier) for every (dataset, K_z, seed), keyed so."""
    return {(d, k, s): encoder_classifier(dataclasses.replace(base, dataset=d, latent_size=k, seed=s))
            for d in datasets for k in latent_sizes for s in seeds}
