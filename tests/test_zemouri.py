"""The losses of Zemouri (2020) eqs. 4-11 and the two-step trainer's gradient separation."""

import dataclasses

import pytest
import torch

from avalib.zemouri import trainer as zemouri, units
from avalib.zemouri.model import (FrozenEncoding, adversarial_loss, discriminator_loss,
                                  feature_reconstruction_loss, kl_loss, latent_loss)
from avalib.zemouri.trainer import ZemouriConfig

TOY = ZemouriConfig(dataset="toy", latent_size=3, train_size=None, step1_epochs=1, warmup_steps=2,
                    step2_steps=2, batch_size=16, widths=(2, 3, 4), hidden=8, classifier_hidden=8)


def test_adversarial_loss_is_zero_when_reconstructions_equal_inputs():
    discriminator = zemouri.build(TOY).discriminator
    images = torch.rand(5, 1, 8, 8)
    assert adversarial_loss(discriminator(images), discriminator(images.clone())).item() == 0.0
    assert adversarial_loss(torch.tensor([1.0, -1.0]), torch.tensor([0.0, 0.0])).item() == 1.0


def test_feature_loss_is_weighted_mean_squared_error():
    real = [torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3)]
    decoded = [torch.ones(2, 3), 2 * torch.ones(2, 3), 3 * torch.ones(2, 3)]
    assert feature_reconstruction_loss(real, real, (1, 0.1, 0.01)).item() == 0.0
    assert feature_reconstruction_loss(real, decoded, (1, 0.1, 0.01)).item() == pytest.approx(1 + 0.4 + 0.09)


def test_latent_loss_sums_squared_probability_differences():
    a = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    assert latent_loss(a, a).item() == 0.0
    assert latent_loss(a, a.flip(1)).item() == pytest.approx((2 + 0) / 2)


def test_kl_is_zero_at_the_prior_and_mean_is_sum_over_units():
    mean, log_variance = torch.zeros(4, 6), torch.zeros(4, 6)
    assert kl_loss(mean, log_variance).item() == 0.0
    mean = torch.ones(4, 6)
    assert kl_loss(mean, log_variance, "sum").item() == pytest.approx(3.0)
    assert kl_loss(mean, log_variance, "mean").item() == pytest.approx(0.5)


def test_discriminator_targets_are_plus_and_minus_one():
    assert discriminator_loss(torch.ones(3), 1.0).item() == 0.0
    assert discriminator_loss(-torch.ones(3), -1.0).item() == 0.0
    assert discriminator_loss(torch.zeros(3), -1.0).item() == 1.0


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="kl_reduction"):
        ZemouriConfig(kl_reduction="max")
    with pytest.raises(ValueError):
        ZemouriConfig(beta=-1.0)


def snapshot(network):
    return [p.detach().clone() for p in network.parameters()]


def changed(before, network):
    return any(not torch.equal(a, b) for a, b in zip(before, network.parameters()))


def test_step2_leaves_the_frozen_networks_untouched_and_without_gradients():
    model = units.encoder_classifier(TOY)
    encoder, classifier = snapshot(model.encoder), snapshot(model.classifier)
    decoder, discriminator = snapshot(model.decoder), snapshot(model.discriminator)
    images = zemouri.training_images(TOY).images
    optimisers = zemouri.optimisers(model)
    zemouri.algorithm2_iteration(model, images, FrozenEncoding(model.encoder, images), torch.arange(16), optimisers, beta=0.5, gamma=0.1,
                                 generator=torch.Generator().manual_seed(0))
    assert not changed(encoder, model.encoder) and not changed(classifier, model.classifier)
    assert all(p.grad is None for p in [*model.encoder.parameters(), *model.classifier.parameters()])
    assert changed(decoder, model.decoder) and changed(discriminator, model.discriminator)


