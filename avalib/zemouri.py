"""The two-step semi-supervised adversarial VAE of Zemouri (2020), section 3.

Step 1 (Algorithm 1): the variational encoder-classifier (VEC) trained on L_kl + L_cat (eq. 6).
Step 2 (Algorithm 2): with encoder and classifier frozen, n_dis least-squares discriminator
updates per decoder update, and the decoder trained on L_rec + beta L_adv + gamma L_latent (eq. 8).

Each network's gradient stays its own: the discriminator loss is differentiated with respect to
the discriminator only, the decoder loss with respect to the decoder only
(``torch.autograd.grad``), and the frozen encoder and classifier have ``requires_grad=False``.

A beta/gamma sweep shares its start: Algorithm 2 first runs ``warmup_steps`` repeats at
beta = gamma = 0 (decoder, discriminator and their optimisers are cached), then ``step2_steps``
at the setting's beta and gamma. With ``warmup_steps=0`` every setting trains from scratch.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from avalib.cache import cached
from avalib.data import ImageSet, load_dataset
from avalib.nets import (ZemouriClassifier, ZemouriDecoder, ZemouriDiscriminator, ZemouriEncoder,
                         reparameterise)
from avalib.training import check_finite, in_batches, minibatches, progress


@dataclass(frozen=True)
class ZemouriConfig:
    """Everything that decides a trained model. Widths are ours: the paper gives none."""

    dataset: str = "mnist"
    latent_size: int = 2                       # K_z
    beta: float = 0.0                          # weight of L_adv, eq. 8
    gamma: float = 0.0                         # weight of L_latent, eq. 8
    alphas: tuple[float, float, float] = (1.0, 0.1, 0.01)   # eq. 9, section 4.3.2
    n_dis: int = 1                             # discriminator updates per decoder update
    train_size: int | None = 20_000            # random training subset (None: all)
    kl_reduction: str = "mean"                 # over latent units; "sum" is eq. 4 read literally
    step1_epochs: int = 8
    warmup_steps: int = 300                    # Algorithm 2 at beta = gamma = 0, shared by a sweep
    step2_steps: int = 100                     # Algorithm 2 repeats at (beta, gamma)
    batch_size: int = 64
    learning_rate: float = 1e-3                # Adam, every network
    widths: tuple[int, int, int] = (8, 16, 32)
    hidden: int = 128
    classifier_hidden: int = 64
    seed: int = 0

    def __post_init__(self):
        if self.latent_size < 1 or self.n_dis < 0 or self.batch_size < 2:
            raise ValueError(f"bad config: latent_size >= 1, n_dis >= 0, batch_size >= 2 ({self})")
        if self.beta < 0 or self.gamma < 0 or len(self.alphas) != 3:
            raise ValueError(f"bad config: beta, gamma >= 0 and three alphas ({self})")
        if self.kl_reduction not in ("mean", "sum"):
            raise ValueError(f"kl_reduction must be 'mean' or 'sum', not {self.kl_reduction!r}")

    def step1_fields(self) -> dict:
        keep = ("dataset", "latent_size", "train_size", "kl_reduction", "step1_epochs", "batch_size",
                "learning_rate", "widths", "hidden", "classifier_hidden", "seed")
        return {name: getattr(self, name) for name in keep}

    def warmup_fields(self) -> dict:
        return {**self.step1_fields(), "alphas": self.alphas, "n_dis": self.n_dis,
                "warmup_steps": self.warmup_steps}


# --- losses, eqs. 4, 7, 9, 10, 11 --------------------------------------------------------------

def kl_loss(mean: torch.Tensor, log_variance: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """L_kl, eq. 4: D_kl(N(mean, exp(log_variance)) || N(0, I)) averaged over the batch, summed
    over latent units (``"sum"``, the equation) or averaged over them (``"mean"``, Keras's
    ``K.mean`` convention). Our interpretation: with the sum, L_kl + L_cat is minimised by a
    collapsed encoder (encoding the class costs at least as many nats of KL as it saves in
    cross-entropy), which we measured; the paper's clustered latents need the lighter mean."""
    per_unit = 0.5 * (mean.pow(2) + log_variance.exp() - log_variance - 1)
    return (per_unit.sum(dim=1) if reduction == "sum" else per_unit.mean(dim=1)).mean()


