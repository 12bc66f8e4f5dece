"""The trainers of the VAE-vs-GAN comparison: a VAE and a DCGAN-style GAN of matched size, and
the hybrids of this study, behind one interface so that every model lands in the same table.

Every trainer returns a :class:`TrainedGenerator`: ``sample(n)`` draws images from the prior,
``reconstruct`` / ``encode`` exist where the model has an encoder, and the training time and
parameter counts travel with it. A new model plugs in by adding a function to ``TRAINERS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from avalib.comparison.models import gan_discriminator_loss, gan_generator_loss, vae_loss
from avalib.comparison.networks import DCGANEncoder, DCGANGenerator
from avalib.data import load_dataset
from avalib.latent import reparameterise
from avalib.training import batches, check_finite, in_batches, update
from avalib.zemouri import trainer as zemouri


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
    gan_learning_rate: float = 2e-4                        # Adam as DCGAN: 2e-4, beta_1 = 0.5
    gan_betas: tuple[float, float] = (0.5, 0.999)
    zemouri_latent_size: int = 100                         # the hybrid: K_z, beta, gamma of eq. 8
    zemouri_beta: float = 0.01
    zemouri_gamma: float = 0.1

    def __post_init__(self):
        if self.model not in TRAINERS:
            raise ValueError(f"unknown model {self.model!r}; known: {', '.join(TRAINERS)}")
        for name, low in (("epochs", 1), ("latent_size", 1), ("batch_size", 2), ("width", 1),
                          ("zemouri_latent_size", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= {low}")
        for name in ("vae_learning_rate", "gan_learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be > 0")
        if self.zemouri_beta < 0 or self.zemouri_gamma < 0:
            raise ValueError(f"zemouri_beta={self.zemouri_beta!r}, zemouri_gamma={self.zemouri_gamma!r}: "
                             "must be >= 0")


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

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(count, self.latent_size, generator=generator)
        return in_batches(self.decode, z)[0]

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor | None:
        if self.encode is None:
            return None
        return in_batches(lambda batch: self.decode(self.encode(batch)), images)[0]


def _count(*networks: torch.nn.Module) -> int:
    return sum(p.numel() for network in networks for p in network.parameters())


def _data(config: ComparisonConfig):
    data = load_dataset(config.dataset, "train").subset(config.train_size, config.seed)
    return data.images, data.images.shape[1], data.images.shape[-1]


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


@torch.enable_grad()
def train_vae(config: ComparisonConfig) -> TrainedGenerator:
    """VAE (Kingma & Welling, 2014): Bernoulli decoder, loss = BCE summed over pixels + KL,
    averaged over the batch; Adam at ``config.vae_learning_rate``."""
    images, channels, size = _data(config)
    torch.manual_seed(config.seed)
    encoder = DCGANEncoder(channels, size, 2 * config.latent_size, config.width)
    decoder = DCGANGenerator(config.latent_size, channels, size, config.width)
    parameters = [*encoder.parameters(), *decoder.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=config.vae_learning_rate)

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
                            lambda x: encoder(x).chunk(2, dim=1)[0], _count(encoder, decoder),
                            _count(decoder), seconds, config.epochs, history)


@torch.enable_grad()
def train_gan(config: ComparisonConfig) -> TrainedGenerator:
    """DCGAN-style GAN (Radford et al., 2016) with the non-saturating generator loss
    -log D(G(z)) (Goodfellow et al., 2014); Adam at ``config.gan_learning_rate`` and
    ``config.gan_betas`` (DCGAN's 2e-4, beta_1 = 0.5)."""
    images, channels, size = _data(config)
    torch.manual_seed(config.seed)
    discriminator = DCGANEncoder(channels, size, 1, config.width)
    generator_net = DCGANGenerator(config.latent_size, channels, size, config.width)
    d_parameters, g_parameters = list(discriminator.parameters()), list(generator_net.parameters())
    d_optimiser = torch.optim.Adam(d_parameters, lr=config.gan_learning_rate, betas=config.gan_betas)
    g_optimiser = torch.optim.Adam(g_parameters, lr=config.gan_learning_rate, betas=config.gan_betas)
    noise = torch.Generator().manual_seed(config.seed)

    def step(index: torch.Tensor) -> float:
        real = images[index]
        fake = generator_net(torch.randn(len(real), config.latent_size, generator=noise))
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
                            config.epochs, history)


def train_zemouri(config: ComparisonConfig) -> TrainedGenerator:
    """The hybrid of Zemouri (2020) at ``config.zemouri_latent_size``, ``zemouri_beta`` and
    ``zemouri_gamma`` (defaults K_z = 100, beta = 0.01, gamma = 0.1: the paper's "clearer" regime
    with the latent loss), trained on the same subset with its own networks and the
    step budget of ``epochs`` (step 1) and one epoch of Algorithm 2 repeats (step 2). It samples
    z ~ N(0, I) as the VAE does. Training time counts both steps."""
    steps = -(-(config.train_size or len(load_dataset(config.dataset, "train")))
              // zemouri.ZemouriConfig.batch_size)
    zemouri_config = zemouri.ZemouriConfig(dataset=config.dataset,
                                           latent_size=config.zemouri_latent_size,
                                           beta=config.zemouri_beta, gamma=config.zemouri_gamma,
                                           train_size=config.train_size,
                                           step1_epochs=config.epochs, warmup_steps=0,
                                           step2_steps=steps, seed=config.seed)
    start = time.perf_counter()
    model = zemouri.train(zemouri_config, use_cache=False)
    seconds = time.perf_counter() - start
    return TrainedGenerator("Zemouri", config.zemouri_latent_size, model.decoder, lambda x: model.encoder(x)[0],
                            _count(model.encoder, model.classifier, model.decoder, model.discriminator),
                            _count(model.decoder), seconds, config.epochs + 1,
                            [model.history["step1"]["last_epoch_cat"]])


TRAINERS: dict[str, Callable[[ComparisonConfig], TrainedGenerator]] = {
    "vae": train_vae, "gan": train_gan, "zemouri": train_zemouri}


def train_model(config: ComparisonConfig) -> TrainedGenerator:
    return TRAINERS[config.model](config)

