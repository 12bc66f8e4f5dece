"""The trainers of the VAE-vs-GAN comparison: a VAE and a DCGAN-style GAN of matched size, and
the hybrids of this study, behind one interface so that every model lands in the same table.

Every trainer returns a :class:`TrainedGenerator`: ``sample(n)`` draws images from the prior,
``reconstruct`` / ``encode`` exist where the model has an encoder, and the training time and
parameter counts travel with it. A new model plugs in by adding a function to ``TRAINERS``.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from avalib import kernels

from avalib.comparison import ava
from avalib.comparison.models import gan_discriminator_loss, gan_generator_loss, vae_loss
from avalib.comparison.networks import DCGANEncoder, DCGANGenerator
from avalib.data import load_dataset
from avalib.device import check_device
from avalib.latent import reparameterise
from avalib.nguyen.variants import VARIANTS
from avalib.training import batches, batches_per_epoch, apply, check_finite, in_batches, update
from avalib.zemouri import trainer as zemouri

# DCGAN's Adam (Radford et al., 2016): beta_1 = 0.5, for the GAN's generator and every discriminator.
DCGAN_BETAS = (0.5, 0.999)
# AVA's D on latent means (an MLP): hidden units per layer.
LATENT_DISCRIMINATOR_HIDDEN = 128


@dataclass(frozen=True)
class ComparisonConfig:
    """One training run of one model on one dataset. Widths follow DCGAN at 28 x 28."""

    model: str = "vae"                     # a key of TRAINERS
    dataset: str = "mnist"
    latent_size: int = 32
    width: int = 32
    train_size: int | None = 20_000
    epochs: int = 5
    batch_size: int = 64
    seed: int = 0
    vae_learning_rate: float = 1e-3                        # Adam (Kingma & Welling use Adagrad)
    gan_learning_rate: float = 2e-4                        # Adam as DCGAN: 2e-4, DCGAN_BETAS
    # One discriminator for every adversarial model of the table (GAN, AVA's d and D, and the
    # Zemouri critic's n_dis): DCGAN's network on images, DCGAN's Adam, one update per generator
    # update (DCGAN's and the AVA paper's; Zemouri's critic keeps its own least-squares network and
    # the Adam of ZemouriConfig).
    n_dis: int = 1
    discriminator_learning_rate: float = 2e-4
    zemouri_latent_size: int = 100                         # the hybrid: K_z, beta, gamma of eq. 8
    zemouri_beta: float = 0.01
    zemouri_gamma: float = 0.1
    device: str = "cpu"                                    # where it trains (random streams: the CPU)

    def __post_init__(self):
        if self.model not in TRAINERS:
            raise ValueError(f"unknown model {self.model!r}; known: {', '.join(TRAINERS)}")
        for name, low in (("epochs", 1), ("latent_size", 1), ("batch_size", 2), ("width", 1),
                          ("zemouri_latent_size", 1), ("n_dis", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= {low}")
        if self.model.startswith("ava") and self.n_dis != 1:
            raise ValueError(f"n_dis={self.n_dis!r} with model={self.model!r}: AVA's protocols update "
                             "every network once per mini-batch from one forward pass; allowed: 1")
        for name in ("vae_learning_rate", "gan_learning_rate", "discriminator_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be > 0")
        if self.zemouri_beta < 0 or self.zemouri_gamma < 0:
            raise ValueError(f"zemouri_beta={self.zemouri_beta!r}, zemouri_gamma={self.zemouri_gamma!r}: "
                             "must be >= 0")
        check_device(self.device)


@dataclass
class TrainedGenerator:
    name: str
    latent_size: int
    decode: Callable[[torch.Tensor], torch.Tensor]             # z -> images
    encode: Callable[[torch.Tensor], torch.Tensor] | None      # images -> posterior mean
    parameters: int                                            # every trained network
    generator_parameters: int                                  # what sampling needs
    train_seconds: float
    epochs: float
    history: list[float]                                       # per-epoch training loss
    generator_updates: int = 0                                 # optimiser steps of the decoder
    diverged_at_step: int = -1                                 # first non-finite step, -1 if none
    discriminator_outputs: dict[str, float] = field(default_factory=dict)   # AVA: last epoch's means
    device: str = "cpu"                                        # where decode / encode run

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded images of the latent codes ``z`` (on the CPU)."""
        return in_batches(self.decode, z, device=self.device)[0]

    @property
    def diverged(self) -> bool:
        return self.diverged_at_step >= 0

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return self.generate(torch.randn(count, self.latent_size, generator=generator))

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor | None:
        if self.encode is None:
            return None
        return in_batches(lambda batch: self.decode(self.encode(batch)), images, device=self.device)[0]