def categorical_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_cat, eq. 7: -E[y log Class(z)], the cross-entropy of the softmax of ``logits``."""
    return F.cross_entropy(logits, labels)


def feature_reconstruction_loss(real: list[torch.Tensor], decoded: list[torch.Tensor],
                                alphas) -> torch.Tensor:
    """L_rec, eq. 9: sum_i alpha_i E[||phi_i(X) - phi_i(X^)||^2], with the squared norm averaged
    over feature elements (the Keras ``mse`` of the DFC-VAE code the paper follows)."""
    return sum(alpha * (a - b).pow(2).mean() for alpha, a, b in zip(alphas, real, decoded))


def adversarial_loss(score_real: torch.Tensor, score_decoded: torch.Tensor) -> torch.Tensor:
    """L_adv, eq. 10: E[(Dis(X) - Dis(X^))^2]; zero when reconstructions equal inputs."""
    return (score_real - score_decoded).pow(2).mean()


def latent_loss(class_real: torch.Tensor, class_decoded: torch.Tensor) -> torch.Tensor:
    """L_latent, eq. 11: E[||Class(Z) - Class(Z^)||^2] between softmax outputs."""
    return (class_real - class_decoded).pow(2).sum(dim=1).mean()


def discriminator_loss(scores: torch.Tensor, target: float) -> torch.Tensor:
    """L_dis of Algorithm 2: E[(G - Dis(X))^2] with G = +1 for real and -1 for decoded images."""
    return (target - scores).pow(2).mean()


# --- the networks of one run ------------------------------------------------------------------

@dataclass
class ZemouriModel:
    config: ZemouriConfig
    encoder: ZemouriEncoder
    classifier: ZemouriClassifier
    decoder: ZemouriDecoder
    discriminator: ZemouriDiscriminator
    history: dict = field(default_factory=dict)


def _shape(dataset: str) -> tuple[int, int, int]:
    train = load_dataset(dataset, "train")
    return train.images.shape[1], train.images.shape[-1], int(train.labels.max()) + 1


def build(config: ZemouriConfig) -> ZemouriModel:
    channels, size, classes = _shape(config.dataset)
    torch.manual_seed(config.seed)
    return ZemouriModel(
        config,
        ZemouriEncoder(channels, size, config.latent_size, config.widths, config.hidden),
        ZemouriClassifier(config.latent_size, classes, config.classifier_hidden),
        ZemouriDecoder(channels, size, config.latent_size, config.widths, config.hidden),
        ZemouriDiscriminator(channels, size, config.widths, config.hidden))


def training_images(config: ZemouriConfig) -> ImageSet:
    return load_dataset(config.dataset, "train").subset(config.train_size, config.seed)


# --- step 1, Algorithm 1 --------------------------------------------------------------------

def algorithm1_iteration(model: ZemouriModel, images: torch.Tensor, labels: torch.Tensor,
                         optimiser: torch.optim.Optimizer) -> tuple[float, float]:
    """One repeat of Algorithm 1: Z = Enc(X) through the sampling layer, Y^ = Class(Z), and one
    update of encoder and classifier on L_kl + L_cat (eq. 6). Returns (L_kl, L_cat)."""
    mean, log_variance = model.encoder(images)
    z = reparameterise(mean, log_variance)     # this order of graph building is the one the
    kl = kl_loss(mean, log_variance, model.config.kl_reduction)   # committed results used:
    cat = categorical_loss(model.classifier(z), labels)  # it fixes the float summation order
    loss = check_finite(kl + cat, "step-1 loss L_kl + L_cat")
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return float(kl.detach()), float(cat.detach())


@torch.enable_grad()
def _train_step1(config: ZemouriConfig) -> dict:
    model = build(config)
    data = training_images(config)
    generator = torch.Generator().manual_seed(config.seed)
    parameters = [*model.encoder.parameters(), *model.classifier.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=config.learning_rate)
    steps = config.step1_epochs * -(-len(data) // config.batch_size)
    totals = {"kl": 0.0, "cat": 0.0, "batches": 0}
    with progress(steps, f"step 1 {config.dataset} Kz={config.latent_size}") as bar:
        for epoch in range(config.step1_epochs):
            for index in minibatches(len(data), config.batch_size, generator):
                kl, cat = algorithm1_iteration(model, data.images[index], data.labels[index], optimiser)
                if epoch == config.step1_epochs - 1:
                    totals["kl"] += kl
                    totals["cat"] += cat
                    totals["batches"] += 1
                bar.update()
    batches = max(totals.pop("batches"), 1)
    return {"encoder": model.encoder.state_dict(), "classifier": model.classifier.state_dict(),
            "last_epoch_kl": totals["kl"] / batches, "last_epoch_cat": totals["cat"] / batches}


def encoder_classifier(config: ZemouriConfig, use_cache: bool = True) -> ZemouriModel:
    """The model with its trained (cached) encoder and classifier, frozen and in eval mode."""
    model = build(config)
    state = cached("zemouri-step1", config.step1_fields(), lambda: _train_step1(config), use_cache)
    model.encoder.load_state_dict(state["encoder"])
    model.classifier.load_state_dict(state["classifier"])
    for network in (model.encoder, model.classifier):
        network.eval().requires_grad_(False)
    model.history["step1"] = {k: v for k, v in state.items() if k.startswith("last_epoch")}
    return model


# --- step 2, Algorithm 2 --------------------------------------------------------------------

def _sgd_update(optimiser: torch.optim.Optimizer, loss: torch.Tensor, parameters: list) -> None:
    """One optimiser step on ``loss``'s gradient with respect to ``parameters`` only."""
    gradients = torch.autograd.grad(loss, parameters)
    for parameter, gradient in zip(parameters, gradients):
        parameter.grad = gradient
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)


