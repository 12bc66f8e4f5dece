"""The AVA trainer: switches, determinism, divergence, gradient separation."""

import dataclasses
import math

import pytest
import torch

from avalib import nguyen
from avalib import cache
from avalib.nguyen import experiment, model as nguyen_model, steps as nguyen_steps, trainer as nguyen_trainer
from avalib.data import load_dataset
from avalib.nguyen.networks import logistic

TINY = nguyen.NguyenConfig(learning_rates=(0.5, 0.05), seeds=(0, 1), latent_size=3, hidden_size=5,
                           generations_per_image=2)


def tiny_images(seed=0):
    return torch.rand(4, 3, 3, 5, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("switches, name", [
    ((True, False, False, False), "AVA1"), ((True, True, False, False), "AVA2"),
    ((False, False, True, False), "AVA3"), ((False, False, True, True), "AVA4"),
    ((True, True, True, True), "AVA5"), ((False, False, False, False), "VAE"),
])
def test_switches_map_to_variants(switches, name):
    assert nguyen.variant_from_switches(*switches).name == name


def test_gan_has_no_encoder_and_bad_switches_raise():
    assert nguyen.variant_from_switches(True, False, False, False, has_encoder=False).name == "GAN"
    with pytest.raises(ValueError):
        nguyen.variant_from_switches(False, True, False, False)         # lean without d


def test_untrained_zero_weight_output_is_04378():
    assert float(logistic(torch.tensor(0.0))) == pytest.approx(0.4378, abs=1e-4)


@pytest.mark.parametrize("protocol", nguyen.PROTOCOLS)
@pytest.mark.parametrize("model", ["AVA5", "GAN"])
def test_runs_are_deterministic_under_a_seed(protocol, model):
    config = dataclasses.replace(TINY, protocol=protocol)
    first = nguyen.train(model, tiny_images(), config, show_progress=False)
    second = nguyen.train(model, tiny_images(), config, show_progress=False)
    assert torch.equal(first.balance_metric, second.balance_metric)
    assert first.balance_metric.shape == (2, 2) and torch.isfinite(first.balance_metric).all()
    other = nguyen.train(model, tiny_images(), dataclasses.replace(config, seeds=(5, 6)), show_progress=False)
    assert not torch.equal(first.balance_metric, other.balance_metric)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="protocol"):
        nguyen.NguyenConfig(protocol="java")
    with pytest.raises(ValueError, match="positive"):
        nguyen.NguyenConfig(learning_rates=(0.1, -1.0))
    with pytest.raises(ValueError, match="unknown model"):
        nguyen.train("AVA6", tiny_images(), TINY, show_progress=False)


