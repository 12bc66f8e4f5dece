"""The parameters of every notebook, checked before anything trains.

One frozen dataclass per notebook names each parameter of its ``parameters`` cell with a rule
(``metadata["rule"]``: a function returning what is wrong, or None). The values themselves live in
the notebook (its parameters cell is the default profile) and in ``notebooks/profiles/``; the
classes hold no defaults, so there is one place for each value. A bad value raises ``ValueError``
naming the parameter, the value and what is allowed; ``avalib.runs`` checks a run's parameters
this way before it starts a kernel, and each notebook again in its first cell.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from avalib.results import PROFILES

Rule = Callable[[Any], "str | None"]


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def one_of(allowed) -> Rule:
    return lambda v: None if v in allowed else f"allowed: {', '.join(map(str, allowed))}"


def count(minimum: int = 1, optional: bool = False) -> Rule:
    """An integer >= minimum (or None, "all", when ``optional``)."""
    return lambda v: None if (optional and v is None) or (_integer(v) and v >= minimum) else \
        f"must be an integer >= {minimum}" + (" (or None: all)" if optional else "")


def flag(v) -> str | None:
    return None if isinstance(v, bool) else "must be True or False"


def names(allowed) -> Rule:
    """A non-empty list of distinct names from ``allowed`` (a single string is a common slip)."""
    def rule(v):
        if not isinstance(v, list) or not v or len(set(v)) != len(v) or not set(v) <= set(allowed):
            return f"must be a non-empty list of distinct names from: {', '.join(allowed)}"
    return rule


def numbers(minimum: float = 0.0, strict: bool = False, optional: bool = False) -> Rule:
    """A non-empty list of numbers >= minimum (> minimum when ``strict``); None when optional."""
    def rule(v):
        if optional and v is None:
            return None
        if (not isinstance(v, list) or not v or not all(_number(x) for x in v)
                or not all(x > minimum if strict else x >= minimum for x in v)):
            return (f"must be a non-empty list of numbers {'>' if strict else '>='} {minimum:g}"
                    + (" (or None)" if optional else ""))
    return rule


def integers(minimum: int = 0, empty: bool = False) -> Rule:
    """A list of distinct integers >= minimum, non-empty unless ``empty``."""
    def rule(v):
        if not isinstance(v, list) or (not v and not empty) \
                or not all(_integer(x) and x >= minimum for x in v) or len(set(v)) != len(v):
            return (f"must be a {'' if empty else 'non-empty '}list of distinct integers >= {minimum}")
    return rule


def subset_of(allowed) -> Rule:
    """A list (possibly empty) of distinct names from ``allowed``."""
    def rule(v):
        if not isinstance(v, list) or len(set(v)) != len(v) or not set(v) <= set(allowed):
            return f"must be a list of distinct names from: {', '.join(allowed)}"
    return rule


def _scheduler_problem(value) -> str | None:
    from avalib.fanout import check_scheduler
    try:
        check_scheduler(value if isinstance(value, str) else repr(value))
    except ValueError as error:
        return str(error).split("; ", 1)[1]
    return None


def rule(check: Rule):
    return field(metadata={"rule": check})


@dataclass(frozen=True)
class NotebookSettings:
    """Checks every field by its rule, then ``check()`` for rules that join several fields."""

    def __post_init__(self):
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            problem = item.metadata["rule"](value)
            if problem:
                raise ValueError(f"parameter {item.name}={value!r}: {problem}")
        self.check()

    def check(self) -> None:
        pass

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]):
        """The settings from a notebook's globals (its parameters cell, as papermill set it)."""
        return cls(**{item.name: namespace[item.name] for item in dataclasses.fields(cls)})


PROFILE = rule(one_of(PROFILES))
THREADS = rule(count(1))
SEEDS = rule(integers(0))
SCHEDULER = rule(lambda v: None if v is None else _scheduler_problem(v))
ZEMOURI_DATASETS = ("mnist", "fashion_mnist", "omniglot_alphabets", "omniglot_characters",
                    "caltech101_silhouettes")


@dataclass(frozen=True)
class DatasetsSettings(NotebookSettings):
    profile: str = PROFILE
    samples_per_dataset: int = rule(count(1))