def algorithm2_iteration(model: ZemouriModel, images: torch.Tensor, batch: torch.Tensor,
                         optimisers: tuple, beta: float, gamma: float,
                         generator: torch.Generator) -> dict[str, float]:
    """One repeat of Algorithm 2: n_dis discriminator updates (real then decoded mini-batches,
    each a fresh random draw from ``images``), then one decoder update on the mini-batch
    ``images[batch]``. Returns the losses."""
    config = model.config
    decoder_optimiser, discriminator_optimiser = optimisers
    discriminator_parameters = list(model.discriminator.parameters())
    decoder_parameters = list(model.decoder.parameters())
    for _ in range(config.n_dis):
        real = images[torch.randint(len(images), (len(batch),), generator=generator)]
        loss = check_finite(discriminator_loss(model.discriminator(real), 1.0), "L_dis (real)")
        _sgd_update(discriminator_optimiser, loss, discriminator_parameters)
        real = images[torch.randint(len(images), (len(batch),), generator=generator)]
        with torch.no_grad():
            generated = model.decoder(reparameterise(*model.encoder(real)))
        loss = check_finite(discriminator_loss(model.discriminator(generated), -1.0), "L_dis (decoded)")
        _sgd_update(discriminator_optimiser, loss, discriminator_parameters)

    real = images[batch]
    with torch.no_grad():
        mean, log_variance, features_real = model.encoder.encode(real)
        z = reparameterise(mean, log_variance)
        class_real = model.classifier(z).softmax(dim=1)
        score_real = model.discriminator(real)
    decoded = model.decoder(z)
    mean_hat, log_variance_hat, features_decoded = model.encoder.encode(decoded)
    rec = feature_reconstruction_loss(features_real, features_decoded, config.alphas)
    adv = adversarial_loss(score_real, model.discriminator(decoded))
    lat = latent_loss(class_real, model.classifier(reparameterise(mean_hat, log_variance_hat))
                      .softmax(dim=1))
    loss = check_finite(rec + beta * adv + gamma * lat, "decoder loss L_rec + beta L_adv + gamma L_latent")
    _sgd_update(decoder_optimiser, loss, decoder_parameters)
    return {"rec": float(rec.detach()), "adv": float(adv.detach()), "latent": float(lat.detach())}