def test_diverging_run_is_reported_as_diverged_never_as_a_number(mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    images = load_dataset("orbit").images[:6]
    config = nguyen.NguyenConfig(protocol="paper", learning_rates=(1.0, 0.01), seeds=(0, 1),
                                 hidden_size=8, dtype="float32")
    result = nguyen.train("AVA5", images, config, show_progress=False)
    assert (result.diverged_at_step[:, 0] >= 0).all(), "paper rules at lr = 1 blow up"
    assert torch.isnan(result.balance_metric[:, 0]).all()
    assert (result.diverged_at_step[:, 1] == -1).all() and torch.isfinite(result.balance_metric[:, 1]).all()


def test_exact_protocol_keeps_each_networks_gradient_separate():
    """One exact AVA1 step equals: encoder and decoder descend loss (3), the discriminator
    ascends balance (4), each computed on its own parameters from the same forward pass."""
    variant, config = nguyen.VARIANTS["AVA1"], dataclasses.replace(TINY, protocol="exact")
    nets = nguyen_model.Networks(variant, config, channels=3, pixels=15)
    image = tiny_images()[0].reshape(3, 15).repeat(nets.runs, 1).double()
    states = [g.get_state() for g in nets.noise_generators]
    before = {name: [p.detach().clone() for p in getattr(nets, name).parameters()]
              for name in ("encoder", "decoder", "decoder_discriminator")}
    with torch.enable_grad():
        nguyen_steps.exact_step(nets, variant, image)
    # the expected update, recomputed from copies with the same noise
    copies = {name: [p.clone().requires_grad_() for p in params] for name, params in before.items()}
    for generator, state in zip(nets.noise_generators, states):
        generator.set_state(state)
    noise = nets.noise()

    def run(params, x):
        hidden = torch.sigmoid(0.5 * (torch.baddbmm(params[1].unsqueeze(1), x.unsqueeze(1),
                                                   params[0].transpose(1, 2)) - 0.5))
        return torch.sigmoid(0.5 * (torch.baddbmm(params[3].unsqueeze(1), hidden,
                                                 params[2].transpose(1, 2)) - 0.5)).squeeze(1)
    encoded = run(copies["encoder"], image)
    mu, sigma = encoded[:, :3], encoded[:, 3:]
    decoded = run(copies["decoder"], mu + sigma.sqrt() * noise)
    d = copies["decoder_discriminator"]
    loss = 0.5 * (image - decoded).pow(2).sum() + 0.5 * (sigma + mu ** 2 - 1 - sigma.log()).sum() \
        + torch.log1p(-run(d, decoded)).sum()
    balance = run(d, image).log().sum() + torch.log1p(-run(d, decoded.detach())).sum()
    lr = nets.learning_rate
    expected = {"encoder": torch.autograd.grad(loss, copies["encoder"], retain_graph=True),
                "decoder": torch.autograd.grad(loss, copies["decoder"], retain_graph=True),
                "decoder_discriminator": [-g for g in torch.autograd.grad(balance, d)]}
    for name, gradients in expected.items():
        for param, old, gradient in zip(getattr(nets, name).parameters(), before[name], gradients):
            torch.testing.assert_close(param.detach(), old - lr.view(-1, *[1] * (old.dim() - 1)) * gradient)


@pytest.mark.parametrize("protocol", nguyen.REFERENCE_PROTOCOLS)
def test_true_width_equals_full_width(mirror_dir, monkeypatch, protocol):
    """Zero initialisation never breaks a hidden layer's symmetry, so the width-1 network counted
    100 times gives the full-width BM (float64, to 1e-9) on a few cells."""
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    images = load_dataset("orbit").images[:8]
    config = nguyen.NguyenConfig(protocol=protocol, learning_rates=(1.0, 0.1, 0.01), seeds=(0,))
    for model in ("AVA5", "GAN"):
        true = nguyen.train(model, images, config, show_progress=False).balance_metric
        full = nguyen.train(model, images, dataclasses.replace(config, true_width=False),
                            show_progress=False).balance_metric
        assert true.dtype == torch.float64 and torch.isfinite(true).all()
        torch.testing.assert_close(true, full, atol=1e-9, rtol=0)


@pytest.mark.parametrize("model", list(nguyen.VARIANTS))
def test_zero_initialisation_keeps_every_hidden_unit_identical(model):
    """Under the reference protocol every hidden unit of every network stays identical through
    training: the rows of each hidden layer and the columns of each output layer are equal (to
    the last bits, which a batched matmul may round differently per column)."""
    variant = nguyen.VARIANTS[model]
    config = dataclasses.replace(TINY, true_width=False)
    nets = nguyen_model.Networks(variant, config, channels=3, pixels=15)
    images = tiny_images().reshape(4, 3, 15).double()
    for step in range(8):
        nguyen_steps.reference_step(nets, variant, images[step % 4].repeat(nets.runs, 1))
    for net in nets.all():
        assert net.hidden_weight.abs().sum() > 0 and net.output_weight.abs().sum() > 0
        for tensor, first in ((net.hidden_weight, net.hidden_weight[:, :1]),
                              (net.hidden_bias, net.hidden_bias[:, :1]),
                              (net.output_weight, net.output_weight[..., :1])):
            torch.testing.assert_close(tensor, first.expand_as(tensor), rtol=1e-12, atol=0)


def test_reference_ava1_at_lr_01_lands_in_the_published_builds_band(mirror_dir, monkeypatch):
    """AVA1 at lr = 0.1 on the 36 orbit images. The band [0.225, 0.237] is from our runs of the
    spec's reading (10 seeds: 0.2288-0.2323); the value reading gives 0.2088-0.2136 and the
    paper prints 0.2103, so this test tells the two readings apart."""
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    images = load_dataset("orbit").images
    config = nguyen.NguyenConfig(learning_rates=(0.1,), seeds=(0, 1, 2))
    published = nguyen.train("AVA1", images, config, show_progress=False).balance_metric
    assert ((published > 0.225) & (published < 0.237)).all(), published
    value = nguyen.train("AVA1", images, dataclasses.replace(
        config, protocol="reference_value_derivative"), show_progress=False).balance_metric
    assert ((value > 0.205) & (value < 0.217)).all(), value


@pytest.mark.parametrize("protocol", ["reference", "paper"])
def test_results_do_not_depend_on_the_run_chunk(protocol):
    """Every run draws from its repeat's own streams, so chunking changes nothing but rounding."""
    config = dataclasses.replace(TINY, protocol=protocol, seeds=(0, 1, 2))
    whole = nguyen.train("AVA5", tiny_images(), config, show_progress=False)
    chunked = nguyen.train("AVA5", tiny_images(), dataclasses.replace(config, run_chunk=2),
                           show_progress=False)
    torch.testing.assert_close(whole.balance_metric, chunked.balance_metric, atol=1e-6, rtol=0)
    torch.testing.assert_close(whole.samples, chunked.samples, atol=1e-5, rtol=0)


def test_models_share_their_repeats_seed_streams():
    """Repeat k of the VAE and of AVA3 start from the same encoder and decoder weights (paper
    protocol) - the pairing the claims' paired tests rely on."""
    config = dataclasses.replace(TINY, protocol="paper")
    vae = nguyen_model.Networks(nguyen.VARIANTS["VAE"], config, channels=3, pixels=15)
    ava3 = nguyen_model.Networks(nguyen.VARIANTS["AVA3"], config, channels=3, pixels=15)
    for name in ("encoder", "decoder"):
        for a, b in zip(getattr(vae, name).parameters(), getattr(ava3, name).parameters()):
            assert torch.equal(a, b)
    first = vae.decoder.hidden_weight.view(2, 2, 3, *vae.decoder.hidden_weight.shape[1:])
    assert torch.equal(first[:, 0], first[:, 1])            # both learning rates of a repeat
    assert not torch.equal(first[0], first[1])              # two repeats differ


def test_a_cached_model_protocol_unit_equals_training_it_again(monkeypatch):
    config = dataclasses.replace(TINY, protocol="paper")
    fresh = nguyen.train("AVA5", experiment.orbit_images(4), config, show_progress=False)
    stored = cache.unit(experiment.train_variant, variant="AVA5", config=config, image_count=4)
    monkeypatch.setattr(nguyen_trainer, "_train_all", lambda *a: (_ for _ in ()).throw(AssertionError("retrained")))
    resumed = cache.unit(experiment.train_variant, variant="AVA5", config=config, image_count=4)
    for result in (stored, resumed):
        assert torch.equal(result.balance_metric.nan_to_num(-1), fresh.balance_metric.nan_to_num(-1))
        assert torch.equal(result.samples.nan_to_num(-1), fresh.samples.nan_to_num(-1))
    with pytest.raises(AssertionError, match="retrained"):        # other images: another key
        cache.unit(experiment.train_variant, variant="AVA5", config=config, image_count=3)
