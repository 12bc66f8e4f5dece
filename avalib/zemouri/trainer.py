"""The two-step semi-supervised adversarial VAE of Zemouri (2020), section 3: the steps.

Step 1 (Algorithm 1): the variational encoder-classifier (VEC) trained on L_kl + L_cat (eq. 6).
Step 2 (Algorithm 2): with encoder and classifier frozen, n_dis least-squares discriminator
updates per decoder update, and the decoder trained on L_rec + beta L_adv + gamma L_latent (eq. 8).
The losses are the model's (``avalib.zemouri.model``); each network's update takes the gradient
of its own loss only (``avalib.training.update``), and the frozen encoder and classifier have
``requires_grad=False``.

A beta/gamma sweep shares its start: Algorithm 2 first runs ``warmup_steps`` iterations at
beta = gamma = 0, then ``step2_steps`` at the setting's beta and gamma. With ``warmup_steps=0``
every setting trains from scratch.

Every function here is a pure function of its config and inputs: the stages return their state
(state dicts and losses), and ``Algorithm1`` / ``Algorithm2`` are runs that can be advanced and
read between advances (a learning curve is a loop over them). What is stored, and shared between
settings, is decided by the units of work (``avalib.zemouri.units``).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
from dataclasses import dataclass, field, fields

import torch

from avalib import kernels

from avalib.data import ImageSet, load_dataset, training_split
from avalib.device import check_device
from avalib.training import batches_per_epoch, check_finite, endless_minibatches, in_batches, progress, update
from avalib.zemouri.model import FrozenEncoding, ZemouriModel


def _decides(*stages: str, default):
    """A config field whose value decides the models of ``stages`` ("step1": the step-1 encoder
    and classifier, "warmup": the shared beta = gamma = 0 start of step 2): the settings that
    agree on these fields share that stage (``ZemouriConfig.stage``)."""
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
    warmup_steps: int = _decides(*WARMUP, default=300)   # Algorithm 2 iterations at beta = gamma = 0
    step2_steps: int = 100                               # Algorithm 2 iterations at (beta, gamma)
    batch_size: int = _decides(*STEP1, default=64)
    learning_rate: float = _decides(*STEP1, default=1e-3)            # Adam, every network
    widths: tuple[int, int, int] = _decides(*STEP1, default=(8, 16, 32))
    hidden: int = _decides(*STEP1, default=128)
    classifier_hidden: int = _decides(*STEP1, default=64)
    seed: int = _decides(*STEP1, default=0)
    device: str = _decides(*STEP1, default="cpu")        # where it trains (random streams: the CPU)

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
        check_device(self.device)

    def stage(self, stage: str) -> "ZemouriConfig":
        """This config with every field that does not decide ``stage`` ("step1" or "warmup") at
        its default: the same for every setting that shares that stage."""
        return dataclasses.replace(self, **{f.name: f.default for f in fields(self)
                                            if stage not in f.metadata.get("decides", ())})


def data_shape(dataset: str) -> tuple[int, int, int]:
    """(channels, size, classes) of a dataset's training split."""
    train = load_dataset(dataset, "train")
    return train.images.shape[1], train.images.shape[-1], int(train.labels.max()) + 1


def build(config: ZemouriConfig) -> ZemouriModel:
    """Fresh networks for ``config`` (seeded by its seed), on its device."""
    return ZemouriModel.build(config, *data_shape(config.dataset)).to(device=config.device)


def training_images(config: ZemouriConfig) -> ImageSet:
    """The training subset of ``config`` (on the CPU)."""
    split = training_split(config.dataset)
    return load_dataset(config.dataset, split).subset(config.train_size, config.seed)


# --- step 1, Algorithm 1 --------------------------------------------------------------------

def algorithm1_iteration(model: ZemouriModel, images: torch.Tensor, labels: torch.Tensor,
                         optimiser: torch.optim.Optimizer, parameters: list,
                         kl_weight: float = 1.0) -> tuple[float, float]:
    """One iteration of Algorithm 1: one update of encoder and classifier on w L_kl + L_cat
    (eq. 6; the paper's w = 1). Returns (L_kl, L_cat)."""
    kl, cat = model.step1_losses(images, labels)
    update(optimiser, check_finite(kl_weight * kl + cat, "step-1 loss w L_kl + L_cat"), parameters)
    return float(kl.detach()), float(cat.detach())


