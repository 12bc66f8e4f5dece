"""A notebook's parameters as one frozen dataclass, checked once, before anything trains.

Each notebook has one subclass of ``Run`` whose fields *are* the names of its ``parameters`` cell
(the values live there and in ``notebooks/profiles/``; the classes hold no defaults) and whose
``__post_init__`` builds the trainer configs it needs (``init=False`` fields): those configs check
their own fields, so a rule is written once, where the trainer needs it. A bad value raises
``ValueError`` naming the parameter, the value and what is allowed; names are allowed from the
registries themselves (``avalib.data.DATASETS``, the trainers' tables). ``avalib.runs`` checks a
run's parameters this way before it starts a kernel, and the notebook again in its first cell
(``Run.from_parameters(globals())``). ``dataclasses.asdict(run)`` is what provenance records.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from avalib.device import check_device
from avalib.fanout import check_scheduler
from avalib.results import PROFILES


def problem(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"parameter {name}={value!r}: {allowed}")


def _describe(hint) -> str:
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in arguments)
    if origin is list:
        return f"a list of {_describe(arguments[0]).split(' ', 1)[1]}s" if arguments else "a list"
    return {int: "an integer", float: "a number", bool: "True or False", str: "a string",
            type(None): "None"}.get(hint, getattr(hint, "__name__", str(hint)))


def _matches(value: Any, hint) -> bool:
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in arguments)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, arguments[0]) for v in value)
    if hint in (int, float):
        allowed = (int,) if hint is int else (int, float)
        return isinstance(value, allowed) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    return isinstance(value, hint)


def distinct(name: str, values: list, allowed=None, empty: bool = False, minimum=None) -> None:
    """``values`` is a list of distinct items (non-empty unless ``empty``), each in ``allowed`` /
    >= ``minimum`` when given."""
    ok = (isinstance(values, list) and (empty or values) and len(set(values)) == len(values)
          and (allowed is None or set(values) <= set(allowed))
          and (minimum is None or all(v >= minimum for v in values)))
    if not ok:
        what = "names from: " + ", ".join(allowed) if allowed is not None else "values"
        bound = f" >= {minimum}" if minimum is not None else ""
        raise problem(name, values, f"must be a {'' if empty else 'non-empty '}list of distinct "
                                    f"{what}{bound}")


def at_least(name: str, value, minimum, optional: bool = False) -> None:
    if not ((optional and value is None) or value >= minimum):
        raise problem(name, value, f"must be >= {minimum}" + (" (or None: all)" if optional else ""))


@dataclass(frozen=True)
class Run:
    """A notebook's parameters: every field of the ``parameters`` cell, type-checked by its
    annotation, then by the subclass's ``check``; trainer configs built by ``configure``."""

    stem: ClassVar[str]
    profile: str

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for item in dataclasses.fields(self):
            value = getattr(self, item.name, None)
            if item.init and not _matches(value, hints[item.name]):
                raise problem(item.name, value, f"must be {_describe(hints[item.name])}")
        if self.profile not in PROFILES:
            raise problem("profile", self.profile, f"allowed: {', '.join(PROFILES)}")
        for name in ("device", "scheduler"):
            if hasattr(self, name) and getattr(self, name) is not None:
                try:
                    (check_device if name == "device" else check_scheduler)(getattr(self, name))
                except ValueError as error:
                    raise problem(name, getattr(self, name), str(error).split("; ", 1)[1]) from None
        if hasattr(self, "threads"):
            at_least("threads", self.threads, 1)
        self.check()
        try:
            built = self.configure()
        except ValueError as error:         # a trainer config's own check, e.g. "epochs=0: ..."
            raise ValueError(f"parameter {error}") from None
        for name, value in built.items():
            object.__setattr__(self, name, value)

    def check(self) -> None:
        """Rules on the notebook's own fields (lists, names, joint conditions)."""

    def configure(self) -> dict[str, Any]:
        """The trainer configs of the run, by field name (``init=False`` fields)."""
        return {}

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [item.name for item in dataclasses.fields(cls) if item.init]

    @classmethod
    def from_parameters(cls, namespace: dict[str, Any]):
        """The run from a notebook's globals (its parameters cell, as papermill set it)."""
        return cls(**{name: namespace[name] for name in cls.parameter_names()})


@dataclass(frozen=True)
class DatasetsRun(Run):
    """Notebook 00: every dataset's splits and a sample grid."""

    stem: ClassVar[str] = "00_datasets"
    samples_per_dataset: int

    def check(self):
        at_least("samples_per_dataset", self.samples_per_dataset, 1)


def labelled_datasets() -> tuple[str, ...]:
    """The datasets of ``avalib.data.DATASETS`` with a train and a test split (the trainers')."""
    from avalib.data import DATASETS

    return tuple(name for name, spec in DATASETS.items() if {"train", "test"} <= set(spec.splits))