def test_precomputed_encoding_equals_encoding_each_batch():
    model = units.encoder_classifier(TOY)
    images = zemouri.training_images(TOY).images
    index = torch.tensor([3, 0, 7])
    once, each = FrozenEncoding(model.encoder, images)[index], FrozenEncoding(model.encoder, images, False)[index]
    for a, b in zip([*once[:2], *once[2]], [*each[:2], *each[2]]):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("beta, gamma", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.3)])
def test_a_zero_weighted_term_computed_without_its_graph_gives_the_same_decoder_gradient(beta, gamma):
    """decoder_losses(..., latent_gradient=gamma != 0, adversarial_gradient=beta != 0) is what the
    trainer calls: the decoder's gradient of eq. 8 must equal the one through every term's graph."""
    model = units.encoder_classifier(TOY)
    images = zemouri.training_images(TOY).images[:16]
    encoding = FrozenEncoding(model.encoder, images)[torch.arange(16)]
    gradients = []
    for shortcut in (False, True):
        torch.manual_seed(5)
        rec, adv, lat = model.decoder_losses(images, encoding, latent_gradient=not shortcut or gamma != 0,
                                             adversarial_gradient=not shortcut or beta != 0)
        gradients.append(torch.autograd.grad(rec + beta * adv + gamma * lat,
                                             list(model.decoder.parameters())))
    for full, short in zip(*gradients):
        assert torch.equal(full, short)


def test_decoder_update_does_not_move_the_discriminator():
    model = units.encoder_classifier(dataclasses.replace(TOY, n_dis=0))
    discriminator = snapshot(model.discriminator)
    images = zemouri.training_images(TOY).images
    zemouri.algorithm2_iteration(model, images, FrozenEncoding(model.encoder, images), torch.arange(16), zemouri.optimisers(model),
                                 beta=1.0, gamma=1.0, generator=torch.Generator().manual_seed(0))
    assert not changed(discriminator, model.discriminator)


def test_training_is_repeatable_and_step1_comes_from_the_cache(monkeypatch):
    images = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    first = zemouri.reconstruct(units.trained(TOY), images)

    def refuse(config):
        raise AssertionError("step 1 retrained although it is cached")
    monkeypatch.setattr(zemouri, "train_step1", refuse)
    assert torch.equal(first, zemouri.reconstruct(units.trained(TOY), images))


def test_a_finished_setting_is_a_cached_unit_equal_to_training_it_afresh(monkeypatch):
    images = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    config = dataclasses.replace(TOY, beta=0.1, gamma=0.1)
    fresh = zemouri.reconstruct(zemouri.train(config), images)
    stored = zemouri.reconstruct(units.trained(config), images)

    def refuse(*args, **kwargs):
        raise AssertionError("step 2 retrained although it is cached")
    monkeypatch.setattr(zemouri, "step2", refuse)
    monkeypatch.setattr(zemouri, "warm_up", refuse)
    resumed = units.trained(config)
    assert torch.equal(fresh, stored) and torch.equal(stored, zemouri.reconstruct(resumed, images))
    assert set(resumed.history) == {"step1", "step2"}


def test_learning_curves_advance_one_run_whose_points_equal_shorter_runs():
    """Algorithm 1 advanced to 1 then 2 epochs is the model step1_epochs = 2 trains; Algorithm 2
    advanced to 1 then 3 iterations is the model step2_steps = 3 trains."""
    two = zemouri.train_step1(dataclasses.replace(TOY, step1_epochs=2))
    run = zemouri.Algorithm1(TOY).advance(1)          # (the sampling layer draws from the global
    for name, tensor in run.advance(2).state()["encoder"].items():      # stream: nothing between)
        assert torch.equal(tensor, two["encoder"][name])
    config = dataclasses.replace(TOY, beta=0.1, step2_steps=3)
    model, pair = units.warmed_up(config)
    curve = zemouri.step2(model, pair, steps=1).advance(3).model
    whole = zemouri.train(config)
    for a, b in zip(curve.decoder.parameters(), whole.decoder.parameters()):
        assert torch.equal(a, b)


