"""The VAE-vs-GAN comparison on the toy dataset: losses, trainers, plug-in interface, verdicts."""

import math

import pandas as pd
import pytest
import torch

from avalib.comparison import ava, claims, experiment as vae_gan_report, models, trainer as vae_gan
from avalib.domain_classifier import DomainClassifierConfig

TOY = vae_gan.ComparisonConfig(dataset="toy", train_size=None, epochs=1, batch_size=16,
                               latent_size=4, width=4)


@pytest.mark.parametrize("model", ["vae", "gan"])
def test_trainers_return_samplers_with_counts_and_times(model):
    trained = vae_gan.train_model(vae_gan.ComparisonConfig(**{**TOY.__dict__, "model": model}))
    samples = trained.sample(5, torch.Generator().manual_seed(0))
    assert samples.shape == (5, 1, 8, 8) and 0 <= samples.min() and samples.max() <= 1
    assert trained.train_seconds > 0 and trained.parameters > trained.generator_parameters > 0
    assert (trained.reconstruct(samples) is None) == (model == "gan")


def test_vae_and_gan_are_matched_in_generator_size():
    vae = vae_gan.train_vae(TOY)
    gan = vae_gan.train_gan(TOY)
    assert vae.generator_parameters == gan.generator_parameters


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown model"):
        vae_gan.ComparisonConfig(model="diffusion")


def test_comparison_and_aspects_run_end_to_end():
    judge = DomainClassifierConfig("toy", train_size=None, epochs=1)
    runs, samples, lines = vae_gan_report.run_comparison(["vae", "gan"], ["toy"], [0, 1], TOY,
                                                         judge, sample_count=32)
    assert len(runs) == 4 and set(samples) == set(lines) == {("toy", "VAE"), ("toy", "GAN")}
    assert lines[("toy", "VAE")].shape[0] == 3 * 12
    outputs = list(ava.OUTPUTS)                # the AVA discriminators' outputs: VAE and GAN have none
    numbers = runs.drop(columns=["dataset", "model", "seed", "reconstruction_mse", *outputs])
    assert numbers.notna().all().all() and runs[outputs].isna().all().all()
    assert runs[runs.model == "GAN"].reconstruction_mse.isna().all()
    table = claims.verdicts(claims.aspects(runs)[1], claims.inception_table(runs)[1])
    assert len(table) == len(claims.ASPECT_TESTS) and table.condition.eq("toy").all()


def test_a_finished_run_is_a_cached_unit(monkeypatch):
    judge = DomainClassifierConfig("toy", train_size=None, epochs=1)
    first, samples, _ = vae_gan_report.run_comparison(["vae"], ["toy"], [0], TOY, judge, 32)
    monkeypatch.setattr(vae_gan_report, "train_model",
                        lambda config: (_ for _ in ()).throw(AssertionError("retrained")))
    again, again_samples, _ = vae_gan_report.run_comparison(["vae"], ["toy"], [0], TOY, judge, 32)
    pd.testing.assert_frame_equal(first, again)
    assert torch.equal(samples[("toy", "VAE")], again_samples[("toy", "VAE")])


def test_aspect_verdicts_need_differences_beyond_the_seed_spread():
    def runs(gan_sharpness, vae_sharpness):
        rows = []
        for model, values in (("GAN", gan_sharpness), ("VAE", vae_sharpness)):
            for seed, value in enumerate(values):
                rows.append({"dataset": "d", "model": model, "seed": seed, "sharpness_ratio": value,
                             **{m: 1.0 + seed for m in vae_gan_report.METRICS if m != "sharpness_ratio"}})
        return pd.DataFrame(rows)
    verdict = lambda frame: claims.aspects(frame)[0].set_index("measure").verdict.iloc[1]
    assert verdict(runs([0.95, 0.96, 0.97], [0.5, 0.51, 0.52])) == "holds"
    assert verdict(runs([0.5, 0.51, 0.52], [0.95, 0.96, 0.97])) == "does not hold"
    assert verdict(runs([0.5, 0.9, 0.7], [0.6, 0.8, 0.7])) == "inconclusive"


def test_the_vae_loss_is_bce_plus_kl_per_image():
    images = torch.tensor([[1.0, 0.0]])
    decoded = torch.tensor([[0.5, 0.5]])
    mean, log_variance = torch.tensor([[1.0]]), torch.tensor([[0.0]])
    expected = 2 * math.log(2) + 0.5                 # BCE 2 log 2, KL 1/2 (mean 1, variance 1)
    assert float(models.vae_loss(images, decoded, mean, log_variance)) == pytest.approx(expected)


def test_the_gan_losses_are_the_log_losses_of_the_discriminators_output():
    real, fake = torch.tensor([[2.0]]), torch.tensor([[-1.0]])
    sigmoid = torch.sigmoid
    expected = -math.log(float(sigmoid(real))) - math.log(1 - float(sigmoid(fake)))
    assert float(models.gan_discriminator_loss(real, fake)) == pytest.approx(expected)
    assert float(models.gan_generator_loss(fake)) == pytest.approx(-math.log(float(sigmoid(fake))))
