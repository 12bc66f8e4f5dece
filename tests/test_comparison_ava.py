"""The AVA variants in the VAE-vs-GAN comparison: each network's gradient from its own objective
or printed error only (recomputed independently per variant and protocol), the lean variants'
coincidence under ``exact``, matched budgets, and divergence reported as such."""

import copy
import dataclasses

import pandas as pd
import pytest
import torch

from avalib.comparison import ava, experiment as report, trainer as vae_gan
from avalib.comparison.models import vae_loss
from avalib.comparison.networks import DCGANEncoder, DCGANGenerator
from avalib.domain_classifier import DomainClassifierConfig
from avalib.latent import gaussian_kl
from avalib.nguyen import VARIANTS

TOY = vae_gan.ComparisonConfig(dataset="toy", train_size=None, epochs=1, batch_size=16,
                               latent_size=4, width=4)
LATENT = 3


def _nets(variant: str) -> ava.AVANetworks:
    torch.manual_seed(0)
    switches = VARIANTS[variant]
    return ava.AVANetworks(
        switches, DCGANEncoder(1, 8, 2 * LATENT, 4), DCGANGenerator(LATENT, 1, 8, 4),
        DCGANEncoder(1, 8, 1, 4) if switches.decoder_discriminator else None,
        ava.latent_discriminator(LATENT, 5) if switches.encoder_discriminator else None)


def _batch():
    generator = torch.Generator().manual_seed(1)
    return torch.rand(6, 1, 8, 8, generator=generator), torch.randn(6, LATENT, generator=generator)


def _grad(objective, net, sign=1.0):
    return [sign * g for g in torch.autograd.grad(objective, list(net.parameters()), retain_graph=True)]


def _expected_exact(nets, images, noise):
    """The stated objectives written out again: encoder and decoder descend eqs. 1 + 3 + 12,
    d ascends eq. 4 (9), D ascends eq. 11 (15)."""
    mean, log_variance = nets.encoder(images).chunk(2, dim=1)
    decoded = nets.decoder(mean + (0.5 * log_variance).exp() * noise)
    loss = vae_loss(images, decoded, mean, log_variance)
    expected = {}
    if nets.d is not None:
        d = lambda x: torch.sigmoid(nets.d(x))
        loss = loss + torch.log(1 - d(decoded)).mean()
        expected["d"] = _grad((torch.log(d(images)) + torch.log(1 - d(decoded.detach()))).mean(), nets.d, -1)
    if nets.D is not None:
        D = lambda m: torch.sigmoid(nets.D(m))
        fake_mean = nets.encoder(decoded).chunk(2, dim=1)[0]
        loss = loss + torch.log(1 - D(fake_mean)).mean()
        expected["D"] = _grad((torch.log(D(mean.detach())) + torch.log(1 - D(fake_mean.detach()))).mean(),
                              nets.D, -1)
    expected["encoder"] = _grad(loss, nets.encoder)
    expected["decoder"] = _grad(loss, nets.decoder)
    return expected


def _expected_paper(nets, images, noise):
    """The printed rules where they are gradients of something simple: the encoder's error is
    minus the KL gradient plus eq. 14's push on mu (no reconstruction), the decoder's is minus
    the gradient of 1/2 ||x - x'||^2 at a fixed code plus the push on every pixel, and the
    discriminators' errors are the gradients of their balance functions (plus the lean term)."""
    variant = nets.variant
    mean, log_variance = nets.encoder(images).chunk(2, dim=1)
    code = (mean + (0.5 * log_variance).exp() * noise).detach()
    decoded = nets.decoder(code)
    n = len(images)
    decoder_objective = 0.5 * (images - decoded).pow(2).sum() / n
    encoder_objective = gaussian_kl(mean, log_variance).sum() / n
    expected = {}
    if nets.d is not None:
        real, fake = torch.sigmoid(nets.d(images)), torch.sigmoid(nets.d(decoded.detach()))
        balance = (torch.log(real) + torch.log(1 - fake)).sum() / n
        if variant.lean_decoder:
            lean = ((images - decoded) * decoded * (1 - decoded)).detach().flatten(1).sum(1, keepdim=True)
            balance = balance + (lean * fake).sum() / n
        expected["d"] = _grad(balance, nets.d, -1)
        decoder_objective = decoder_objective - (fake.detach().view(-1, 1, 1, 1) * decoded).sum() / n
    if nets.D is not None:
        fake_mean = nets.encoder(decoded.detach()).chunk(2, dim=1)[0].detach()
        real, fake = torch.sigmoid(nets.D(mean.detach())), torch.sigmoid(nets.D(fake_mean))
        balance = (torch.log(real) + torch.log(1 - fake)).sum() / n
        if variant.lean_encoder:
            balance = balance + ((mean.detach() - fake_mean).sum(1, keepdim=True) * fake).sum() / n
        expected["D"] = _grad(balance, nets.D, -1)
        encoder_objective = encoder_objective - (fake.detach() * mean).sum() / n
    expected["encoder"] = _grad(encoder_objective, nets.encoder)
    expected["decoder"] = _grad(decoder_objective, nets.decoder)
    return expected