def test_nan_loss_is_an_error_not_a_result():
    model = units.encoder_classifier(TOY)
    images = zemouri.training_images(TOY).images.clone()
    images[0, 0, 0, 0] = float("nan")
    with pytest.raises(FloatingPointError):
        zemouri.algorithm2_iteration(model, images, FrozenEncoding(model.encoder, images), torch.arange(16), zemouri.optimisers(model),
                                     0.1, 0.1, torch.Generator().manual_seed(0))


def test_a_learning_curve_that_diverges_records_where_and_keeps_its_earlier_points(monkeypatch):
    """A step-1 run whose loss stops being finite mid-curve: the epochs before keep their scores,
    the later ones hold NaN and the 1-based iteration and the epoch it diverged in, and the note
    says so; a curve that does not diverge has no note."""
    from avalib.zemouri import experiment
    whole = experiment.step1_learning_curve(TOY, (1, 2, 3), None)
    assert whole["diverged_at_iteration"].isna().all() and experiment.divergence_note(whole) == ""
    per_epoch, calls, iteration = zemouri.Algorithm1(TOY).per_epoch, [], zemouri.algorithm1_iteration

    def fails_in_epoch_2(*arguments, **keywords):
        calls.append(1)
        if len(calls) == per_epoch + 2:
            raise FloatingPointError("step-1 loss w L_kl + L_cat is not finite ([nan])")
        return iteration(*arguments, **keywords)

    monkeypatch.setattr(zemouri, "algorithm1_iteration", fails_in_epoch_2)
    curve = experiment.step1_learning_curve(TOY, (1, 2, 3), None)
    assert curve.loc[0, experiment.STEP1_SCORES].tolist() == whole.loc[0, experiment.STEP1_SCORES].tolist()
    assert curve.loc[1:, list(experiment.STEP1_SCORES)].isna().all().all()
    assert curve["diverged_at_iteration"].tolist()[1:] == [per_epoch + 2] * 2
    assert curve["diverged_in_epoch"].tolist()[1:] == [2, 2]
    assert f"iteration {per_epoch + 2} (epoch 2)" in experiment.divergence_note(curve)


def test_each_stage_is_keyed_by_the_fields_that_decide_it():
    """Step 1 depends on the data, the networks, its own schedule and the device; the warm-up adds
    the step-2 settings it trains with; beta, gamma and step2_steps decide neither (a sweep shares
    both)."""
    config = ZemouriConfig(dataset="fashion_mnist", beta=0.5, gamma=0.1, step2_steps=7, n_dis=2)
    default = ZemouriConfig()
    changed = lambda stage: {f.name for f in dataclasses.fields(config)
                             if getattr(config.stage(stage), f.name) != getattr(default, f.name)}
    assert changed("step1") == {"dataset"} and changed("warmup") == {"dataset", "n_dis"}
    assert config.stage("warmup") == dataclasses.replace(config, beta=0.0, gamma=0.3, step2_steps=1).stage("warmup")
    deciding = {f.name for f in dataclasses.fields(ZemouriConfig) if "step1" in f.metadata.get("decides", ())}
    assert deciding == {"dataset", "latent_size", "train_size", "kl_reduction", "kl_weight",
                        "kl_warmup_epochs", "step1_epochs", "batch_size", "learning_rate", "widths",
                        "hidden", "classifier_hidden", "seed", "device"}


def test_bad_settings_name_the_parameter():
    with pytest.raises(ValueError, match="step1_epochs=-3"):
        ZemouriConfig(step1_epochs=-3)
    with pytest.raises(ValueError, match="beta=-0.1"):
        ZemouriConfig(beta=-0.1)