def _run_algorithm2(model: ZemouriModel, optimisers: tuple, steps: int, beta: float, gamma: float,
                    seed: int, label: str) -> dict[str, float]:
    """``steps`` repeats of Algorithm 2 over shuffled epochs of the training subset; returns the
    mean losses of the last (up to) 50 repeats."""
    data = training_images(model.config)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)          # the sampling layer's noise: independent of what ran before
    model.decoder.train()
    model.discriminator.train()
    recent: collections.deque[dict[str, float]] = collections.deque(maxlen=50)
    done = 0
    with progress(steps, label) as bar:
        while done < steps:
            for batch in minibatches(len(data), model.config.batch_size, generator):
                if done >= steps:
                    break
                recent.append(algorithm2_iteration(model, data.images, batch, optimisers,
                                                   beta, gamma, generator))
                done += 1
                bar.update()
    return {f"final_{name}": sum(r[name] for r in recent) / len(recent)
            for name in (recent[0] if recent else {})}


def _optimisers(model: ZemouriModel) -> tuple:
    rate = model.config.learning_rate
    return (torch.optim.Adam(model.decoder.parameters(), lr=rate),
            torch.optim.Adam(model.discriminator.parameters(), lr=rate))


def _networks_state(model: ZemouriModel, optimisers: tuple) -> dict:
    return {"decoder": model.decoder.state_dict(), "discriminator": model.discriminator.state_dict(),
            "decoder_optimiser": optimisers[0].state_dict(),
            "discriminator_optimiser": optimisers[1].state_dict()}


@torch.enable_grad()
def train(config: ZemouriConfig, use_cache: bool = True) -> ZemouriModel:
    """Step 1 (cached), the beta = gamma = 0 warm-up of step 2 (cached, shared by a sweep), then
    ``step2_steps`` repeats of Algorithm 2 at ``config.beta`` and ``config.gamma``; eval mode."""
    model = encoder_classifier(config, use_cache)
    optimisers = _optimisers(model)
    name = f"{config.dataset} Kz={config.latent_size}"

    def warm_up() -> dict:
        history = _run_algorithm2(model, optimisers, config.warmup_steps, 0.0, 0.0,
                                  config.seed + 1, f"step 2 warm-up {name}")
        return {**_networks_state(model, optimisers), "history": history}

    state = cached("zemouri-warmup", config.warmup_fields(), warm_up, use_cache)
    model.decoder.load_state_dict(state["decoder"])
    model.discriminator.load_state_dict(state["discriminator"])
    optimisers[0].load_state_dict(state["decoder_optimiser"])
    optimisers[1].load_state_dict(state["discriminator_optimiser"])
    model.history["warmup"] = state["history"]
    model.history["step2"] = _run_algorithm2(
        model, optimisers, config.step2_steps, config.beta, config.gamma, config.seed + 2,
        f"step 2 {name} beta={config.beta} gamma={config.gamma}")
    model.decoder.eval()
    model.discriminator.eval()
    return model


@torch.no_grad()
def reconstruct(model: ZemouriModel, images: torch.Tensor) -> torch.Tensor:
    """Dec(mean of q(z | x)): the deterministic reconstruction used for evaluation."""
    def one(batch):
        return model.decoder(model.encoder(batch)[0])
    return in_batches(one, images)[0]

