"""The independent judge of generated and reconstructed images: a small CNN trained on real data
per dataset (cached), standing in for Inception-v3, which is neither available offline nor
meant for 28 x 28 digits. Its class probabilities give the classifier Inception Score, label
agreement and class coverage; its 128-unit feature layer gives the Frechet distance. It trains
and judges on the CPU (what it judges is moved there)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from avalib import cache
from avalib.data import load_dataset, training_split
from avalib.training import batches, check_finite, in_batches, update


class DomainClassifier(nn.Module):
    """The small CNN that judges generated images in place of Inception-v3: two conv 3 x 3 + ReLU
    + max-pool stages, a 128-unit feature layer (the features of our Frechet distance), logits."""

    def __init__(self, channels: int, size: int, classes: int, width: int = 32, features: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, features), nn.ReLU())
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


def _build(dataset: str) -> DomainClassifier:
    train = load_dataset(dataset, "train")
    classes = int(train.labels.max()) + 1
    return DomainClassifier(train.images.shape[1], train.images.shape[-1], classes)


@torch.enable_grad()
def train(config: DomainClassifierConfig) -> dict:
    """The classifier's weights and its accuracy on the full test split."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    train = load_dataset(config.dataset, training_split(config.dataset)).subset(config.train_size,
                                                                          config.seed)
    model = _build(config.dataset)
    parameters = list(model.parameters())
    optimiser = torch.optim.Adam(parameters, lr=config.learning_rate)
    for _, index in batches(len(train), config.batch_size, generator,
                            f"domain classifier {config.dataset}", epochs=config.epochs):
        loss = check_finite(F.cross_entropy(model(train.images[index]), train.labels[index]),
                            "domain classifier loss")
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
    model = _build(config.dataset)
    model.load_state_dict(state["model"])
    return model.eval().requires_grad_(False), state["test_accuracy"]


def accuracy_table(config: DomainClassifierConfig, datasets) -> pd.DataFrame:
    """The judge's accuracy on each dataset's full test split (dataset-indexed): how far its
    labels and features can be trusted."""
    return pd.DataFrame([{"dataset": name, "test_accuracy": domain_classifier(
        dataclasses.replace(config, dataset=name))[1]} for name in datasets]).set_index("dataset")


def judge(model: DomainClassifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities (N, K), features (N, 128)) of ``images`` (moved to the CPU)."""
    images = images.cpu()
    def both(batch):
        features = model.features(batch)
        return model.head(features).softmax(dim=1), features
    probabilities, features = in_batches(both, images)
    return probabilities, features
