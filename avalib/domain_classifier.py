"""The independent judge of generated and reconstructed images: a small CNN trained on real data
per dataset (cached), standing in for Inception-v3, which is neither available offline nor
meant for 28 x 28 digits. Its class probabilities give the classifier Inception Score, label
agreement and class coverage; its 128-unit feature layer gives the Frechet distance. It trains
and judges on the CPU (what it judges is moved there). A grey dataset gets two conv stages; a
colour one (CIFAR-10, ``COLOUR_DATASETS``) three stages of two convolutions with batch norm, random
shifts and flips of its training images, and its own budget (``DomainClassifierConfig.on``): a
two-stage network stays near 65 % on CIFAR-10, too weak to judge."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from avalib import kernels
from avalib import cache
from avalib.fanout import compute
from avalib.data import load_dataset, training_split
from avalib.training import batches, check_finite, in_batches, update


COLOUR_DATASETS = ("cifar10",)


class DomainClassifier(nn.Module):
    """The small CNN that judges generated images in place of Inception-v3: ``stages`` stages of
    ``depth`` conv 3 x 3 (+ batch norm where ``depth`` > 1) + ReLU, then a 2 x 2 max-pool, at widths
    ``width * 2**i``; a 128-unit feature layer (the features of our Frechet distance), logits."""

    def __init__(self, channels: int, size: int, classes: int, width: int = 32, features: int = 128,
                 stages: int = 2, depth: int = 1):
        super().__init__()
        layers, inputs = [], channels
        for stage in range(stages):
            for _ in range(depth):
                outputs = width * 2 ** stage
                layers += [nn.Conv2d(inputs, outputs, 3, padding=1),
                           *([nn.BatchNorm2d(outputs)] if depth > 1 else []), nn.ReLU()]
                inputs = outputs
            layers.append(nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers, nn.Flatten(),
                                  nn.Linear(inputs * (size // 2 ** stages) ** 2, features), nn.ReLU())
        self.head = nn.Linear(features, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class DomainClassifierConfig:
    dataset: str
    train_size: int | None = 20_000
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    stages: int = 2                      # conv stages (DomainClassifier)
    depth: int = 1                       # conv layers per stage
    augment: bool = False                # random 4-pixel shifts and horizontal flips in training
    colour_train_size: int | None = None   # a colour dataset's judge: training images (None: all)
    colour_epochs: int = 8                 # ... and epochs

    def on(self, dataset: str) -> "DomainClassifierConfig":
        """This judge for ``dataset``: a colour dataset (``COLOUR_DATASETS``) gets three stages of
        two convolutions, augmentation and the colour budget; a grey one this config as it is."""
        if dataset not in COLOUR_DATASETS:
            return dataclasses.replace(self, dataset=dataset)
        return dataclasses.replace(self, dataset=dataset, stages=3, depth=2, augment=True,
                                   train_size=self.colour_train_size, epochs=self.colour_epochs)


def _build(config: DomainClassifierConfig) -> DomainClassifier:
    train = load_dataset(config.dataset, "train")
    classes = int(train.labels.max()) + 1
    return DomainClassifier(train.images.shape[1], train.images.shape[-1], classes,
                            stages=config.stages, depth=config.depth)


def _augmented(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A batch flipped left-right (each image with probability 1/2) and shifted by one random
    offset of up to 4 pixels each way, zeros filling in."""
    flip = torch.rand(len(images), generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    dx, dy = torch.randint(-4, 5, (2,), generator=generator).tolist()
    size = images.shape[-1]
    return F.pad(images, (4, 4, 4, 4))[:, :, 4 + dy:4 + dy + size, 4 + dx:4 + dx + size]


@torch.enable_grad()
def train(config: DomainClassifierConfig) -> dict:
    """The classifier's weights and its accuracy on the full test split."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    train = load_dataset(config.dataset, training_split(config.dataset)).subset(config.train_size,
                                                                          config.seed)
    model = _build(config)
    parameters = list(model.parameters())
    optimiser = kernels.adam(parameters, config.learning_rate)
    for _, index in batches(len(train), config.batch_size, generator,
                            f"domain classifier {config.dataset}", epochs=config.epochs):
        images = _augmented(train.images[index], generator) if config.augment else train.images[index]
        loss = check_finite(F.cross_entropy(model(images), train.labels[index]), "domain classifier loss")
        update(optimiser, loss, parameters)
    model.eval()
    test = load_dataset(config.dataset, "test")
    logits, = in_batches(model, test.images)
    accuracy = float((logits.argmax(1) == test.labels).float().mean())
    return {"model": model.state_dict(), "test_accuracy": accuracy}


def domain_classifier(config: DomainClassifierConfig) -> tuple[DomainClassifier, float]:
    """(the trained classifier in eval mode, its accuracy on the full test split): a unit of work,
    from the cache when this config was trained before."""
    state = cache.unit(train, config=config)
    model = _build(config)
    model.load_state_dict(state["model"])
    return model.eval().requires_grad_(False), state["test_accuracy"]


def train_judges(config: DomainClassifierConfig, datasets, scheduler: str | None = None,
                 threads: int = 1) -> None:
    """The judge of every dataset (``config.on(dataset)``) trained as units on ``scheduler``
    (``avalib.fanout``), before the units that read them: no two workers train the same judge."""
    compute(train, [{"config": config.on(d)} for d in dict.fromkeys(datasets)], scheduler, threads,
            "judges")


def accuracy_table(config: DomainClassifierConfig, datasets, scheduler: str | None = None,
                   threads: int = 1) -> pd.DataFrame:
    """The judge's accuracy on each dataset's full test split (dataset-indexed): how far its
    labels and features can be trusted. The judges are trained first as units on ``scheduler``
    (``train_judges``: at once on the workers, not one after another in this process)."""
    train_judges(config, datasets, scheduler, threads)
    return pd.DataFrame([{"dataset": name, "test_accuracy": domain_classifier(
        config.on(name))[1]} for name in datasets]).set_index("dataset")


def judge(model: DomainClassifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities (N, K), features (N, 128)) of ``images`` (moved to the CPU)."""
    images = images.cpu()
    def both(batch):
        features = model.features(batch)
        return model.head(features).softmax(dim=1), features
    probabilities, features = in_batches(both, images)
    return probabilities, features
