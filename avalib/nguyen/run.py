"""Notebook 01's parameters (``avalib.parameters``): the protocols, seeds and scale of Tables 1-3."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from avalib.nguyen.variants import PAPER_LEARNING_RATES, PROTOCOLS, REFERENCE_PROTOCOLS, NguyenConfig
from avalib.parameters import Run, at_least, distinct, problem

ORBIT_IMAGES = 36


@dataclass(frozen=True)
class NguyenRun(Run):
    stem: ClassVar[str] = "01_nguyen_bm_tables"
    protocols: list[str]
    seeds: list[int]
    threads: int
    learning_rates: list[float] | None
    image_count: int
    hidden_size: int
    run_chunk: int
    sample_learning_rates: list[float]
    device: str
    configs: dict[str, NguyenConfig] = field(init=False)      # protocol -> trainer config

    def check(self):
        distinct("protocols", self.protocols, PROTOCOLS)
        distinct("seeds", self.seeds, minimum=0)
        if self.learning_rates is not None:
            distinct("learning_rates", self.learning_rates)
        if not 1 <= self.image_count <= ORBIT_IMAGES:
            raise problem("image_count", self.image_count,
                          f"must be an integer from 1 to {ORBIT_IMAGES} (the orbit set has {ORBIT_IMAGES} images)")
        outside = [r for r in self.sample_learning_rates if r not in self.rates]
        if outside:
            raise problem("sample_learning_rates", self.sample_learning_rates,
                          f"{outside} not among the learning rates trained ({list(self.rates)})")
        at_least("run_chunk", self.run_chunk, 0)

    @property
    def rates(self) -> tuple[float, ...]:
        return tuple(self.learning_rates or PAPER_LEARNING_RATES)

    def configure(self):
        """One config per protocol: the reference protocols in float64 (the authors' Java uses
        double) as one tensor program, paper and exact in float32 in chunks of ``run_chunk``."""
        base = NguyenConfig(seeds=tuple(self.seeds), hidden_size=self.hidden_size,
                            learning_rates=self.rates, device=self.device)
        reference = {"dtype": "float64", "run_chunk": 0}
        return {"configs": {p: dataclasses.replace(base, protocol=p, **(
            reference if p in REFERENCE_PROTOCOLS else {"dtype": "float32", "run_chunk": self.run_chunk}))
            for p in self.protocols}}
