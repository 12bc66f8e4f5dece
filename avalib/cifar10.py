"""What notebook 06 calls: every experiment of the study on CIFAR-10 - Zemouri (2020) section 4.5
(``avalib.zemouri.cifar10``) and the surveys' CIFAR-10 rows (notebook 04's models, trained and
scored by ``avalib.comparison.experiment``) - with its parameters, computed as three fan-outs in
which no unit waits for another of the same fan-out, so both workers stay busy: (1) the units that
need no judge: the CIFAR-10 judge itself, section 4.5's step 1 and plain VAEs, every survey model's
training; (2) section 4.5's step 2 and everything the judge scores that needs no step 2; (3)
section 4.5's Zemouri models scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from avalib import domain_classifier
from avalib.comparison import experiment as comparison
from avalib.comparison.trainer import TRAINERS, ComparisonConfig, train_model
from avalib.domain_classifier import DomainClassifierConfig
from avalib.fanout import compute_together
from avalib.parameters import Run, at_least, distinct, problem
from avalib.zemouri import cifar10 as section_4_5
from avalib.zemouri.trainer import ZemouriConfig

DATASET = section_4_5.DATASET


@dataclass(frozen=True)
class Cifar10Run(Run):
    """Notebook 06's parameters: ``zemouri_base`` is section 4.5's trainer config at the first
    seed, ``comparison_base`` the surveys' (every model and seed a replacement of it), ``judge``
    the CIFAR-10 domain classifier's config."""

    stem: ClassVar[str] = "06_cifar10"
    zemouri_seeds: list[int]
    zemouri_steps: int
    train_size: int | None
    step1_epochs: int
    n_dis: int
    zemouri_test_size: int
    example_count: int
    models: list[str]
    seeds: list[int]
    epochs: int
    latent_size: int
    test_size: int
    judge_train_size: int | None
    judge_epochs: int
    threads: int
    scheduler: str | None
    device: str
    zemouri_base: ZemouriConfig = field(init=False)
    comparison_base: ComparisonConfig = field(init=False)
    judge: DomainClassifierConfig = field(init=False)

    def check(self):
        distinct("zemouri_seeds", self.zemouri_seeds, minimum=0)
        at_least("zemouri_steps", self.zemouri_steps, 1)
        at_least("train_size", self.train_size, 1, optional=True)
        at_least("step1_epochs", self.step1_epochs, 1)
        at_least("n_dis", self.n_dis, 1)
        at_least("zemouri_test_size", self.zemouri_test_size, 1)
        at_least("example_count", self.example_count, 1)
        distinct("models", self.models, TRAINERS)
        for needed in ("vae", "gan"):
            if needed not in self.models:
                raise problem("models", self.models, f"must include {needed!r} (every survey claim "
                                                     "compares the GAN with the VAE)")
        distinct("seeds", self.seeds, minimum=0)
        at_least("test_size", self.test_size, 1)
        at_least("judge_train_size", self.judge_train_size, 1, optional=True)
        at_least("judge_epochs", self.judge_epochs, 1)

    def configure(self):
        return {"zemouri_base": ZemouriConfig(dataset=DATASET, train_size=self.train_size,
                                              step1_epochs=self.step1_epochs, n_dis=self.n_dis,
                                              seed=self.zemouri_seeds[0], device=self.device),
                "comparison_base": ComparisonConfig(dataset=DATASET, train_size=self.train_size,
                                                    epochs=self.epochs, latent_size=self.latent_size,
                                                    device=self.device),
                "judge": DomainClassifierConfig(DATASET, colour_train_size=self.judge_train_size,
                                                colour_epochs=self.judge_epochs)}


def compute_units(run: Cifar10Run):
    """Every unit of notebook 06, in the three fan-outs of this module's docstring. Returns
    (section 4.5's metrics and Figure 10's pairs, ``avalib.zemouri.cifar10.results``; the surveys'
    runs frame, samples and interpolations, ``avalib.comparison.experiment.comparison_results``)."""
    base, seeds, steps = run.zemouri_base, run.zemouri_seeds, run.zemouri_steps
    surveys = comparison.comparison_units(run.models, [DATASET], run.seeds, run.comparison_base,
                                          run.judge, run.test_size)
    trainings = (train_model, [{"config": key["config"]} for key in surveys[1]], comparison.run_cost)
    compute_together([(domain_classifier.train, [{"config": run.judge.on(DATASET)}], None),
                      *section_4_5.training_units(base, seeds, steps), trainings],
                     run.scheduler, run.threads, "CIFAR-10 trainings")
    scored = lambda models: section_4_5.scoring_units(base, seeds, steps, run.judge, run.zemouri_test_size,
                                                      run.example_count, models)
    _, plain, runs = compute_together([section_4_5.setting_units(base, seeds, steps), scored(("plain_vae",)),
                                       surveys], run.scheduler, run.threads, "CIFAR-10 step 2 and scores")
    (zemouri,) = compute_together([scored(("zemouri",))], run.scheduler, run.threads, "CIFAR-10 Zemouri scores")
    return (section_4_5.results(plain + zemouri, seeds, run.zemouri_test_size, run.example_count),
            comparison.comparison_results(surveys[1], runs, run.models, run.seeds))