class Algorithm1:
    """Algorithm 1 on ``config``'s training subset, run epoch by epoch (``advance``); the model
    after e epochs is the one ``step1_epochs = e`` trains."""

    def __init__(self, config: ZemouriConfig):
        self.config, self.model = config, build(config)
        data = training_images(config)
        self.images, self.labels = data.images.to(config.device), data.labels.to(config.device)
        self.parameters = [*self.model.encoder.parameters(), *self.model.classifier.parameters()]
        self.optimiser = kernels.adam(self.parameters, config.learning_rate)
        self.per_epoch = batches_per_epoch(len(data), config.batch_size)
        self.order = endless_minibatches(len(data), config.batch_size,
                                         torch.Generator().manual_seed(config.seed))
        self.step = self.epochs = 0
        self.last_epoch = {"kl": [], "cat": []}

    @torch.enable_grad()
    def advance(self, epochs: int) -> "Algorithm1":
        """Train on until ``epochs`` epochs are done in all."""
        config, warmup_steps = self.config, self.config.kl_warmup_epochs * self.per_epoch
        self.model.encoder.train()
        self.model.classifier.train()
        with progress((epochs - self.epochs) * self.per_epoch,
                      f"step 1 {config.dataset} Kz={config.latent_size}") as bar:
            while self.epochs < epochs:
                self.last_epoch = {"kl": [], "cat": []}
                for index in itertools.islice(self.order, self.per_epoch):
                    weight = config.kl_weight * (min(1.0, self.step / warmup_steps) if warmup_steps else 1.0)
                    kl, cat = algorithm1_iteration(self.model, self.images[index], self.labels[index],
                                                   self.optimiser, self.parameters, weight)
                    self.last_epoch["kl"].append(kl)
                    self.last_epoch["cat"].append(cat)
                    self.step += 1
                    bar.update()
                self.epochs += 1
        return self

    def state(self) -> dict:
        """The encoder's and classifier's weights and the last epoch's mean losses."""
        return {"encoder": self.model.encoder.state_dict(), "classifier": self.model.classifier.state_dict(),
                **{f"last_epoch_{name}": sum(v) / max(len(v), 1) for name, v in self.last_epoch.items()}}


def train_step1(config: ZemouriConfig) -> dict:
    """Algorithm 1 for ``config.step1_epochs`` epochs: ``Algorithm1.state``."""
    return Algorithm1(config).advance(config.step1_epochs).state()


def frozen_model(config: ZemouriConfig, step1: dict) -> ZemouriModel:
    """The model with the step-1 encoder and classifier of ``step1`` (``train_step1``), frozen and
    in eval mode; decoder and discriminator fresh."""
    model = build(config)
    model.encoder.load_state_dict(step1["encoder"])
    model.classifier.load_state_dict(step1["classifier"])
    for network in (model.encoder, model.classifier):
        network.eval().requires_grad_(False)
    model.history["step1"] = {k: v for k, v in step1.items() if k.startswith("last_epoch")}
    return model


# --- step 2, Algorithm 2 --------------------------------------------------------------------

def algorithm2_iteration(model: ZemouriModel, images: torch.Tensor, encoding: FrozenEncoding,
                         batch: torch.Tensor, optimisers: tuple, beta: float, gamma: float,
                         generator: torch.Generator, skip_zero_terms: bool = True) -> dict[str, float]:
    """One iteration of Algorithm 2: n_dis discriminator updates (real then decoded mini-batches,
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


def optimisers(model: ZemouriModel) -> tuple:
    """Adam for the decoder and for the discriminator, at the config's learning rate."""
    rate = model.config.learning_rate
    return (kernels.adam(model.decoder.parameters(), rate),
            kernels.adam(model.discriminator.parameters(), rate))


def frozen_inputs(model: ZemouriModel) -> tuple[torch.Tensor, FrozenEncoding]:
    """The training subset of ``model.config`` on its device, and the frozen encoder's outputs of it."""
    images = training_images(model.config).images.to(model.config.device)
    return images, FrozenEncoding(model.encoder, images)


