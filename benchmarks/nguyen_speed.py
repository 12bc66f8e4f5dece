"""Wall time of Nguyen et al. (2024) Tables 1-2, measured in one run:

1. the reference protocol's 133 cells (7 models x 19 learning rates, one seed) with every network
   at its full width (100 identical hidden units) vs at its true width (one unit counted 100
   times, ``ChannelMLP``'s multiplicity) - the same numbers, checked here too;
2. the paper and exact protocols (autograd) at several run-chunk sizes on a few learning rates:
   all runs of a model as one tensor program, chunks of k runs, and one run at a time (k = 1).

The reference part runs on one thread (the target: the 133 cells in under 2 s on one core); the
autograd part on ``--threads`` (notebook 01 runs alone, on both cores).

    .venv/bin/python benchmarks/nguyen_speed.py [--threads 2] [--models VAE AVA5] [--rates 4] [--chunks 4 2 1]
    .venv/bin/python benchmarks/nguyen_speed.py --smoke    # seconds: that it runs (make test), no timing

The authors report about an hour per cell for their Java code.
"""

import argparse
import dataclasses
import time

import torch

from avalib import nguyen
from avalib.data import load_dataset


def time_models(images, config, models) -> tuple[float, dict]:
    start = time.perf_counter()
    results = {model: nguyen.train(model, images, config, show_progress=False) for model in models}
    return time.perf_counter() - start, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads, autograd part")
    parser.add_argument("--models", nargs="+", default=["VAE", "AVA5"],
                        help="models timed under the paper and exact protocols")
    parser.add_argument("--rates", type=int, default=4, help="learning rates (runs) per model")
    parser.add_argument("--chunks", nargs="+", type=int, default=[4, 2, 1],
                        help="run-chunk sizes to time (runs per tensor program; 1 = one at a time)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny size (1 reference learning rate, VAE, 1 paper/exact run, chunks 1): "
                             "checks that the script runs; its times mean nothing")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.rates, args.chunks = ["VAE"], 1, [1]
    images = load_dataset("orbit").images
    print(f"Nguyen et al. (2024), torch {torch.__version__}")
    torch.set_num_threads(1)

    config = nguyen.NguyenConfig(protocol="reference", seeds=(0,))
    if args.smoke:
        config = dataclasses.replace(config, learning_rates=config.learning_rates[:1])
    cells = len(nguyen.VARIANTS) * len(config.learning_rates)
    true, true_results = time_models(images, config, nguyen.VARIANTS)
    full, full_results = time_models(images, dataclasses.replace(config, true_width=False),
                                     nguyen.VARIANTS)
    largest = max(float((true_results[m].balance_metric - full_results[m].balance_metric).abs().max())
                  for m in nguyen.VARIANTS)
    print(f"\nreference protocol, {cells} cells, float64, one thread:")
    print(f"  full width (100 hidden units):  {full:7.1f} s")
    print(f"  true width (1 unit x 100):      {true:7.1f} s   speed-up {full / true:.1f}x "
          f"(largest BM difference {largest:.1e})")

    torch.set_num_threads(args.threads)
    for protocol in ("paper", "exact"):
        base = nguyen.NguyenConfig(protocol=protocol, seeds=(0,), dtype="float32",
                                   learning_rates=nguyen.PAPER_LEARNING_RATES[9:9 + args.rates])
        runs = len(base.learning_rates)
        print(f"\n{protocol} protocol, {len(args.models)} models x {runs} runs, float32, "
              f"{args.threads} threads:")
        times = {}
        for chunk in sorted(set(args.chunks), reverse=True):
            times[chunk] = time_models(images, dataclasses.replace(base, run_chunk=chunk),
                                       args.models)[0]
        one = times.get(1)
        for chunk, seconds in times.items():
            label = "one run at a time" if chunk == 1 else f"chunks of {chunk} runs"
            ratio = f"   {one / seconds:.2f}x one at a time" if one else ""
            print(f"  {label:22s} {seconds:7.1f} s{ratio}")
        best = min(times, key=times.get)
        print(f"  fastest: run_chunk={best}")


if __name__ == "__main__":
    main()
