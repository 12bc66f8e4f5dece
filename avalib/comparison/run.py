"""Notebook 04's parameters (``avalib.parameters``): which models, datasets and seeds the
VAE-vs-GAN table trains, and at what budget; notebook 08's: which of 04's models get more seeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from avalib.comparison.trainer import TRAINERS, ComparisonConfig
from avalib.domain_classifier import DomainClassifierConfig
from avalib.parameters import Run, at_least, distinct, labelled_datasets


@dataclass(frozen=True)
class ComparisonRun(Run):
    """``base`` is the trainer config every (dataset, model, seed) is a replacement of; ``judge``
    the domain classifier's."""

    stem: ClassVar[str] = "04_vae_vs_gan"
    datasets: list[str]
    models: list[str]
    lean_twins: list[str]
    seeds: list[int]
    train_size: int | None
    epochs: int
    latent_size: int
    test_size: int
    judge_train_size: int | None
    judge_epochs: int
    threads: int
    scheduler: str | None
    device: str
    base: ComparisonConfig = field(init=False)
    judge: DomainClassifierConfig = field(init=False)

    def check(self):
        distinct("datasets", self.datasets, labelled_datasets())
        distinct("models", self.models, TRAINERS)
        distinct("lean_twins", self.lean_twins, TRAINERS, empty=True)
        distinct("seeds", self.seeds, minimum=0)
        at_least("train_size", self.train_size, 1, optional=True)
        at_least("test_size", self.test_size, 1)
        at_least("judge_train_size", self.judge_train_size, 1, optional=True)
        at_least("judge_epochs", self.judge_epochs, 1)

    def configure(self):
        return {"base": ComparisonConfig(train_size=self.train_size, epochs=self.epochs,
                                         latent_size=self.latent_size, device=self.device),
                "judge": DomainClassifierConfig(self.datasets[0], train_size=self.judge_train_size,
                                                epochs=self.judge_epochs)}


@dataclass(frozen=True)
class MoreAvaSeedsRun(Run):
    """Notebook 08: ``focus_models`` on ``focus_datasets`` at ``focus_seeds``, with notebook 04's
    own configs (its ``provenance.json``), so that only these are parameters."""

    stem: ClassVar[str] = "08_ava_more_seeds"
    focus_datasets: list[str]
    focus_models: list[str]
    focus_seeds: list[int]
    threads: int
    scheduler: str | None

    def check(self):
        distinct("focus_datasets", self.focus_datasets, labelled_datasets())
        distinct("focus_models", self.focus_models, TRAINERS)
        distinct("focus_seeds", self.focus_seeds, minimum=0)