@pytest.mark.parametrize("protocol", ava.PROTOCOLS)
@pytest.mark.parametrize("variant", ava.AVA_VARIANTS)
def test_each_network_gets_the_gradient_of_its_own_objective_only(variant, protocol):
    nets = _nets(variant)
    images, noise = _batch()
    twin = copy.deepcopy(nets)
    state = torch.get_rng_state()
    gradients, *_ = ava.GRADIENTS[protocol](nets, images, noise)
    torch.set_rng_state(state)
    expected = (_expected_exact if protocol == "exact" else _expected_paper)(twin, images, noise)
    assert set(gradients) == set(expected) == set(nets.named())
    for name, values in gradients.items():
        own = list(nets.named()[name].parameters())
        assert len(values) == len(own) and all(v.shape == p.shape for v, p in zip(values, own))
        for value, wanted in zip(values, expected[name]):
            torch.testing.assert_close(value, wanted, rtol=1e-4, atol=1e-6)


def test_the_printed_rules_leave_the_encoder_without_a_reconstruction_signal():
    """Under ``paper`` (eq. 5) the encoder's gradient does not change when the images' pixels
    do, as long as its own outputs (hence the KL) are the same: it never sees x - x'."""
    nets = _nets("AVA1")
    images, noise = _batch()
    first, *_ = ava.paper_gradients(nets, images, noise)
    nets.decoder.net[0].weight.data.mul_(3.0)          # another decoder: other x', same encoder
    second, *_ = ava.paper_gradients(nets, images, noise)
    for a, b in zip(first["encoder"], second["encoder"]):
        torch.testing.assert_close(a, b)
    exact, *_ = ava.exact_gradients(_nets("AVA1"), images, noise)
    assert not all(torch.allclose(a, b) for a, b in zip(first["encoder"], exact["encoder"]))


@pytest.mark.parametrize("lean, plain", [("ava2_exact", "ava1_exact"), ("ava4_exact", "ava3_exact")])
def test_under_exact_the_lean_variants_train_exactly_as_their_plain_twins(lean, plain):
    a = vae_gan.train_model(dataclasses.replace(TOY, model=lean))
    b = vae_gan.train_model(dataclasses.replace(TOY, model=plain))
    z = torch.randn(7, TOY.latent_size, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.decode(z), b.decode(z)) and a.history == b.history


def test_every_model_gets_the_same_number_of_generator_updates():
    updates = {key: vae_gan.train_model(dataclasses.replace(TOY, model=key)).generator_updates
               for key in ("vae", "gan", "zemouri", "ava5_exact", "ava5_paper")}
    assert len(set(updates.values())) == 1 and updates["vae"] > 0


def test_ava_refuses_more_than_one_discriminator_step():
    with pytest.raises(ValueError, match="n_dis=2"):
        dataclasses.replace(TOY, model="ava1_exact", n_dis=2)