@dataclass(frozen=True)
class NguyenSettings(NotebookSettings):
    profile: str = PROFILE
    protocols: list = rule(names(("reference", "reference_value_derivative", "paper", "exact")))
    seeds: list = SEEDS
    threads: int = THREADS
    learning_rates: list | None = rule(numbers(0.0, strict=True, optional=True))
    image_count: int = rule(lambda v: None if _integer(v) and 1 <= v <= 36
                            else "must be an integer from 1 to 36 (the orbit set has 36 images)")
    hidden_size: int = rule(count(1))
    run_chunk: int = rule(count(0))
    sample_learning_rates: list = rule(numbers(0.0, strict=True))

    def check(self):
        from avalib.nguyen.trainer import PAPER_LEARNING_RATES
        rates = self.learning_rates or list(PAPER_LEARNING_RATES)
        outside = [r for r in self.sample_learning_rates if r not in rates]
        if outside:
            raise ValueError(f"parameter sample_learning_rates={self.sample_learning_rates!r}: "
                             f"{outside} not among the learning rates trained ({rates})")


@dataclass(frozen=True)
class ZemouriSettings(NotebookSettings):
    """What notebooks 02 and 03 share (03 reuses 02's step-1 models and warm-ups)."""

    profile: str = PROFILE
    datasets: list = rule(names(ZEMOURI_DATASETS))
    latent_sizes: list = rule(integers(1))
    seeds: list = SEEDS
    train_size: int | None = rule(count(1, optional=True))
    step1_epochs: int = rule(count(1))
    n_dis: int = rule(count(1))
    warmup_steps: int = rule(count(0))
    step2_steps: int = rule(count(0))
    test_size: int = rule(count(1))
    threads: int = THREADS
    scheduler: str | None = SCHEDULER


@dataclass(frozen=True)
class LatentSpaceSettings(ZemouriSettings):
    """Notebook 02: step 1, and its learning curves where it collapses."""

    curve_datasets: list = rule(subset_of(ZEMOURI_DATASETS))
    curve_epochs: list = rule(integers(1))


@dataclass(frozen=True)
class AblationSettings(ZemouriSettings):
    """Notebook 03: the sweep, the focus of the beta claims and the budget pilot."""

    betas: list = rule(numbers(0.0))
    gammas: list = rule(numbers(0.0))
    focus_seeds: list = rule(integers(0, empty=True))
    focus_n_dis: list = rule(integers(1, empty=True))
    focus_step2_steps: list = rule(integers(1, empty=True))
    pilot_betas: list = rule(lambda v: None if v == [] else numbers(0.0)(v))
    pilot_steps: list = rule(integers(1, empty=True))
    example_count: int = rule(count(1))
    judge_train_size: int | None = rule(count(1, optional=True))
    judge_epochs: int = rule(count(1))
    cifar10_steps: int = rule(count(1))

    def check(self):
        if 0.0 not in self.betas:
            raise ValueError(f"parameter betas={self.betas!r}: must include 0.0 (every claim "
                             "compares with beta = 0)")


# The keys of avalib.comparison.trainer.TRAINERS (a test keeps the two equal).
COMPARISON_MODELS = ("vae", "gan", "zemouri",
                     *(f"ava{i}_{protocol}" for protocol in ("exact", "paper") for i in range(1, 6)))


@dataclass(frozen=True)
class ComparisonSettings(NotebookSettings):
    profile: str = PROFILE
    datasets: list = rule(names(("mnist", "fashion_mnist")))
    models: list = rule(names(COMPARISON_MODELS))
    lean_twins: list = rule(subset_of(COMPARISON_MODELS))
    seeds: list = SEEDS
    include_cifar10: bool = rule(flag)
    train_size: int | None = rule(count(1, optional=True))
    epochs: int = rule(count(1))
    latent_size: int = rule(count(1))
    test_size: int = rule(count(1))
    judge_train_size: int | None = rule(count(1, optional=True))
    judge_epochs: int = rule(count(1))
    threads: int = THREADS
    scheduler: str | None = SCHEDULER


SETTINGS: dict[str, type[NotebookSettings]] = {
    "00_datasets": DatasetsSettings,
    "01_nguyen_bm_tables": NguyenSettings,
    "02_latent_space": LatentSpaceSettings,
    "03_beta_gamma_ablation": AblationSettings,
    "04_vae_vs_gan": ComparisonSettings,
}
