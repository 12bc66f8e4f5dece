"""An estimate, not a measurement: what Zemouri's notebooks 02, 03 and 07 take at the paper profile
(full training sets, 30 step-1 epochs, 1,500 Algorithm 2 iterations per setting, 5 seeds), beside
the default profile, on this CPU (one thread), on a 32-core SLURM allocation and on one GPU.

How: the units each profile trains are listed by the notebooks' own planning code
(``avalib.runs.resolve``, ``avalib.zemouri.experiment.sweep_settings``), each unit's work counted
(step 1: training images x epochs; warm-up and setting: Algorithm 2 iterations x 64 images),
and turned into seconds by the throughput measured here and now (``zemouri_speed.py``'s step 1
and step 2 at one thread, under this process's numerics). 32 cores: the CPU seconds over 32
single-threaded workers, or the longest chain of units (a step-1 model, its warm-up, its longest
setting) where that is longer. One GPU: per iteration the larger of its FLOPs (torch's
``FlopCounterMode``) over ``GPU_FLOPS`` and its operator count over one ``LAUNCH`` each - these
networks are small enough that kernel launches, not arithmetic, bound a GPU; both constants are
assumptions, printed. Left out: scoring, the judges, the budget pilot, CIFAR-10 and 02's
learning curves; and notebooks 01, 04 and 05 (01's paper profile adds seeds only: 10 for 8).

Run: ``python benchmarks/paper_profile_estimate.py [--output results/paper_profile_estimate.csv]``
(``--smoke``: tiny throughput runs, numbers meaningless; ``make test`` runs it so).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
from pathlib import Path

import pandas as pd
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from avalib import numerics, runs
from avalib.zemouri import experiment
from avalib.zemouri import trainer as zemouri
from avalib.zemouri.model import FrozenEncoding

HERE = Path(__file__).resolve().parent
SPLITS = HERE.parent / "results" / "00_datasets" / "splits.csv"
BATCH = 64
WORKERS = 32
GPU_FLOPS = 25e12          # assumed sustained float32 FLOP/s of one H100 on these convolutions
LAUNCH = 6e-6              # assumed seconds per operator on a GPU (launch and bookkeeping)


def _speed():
    spec = importlib.util.spec_from_file_location("zemouri_speed", HERE / "zemouri_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Count(TorchDispatchMode):
    """Counts the operators dispatched (what a GPU launches)."""

    def __init__(self):
        super().__init__()
        self.operators = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.operators += 1
        return func(*args, **(kwargs or {}))


def per_iteration(step) -> dict[str, float]:
    """One call of ``step`` (after one to warm up): its FLOPs and operators (its seconds come
    from ``zemouri_speed``'s timed throughput)."""
    step()
    with FlopCounterMode(display=False) as flops:
        step()
    with _Count() as count:
        step()
    return {"flops": float(flops.get_total_flops()), "operators": count.operators}


def steps(speed, repeats: int) -> dict[str, dict[str, float]]:
    """Step 1 (one mini-batch of Algorithm 1) and step 2 (one Algorithm 2 iteration, n_dis 5 and
    1), each timed over ``repeats`` calls here; FLOPs and operators of one."""
    images = torch.rand(512, 1, 28, 28)
    measured = {}
    model = speed.model_on("cpu", 2)
    labels = torch.randint(10, (BATCH,))
    parameters = [*model.encoder.parameters(), *model.classifier.parameters()]
    optimiser = torch.optim.Adam(parameters)
    step_1 = lambda: zemouri.algorithm1_iteration(model, images[:BATCH], labels, optimiser, parameters)
    measured["step 1"] = {**per_iteration(step_1), "seconds": BATCH / speed.step1_throughput("cpu", 2, repeats)}
    for n_dis in (5, 1):
        model = speed.model_on("cpu", 2, n_dis)
        for network in (model.encoder, model.classifier):
            network.eval().requires_grad_(False)
        encoding = FrozenEncoding(model.encoder, images)
        optimisers = zemouri.optimisers(model)
        generator = torch.Generator().manual_seed(0)
        step_2 = lambda: zemouri.algorithm2_iteration(model, images, encoding, torch.arange(BATCH), optimisers,
                                                      0.01, 0.1, generator, skip_zero_terms=True)
        measured[f"step 2, n_dis {n_dis}"] = {
            **per_iteration(step_2),
            "seconds": BATCH / speed.step2_throughput("cpu", 2, n_dis, 0.01, 0.1, True, images, repeats)}
    return measured


@functools.lru_cache(maxsize=1)
def _split_sizes() -> pd.Series:
    return pd.read_csv(SPLITS).set_index(["dataset", "split"])["images"]


def _train_images(dataset: str, train_size: int | None) -> int:
    available = int(_split_sizes()[(dataset, "train")])
    return available if train_size is None else min(train_size, available)


def units(profile: str) -> list[dict]:
    """Every step-1, warm-up and setting unit notebooks 02, 03 and 07 train at ``profile``, once
    (03 and 07 reuse 02's step-1 models, 07 03's MNIST settings), with its kind, iterations and
    chain (its step-1 model)."""
    found = {}
    for stem in ("02_latent_space", "03_beta_gamma_ablation", "07_beta_thresholds"):
        run = runs.run_class(stem).from_parameters(runs.resolve(stem, profile))
        if stem.startswith("02"):
            settings = [dataclasses.replace(run.base, dataset=d, latent_size=k, seed=s)
                        for s in run.seeds for d in run.datasets for k in run.latent_sizes]
            stages = [("step1", c) for c in settings]
        else:
            focus = [getattr(run, name, ()) for name in ("focus_seeds", "focus_n_dis", "focus_step2_steps")]
            settings = experiment.sweep_settings(run.base, run.datasets, run.latent_sizes, run.betas, run.gammas,
                                                 run.seeds, *focus, letters=run.claim_letters)
            stages = [(stage, c) for c in settings for stage in ("step1", "warmup", "setting")]
        for stage, config in stages:
            unit = config.stage(stage) if stage != "setting" else config
            if (stage, unit) in found:
                continue
            chain = config.stage("step1")
            if stage == "step1":
                work = ("step 1", _train_images(unit.dataset, unit.train_size) * unit.step1_epochs / BATCH)
            else:
                iterations = unit.warmup_steps if stage == "warmup" else unit.step2_steps
                work = (f"step 2, n_dis {5 if unit.n_dis == 5 else 1}", iterations)
            found[(stage, unit)] = {"kind": stage, "step": work[0], "iterations": work[1], "chain": chain}
    return list(found.values())


def estimate(profile: str, measured: dict) -> dict[str, float]:
    table = pd.DataFrame(units(profile))
    per = pd.DataFrame(measured).T
    for column in ("seconds", "flops", "operators"):
        table[column] = table["step"].map(per[column]) * table["iterations"]
    table["gpu_seconds"] = (table["flops"] / GPU_FLOPS).combine(table["operators"] * LAUNCH, max)
    setting = table["kind"] == "setting"
    starts = table[~setting].groupby("chain", sort=False)["seconds"].sum()
    longest = table[setting].groupby("chain", sort=False)["seconds"].max()
    chains = starts.add(longest, fill_value=0.0)        # a step-1 model, its warm-up, its longest setting
    cpu = table["seconds"].sum()
    return {"units": len(table), "cpu_hours_one_thread": cpu / 3600,
            "slurm_32_hours": max(cpu / WORKERS, chains.max()) / 3600,
            "gpu_hours": table["gpu_seconds"].sum() / 3600, "teraflops": table["flops"].sum() / 1e12}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny throughput runs: checks that the script runs")
    parser.add_argument("--output", type=Path, help="also write the table as CSV (e.g. results/paper_profile_estimate.csv)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    measured = steps(_speed(), 1 if args.smoke else 15)
    print(f"ESTIMATE (not a measurement) for notebooks 02 + 03 + 07, Zemouri's training units only; throughput "
          f"measured here: {numerics.cpu_model()}, numerics {numerics.mode()}, 1 thread")
    for step, row in measured.items():
        print(f"  {step}: {row['seconds'] * 1e3:.1f} ms per iteration here, {row['flops'] / 1e6:.1f} MFLOP, "
              f"{row['operators']:.0f} operators")
    print(f"  assumed for one GPU: {GPU_FLOPS / 1e12:.0f} TFLOP/s sustained, {LAUNCH * 1e6:.0f} us per operator")
    rows = {profile: estimate(profile, measured) for profile in ("default", "paper")}
    frame = pd.DataFrame(rows).T
    frame["units"] = frame["units"].astype(int)
    print(frame.round(2).to_string())
    if args.output:
        frame.round(2).assign(estimate="02 + 03 + 07 training units; throughput measured here, GPU assumed",
                              cpu_model=numerics.cpu_model(), gpu_flops_assumed=GPU_FLOPS,
                              gpu_seconds_per_operator_assumed=LAUNCH).rename_axis("profile").to_csv(args.output)
    print(f"paper / default, one thread here: {rows['paper']['cpu_hours_one_thread'] / rows['default']['cpu_hours_one_thread']:.1f}x")


if __name__ == "__main__":
    main()
