"""The two-step semi-supervised adversarial VAE of Zemouri (2020), section 3: the steps.

Step 1 (Algorithm 1): the variational encoder-classifier (VEC) trained on L_kl + L_cat (eq. 6).
Step 2 (Algorithm 2): with encoder and classifier frozen, n_dis least-squares discriminator
updates per decoder update, and the decoder trained on L_rec + beta L_adv + gamma L_latent (eq. 8).
The losses are the model's (``avalib.zemouri.model``); each network's update takes the gradient
of its own loss only (``avalib.training.update``), and the frozen encoder and classifier have
``requires_grad=False``.

A beta/gamma sweep shares its start: Algorithm 2 first runs ``warmup_steps`` repeats at
beta = gamma = 0 (decoder, discriminator and their optimisers are cached), then ``step2_steps``
at the setting's beta and gamma. With ``warmup_steps=0`` every setting trains from scratch.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
from dataclasses import dataclass, field, fields

import torch

from avalib.cache import cached
from avalib.data import ImageSet, load_dataset, training_split
from avalib.training import batches, batches_per_epoch, check_finite, in_batches, update
from avalib.zemouri.model import FrozenEncoding, ZemouriModel

# The modules whose code trains a cached step-1 model or warm-up (part of the cache key).
TRAINING_CODE = ("avalib.zemouri.networks", "avalib.zemouri.model", "avalib.zemouri.trainer",
                 "avalib.training", "avalib.latent", "avalib.data")


def _decides(*stages: str, default):
    """A config field whose value decides the models of ``stages`` ("step1": the step-1 encoder
    and classifier, "warmup": the shared beta = gamma = 0 start of step 2); the cache keys of
    those models are built from exactly these fields."""
    return field(default=default, metadata={"decides": stages})


STEP1, WARMUP = ("step1", "warmup"), ("warmup",)


@dataclass(frozen=True)
class ZemouriConfig:
    """Everything that decides a trained model. Widths are ours: the paper gives none."""

    dataset: str = _decides(*STEP1, default="mnist")
    latent_size: int = _decides(*STEP1, default=2)                   # K_z
    beta: float = 0.0                                                # weight of L_adv, eq. 8
    gamma: float = 0.0                                               # weight of L_latent, eq. 8
    alphas: tuple[float, float, float] = _decides(*WARMUP, default=(1.0, 0.1, 0.01))  # eq. 9, 4.3.2
    n_dis: int = _decides(*WARMUP, default=5)  # discriminator updates per decoder update (WGAN's 5)
    train_size: int | None = _decides(*STEP1, default=20_000)        # random training subset (None: all)
    kl_reduction: str = _decides(*STEP1, default="sum")   # over latent units: eq. 4 ("mean": Keras's)
    kl_weight: float = _decides(*STEP1, default=0.5)     # weight of L_kl in eq. 6 (the paper: 1; see 02)
    kl_warmup_epochs: float = _decides(*STEP1, default=0.0)  # the KL weight rises from 0 over these
    step1_epochs: int = _decides(*STEP1, default=8)
    warmup_steps: int = _decides(*WARMUP, default=300)   # Algorithm 2 at beta = gamma = 0, shared
    step2_steps: int = 100                               # Algorithm 2 repeats at (beta, gamma)
    batch_size: int = _decides(*STEP1, default=64)
    learning_rate: float = _decides(*STEP1, default=1e-3)            # Adam, every network
    widths: tuple[int, int, int] = _decides(*STEP1, default=(8, 16, 32))
    hidden: int = _decides(*STEP1, default=128)
    classifier_hidden: int = _decides(*STEP1, default=64)
    seed: int = _decides(*STEP1, default=0)

    def __post_init__(self):
        for name, low in (("latent_size", 1), ("n_dis", 0), ("batch_size", 2), ("step1_epochs", 0),
                          ("warmup_steps", 0), ("step2_steps", 0)):
            if getattr(self, name) < low:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= {low}")
        for name in ("beta", "gamma", "kl_weight", "kl_warmup_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= 0")
        if len(self.alphas) != 3:
            raise ValueError(f"alphas={self.alphas!r}: must be three weights (eq. 9)")
        if self.kl_reduction not in ("mean", "sum"):
            raise ValueError(f"kl_reduction={self.kl_reduction!r}: allowed: 'mean', 'sum'")

    def fields_deciding(self, stage: str) -> dict:
        """The fields that decide the ``stage`` model ("step1" or "warmup"): its cache key."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if stage in f.metadata.get("decides", ())}

    def step1_fields(self) -> dict:
        return self.fields_deciding("step1")

    def warmup_fields(self) -> dict:
        return self.fields_deciding("warmup")