def _first_half(encoder: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The posterior mean of an encoder whose output is (mean, log variance) side by side."""
    return encoder(images).chunk(2, dim=1)[0]


def _first_output(encoder: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The posterior mean of an encoder that returns (mean, log variance)."""
    return encoder(images)[0]


def _count(*networks: torch.nn.Module) -> int:
    return sum(p.numel() for network in networks for p in network.parameters())


def _data(config: ComparisonConfig):
    data = load_dataset(config.dataset, "train").subset(config.train_size, config.seed)
    return data.images.to(config.device), data.images.shape[1], data.images.shape[-1]


def _train_epochs(config: ComparisonConfig, count: int, step: Callable[[torch.Tensor], float],
                  name: str, generator: torch.Generator | None = None) -> tuple[list[float], float]:
    """``config.epochs`` shuffled epochs of ``step(batch index)`` -> (mean loss per epoch, seconds).
    ``generator`` orders the batches (a fresh one seeded by ``config.seed`` when not given)."""
    generator = generator or torch.Generator().manual_seed(config.seed)
    losses: dict[int, list[float]] = {}
    start = time.perf_counter()
    for epoch, index in batches(count, config.batch_size, generator, f"{name} {config.dataset}",
                                epochs=config.epochs):
        losses.setdefault(epoch, []).append(step(index))
    return [sum(values) / len(values) for values in losses.values()], time.perf_counter() - start


def _updates(config: ComparisonConfig, count: int) -> int:
    """Generator (decoder) updates of ``config.epochs`` epochs over ``count`` images: the budget
    every model of the table gets."""
    return config.epochs * batches_per_epoch(count, config.batch_size)


def _vae_networks(config: ComparisonConfig, channels: int, size: int):
    """The VAE's encoder and decoder, initialised from ``config.seed`` (the AVA variants start
    from the very same weights)."""
    torch.manual_seed(config.seed)
    return (DCGANEncoder(channels, size, 2 * config.latent_size, config.width).to(config.device),
            DCGANGenerator(config.latent_size, channels, size, config.width).to(config.device))


def _image_discriminator(config: ComparisonConfig, channels: int, size: int):
    """The table's discriminator on images (DCGAN's) and its optimiser."""
    network = DCGANEncoder(channels, size, 1, config.width).to(config.device)
    return network, _discriminator_optimiser(config, network)


def _discriminator_optimiser(config: ComparisonConfig, network: torch.nn.Module):
    return kernels.adam(network.parameters(), config.discriminator_learning_rate,
                            betas=DCGAN_BETAS)


@torch.enable_grad()
def train_vae(config: ComparisonConfig) -> TrainedGenerator:
    """VAE (Kingma & Welling, 2014): Bernoulli decoder, loss = BCE summed over pixels + KL,
    averaged over the batch; Adam at ``config.vae_learning_rate``."""
    images, channels, size = _data(config)
    encoder, decoder = _vae_networks(config, channels, size)
    parameters = [*encoder.parameters(), *decoder.parameters()]
    optimiser = kernels.adam(parameters, config.vae_learning_rate)

    def step(index: torch.Tensor) -> float:
        x = images[index]
        mean, log_variance = encoder(x).chunk(2, dim=1)
        decoded = decoder(reparameterise(mean, log_variance))
        loss = check_finite(vae_loss(x, decoded, mean, log_variance), "VAE loss")
        update(optimiser, loss, parameters)
        return float(loss.detach())

    history, seconds = _train_epochs(config, len(images), step, "VAE")
    encoder.eval()
    decoder.eval()
    return TrainedGenerator("VAE", config.latent_size, decoder,
                            functools.partial(_first_half, encoder), _count(encoder, decoder),
                            _count(decoder), seconds, config.epochs, history,
                            _updates(config, len(images)), device=config.device)


@torch.enable_grad()
def train_gan(config: ComparisonConfig) -> TrainedGenerator:
    """DCGAN-style GAN (Radford et al., 2016) with the non-saturating generator loss
    -log D(G(z)) (Goodfellow et al., 2014); the generator's Adam at ``config.gan_learning_rate``
    and ``DCGAN_BETAS`` (DCGAN's 2e-4, beta_1 = 0.5), the table's discriminator and
    ``n_dis`` discriminator updates (fresh samples, the same real batch) per generator update."""
    images, channels, size = _data(config)
    torch.manual_seed(config.seed)
    discriminator, d_optimiser = _image_discriminator(config, channels, size)
    generator_net = DCGANGenerator(config.latent_size, channels, size, config.width).to(config.device)
    d_parameters, g_parameters = list(discriminator.parameters()), list(generator_net.parameters())
    g_optimiser = kernels.adam(g_parameters, config.gan_learning_rate, betas=DCGAN_BETAS)
    noise = torch.Generator().manual_seed(config.seed)

    def step(index: torch.Tensor) -> float:
        real = images[index]
        for _ in range(config.n_dis):
            fake = generator_net(torch.randn(len(real), config.latent_size, generator=noise).to(config.device))
            d_loss = check_finite(gan_discriminator_loss(discriminator(real), discriminator(fake.detach())),
                                  "GAN discriminator loss")
            update(d_optimiser, d_loss, d_parameters)
        g_loss = check_finite(gan_generator_loss(discriminator(fake)), "GAN generator loss")
        update(g_optimiser, g_loss, g_parameters)
        return float(g_loss.detach())

    history, seconds = _train_epochs(config, len(images), step, "GAN", noise)
    generator_net.eval()
    return TrainedGenerator("GAN", config.latent_size, generator_net, None,
                            _count(discriminator, generator_net), _count(generator_net), seconds,
                            config.epochs, history, _updates(config, len(images)), device=config.device)


def ava_model_key(variant: str, protocol: str) -> str:
    """The ``TRAINERS`` key of an AVA variant under a protocol, e.g. "ava1_exact"."""
    return f"{variant.lower()}_{protocol}"


def ava_model_name(variant: str, protocol: str) -> str:
    """The table's name of an AVA variant under a protocol, e.g. "AVA1 exact"."""
    return f"{variant} {protocol}"


@torch.enable_grad()
def train_ava(config: ComparisonConfig, variant: str, protocol: str) -> TrainedGenerator:
    """AVA ``variant`` of Nguyen et al. (2024) under ``protocol`` (``avalib.comparison.ava``): the
    VAE's encoder and decoder from the VAE's initial weights, its Adam, its mini-batches and noise
    stream, plus the table's discriminators. Each network is updated from its own gradient, all
    computed from one forward pass. A run that produces a non-finite value stops there and is
    reported as diverged (its step), never scored."""
    images, channels, size = _data(config)
    encoder, decoder = _vae_networks(config, channels, size)
    switches = VARIANTS[variant]
    with torch.random.fork_rng():            # the discriminators leave the VAE's noise stream alone
        torch.manual_seed(config.seed + 1)
        d = (DCGANEncoder(channels, size, 1, config.width).to(config.device)
             if switches.decoder_discriminator else None)
        D = (ava.latent_discriminator(config.latent_size, LATENT_DISCRIMINATOR_HIDDEN).to(config.device)
             if switches.encoder_discriminator else None)
    nets = ava.AVANetworks(switches, encoder, decoder, d, D)
    networks = nets.named()
    generator_parameters = [*encoder.parameters(), *decoder.parameters()]
    optimisers = {"generators": kernels.adam(generator_parameters, config.vae_learning_rate)}
    optimisers.update({name: _discriminator_optimiser(config, networks[name])
                       for name in ("d", "D") if name in networks})
    gradients_of = ava.GRADIENTS[protocol]
    name = ava_model_name(variant, protocol)
    steps_done, outputs = [0], []

    def step(index: torch.Tensor) -> float:
        x = images[index]
        noise = torch.randn(len(x), config.latent_size).to(config.device)
        gradients, loss, batch_outputs = gradients_of(nets, x, noise)
        outputs.append(batch_outputs)
        check_finite(loss, f"{name} loss")
        for network, values in gradients.items():
            check_finite(torch.stack([v.abs().max() for v in values]), f"{name} {network} gradient")
        gradients["generators"] = gradients.pop("encoder") + gradients.pop("decoder")
        for group, values in gradients.items():
            apply(optimisers[group], generator_parameters if group == "generators"
                  else list(networks[group].parameters()), values)
        steps_done[0] += 1
        return float(loss)

    diverged_at = -1
    try:
        history, seconds = _train_epochs(config, len(images), step, name)
    except FloatingPointError:
        diverged_at, history, seconds = steps_done[0], [float("nan")], float("nan")
    for network in networks.values():
        network.eval()
    last_epoch = outputs[-batches_per_epoch(len(images), config.batch_size):] if diverged_at < 0 else []
    mean_outputs = {key: sum(o[key] for o in last_epoch) / len(last_epoch) for key in ava.OUTPUTS
                    if last_epoch and key in last_epoch[0]}
    return TrainedGenerator(name, config.latent_size, decoder,
                            functools.partial(_first_half, encoder), _count(*networks.values()),
                            _count(decoder), seconds, config.epochs, history,
                            steps_done[0], diverged_at, mean_outputs, device=config.device)


def train_zemouri(config: ComparisonConfig) -> TrainedGenerator:
    """The hybrid of Zemouri (2020) at ``config.zemouri_latent_size``, ``zemouri_beta`` and
    ``zemouri_gamma`` (defaults K_z = 100, beta = 0.01, gamma = 0.1: the paper's "clearer" regime
    with the latent loss), trained on the same subset with its own networks: step 1 for
    ``epochs`` epochs, then as many Algorithm 2 iterations (decoder updates) as the VAE makes
    decoder updates, at the table's ``n_dis``. It samples z ~ N(0, I) as the VAE does. Training
    time counts both steps."""
    available = len(load_dataset(config.dataset, "train"))              # cached; no subset copy
    steps = _updates(config, min(config.train_size or available, available))
    zemouri_config = zemouri.ZemouriConfig(dataset=config.dataset,
                                           latent_size=config.zemouri_latent_size,
                                           beta=config.zemouri_beta, gamma=config.zemouri_gamma,
                                           n_dis=config.n_dis, train_size=config.train_size,
                                           step1_epochs=config.epochs, warmup_steps=0,
                                           step2_steps=steps, seed=config.seed, device=config.device)
    start = time.perf_counter()
    model = zemouri.train(zemouri_config)
    seconds = time.perf_counter() - start
    return TrainedGenerator("Zemouri", config.zemouri_latent_size, model.decoder, functools.partial(_first_output, model.encoder),
                            _count(model.encoder, model.classifier, model.decoder, model.discriminator),
                            _count(model.decoder), seconds, 2 * config.epochs,
                            [model.history["step1"]["last_epoch_cat"]], steps, device=config.device)


def _ava_trainer(variant: str, protocol: str) -> Callable[[ComparisonConfig], TrainedGenerator]:
    def trainer(config: ComparisonConfig) -> TrainedGenerator:
        return train_ava(config, variant, protocol)
    trainer.__name__ = f"train_{ava_model_key(variant, protocol)}"
    return trainer


TRAINERS: dict[str, Callable[[ComparisonConfig], TrainedGenerator]] = {
    "vae": train_vae, "gan": train_gan, "zemouri": train_zemouri,
    **{ava_model_key(v, p): _ava_trainer(v, p) for p in ava.PROTOCOLS for v in ava.AVA_VARIANTS}}


def train_model(config: ComparisonConfig) -> TrainedGenerator:
    return TRAINERS[config.model](config)
