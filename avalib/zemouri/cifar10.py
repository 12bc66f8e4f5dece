"""Zemouri (2020) section 4.5, the test on CIFAR-10: K_z = 100, alpha_i = 1, beta = 0.001,
gamma = 0, Figure 10's pairs of random test images and their reconstructions; and, beside it, a
plain VAE of the same size, over seeds.

The networks are those of section 4.2 with 3 input channels at 32 x 32 (``ZemouriEncoder`` and
``ZemouriDecoder`` take the channels and the size; nothing else changes). The plain VAE is the same
encoder and decoder trained end to end on the negative ELBO (binary cross-entropy summed over
pixels + KL, ``comparison.models.vae_loss``) with Adam at the config's learning rate, batch size
and training subset, for the step-1 epochs plus as many epochs as step 2's iterations make: the
same images seen, no classifier and no discriminator. Both are scored as notebook 03 scores a
setting (``experiment.reconstruction_metrics``) on the same test images by the same CIFAR-10
judge. The paper's words make no claim beyond the figure, so the table states numbers, not a
verdict; the feature loss of eq. 9 is each model's own encoder's, so it does not compare them.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import torch

from avalib import kernels
from avalib import cache
from avalib.comparison.models import vae_loss
from avalib.domain_classifier import DomainClassifierConfig
from avalib.fanout import Part
from avalib.latent import reparameterise
from avalib.training import batches, check_finite, update
from avalib.zemouri import experiment, trainer, units
from avalib.zemouri.model import ZemouriModel
from avalib.zemouri.trainer import ZemouriConfig

DATASET = "cifar10"
MODELS = ("zemouri", "plain_vae")
LABELS = {"zemouri": "Zemouri (2020)", "plain_vae": "plain VAE"}     # Figure 10's row names


def section_4_5(base: ZemouriConfig, seed: int, step2_steps: int) -> ZemouriConfig:
    """Section 4.5's setting at ``base``'s budget: K_z = 100, alpha_i = 1, beta = 0.001, gamma = 0
    (no warm-up: beta is on from the first Algorithm 2 iteration)."""
    return dataclasses.replace(base, dataset=DATASET, latent_size=100, alphas=(1.0, 1.0, 1.0),
                               beta=0.001, gamma=0.0, warmup_steps=0, step2_steps=step2_steps, seed=seed)


def configs(base: ZemouriConfig, seeds, step2_steps: int) -> list[ZemouriConfig]:
    """Section 4.5's setting (``section_4_5``) at every seed: what each fan-out's units train."""
    return [section_4_5(base, seed, step2_steps) for seed in seeds]


def plain_vae_epochs(config: ZemouriConfig) -> int:
    """Epochs of the plain VAE: step 1's epochs plus the epochs step 2's iterations amount to."""
    images = len(trainer.training_images(config))
    return config.step1_epochs + math.ceil(config.step2_steps * config.batch_size / images)


@torch.enable_grad()
def plain_vae(config: ZemouriConfig) -> dict:
    """Unit: ``config``'s encoder and decoder trained end to end as a VAE; their weights."""
    model = trainer.build(config)
    images = trainer.training_images(config).images
    parameters = [*model.encoder.parameters(), *model.decoder.parameters()]
    optimiser = kernels.adam(parameters, config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    for _, index in batches(len(images), config.batch_size, generator, f"plain VAE {config.dataset}",
                            epochs=plain_vae_epochs(config)):
        x = images[index]
        mean, log_variance = model.encoder(x)
        loss = check_finite(vae_loss(x, model.decoder(reparameterise(mean, log_variance)), mean, log_variance),
                            "plain VAE loss")
        update(optimiser, loss, parameters)
    return {"encoder": model.encoder.state_dict(), "decoder": model.decoder.state_dict()}


def trained(config: ZemouriConfig, model: str) -> ZemouriModel:
    """The trained ``model`` ("zemouri": both steps; "plain_vae") of ``config``, in eval mode."""
    if model == "zemouri":
        return units.trained(config)
    state = cache.unit(plain_vae, config=config)
    built = trainer.build(config)
    built.encoder.load_state_dict(state["encoder"])
    built.decoder.load_state_dict(state["decoder"])
    for network in built.networks():
        network.eval()
    return built


def score(config: ZemouriConfig, model: str, judge_config: DomainClassifierConfig, test_count: int,
          example_count: int) -> dict:
    """Unit: ``model`` of ``config`` scored on the first ``test_count`` test images (the same for
    every seed); its metrics row and the reconstructions of the first ``example_count``."""
    test, classifier, real_judgement, _ = experiment._scoring_context(judge_config, DATASET, test_count)
    trained_model = trained(config, model)
    row = {"model": model, "seed": config.seed,
           **experiment.reconstruction_metrics(trained_model, test.images, test.labels, classifier,
                                               real_judgement)}
    return {"row": row, "examples": trainer.reconstruct(trained_model, test.images[:example_count])}


def training_units(base: ZemouriConfig, seeds, step2_steps: int) -> list[Part]:
    """The units that need no judge (``avalib.fanout.Part``): every seed's step 1 and plain VAE."""
    settings = configs(base, seeds, step2_steps)
    return [(units.step1, [{"config": c.stage("step1")} for c in settings], None),
            (plain_vae, [{"config": c} for c in settings], None)]


def setting_units(base: ZemouriConfig, seeds, step2_steps: int) -> Part:
    """Zemouri's step 2 (Algorithm 2) at every seed, on the step-1 models of ``training_units``."""
    return units.setting, [{"config": c} for c in configs(base, seeds, step2_steps)], None


def scoring_units(base: ZemouriConfig, seeds, step2_steps: int, judge_config: DomainClassifierConfig,
                  test_count: int, example_count: int, models=MODELS) -> Part:
    """``models`` at every seed, scored (``score``) on the trained networks of ``training_units``
    and ``setting_units``."""
    return score, [{"config": c, "model": m, "judge_config": judge_config, "test_count": test_count,
                    "example_count": example_count} for c in configs(base, seeds, step2_steps) for m in models], None


def results(scored: list[dict], seeds, test_count: int, example_count: int):
    """(metrics, one row per model x seed; Figure 10's pairs of the first seed: the test images
    and each model's reconstructions) from the units of ``scoring_units``."""
    metrics = pd.DataFrame([unit["row"] for unit in scored])
    first = [unit for unit in scored if unit["row"]["seed"] == seeds[0]]
    pairs = {"input": experiment.test_images(DATASET, test_count).images[:example_count],
             **{LABELS[unit["row"]["model"]]: unit["examples"] for unit in first}}
    return metrics, pairs


COMPARED = ("pixel_mse", "label_agreement", "sharpness_ratio", "frechet_distance")


def summary(metrics: pd.DataFrame, judge_accuracy: float) -> pd.DataFrame:
    """Per metric: each model's mean and SD over seeds, the paired difference (Zemouri minus the
    plain VAE) with its SD over seeds, the seeds, and the judge's test accuracy (the scale of
    label agreement and of the Frechet distance's features)."""
    wide = metrics.pivot(index="seed", columns="model")
    rows = []
    for metric in (*COMPARED, "feature_loss", "label_agreement_inputs"):
        difference = wide[metric]["zemouri"] - wide[metric]["plain_vae"]
        rows.append({"metric": metric,
                     "zemouri_mean": wide[metric]["zemouri"].mean(), "zemouri_sd": wide[metric]["zemouri"].std(),
                     "plain_vae_mean": wide[metric]["plain_vae"].mean(), "plain_vae_sd": wide[metric]["plain_vae"].std(),
                     "difference_mean": difference.mean(), "difference_sd": difference.std(),
                     "seeds": int(difference.notna().sum()), "judge_test_accuracy": judge_accuracy,
                     "compares_the_models": metric in COMPARED})
    return pd.DataFrame(rows).set_index("metric")
