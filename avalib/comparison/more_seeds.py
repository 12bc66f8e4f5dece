"""Notebook 08: the AVA paper's claims on real images (notebook 04's ``ava_table``) judged again
on more seeds. The added seeds train the focus models with notebook 04's own configs (read from its
``provenance.json``, so the two cannot differ); every other row comes from 04's ``runs.csv``
(computed once). Whether this machine computes what 04 computed is asked of the fingerprints: 04's
first run is trained here first and each unit it makes is compared with 04's ``fingerprints.csv``.
An AVA variant is compared with the VAE seed by seed, and every added seed trains the VAE and the
focus variants here, so no within-seed comparison mixes two machines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from avalib import cache, verify
from avalib.comparison import claims, experiment
from avalib.comparison.run import ComparisonRun
from avalib.comparison.trainer import ComparisonConfig
from avalib.results import earlier_run, relative

SOURCE = ComparisonRun.stem
NUMBER = SOURCE[:2]
RUN_INDEX = ["dataset", "model", "seed"]
DECIMALS = 6        # runs.csv's precision in both notebooks: the pooled rows are all of one precision
EARLIER = ["seeds", "verdict", "effect"]      # of 04's cell, beside the pooled one (``*_in_04``)


@dataclasses.dataclass(frozen=True)
class Source:
    """Notebook 04's finished run: its parameters, runs, AVA claims and fingerprints."""

    folder: Path
    run: ComparisonRun
    runs: pd.DataFrame
    ava_claims: pd.DataFrame
    git_commit: str
    fingerprints: pd.DataFrame

    @classmethod
    def read(cls, folder: Path) -> "Source":
        run, commit, fingerprints = earlier_run(folder, ComparisonRun)
        return cls(folder, run, pd.read_csv(folder / "runs.csv"), pd.read_csv(folder / "ava_claims.csv"),
                   commit, fingerprints)

    @property
    def where(self) -> str:
        return relative(self.folder)

    def summary(self) -> pd.Series:
        return pd.Series({"folder": self.where, "datasets": ", ".join(self.run.datasets),
                          "models": ", ".join(self.run.models),
                          "seeds": ", ".join(map(str, self.run.seeds)), "runs": len(self.runs),
                          "AVA claim cells": len(self.ava_claims)})

    def check(self, datasets: list[str], models: list[str]) -> None:
        """The focus is among notebook 04's datasets and models, or the parameter is named."""
        for name, values, allowed in (("focus_datasets", datasets, self.run.datasets),
                                      ("focus_models", models, self.run.models)):
            if not set(values) <= set(allowed):
                raise ValueError(f"parameter {name}={values!r}: must be among notebook {NUMBER}'s "
                                 f"{name.split('_')[1]}: {', '.join(allowed)}")

    def config(self, dataset: str, model: str, seed: int) -> ComparisonConfig:
        """Notebook 04's trainer config of one run."""
        return dataclasses.replace(self.run.base, model=model, dataset=dataset, seed=seed)


def fingerprints_compared(source: Source, scheduler: str | None = None, threads: int = 1) -> pd.DataFrame:
    """Notebook 04's first run (first dataset, model and seed) trained and scored here as 04 does,
    each unit it made (the judge, the model, its scores) beside 04's fingerprint (``verify.beside``)."""
    run = source.run
    with cache.recorded() as made:                       # 04's units (kept: 08 lists them too)
        experiment.run_comparison(run.models[:1], run.datasets[:1], run.seeds[:1], run.base, run.judge,
                                  run.test_size, scheduler, threads)
    return verify.beside(made, source.fingerprints, NUMBER)


def added_runs(source: Source, datasets: list[str], models: list[str], seeds: list[int],
               scheduler: str | None = None, threads: int = 1) -> pd.DataFrame:
    """The focus ``models`` on ``datasets`` at the ``seeds`` notebook 04 did not train, trained and
    scored as 04 does, as rows of 04's ``runs.csv`` (same columns and precision)."""
    new = [seed for seed in seeds if seed not in source.run.seeds]
    if not new:
        return source.runs.iloc[:0]
    run = source.run
    runs, _, _ = experiment.run_comparison(models, datasets, new, run.base, run.judge, run.test_size,
                                           scheduler, threads)
    return runs.round(DECIMALS)[list(source.runs.columns)]


def pooled(source: Source, added: pd.DataFrame) -> pd.DataFrame:
    """Notebook 04's runs and the added ones, with the notebook each comes from."""
    return pd.concat([source.runs.assign(notebook=SOURCE), added.assign(notebook="08_ava_more_seeds")],
                     ignore_index=True)


def judged_again(source: Source, runs: pd.DataFrame, stem: str) -> tuple[pd.DataFrame, list]:
    """``claims.ava_table`` of the pooled ``runs`` (the same claims, tests and Holm family as
    notebook 04's), with 04's seeds, verdict and effect of each cell beside it (``*_in_04``)."""
    table, records = claims.ava_table(runs, stem)
    earlier = source.ava_claims[["dataset", "model", "claim", *EARLIER]].rename(
        columns={column: f"{column}_in_{NUMBER}" for column in EARLIER})
    return table.merge(earlier, on=["dataset", "model", "claim"], how="left"), records
