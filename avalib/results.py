"""Seeding, provenance and the results folder of a notebook.

Each notebook writes into ``results/<notebook-stem>/``: tables as CSV and Markdown, figures as
PNG, and ``provenance.json`` (git commit, resolved parameters, versions, device, threads, start
and end time, wall seconds). Only the ``default`` profile writes there (the committed run); the
``smoke`` and ``paper`` profiles write under ``build/results-<profile>/``, so that neither a test
nor a bigger run overwrites a committed result; ``$AVALIB_RESULTS_DIR`` overrides the root.

The study's front page, ``results/README.md``, is generated from these folders by
``avalib.front_page``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import torch

from avalib.atomic import atomic_path, write_text
from avalib import cache, fanout, numerics
from avalib.device import describe as describe_device
from avalib.download import REPOSITORY_ROOT

RESULTS_DIR_VARIABLE = "AVALIB_RESULTS_DIR"
# Where ``avalib.runs`` will publish the running notebook (its kernel's results folder is a staging
# folder): a notebook that builds on another's results finds them beside it (``earlier_results``).
PUBLISHED_DIR_VARIABLE = "AVALIB_PUBLISHED_DIR"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded with ``seed`` as well."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


# The scales every notebook runs at (its ``profile`` parameter): ``smoke`` is what ``make test``
# runs (notebooks/profiles/smoke/), ``default`` the committed run (the parameters cell),
# ``paper`` the papers' scale.
PROFILES = ("smoke", "default", "paper")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is unknown; allowed: {', '.join(PROFILES)}")
    return profile


def published_root(profile: str = "default") -> Path:
    """Where ``avalib.runs`` publishes a finished run: ``results/`` for the default profile (the
    committed run), ``build/results-<profile>/`` for the others; ``$AVALIB_RESULTS_DIR`` instead
    when set."""
    override = os.environ.get(RESULTS_DIR_VARIABLE)
    if override:
        return Path(override)
    check_profile(profile)
    return REPOSITORY_ROOT / ("results" if profile == "default" else f"build/results-{profile}")


INTERACTIVE_ROOT = REPOSITORY_ROOT / "build" / "results-interactive"


def results_root() -> Path:
    """Where a notebook writes its results folder: ``$AVALIB_RESULTS_DIR`` (``avalib.runs`` points
    it at its staging folder), else ``build/results-interactive/`` - a notebook run by hand (in
    JupyterLab, by papermill or nbconvert) never writes into the published ``results/``."""
    override = os.environ.get(RESULTS_DIR_VARIABLE)
    return Path(override) if override else INTERACTIVE_ROOT


def earlier_results(stem: str, profile: str) -> Path:
    """The results folder of notebook ``stem`` at ``profile`` that a later notebook builds on:
    beside this run's own folder (``results_root()``: the smoke run of ``make test``) when a
    finished run is there, else beside the folder ``avalib.runs`` will publish this run to, else
    where it publishes that profile (``results/`` for the default). A run is finished when its
    ``provenance.json`` exists and names ``profile``."""
    published = REPOSITORY_ROOT / ("results" if check_profile(profile) == "default" else f"build/results-{profile}")
    publishing = os.environ.get(PUBLISHED_DIR_VARIABLE)
    places = [results_root() / stem, *([Path(publishing) / stem] if publishing else []), published / stem]
    places = list(dict.fromkeys(places))
    for folder in places:
        record = folder / "provenance.json"
        if record.exists() and json.loads(record.read_text())["parameters"].get("profile") == profile:
            return folder
    named = " or ".join(os.path.relpath(place, REPOSITORY_ROOT) for place in places)
    raise FileNotFoundError(f"notebook {stem} has no finished run at profile={profile!r} in {named}: "
                            f"run `make notebook-{stem} PROFILE={profile}` first")


def earlier_run(folder: Path, run_class) -> tuple[Any, str, pd.DataFrame]:
    """The finished run in ``folder`` (``earlier_results``) as (its ``run_class``, built from its
    ``provenance.json``'s parameters; its git commit; its ``fingerprints.csv``, empty where none)."""
    provenance = json.loads((folder / "provenance.json").read_text())
    recorded = provenance["parameters"]
    prints = folder / "fingerprints.csv"
    return (run_class(**{name: recorded[name] for name in run_class.parameter_names()}), provenance["git_commit"],
            pd.read_csv(prints) if prints.exists() else pd.DataFrame(columns=["unit", "key", "fingerprint"]))


def relative(folder: Path) -> str:
    """``folder`` relative to the repository (provenance never holds a machine's paths)."""
    return os.path.relpath(folder, REPOSITORY_ROOT)


def _git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPOSITORY_ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        # results/ and README.md (its generated part) are what default runs write, not code: a
        # run after another run stays "clean"; any other change (docs included) is recorded
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!results", ":!README.md"],
                               cwd=REPOSITORY_ROOT, text=True, capture_output=True).stdout.strip()
        return commit + ("+uncommitted-changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def _sha256_of(path: Path) -> str | None:
    """sha256 of a file of the repository (the lock, the data manifest), None where it is missing."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _show_in_notebook(path: Path) -> None:
    """Display the image at ``path`` when a Jupyter kernel runs this (nothing elsewhere)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        display(Image(filename=str(path)))


class RunRecord:
    """The results folder of one notebook run, and its provenance.

    >>> record = RunRecord(DatasetsRun(profile="smoke", samples_per_dataset=8))
    >>> record.table("splits", frame)        # splits.csv + splits.md
    >>> record.figure("samples", figure)     # samples.png
    >>> record.finish()                      # provenance.json
    """

    def __init__(self, run, **extra: Any):
        """``run``: the notebook's parameters (``avalib.parameters.Run``), recorded with its
        trainer configs; ``extra``: what the notebook decided on top (e.g. datasets found)."""
        self.stem = run.stem
        self.parameters = _jsonable(dataclasses.asdict(run) | extra)
        self.device = getattr(run, "device", "cpu")
        self.profile = check_profile(run.profile)
        self.directory = results_root() / self.stem
        self.directory.mkdir(parents=True, exist_ok=True)
        self.git_commit = _git_commit()          # at the start: the code that ran
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self._clock = time.perf_counter()
        self.written: list[str] = []
        self._first_unit = len(cache.RECORDS)    # the units of this run are those after it

    def path(self, name: str) -> Path:
        return self.directory / name

    def table(self, name: str, frame: pd.DataFrame, decimals: int = 4, index: bool = True,
              markdown: pd.DataFrame | None = None) -> None:
        """Write ``frame`` as ``<name>.csv`` and ``<name>.md`` (numbers rounded to ``decimals``);
        ``markdown``, when given, is a more readable frame for the Markdown file."""
        rounded = frame.round(decimals)
        with atomic_path(self.path(f"{name}.csv")) as temporary:
            rounded.to_csv(temporary, index=index)
        shown = rounded if markdown is None else markdown
        if shown.columns.nlevels > 1:                  # "accuracy mean", not ('accuracy', 'mean')
            shown = shown.set_axis([" ".join(str(p) for p in c if str(p)) for c in shown.columns], axis=1)
        if index and shown.index.nlevels > 1:          # one column per level, not tuples
            shown = shown.reset_index()
            index = False
        write_text(self.path(f"{name}.md"), shown.to_markdown(index=index) + "\n")
        self.written += [f"{name}.csv", f"{name}.md"]

    def figure(self, name: str, figure, dpi: int = 110) -> None:
        """Write a matplotlib figure as ``<name>.png`` and, in a notebook, show that file there
        (so the executed copy holds every figure it wrote); the figure is closed."""
        with atomic_path(self.path(f"{name}.png")) as temporary:
            figure.savefig(temporary, format="png", dpi=dpi, bbox_inches="tight")
        self.written.append(f"{name}.png")
        import matplotlib.pyplot as plt
        plt.close(figure)
        _show_in_notebook(self.path(f"{name}.png"))

    def note(self, name: str, text: str) -> None:
        """Write a Markdown note (e.g. why a part was skipped) as ``<name>.md``."""
        write_text(self.path(f"{name}.md"), text.rstrip() + "\n")
        self.written.append(f"{name}.md")

    def provenance(self) -> dict[str, Any]:
        ended = datetime.datetime.now(datetime.timezone.utc)
        return {
            "notebook": f"notebooks/{self.stem}.ipynb",
            "git_commit": self.git_commit,
            "parameters": self.parameters,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "requirements_lock_sha256": _sha256_of(REPOSITORY_ROOT / "requirements.lock"),
            "data_manifest_sha256": _sha256_of(REPOSITORY_ROOT / "data" / "MANIFEST.tsv"),
            "pandas": pd.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_model": numerics.cpu_model(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            **numerics.describe(),
            "cpu_count": os.cpu_count(),
            "device": describe_device(self.device),
            "torch_threads": torch.get_num_threads(),
            "started_utc": self.started.isoformat(timespec="seconds"),
            "ended_utc": ended.isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - self._clock, 1),
            # what the units of work cost when they were computed, also when this run loaded them
            # from the cache (avalib.fanout.ledger): the cost of reproducing the run from scratch
            "units": fanout.ledger(),
            "files": sorted(set(self.written)),
        }

    def fingerprints(self) -> None:
        """Write ``fingerprints.csv``: one row per unit of work this run computed or loaded since
        the record was made (unit, key, sha256 of its result, seconds when computed, from the
        cache, numerics, CPU model); nothing where the run had no units."""
        rows = cache.RECORDS[self._first_unit:]
        if rows:
            frame = pd.DataFrame(rows).drop_duplicates(["unit", "key"])
            with atomic_path(self.path("fingerprints.csv")) as temporary:
                frame.to_csv(temporary, index=False)
            self.written.append("fingerprints.csv")

    def finish(self) -> dict[str, Any]:
        """Write ``fingerprints.csv`` and ``provenance.json``; return the provenance."""
        self.fingerprints()
        record = self.provenance()
        write_text(self.path("provenance.json"), json.dumps(record, indent=2) + "\n")
        return record
