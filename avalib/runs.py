"""Run one notebook safely: parameters checked first, results published whole or not at all.

    python -m avalib.runs 03_beta_gamma_ablation --profile default -p seeds "[0, 1, 2]"

The parameters are the notebook's ``parameters`` cell, then its profile file
(``notebooks/profiles/<profile>/<stem>.yaml``; none for ``default``), then each ``-p NAME VALUE``
(VALUE read as YAML: ``3``, ``[0, 1]``, ``mnist``). An unknown name or a bad value stops the run
before a kernel starts: the notebook's ``Run`` class (``RUNS``, ``avalib.parameters``) checks them. The notebook then runs with its results folder in
``build/staging/``; only when every cell succeeded does the folder, executed notebook included,
replace ``results/<stem>/`` (or ``build/results-<profile>/<stem>/``) as a whole. A failed run
leaves the published folder exactly as it was and says where the partial run is. While the
kernel runs, its progress (one line per finished unit of work, cache hits, damaged cache files)
reaches this process's stdout through a file the kernel appends to (``avalib.follow``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from avalib.download import REPOSITORY_ROOT
from avalib.follow import Follow
from avalib.training import PROGRESS_VARIABLE
from avalib.results import PUBLISHED_DIR_VARIABLE, RESULTS_DIR_VARIABLE, check_profile, published_root

NOTEBOOKS = REPOSITORY_ROOT / "notebooks"
# Each notebook's parameters class (module:name, imported when asked for).
RUNS = {"00_datasets": "avalib.parameters:DatasetsRun",
        "01_nguyen_bm_tables": "avalib.nguyen.run:NguyenRun",
        "02_latent_space": "avalib.zemouri.run:LatentSpaceRun",
        "03_beta_gamma_ablation": "avalib.zemouri.run:AblationRun",
        "04_vae_vs_gan": "avalib.comparison.run:ComparisonRun",
        "05_zemouri_more_seeds": "avalib.zemouri.run:MoreSeedsRun",
        "06_cifar10": "avalib.cifar10:Cifar10Run",
        "07_beta_thresholds": "avalib.zemouri.run:BetaThresholdsRun",
        "08_ava_more_seeds": "avalib.comparison.run:MoreAvaSeedsRun"}


def run_class(stem: str):
    """The ``avalib.parameters.Run`` subclass of notebook ``stem``."""
    if stem not in RUNS:
        raise ValueError(f"notebook {stem!r} is unknown; allowed: {', '.join(RUNS)}")
    module, name = RUNS[stem].split(":")
    return getattr(importlib.import_module(module), name)


def declared(stem: str) -> dict[str, Any]:
    """The parameters cell of ``notebooks/<stem>.ipynb``: name -> default value."""
    import papermill

    path = NOTEBOOKS / f"{stem}.ipynb"
    if stem not in RUNS or not path.exists():
        raise ValueError(f"notebook {stem!r} is unknown; allowed: {', '.join(RUNS)}")
    return {name: ast.literal_eval(spec["default"])
            for name, spec in papermill.inspect_notebook(str(path)).items()}


def profile_file(stem: str, profile: str) -> Path:
    return NOTEBOOKS / "profiles" / profile / f"{stem}.yaml"


def resolve(stem: str, profile: str = "default", overrides: dict[str, Any] | None = None) -> dict:
    """Every parameter of the run (defaults < profile file < overrides), checked."""
    check_profile(profile)
    values = declared(stem)
    layers = []
    if profile != "default":
        path = profile_file(stem, profile)
        if not path.exists():
            raise ValueError(f"profile={profile!r}: {path} does not exist (no {profile} scale "
                             f"for {stem} yet)")
        layers.append((path.name, yaml.safe_load(path.read_text()) or {}))
    layers.append(("-p", dict(overrides or {})))
    for origin, layer in layers:
        unknown = sorted(set(layer) - set(values))
        if unknown:
            raise ValueError(f"{origin}: unknown parameter(s) {', '.join(unknown)} for {stem}; "
                             f"its parameters: {', '.join(values)}")
        values.update(layer)
    values["profile"] = profile
    run_class(stem)(**values)
    return values


def publish(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` as a whole (the old folder is removed only after)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(f".{final.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    shutil.move(str(staging), str(final))
    shutil.rmtree(old, ignore_errors=True)


# The kernel's own log at ERROR: its "running over TCP without encryption" warning concerns a
# kernel on loopback started by this process only; the notebook's warnings still show in its cells.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def run(stem: str, profile: str = "default", overrides: dict[str, Any] | None = None) -> Path:
    """Execute the notebook into a staging folder and publish it; return the published folder."""
    import papermill

    parameters = resolve(stem, profile, overrides)
    final_root = published_root(profile)
    staging_root = REPOSITORY_ROOT / "build" / "staging" / profile
    staging = staging_root / stem
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    progress = staging_root / f"{stem}.progress"          # beside the results, never in them
    variables = (RESULTS_DIR_VARIABLE, PROGRESS_VARIABLE, PUBLISHED_DIR_VARIABLE)
    previous = {name: os.environ.get(name) for name in variables}
    os.environ[RESULTS_DIR_VARIABLE] = str(staging_root)
    os.environ[PUBLISHED_DIR_VARIABLE] = str(final_root)
    os.environ[PROGRESS_VARIABLE] = str(progress)
    try:
        with Follow(progress, prefix=f"{stem} | "):
            papermill.execute_notebook(str(NOTEBOOKS / f"{stem}.ipynb"), str(staging / f"{stem}.ipynb"),
                                       parameters=parameters, cwd=str(REPOSITORY_ROOT),
                                       progress_bar=False, extra_arguments=KERNEL_ARGUMENTS)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    executed = staging / f"{stem}.ipynb"
    executed.write_text(relative_paths(executed.read_text()))
    publish(staging, final_root / stem)
    return final_root / stem


def relative_paths(text: str, root: Path = REPOSITORY_ROOT) -> str:
    """``text`` with every absolute path under the repository's folder (``root`` and what lies
    beside it, e.g. the shared mirror) written relative to ``root``: published results never carry
    the build machine's paths (papermill's metadata, printed paths, warnings' file names)."""
    text = text.replace(f"{root}/", "").replace(str(root), ".")
    return text.replace(f"{root.parent}/", "../")


