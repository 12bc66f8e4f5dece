"""The independent judge of generated and reconstructed images: a small CNN trained on real data
per dataset (cached), standing in for Inception-v3, which is neither available offline nor
meant for 28 x 28 digits. Its class probabilities give the classifier Inception Score, label
agreement and class coverage; its 128-unit feature layer gives the Frechet distance."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from avalib.cache import cached
from avalib.data import load_dataset
from avalib.nets import DomainClassifier
from avalib.training import check_finite, in_batches, minibatches, progress


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
def _train(config: DomainClassifierConfig) -> dict:
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    train = load_dataset(config.dataset, "train").subset(config.train_size, config.seed)
    model = _build(config.dataset)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    steps = config.epochs * -(-len(train) // config.batch_size)
    with progress(steps, f"domain classifier {config.dataset}") as bar:
        for _ in range(config.epochs):
            for index in minibatches(len(train), config.batch_size, generator):
                loss = check_finite(F.cross_entropy(model(train.images[index]), train.labels[index]),
                                    "domain classifier loss")
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                bar.update()
    model.eval()
    test = load_dataset(config.dataset, "test")
    logits, = in_batches(model, test.images)
    accuracy = float((logits.argmax(1) == test.labels).float().mean())
    return {"model": model.state_dict(), "test_accuracy": accuracy}


def domain_classifier(config: DomainClassifierConfig) -> tuple[DomainClassifier, float]:
    """(the trained classifier in eval mode, its accuracy on the full test split), from the cache
    when this config was trained before."""
    state = cached("domain-classifier", dataclasses.asdict(config), lambda: _train(config))
    model = _build(config.dataset)
    model.load_state_dict(state["model"])
    return model.eval().requires_grad_(False), state["test_accuracy"]


def judge(model: DomainClassifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities (N, K), features (N, 128)) of ``images``."""
    def both(batch):
        features = model.features(batch)
        return model.head(features).softmax(dim=1), features
    probabilities, features = in_batches(both, images)
    return probabilities, features
