"""Wall time of the 133 cells of Nguyen et al. (2024) Tables 1-2 (7 models x 19 learning rates,
one seed), batched as one tensor program vs the same cells trained one at a time.

    .venv/bin/python benchmarks/nguyen_speed.py [--protocol reference] [--threads 2] [--dtype float64]

The authors report about an hour per cell for their Java code.
"""

import argparse
import dataclasses
import time

import torch

from avalib import nguyen
from avalib.data import load_dataset


def time_cells(images, config, batched: bool) -> float:
    start = time.perf_counter()
    for model in nguyen.VARIANTS:
        if batched:
            nguyen.train(model, images, config, progress=False)
        else:
            for rate in config.learning_rates:
                nguyen.train(model, images, dataclasses.replace(config, learning_rates=(rate,)),
                             progress=False)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="reference", choices=nguyen.PROTOCOLS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = load_dataset("orbit").images
    config = nguyen.NguyenConfig(protocol=args.protocol, repeats=1, dtype=args.dtype)
    cells = len(nguyen.VARIANTS) * len(config.learning_rates)
    batched = time_cells(images, config, batched=True)
    single = time_cells(images, config, batched=False)
    print(f"Nguyen et al. (2024), {cells} cells, protocol={args.protocol}, dtype={args.dtype}, "
          f"threads={args.threads}, torch {torch.__version__}")
    print(f"  batched (19 rates as one tensor program): {batched:7.1f} s  ({batched / cells:.2f} s/cell)")
    print(f"  one cell at a time:                       {single:7.1f} s  ({single / cells:.2f} s/cell)")
    print(f"  speed-up: {single / batched:.1f}x")


if __name__ == "__main__":
    main()