def parse_overrides(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs, each VALUE read as YAML; ``profile`` is chosen by ``--profile``."""
    overrides = {}
    for name, text in pairs:
        if name == "profile":
            raise ValueError("-p profile: the profile is chosen by --profile (make: PROFILE=), "
                             "which also decides where the results go")
        try:
            overrides[name] = yaml.safe_load(text)
        except yaml.YAMLError as error:
            reason = str(getattr(error, "problem", None) or error).splitlines()[0]
            raise ValueError(f"-p {name} {text!r}: not a YAML value ({reason})") from None
    return overrides


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m avalib.runs", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", help=f"one of: {', '.join(RUNS)}")
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "default"))
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set one parameter (VALUE as YAML)")
    arguments = parser.parse_args(argv)
    try:
        overrides = parse_overrides(arguments.p)
        folder = run(arguments.notebook, arguments.profile, overrides)
    except ValueError as error:                       # bad input: the message says it all
        print(f"avalib.runs: {error}", file=sys.stderr)
        return 2
    except Exception as error:                        # the notebook failed: nothing published
        first_line = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        print(f"avalib.runs: {arguments.notebook} failed ({first_line}); the published results "
              f"were left as they were; the partial run is in build/staging/{arguments.profile}/"
              f"{arguments.notebook}/", file=sys.stderr)
        return 1
    print(f"avalib.runs: {arguments.notebook} published to {folder.relative_to(REPOSITORY_ROOT)}"
          if folder.is_relative_to(REPOSITORY_ROOT) else f"avalib.runs: published to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
