"""What portable numerics costs: Zemouri (2020) training throughput (images/s, one torch thread)
under ``AVALIB_NUMERICS=native`` (the machine's fastest kernels, channels-last convolutions) and
``portable`` (ATen at AVX2, MKL's CNR branch COMPATIBLE, oneDNN's jit:avx2 convolutions on
contiguous tensors; ``avalib.numerics``), each measured in a fresh process (the variables must be
set before torch's first operator), all in one run, with their ratios; and portable with oneDNN
off (every convolution ATen's im2col + MKL GEMM), the path that relies on MKL's documented
cross-vendor mode alone (not a mode: it is what the kernel analysis of ``avalib.numerics`` saves).

Run: ``python benchmarks/numerics_speed.py`` (``--smoke``: a tiny size that checks the script
runs; its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from avalib import numerics

MODES = ("native", "portable")
NO_ONEDNN_VARIABLE = "AVALIB_BENCHMARK_NO_ONEDNN"    # the third column: portable, oneDNN off


def child(smoke: bool) -> None:
    """Print this process's step-1 and step-2 throughput as ``name value`` lines."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import torch
    import zemouri_speed as speed

    numerics.pin(1)
    if os.environ.get(NO_ONEDNN_VARIABLE):
        torch.backends.mkldnn.enabled = False
    repeats = 1 if smoke else 15
    images = torch.rand(256 if smoke else 15_000, 1, 28, 28)
    print("step1", speed.step1_throughput("cpu", 2, repeats))
    print("step2", speed.step2_throughput("cpu", 2, 1, 0.01, 0.1, True, images, repeats))
    print("capability", torch.backends.cpu.get_cpu_capability())


def measured(mode: str, smoke: bool, no_onednn: bool = False) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in numerics.PORTABLE_ENVIRONMENT and k != NO_ONEDNN_VARIABLE}
    environment[numerics.NUMERICS_VARIABLE] = mode
    if no_onednn:
        environment[NO_ONEDNN_VARIABLE] = "1"
    done = subprocess.run([sys.executable, __file__, "--child", *(["--smoke"] if smoke else [])],
                          env=environment, capture_output=True, text=True, check=True)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny size: checks that the script runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each, medians shown (default 3)")
    parser.add_argument("--output", type=Path, help="also write the table as CSV (with the CPU model)")
    args = parser.parse_args()
    if args.child:
        child(args.smoke)
        return
    if not numerics.portable_supported()[0]:
        print(f"only native here: {numerics.portable_supported()[1]}")
        return
    # rounds of the three, interleaved, each value the median over rounds: on a shared 2-core
    # machine one measurement moves by a fifth from one minute to the next
    rounds = [{**{mode: measured(mode, args.smoke) for mode in MODES},
               "no_onednn": measured("portable", args.smoke, no_onednn=True)}
              for _ in range(1 if args.smoke else args.rounds)]
    rows = {key: {name: (rounds[0][key][name] if name == "capability" else
                         str(statistics.median(float(r[key][name]) for r in rounds)))
                  for name in rounds[0][key]} for key in rounds[0]}
    print("Zemouri K_z = 2, batch 64, 1 thread; images/s (higher is better), each in a fresh process, "
          f"median of {len(rounds)}")
    print(f"{'':<30}{'native':>9}{'portable':>10}{'ratio':>8}{'portable, no oneDNN':>21}{'ratio':>8}")
    print(f"{'ATen CPU capability':<30}{rows['native']['capability']:>9}{rows['portable']['capability']:>10}"
          f"{'':>8}{rows['no_onednn']['capability']:>21}")
    table = []
    for name, label in (("step1", "step 1 (Algorithm 1)"), ("step2", "step 2 (Algorithm 2), n_dis 1")):
        native, portable, no_onednn = (float(rows[key][name]) for key in ("native", "portable", "no_onednn"))
        print(f"{label:<30}{native:>9.0f}{portable:>10.0f}{portable / native:>7.2f}x"
              f"{no_onednn:>21.0f}{no_onednn / native:>7.2f}x")
        table.append({"measure": label, "native_images_per_s": round(native),
                      "portable_images_per_s": round(portable), "portable_vs_native": round(portable / native, 2),
                      "no_onednn_images_per_s": round(no_onednn),
                      "no_onednn_vs_native": round(no_onednn / native, 2), "cpu_model": numerics.cpu_model()})
    if args.output:
        import pandas as pd

        pd.DataFrame(table).to_csv(args.output, index=False)


if __name__ == "__main__":
    main()