def test_the_kl_weight_and_its_warm_up_enter_step_1(monkeypatch):
    weights = []
    original = zemouri.algorithm1_iteration

    def spy(*args):
        weights.append(args[-1])
        return original(*args)
    monkeypatch.setattr(zemouri, "algorithm1_iteration", spy)
    zemouri.train_step1(dataclasses.replace(TOY, kl_weight=0.5, kl_warmup_epochs=1.0, step1_epochs=2))
    assert weights[0] == 0.0 and weights[2] == pytest.approx(0.5 * 2 / 4)    # 4 batches per epoch
    assert weights[4:] == [0.5] * 4
    with pytest.raises(ValueError, match="kl_weight=-1"):
        dataclasses.replace(TOY, kl_weight=-1)


def test_the_sweep_spends_seeds_where_the_claims_are():
    """The first seed trains the whole grid (the figures); the other seeds the settings a claim
    uses; the focus of the beta claims (MNIST, K_z = 2, gamma = 0) gets its extra seeds and is
    trained again at each extra n_dis and budget."""
    from avalib.zemouri.experiment import sweep_settings
    base = ZemouriConfig(n_dis=5, step2_steps=100)
    settings = sweep_settings(base, ["mnist", "omniglot_alphabets"], [2, 100], [0.0, 0.01, 0.1],
                              [0.0, 0.1], [0, 1], focus_seeds=[2], focus_n_dis=[1],
                              focus_step2_steps=[400])
    assert len(settings) == len(set(settings))
    keys = {(c.dataset, c.latent_size, c.gamma, c.beta, c.seed, c.n_dis, c.step2_steps) for c in settings}
    assert ("omniglot_alphabets", 100, 0.1, 0.01, 0, 5, 100) in keys          # figures: seed 0 only
    assert ("omniglot_alphabets", 100, 0.1, 0.01, 1, 5, 100) not in keys
    assert ("omniglot_alphabets", 100, 0.1, 0.1, 1, 5, 100) in keys           # claim C
    assert ("omniglot_alphabets", 100, 0.0, 0.01, 1, 5, 100) not in keys     # no claim uses it
    assert ("omniglot_alphabets", 100, 0.0, 0.0, 1, 5, 100) in keys           # claims A, D
    assert ("mnist", 2, 0.0, 0.01, 1, 5, 100) in keys                          # the focus (B)
    assert ("mnist", 2, 0.0, 0.01, 2, 5, 100) in keys                          # focus seed
    assert ("mnist", 100, 0.0, 0.01, 2, 5, 100) not in keys
    assert {(n, t) for (d, k, g, b, s, n, t) in keys} == {(5, 100), (1, 100), (5, 400)}
    assert all((d, k, g) == ("mnist", 2, 0.0) for (d, k, g, b, s, n, t) in keys if (n, t) != (5, 100))
    assert len([key for key in keys if key[5:] == (1, 100)]) == 3 * 3          # 3 betas x 3 seeds
    across = sweep_settings(base, ["mnist", "omniglot_alphabets"], [2, 100], [0.0, 0.01, 0.1], [0.0, 0.1],
                            [0, 1], letters=("A", "C", "D"))                   # notebook 03's claims
    assert ("mnist", 2, 0.0, 0.01, 1) not in {(c.dataset, c.latent_size, c.gamma, c.beta, c.seed) for c in across}
    assert {c.seed for c in across if (c.dataset, c.latent_size, c.beta) == ("mnist", 2, 0.0)} == {0, 1}


def test_the_frozen_encoding_follows_the_encoder_not_only_its_config():
    """The same config trained another way (other threads, another cache) is another encoder:
    the encoding kept for the next unit must not be reused for it."""
    model = units.encoder_classifier(TOY)
    _, first = units.encoded(model)
    assert units.encoded(model)[1] is first                       # the next setting reuses it
    with torch.no_grad():
        next(model.encoder.parameters()).add_(0.5)
    _, second = units.encoded(model)
    assert second is not first and not torch.equal(first.outputs[0], second.outputs[0])
