"""The cross-machine check: one small unit per trainer of the study, trained in this process, and
the sha256 of what it learned compared bit for bit with the fingerprints committed in
``tests/expected/smoke_fingerprints.csv`` (made under portable numerics; ``avalib.numerics``).

The units use the real networks, widths and data (MNIST from the mirror, the orbit images), at a
few optimiser steps each, so every kernel a default run uses runs here: Nguyen (2024) float32
under the true gradients and float64 under the authors' rules, Zemouri (2020) steps 1 and 2, the
comparison's VAE and GAN, and AVA5 under the true gradients. A unit's fingerprint covers its
trained parameters (``cache.fingerprint``) or, for a comparison model, the images its generator
decodes from fixed codes and its posterior means of fixed images, with its loss history.

Run: ``python -m avalib.smoke_units`` (prints unit, committed, here, same?; exit 1 on a
difference), ``--write`` to commit this machine's fingerprints after a deliberate change of a
trainer (say why in the commit).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch

from avalib import numerics
from avalib.cache import fingerprint
from avalib.download import REPOSITORY_ROOT

COMMITTED = REPOSITORY_ROOT / "tests" / "expected" / "smoke_fingerprints.csv"
COLUMNS = ["unit", "fingerprint", "numerics", "cpu_model", "torch"]


def _nguyen(protocol: str, dtype: str) -> Any:
    from avalib.nguyen.experiment import train_variant
    from avalib.nguyen.variants import NguyenConfig

    config = NguyenConfig(protocol=protocol, learning_rates=(0.1,), seeds=(0,), hidden_size=8,
                          dtype=dtype, generations_per_image=2)
    return train_variant("AVA5", config, image_count=4)


def _zemouri() -> Any:
    from avalib.zemouri.trainer import ZemouriConfig, train

    config = ZemouriConfig(dataset="mnist", latent_size=2, beta=0.01, gamma=0.1, train_size=128,
                           step1_epochs=1, warmup_steps=2, step2_steps=2, n_dis=1, batch_size=32)
    return train(config)


def _comparison(model: str) -> dict[str, Any]:
    """What a comparison model learned, without its wall-clock seconds: decoded images of fixed
    codes, posterior means of fixed images (models with an encoder), the loss history."""
    from avalib.comparison.trainer import ComparisonConfig, train_model

    config = ComparisonConfig(model=model, dataset="mnist", latent_size=8, train_size=128,
                              epochs=1, batch_size=32)
    trained = train_model(config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        images = trained.decode(torch.randn(8, trained.latent_size, generator=generator))
        means = trained.encode(images) if trained.encode is not None else None
    return {"images": images, "means": means, "history": trained.history,
            "discriminator_outputs": trained.discriminator_outputs}


UNITS: dict[str, Callable[[], Any]] = {
    "nguyen_exact_float32": lambda: _nguyen("exact", "float32"),
    "nguyen_reference_float64": lambda: _nguyen("reference", "float64"),
    "zemouri_steps_1_and_2": _zemouri,
    "comparison_vae": lambda: _comparison("vae"),
    "comparison_gan": lambda: _comparison("gan"),
    "comparison_ava5_exact": lambda: _comparison("ava5_exact"),
}


def fingerprints(log: Callable[[str], None] = lambda line: None, names=tuple(UNITS)) -> pd.DataFrame:
    """The units ``names`` of ``UNITS`` trained here (pinned to this process's numerics), one row each."""
    numerics.pin(1)
    rows = []
    for name, unit in ((name, UNITS[name]) for name in names):
        start = time.perf_counter()
        torch.manual_seed(0)
        rows.append({"unit": name, "fingerprint": fingerprint(unit()), **numerics.describe(),
                     "cpu_model": numerics.cpu_model(), "torch": torch.__version__})
        log(f"{name}: {rows[-1]['fingerprint'][:16]} ({time.perf_counter() - start:.1f} s)")
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def compared(here: pd.DataFrame, committed: pd.DataFrame) -> pd.DataFrame:
    """unit, committed fingerprint (and its CPU), here, same?: one row per committed unit of this
    process's numerics mode and torch version (another mode's or version's bits are not a claim)."""
    mode, version = here["numerics"].iloc[0], here["torch"].iloc[0]
    committed = committed[(committed["numerics"] == mode) & (committed["torch"] == version)]
    table = committed.merge(here, on="unit", how="left", suffixes=("_committed", "_here"))
    table["same"] = table["fingerprint_committed"] == table["fingerprint_here"]
    return table[["unit", "fingerprint_committed", "cpu_model_committed", "fingerprint_here",
                  "cpu_model_here", "same"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write this machine's fingerprints to {COMMITTED.relative_to(REPOSITORY_ROOT)}")
    parser.add_argument("--units", default=",".join(UNITS),
                        help="comma-separated units to train and compare (default: all)")
    args = parser.parse_args(argv)
    names = args.units.split(",")
    unknown = sorted(set(names) - set(UNITS))
    if unknown:
        parser.error(f"--units: {', '.join(unknown)} unknown; allowed: {', '.join(UNITS)}")
    if args.write and set(names) != set(UNITS):
        parser.error("--write writes every unit's fingerprint: leave --units out")
    here = fingerprints(lambda line: print(line, flush=True), names)
    if args.write:
        if here["numerics"].iloc[0] != "portable":
            print(f"not written: this machine computes with {numerics.describe()}; the committed "
                  "fingerprints are portable ones", file=sys.stderr)
            return 1
        here.to_csv(COMMITTED, index=False)
        print(f"wrote {COMMITTED.relative_to(REPOSITORY_ROOT)}")
        return 0
    table = compared(here, pd.read_csv(COMMITTED).query("unit in @names"))
    with pd.option_context("display.width", 200, "display.max_colwidth", 20):
        print(table.to_string(index=False))
    if table.empty:
        print(f"no committed fingerprints for numerics={here['numerics'].iloc[0]}, torch "
              f"{here['torch'].iloc[0]}: nothing to compare")
        return 0
    differing = table.loc[~table["same"], "unit"].tolist()
    if differing:
        print(f"DIFFERENT here ({numerics.cpu_model()}): {', '.join(differing)}", file=sys.stderr)
        return 1
    print(f"all {len(table)} units bit for bit the same as committed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
