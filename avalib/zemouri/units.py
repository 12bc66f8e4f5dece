"""The units of work of notebooks 02 and 03, each cached (``avalib.cache.unit``): step 1 of a
(dataset, K_z, seed), the warm-up that every (beta, gamma) of it shares, and a trained setting.
A unit asks for the one it builds on, so parallel workers never train a shared start twice once
the fan-out has run the starts first (``avalib.zemouri.experiment.sweep``). Each is keyed by
``ZemouriConfig.stage``: the fields that decide it, nothing else."""

from __future__ import annotations

import hashlib

from avalib import cache
from avalib.zemouri import trainer
from avalib.zemouri.model import ZemouriModel
from avalib.zemouri.trainer import ZemouriConfig


def step1(config: ZemouriConfig) -> dict:
    """Unit: Algorithm 1 of ``config`` (``trainer.train_step1``); call with ``config.stage("step1")``."""
    return trainer.train_step1(config)


def encoder_classifier(config: ZemouriConfig) -> ZemouriModel:
    """The model with ``config``'s trained step-1 encoder and classifier, frozen."""
    return trainer.frozen_model(config, cache.unit(step1, config=config.stage("step1")))


_ENCODED: dict = {}


def encoded(model: ZemouriModel):
    """``trainer.frozen_inputs`` of ``model``, kept for the next unit of the same process: every
    (beta, gamma) of one step-1 model encodes the same subset with the same frozen encoder (about
    6 s for 15,000 images on one thread, a third of a 50-iteration setting). Keyed by the step-1
    stage and the encoder's weights themselves, so another encoder is never given these; the last
    two kept. A memo of a deterministic function, not a store: nothing of it outlives the process."""
    digest = hashlib.sha256()
    for tensor in model.encoder.state_dict().values():
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    key = (model.config.stage("step1"), digest.hexdigest())
    if key not in _ENCODED:
        while len(_ENCODED) >= 2:
            _ENCODED.pop(next(iter(_ENCODED)))
        _ENCODED[key] = trainer.frozen_inputs(model)
    return _ENCODED[key]


def warm_start(config: ZemouriConfig) -> dict:
    """Unit: the warm-up of ``config`` from its step 1 (decoder, discriminator, their optimisers,
    the losses); call with ``config.stage("warmup")``."""
    model = encoder_classifier(config)
    pair = trainer.optimisers(model)
    history = trainer.warm_up(model, pair, encoded(model))
    return {**trainer.networks_state(model, pair), "history": history}


def warmed_up(config: ZemouriConfig) -> tuple[ZemouriModel, tuple]:
    """``config``'s step-1 model with its warmed-up decoder and discriminator, and their optimisers."""
    model = encoder_classifier(config)
    pair = trainer.optimisers(model)
    state = cache.unit(warm_start, config=config.stage("warmup"))
    trainer.load_networks(model, state, pair)
    model.history["warmup"] = state["history"]
    return model, pair


def setting(config: ZemouriConfig) -> dict:
    """Unit: step 2 of ``config`` at its beta and gamma from the shared warm-up."""
    model, pair = warmed_up(config)
    return {**trainer.networks_state(model),
            "step2": trainer.step2(model, pair, encoded=encoded(model)).losses()}


def trained(config: ZemouriConfig) -> ZemouriModel:
    """The trained model of ``config`` (both steps), in eval mode."""
    state = cache.unit(setting, config=config)
    model = encoder_classifier(config)
    trainer.load_networks(model, state)
    model.history["step2"] = state["step2"]
    return trainer.in_eval_mode(model)