def test_a_diverged_run_is_reported_as_diverged_never_as_a_number(monkeypatch):
    calls = {"count": 0}
    real = ava.GRADIENTS["paper"]

    def blow_up(nets, images, noise):
        calls["count"] += 1
        gradients, loss, outputs = real(nets, images, noise)
        return gradients, loss * float("nan") if calls["count"] == 2 else loss, outputs
    monkeypatch.setitem(ava.GRADIENTS, "paper", blow_up)
    judge = DomainClassifierConfig("toy", train_size=None, epochs=1)
    runs, samples, lines = report.run_comparison(["vae", "ava1_paper"], ["toy"], [0], TOY, judge, 32)
    row = runs.set_index("model").loc["AVA1 paper"]
    assert row.diverged_at_step == 1 and pd.isna(row.frechet_distance) and pd.isna(row.precision)
    assert len(samples[("toy", "AVA1 paper")]) == 0 and len(lines[("toy", "AVA1 paper")]) == 0
    table = report.summary(runs)
    assert table.loc[("toy", "AVA1 paper"), "diverged_seeds"] == 1
    assert table.loc[("toy", "AVA1 paper"), ["frechet_distance", "train_seconds"]].isna().all()
    assert table.loc[("toy", "VAE"), "diverged_seeds"] == 0
    assert table.loc[("toy", "VAE"), [m for m in report.METRICS if m != "reconstruction_mse"]].notna().all()



def test_the_ava_claims_and_the_lean_coincidence_end_to_end():
    from avalib.comparison import claims
    judge = DomainClassifierConfig("toy", train_size=None, epochs=1)
    runs, _, _ = report.run_comparison(["vae", "gan", "ava1_exact", "ava3_paper"], ["toy"],
                                       [0, 1], TOY, judge, 32, first_seed_only=["ava2_exact"])
    table, records = claims.ava_table(runs)
    assert len(table) == 2 * len(claims.AVA_TESTS) == len(records)
    assert set(table.model) == {"AVA1 exact", "AVA3 paper"}           # the twin has one seed: not judged
    # AVA shares the VAE's streams seed by seed: values paired; spreads and timings by Welch
    tests = table.set_index("measure").test
    assert tests["frechet_distance"].eq("paired t").all() and tests["reconstruction_mse"].eq("paired t").all()
    assert tests["train_seconds_per_epoch"].eq("Welch t").all()
    same = claims.coincidence(runs, [("AVA2 exact", "AVA1 exact")])
    assert len(same) == 1 and same.identical.all() and (same["largest |difference|"] == 0).all()
    # the discriminators' last-epoch mean outputs: probabilities where the variant has the network
    outputs = runs.set_index("model")[list(ava.OUTPUTS)]
    assert outputs.loc["VAE"].isna().to_numpy().all()
    assert outputs.loc["AVA1 exact", ["D_real", "D_generated"]].isna().to_numpy().all()
    for model, present in (("AVA1 exact", ["d_real", "d_generated"]), ("AVA3 paper", ["D_real", "D_generated"])):
        values = outputs.loc[model, present].to_numpy()
        assert ((values > 0) & (values < 1)).all()
    aspect_table, aspect_claims = claims.aspects(runs)
    assert {"AVA1 exact", "AVA3 paper", "GAN / VAE SD"} <= set(aspect_table.columns)
    assert "AVA2 exact" not in aspect_table.columns       # one seed's value is not a mean over seeds
    frame = claims.verdicts(aspect_claims, claims.inception_table(runs)[1], records)
    assert (frame.paper == claims.NGUYEN).sum() == len(records)


def test_the_sd_ratio_interval_brackets_the_ratio():
    from avalib.comparison import claims
    import numpy as np
    ratio, low, high = claims.sd_ratio_interval(np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 1.5, 2, 2.5, 3]))
    assert ratio == pytest.approx(2.0) and low <= ratio <= high


def test_the_notebook_allows_exactly_the_trainers():
    from avalib import runs
    values = runs.resolve("04_vae_vs_gan", "smoke")
    runs.run_class("04_vae_vs_gan")(**{**values, "models": list(vae_gan.TRAINERS)})
    with pytest.raises(ValueError, match="models="):
        runs.run_class("04_vae_vs_gan")(**{**values, "models": ["ava6_exact"]})