def data_shape(dataset: str) -> tuple[int, int, int]:
    """(channels, size, classes) of a dataset's training split."""
    train = load_dataset(dataset, "train")
    return train.images.shape[1], train.images.shape[-1], int(train.labels.max()) + 1


def build(config: ZemouriConfig) -> ZemouriModel:
    return ZemouriModel.build(config, *data_shape(config.dataset))


def training_images(config: ZemouriConfig) -> ImageSet:
    split = training_split(config.dataset)
    return load_dataset(config.dataset, split).subset(config.train_size, config.seed)


# --- step 1, Algorithm 1 --------------------------------------------------------------------

def algorithm1_iteration(model: ZemouriModel, images: torch.Tensor, labels: torch.Tensor,
                         optimiser: torch.optim.Optimizer, parameters: list,
                         kl_weight: float = 1.0) -> tuple[float, float]:
    """One repeat of Algorithm 1: one update of encoder and classifier on w L_kl + L_cat (eq. 6;
    the paper's w = 1). Returns (L_kl, L_cat)."""
    kl, cat = model.step1_losses(images, labels)
    update(optimiser, check_finite(kl_weight * kl + cat, "step-1 loss w L_kl + L_cat"), parameters)
    return float(kl.detach()), float(cat.detach())


@torch.enable_grad()
def _train_step1(config: ZemouriConfig, score=None, score_at=()) -> dict:
    """Algorithm 1 for ``config.step1_epochs`` epochs; ``score(epoch, model)``, when given, is
    called after each epoch in ``score_at`` (in eval mode; it must not draw random numbers)."""
    model = build(config)
    data = training_images(config)
    generator = torch.Generator().manual_seed(config.seed)
    parameters = [*model.encoder.parameters(), *model.classifier.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=config.learning_rate)
    last = {"kl": [], "cat": []}
    per_epoch = batches_per_epoch(len(data), config.batch_size)
    warmup_steps = config.kl_warmup_epochs * per_epoch
    for step, (epoch, index) in enumerate(batches(len(data), config.batch_size, generator,
                                                  f"step 1 {config.dataset} Kz={config.latent_size}",
                                                  epochs=config.step1_epochs)):
        weight = config.kl_weight * (min(1.0, step / warmup_steps) if warmup_steps else 1.0)
        kl, cat = algorithm1_iteration(model, data.images[index], data.labels[index], optimiser,
                                       parameters, weight)
        if epoch == config.step1_epochs - 1:
            last["kl"].append(kl)
            last["cat"].append(cat)
        if score is not None and (step + 1) % per_epoch == 0 and (step + 1) // per_epoch in score_at:
            _in_eval_mode(model, lambda: score((step + 1) // per_epoch, model))
    return {"encoder": model.encoder.state_dict(), "classifier": model.classifier.state_dict(),
            "last_epoch_kl": sum(last["kl"]) / max(len(last["kl"]), 1),
            "last_epoch_cat": sum(last["cat"]) / max(len(last["cat"]), 1)}


def _in_eval_mode(model: ZemouriModel, call) -> None:
    """``call()`` with every network in eval mode and no gradients, then the modes restored."""
    modes = [network.training for network in model.networks()]
    for network in model.networks():
        network.eval()
    with torch.no_grad():
        call()
    for network, mode in zip(model.networks(), modes):
        network.train(mode)


def step1_curve(config: ZemouriConfig, epochs, score) -> None:
    """Algorithm 1 from scratch (not cached) for max(epochs) epochs, calling ``score(epoch, model)``
    after each of ``epochs``: a learning curve whose epoch-e point is the model
    ``step1_epochs = e`` trains."""
    _train_step1(dataclasses.replace(config, step1_epochs=max(epochs)), score, frozenset(epochs))


def encoder_classifier(config: ZemouriConfig, use_cache: bool = True) -> ZemouriModel:
    """The model with its trained (cached) encoder and classifier, frozen and in eval mode."""
    model = build(config)
    state = cached("zemouri-step1", config.step1_fields(), lambda: _train_step1(config),
                   TRAINING_CODE, use_cache)
    model.encoder.load_state_dict(state["encoder"])
    model.classifier.load_state_dict(state["classifier"])
    for network in (model.encoder, model.classifier):
        network.eval().requires_grad_(False)
    model.history["step1"] = {k: v for k, v in state.items() if k.startswith("last_epoch")}
    return model


# --- step 2, Algorithm 2 --------------------------------------------------------------------

def algorithm2_iteration(model: ZemouriModel, images: torch.Tensor, encoding: FrozenEncoding,
                         batch: torch.Tensor, optimisers: tuple, beta: float, gamma: float,
                         generator: torch.Generator, skip_zero_terms: bool = True) -> dict[str, float]:
    """One repeat of Algorithm 2: n_dis discriminator updates (real then decoded mini-batches,
    each a fresh random draw from ``images``), then one decoder update on the mini-batch
    ``images[batch]``; ``encoding`` holds the frozen encoder's outputs of ``images``. A term of
    eq. 8 whose weight is 0 is computed without its graph (``skip_zero_terms``; the same update).
    Returns the losses."""
    decoder_optimiser, discriminator_optimiser = optimisers
    discriminator_parameters = list(model.discriminator.parameters())
    for _ in range(model.config.n_dis):
        real = images[torch.randint(len(images), (len(batch),), generator=generator)]
        update(discriminator_optimiser, check_finite(model.discriminator_real_loss(real), "L_dis (real)"),
               discriminator_parameters)
        mean, log_variance, _ = encoding[torch.randint(len(images), (len(batch),), generator=generator)]
        update(discriminator_optimiser,
               check_finite(model.discriminator_decoded_loss(mean, log_variance), "L_dis (decoded)"),
               discriminator_parameters)
    rec, adv, lat = model.decoder_losses(images[batch], encoding[batch],
                                         latent_gradient=gamma != 0 or not skip_zero_terms,
                                         adversarial_gradient=beta != 0 or not skip_zero_terms)
    loss = check_finite(rec + beta * adv + gamma * lat, "decoder loss L_rec + beta L_adv + gamma L_latent")
    update(decoder_optimiser, loss, list(model.decoder.parameters()))
    return {"rec": float(rec.detach()), "adv": float(adv.detach()), "latent": float(lat.detach())}


_ENCODINGS: dict[tuple, tuple[torch.Tensor, FrozenEncoding]] = {}


def _frozen_encoding(model: ZemouriModel) -> tuple[torch.Tensor, FrozenEncoding]:
    """The training subset of ``model.config`` and its frozen encoder's outputs, computed once per
    step-1 model and process (every (beta, gamma) of a sweep shares them; the last two kept).
    Keyed by the subset's fields and the encoder's weights themselves: the same config trained
    under other threads or another cache is another encoder."""
    digest = hashlib.sha256()
    for tensor in model.encoder.state_dict().values():
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    key = (tuple(sorted(model.config.step1_fields().items())), digest.hexdigest())
    if key not in _ENCODINGS:
        while len(_ENCODINGS) >= 2:
            _ENCODINGS.pop(next(iter(_ENCODINGS)))
        images = training_images(model.config).images
        _ENCODINGS[key] = images, FrozenEncoding(model.encoder, images)
    return _ENCODINGS[key]


def _run_algorithm2(model: ZemouriModel, optimisers: tuple, steps: int, beta: float, gamma: float,
                    seed: int, label: str, score=None, score_at=()) -> dict[str, float]:
    """``steps`` repeats of Algorithm 2 over shuffled epochs of the training subset; returns the
    mean losses of the last (up to) 50 repeats. ``score(step, model)``, when given, is called
    after each repeat in ``score_at`` (in eval mode; it must not draw random numbers)."""
    images, encoding = _frozen_encoding(model)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)          # the sampling layer's noise: independent of what ran before
    model.decoder.train()
    model.discriminator.train()
    recent: collections.deque[dict[str, float]] = collections.deque(maxlen=50)
    for step, (_, batch) in enumerate(batches(len(images), model.config.batch_size, generator, label,
                                              steps=steps)):
        recent.append(algorithm2_iteration(model, images, encoding, batch, optimisers, beta, gamma,
                                           generator))
        if score is not None and step + 1 in score_at:
            _in_eval_mode(model, lambda: score(step + 1, model))
    return {f"final_{name}": sum(r[name] for r in recent) / len(recent)
            for name in (recent[0] if recent else {})}


def optimisers(model: ZemouriModel) -> tuple:
    """Adam for the decoder and for the discriminator, at the config's learning rate."""
    rate = model.config.learning_rate
    return (torch.optim.Adam(model.decoder.parameters(), lr=rate),
            torch.optim.Adam(model.discriminator.parameters(), lr=rate))


def _networks_state(model: ZemouriModel, pair: tuple) -> dict:
    return {"decoder": model.decoder.state_dict(), "discriminator": model.discriminator.state_dict(),
            "decoder_optimiser": pair[0].state_dict(),
            "discriminator_optimiser": pair[1].state_dict()}


def _warm_up(model: ZemouriModel, config: ZemouriConfig, pair: tuple, use_cache: bool) -> dict:
    """The shared beta = gamma = 0 start of step 2 (cached), loaded into ``model`` and ``pair``."""
    def warm_up() -> dict:
        history = _run_algorithm2(model, pair, config.warmup_steps, 0.0, 0.0, config.seed + 1,
                                  f"step 2 warm-up {config.dataset} Kz={config.latent_size}")
        return {**_networks_state(model, pair), "history": history}

    state = cached("zemouri-warmup", config.warmup_fields(), warm_up, TRAINING_CODE, use_cache)
    model.decoder.load_state_dict(state["decoder"])
    model.discriminator.load_state_dict(state["discriminator"])
    pair[0].load_state_dict(state["decoder_optimiser"])
    pair[1].load_state_dict(state["discriminator_optimiser"])
    return state["history"]


@torch.enable_grad()
def warm_start(config: ZemouriConfig) -> None:
    """Train (or find in the cache) what every (beta, gamma) of ``config``'s dataset, K_z and seed
    starts from: step 1 and the warm-up. A sweep runs these first, so that parallel workers
    never train the same start twice."""
    model = encoder_classifier(config)
    _warm_up(model, config, optimisers(model), True)


@torch.enable_grad()
def _train_step2(model: ZemouriModel, config: ZemouriConfig, use_cache: bool, score=None,
                 score_at=()) -> dict:
    """The warm-up, then ``step2_steps`` repeats of Algorithm 2 at ``config.beta`` and
    ``config.gamma``: the decoder's and discriminator's state, and the losses."""
    pair = optimisers(model)
    warmup = _warm_up(model, config, pair, use_cache)
    step2 = _run_algorithm2(model, pair, config.step2_steps, config.beta, config.gamma, config.seed + 2,
                            f"step 2 {config.dataset} Kz={config.latent_size} beta={config.beta} "
                            f"gamma={config.gamma}", score, score_at)
    return {"decoder": model.decoder.state_dict(), "discriminator": model.discriminator.state_dict(),
            "history": {"warmup": warmup, "step2": step2}}


def step2_curve(config: ZemouriConfig, steps, score) -> None:
    """Step 1 and the warm-up (cached), then max(steps) repeats of Algorithm 2 (not cached),
    calling ``score(step, model)`` after each of ``steps``: a learning curve whose step-s point
    is the model that ``step2_steps = s`` trains."""
    config = dataclasses.replace(config, step2_steps=max(steps))
    _train_step2(encoder_classifier(config), config, True, score, frozenset(steps))


def train(config: ZemouriConfig, use_cache: bool = True) -> ZemouriModel:
    """Step 1 (cached), then step 2 (the shared warm-up and the run at (beta, gamma), cached as
    one unit of work per config, so an interrupted sweep resumes); eval mode."""
    model = encoder_classifier(config, use_cache)
    state = cached("zemouri-step2", dataclasses.asdict(config),
                   lambda: _train_step2(model, config, use_cache), TRAINING_CODE, use_cache)
    model.decoder.load_state_dict(state["decoder"])
    model.discriminator.load_state_dict(state["discriminator"])
    model.history.update(state["history"])
    model.decoder.eval()
    model.discriminator.eval()
    return model


@torch.no_grad()
def reconstruct(model: ZemouriModel, images: torch.Tensor) -> torch.Tensor:
    """Dec(mean of q(z | x)): the deterministic reconstruction used for evaluation."""
    def one(batch):
        return model.decoder(model.encoder(batch)[0])
    return in_batches(one, images)[0]

