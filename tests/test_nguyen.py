"""The AVA trainer: switches, determinism, divergence, gradient separation."""

import dataclasses
import math

import pytest
import torch

from avalib import nguyen
from avalib.data import load_dataset
from avalib.nets import logistic

TINY = nguyen.NguyenConfig(learning_rates=(0.5, 0.05), repeats=2, latent_size=3, hidden_size=5,
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
    first = nguyen.train(model, tiny_images(), config, progress=False)
    second = nguyen.train(model, tiny_images(), config, progress=False)
    assert torch.equal(first.balance_metric, second.balance_metric)
    assert first.balance_metric.shape == (2, 2) and torch.isfinite(first.balance_metric).all()
    other = nguyen.train(model, tiny_images(), dataclasses.replace(config, seed=1), progress=False)
    assert not torch.equal(first.balance_metric, other.balance_metric)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="protocol"):
        nguyen.NguyenConfig(protocol="java")
    with pytest.raises(ValueError, match="positive"):
        nguyen.NguyenConfig(learning_rates=(0.1, -1.0))
    with pytest.raises(ValueError, match="unknown model"):
        nguyen.train("AVA6", tiny_images(), TINY, progress=False)


def test_diverging_run_is_reported_as_diverged_never_as_a_number(mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    images = load_dataset("orbit").images[:6]
    config = nguyen.NguyenConfig(protocol="paper", learning_rates=(1.0, 0.01), repeats=2,
                                 hidden_size=8, dtype="float32")
    result = nguyen.train("AVA5", images, config, progress=False)
    assert (result.diverged_at_step[:, 0] >= 0).all(), "paper rules at lr = 1 blow up"
    assert torch.isnan(result.balance_metric[:, 0]).all()
    assert (result.diverged_at_step[:, 1] == -1).all() and torch.isfinite(result.balance_metric[:, 1]).all()


def test_exact_protocol_keeps_each_networks_gradient_separate():
    """One exact AVA1 step equals: encoder and decoder descend loss (3), the discriminator
    ascends balance (4), each computed on its own parameters from the same forward pass."""
    variant, config = nguyen.VARIANTS["AVA1"], dataclasses.replace(TINY, protocol="exact")
    nets = nguyen._Networks(variant, config, channels=3, pixels=15)
    image = tiny_images()[0].reshape(3, 15).repeat(nets.runs, 1).double()
    state = nets.generator.get_state()
    before = {name: [p.detach().clone() for p in getattr(nets, name).parameters()]
              for name in ("encoder", "decoder", "decoder_discriminator")}
    with torch.enable_grad():
        nguyen._exact_step(nets, variant, image)
    # the expected update, recomputed from copies with the same noise
    copies = {name: [p.clone().requires_grad_() for p in params] for name, params in before.items()}
    nets.generator.set_state(state)
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
