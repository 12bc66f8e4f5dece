"""The parameters of notebooks 02, 03, 05 and 07 (``avalib.parameters``): what 02, 03 and 07 share
(step 1 and the warm-up, whose units 03 and 07 reuse from 02 through the cache) and what each adds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from avalib.domain_classifier import DomainClassifierConfig
from avalib.parameters import Run, at_least, distinct, labelled_datasets, problem
from avalib.zemouri.focus import FOCUS, FOCUS_LATENT_SIZE
from avalib.zemouri.trainer import ZemouriConfig


@dataclass(frozen=True)
class ZemouriRun(Run):
    """What notebooks 02 and 03 share; ``base`` is the trainer config at the first seed."""

    datasets: list[str]
    latent_sizes: list[int]
    seeds: list[int]
    train_size: int | None
    step1_epochs: int
    n_dis: int
    warmup_steps: int
    step2_steps: int
    test_size: int
    threads: int
    scheduler: str | None
    device: str
    base: ZemouriConfig = field(init=False)

    def check(self):
        distinct("datasets", self.datasets, labelled_datasets())
        distinct("latent_sizes", self.latent_sizes, minimum=1)
        distinct("seeds", self.seeds, minimum=0)
        at_least("train_size", self.train_size, 1, optional=True)
        at_least("step1_epochs", self.step1_epochs, 1)
        at_least("n_dis", self.n_dis, 1)
        at_least("test_size", self.test_size, 1)

    def configure(self):
        return {"base": ZemouriConfig(train_size=self.train_size, step1_epochs=self.step1_epochs,
                                      n_dis=self.n_dis, warmup_steps=self.warmup_steps,
                                      step2_steps=self.step2_steps, seed=self.seeds[0],
                                      device=self.device)}


@dataclass(frozen=True)
class LatentSpaceRun(ZemouriRun):
    """Notebook 02: step 1, and its learning curves where it collapses."""

    stem: ClassVar[str] = "02_latent_space"
    curve_datasets: list[str]
    curve_epochs: list[int]

    def check(self):
        super().check()
        distinct("curve_datasets", self.curve_datasets, labelled_datasets(), empty=True)
        distinct("curve_epochs", self.curve_epochs, minimum=1)


@dataclass(frozen=True)
class AblationRun(ZemouriRun):
    """Notebook 03: the sweep over every dataset, K_z, gamma and beta, and the claims of section
    4.4 that read across them (``claim_letters``: A, C, D); ``judge`` is the domain classifier's
    config."""

    stem: ClassVar[str] = "03_beta_gamma_ablation"
    claim_letters: ClassVar[tuple[str, ...]] = ("A", "C", "D")
    betas: list[float]
    gammas: list[float]
    example_count: int
    judge_train_size: int | None
    judge_epochs: int
    judge: DomainClassifierConfig = field(init=False)

    def check(self):
        super().check()
        for name in ("betas", "gammas"):
            distinct(name, getattr(self, name), minimum=0)
        if 0.0 not in self.betas:
            raise problem("betas", self.betas, "must include 0.0 (every claim compares with beta = 0)")
        at_least("example_count", self.example_count, 1)
        at_least("judge_train_size", self.judge_train_size, 1, optional=True)
        at_least("judge_epochs", self.judge_epochs, 1)

    def configure(self):
        return {**super().configure(),
                "judge": DomainClassifierConfig(self.datasets[0], train_size=self.judge_train_size,
                                                epochs=self.judge_epochs)}

    @property
    def evidence(self) -> str:
        """The table the claims read (``claims.csv``'s ``evidence``)."""
        return f"{self.stem}/metrics.csv"


@dataclass(frozen=True)
class BetaThresholdsRun(AblationRun):
    """Notebook 07: the beta claims (B0-B4) where they are, MNIST at K_z = 2 and gamma = 0: the
    sweep's seeds and ``focus_seeds``, again at each n_dis of ``focus_n_dis`` and each budget of
    ``focus_step2_steps``, and the budget pilot."""

    stem: ClassVar[str] = "07_beta_thresholds"
    claim_letters: ClassVar[tuple[str, ...]] = ("B",)
    focus_seeds: list[int]
    focus_n_dis: list[int]
    focus_step2_steps: list[int]
    pilot_betas: list[float]
    pilot_steps: list[int]

    def check(self):
        super().check()
        for name, value, needed in (("datasets", self.datasets, FOCUS), ("latent_sizes", self.latent_sizes,
                                    FOCUS_LATENT_SIZE), ("gammas", self.gammas, 0.0)):
            if needed not in value:
                raise problem(name, value, f"must include {needed!r} (the beta claims read {FOCUS} at "
                                           f"K_z = {FOCUS_LATENT_SIZE}, gamma = 0)")
        distinct("focus_seeds", self.focus_seeds, empty=True, minimum=0)
        distinct("focus_n_dis", self.focus_n_dis, empty=True, minimum=1)
        distinct("focus_step2_steps", self.focus_step2_steps, empty=True, minimum=1)
        distinct("pilot_betas", self.pilot_betas, empty=True, minimum=0)
        distinct("pilot_steps", self.pilot_steps, empty=True, minimum=1)


@dataclass(frozen=True)
class MoreSeedsRun(Run):
    """Notebook 05: the seeds notebook 03's power estimates ask for, where at most ``max_seeds``;
    the configs are notebook 03's own (its ``provenance.json``), so only these are parameters."""

    stem: ClassVar[str] = "05_zemouri_more_seeds"
    max_seeds: int
    threads: int
    scheduler: str | None

    def check(self):
        at_least("max_seeds", self.max_seeds, 2)