class Algorithm2:
    """Algorithm 2 at (``beta``, ``gamma``) on ``model``'s training subset from the decoder,
    discriminator and ``pair`` of optimisers as they are, its random streams seeded by ``seed``;
    run iteration by iteration (``advance``): the model after s iterations is the one
    ``step2_steps = s`` trains. ``losses()``: the mean losses of the last (up to) 50. ``encoded``:
    the training subset and its ``FrozenEncoding`` when the caller has them (``frozen_inputs``)."""

    def __init__(self, model: ZemouriModel, pair: tuple, beta: float, gamma: float, seed: int,
                 label: str, encoded: tuple[torch.Tensor, FrozenEncoding] | None = None):
        self.model, self.pair, self.beta, self.gamma, self.label = model, pair, beta, gamma, label
        self.images, self.encoding = encoded or frozen_inputs(model)
        self.generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)      # the sampling layer's noise: independent of what ran before
        self.order = endless_minibatches(len(self.images), model.config.batch_size, self.generator)
        self.steps = 0
        self.recent: collections.deque[dict[str, float]] = collections.deque(maxlen=50)

    @torch.enable_grad()
    def advance(self, steps: int) -> "Algorithm2":
        """Train on until ``steps`` iterations are done in all."""
        self.model.decoder.train()
        self.model.discriminator.train()
        with progress(steps - self.steps, self.label) as bar:
            for batch in itertools.islice(self.order, max(steps - self.steps, 0)):
                self.recent.append(algorithm2_iteration(self.model, self.images, self.encoding, batch,
                                                        self.pair, self.beta, self.gamma, self.generator))
                self.steps += 1
                bar.update()
        return self

    def losses(self) -> dict[str, float]:
        return {f"final_{name}": sum(r[name] for r in self.recent) / len(self.recent)
                for name in (self.recent[0] if self.recent else {})}


def networks_state(model: ZemouriModel, pair: tuple | None = None) -> dict:
    """Decoder and discriminator weights (and their optimisers' state, given ``pair``)."""
    state = {"decoder": model.decoder.state_dict(), "discriminator": model.discriminator.state_dict()}
    if pair is not None:
        state |= {"decoder_optimiser": pair[0].state_dict(), "discriminator_optimiser": pair[1].state_dict()}
    return state


def load_networks(model: ZemouriModel, state: dict, pair: tuple | None = None) -> None:
    """``networks_state`` loaded back into ``model`` (and ``pair``)."""
    model.decoder.load_state_dict(state["decoder"])
    model.discriminator.load_state_dict(state["discriminator"])
    if pair is not None:
        pair[0].load_state_dict(state["decoder_optimiser"])
        pair[1].load_state_dict(state["discriminator_optimiser"])


def warm_up(model: ZemouriModel, pair: tuple, encoded=None) -> dict:
    """The shared beta = gamma = 0 start of step 2 (``warmup_steps`` iterations) on ``model``
    and ``pair`` in place; returns its losses."""
    config = model.config
    return Algorithm2(model, pair, 0.0, 0.0, config.seed + 1,
                      f"step 2 warm-up {config.dataset} Kz={config.latent_size}", encoded
                      ).advance(config.warmup_steps).losses()


def step2(model: ZemouriModel, pair: tuple, steps: int | None = None, encoded=None) -> Algorithm2:
    """Algorithm 2 at the config's beta and gamma from the warmed-up ``model`` and ``pair``,
    advanced ``steps`` iterations (``step2_steps`` when not given)."""
    config = model.config
    run = Algorithm2(model, pair, config.beta, config.gamma, config.seed + 2,
                     f"step 2 {config.dataset} Kz={config.latent_size} beta={config.beta} "
                     f"gamma={config.gamma}", encoded)
    return run.advance(config.step2_steps if steps is None else steps)


def in_eval_mode(model: ZemouriModel) -> ZemouriModel:
    model.decoder.eval()
    model.discriminator.eval()
    return model


def train(config: ZemouriConfig) -> ZemouriModel:
    """Both steps of ``config`` from scratch, nothing stored: step 1, the warm-up, step 2; eval mode."""
    model = frozen_model(config, train_step1(config))
    pair, encoded = optimisers(model), frozen_inputs(model)
    warmup = warm_up(model, pair, encoded)
    model.history.update({"warmup": warmup, "step2": step2(model, pair, encoded=encoded).losses()})
    return in_eval_mode(model)


@torch.no_grad()
def reconstruct(model: ZemouriModel, images: torch.Tensor) -> torch.Tensor:
    """Dec(mean of q(z | x)): the deterministic reconstruction used for evaluation (on the CPU)."""
    def one(batch):
        return model.decoder(model.encoder(batch)[0])
    return in_batches(one, images, device=model.config.device)[0]
