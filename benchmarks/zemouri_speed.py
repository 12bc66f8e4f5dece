"""Training throughput (images/s) of Zemouri (2020) at the networks of notebooks 02/03 (28 x 28,
widths (8, 16, 32)) on this CPU, one torch thread: step 1 (Algorithm 1) and step 2 (Algorithm 2)
before and after its three savings, measured in one run, with their ratio:

- the frozen step-1 encoder's outputs of the real images (posterior and the phi_i of eq. 9) are
  computed once for all iterations (``FrozenEncoding``) instead of for every mini-batch;
- a term of eq. 8 whose weight is 0 is computed without its graph (the same update);
- channels-last memory format for every network (the same computation, up to rounding; faster
  convolutions on this CPU).

Step-2 images/s counts the decoder's mini-batch (64 images per Algorithm 2 repeat). The
one-time cost of the precomputation (seconds for the training subset) is printed too.
Run: ``python benchmarks/zemouri_speed.py`` (``--smoke``: a tiny size that checks the script runs,
its numbers mean nothing; ``make test`` runs it so); a GPU row is added where torch.cuda.is_available().
"""

from __future__ import annotations

import argparse
import time

import torch

from avalib.zemouri import trainer as zemouri
from avalib.zemouri.model import FrozenEncoding, ZemouriModel

BATCH = 64
SETTINGS = ((0.0, 0.0), (0.01, 0.0), (0.01, 0.1))      # (beta, gamma): warm-up, gamma = 0, both


def model_on(device: str, latent: int, n_dis: int = 1, after: bool = True) -> ZemouriModel:
    """The networks as the trainer builds them (channels-last under native numerics, contiguous
    under portable), or as before (contiguous)."""
    model = ZemouriModel.build(zemouri.ZemouriConfig(latent_size=latent, n_dis=n_dis),
                               channels=1, size=28, classes=10)
    return model.to(device=device) if after else model.to(device=device,
                                                          memory_format=torch.contiguous_format)


def throughput(step, device: str, repeats: int) -> float:
    for _ in range(min(repeats, 3)):                # warm-up (allocator, cuDNN autotuning)
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return BATCH * repeats / (time.perf_counter() - start)


def step1_throughput(device: str, latent: int, repeats: int) -> float:
    model = model_on(device, latent)
    images, labels = torch.rand(BATCH, 1, 28, 28, device=device), torch.randint(10, (BATCH,), device=device)
    parameters = [*model.encoder.parameters(), *model.classifier.parameters()]
    optimiser = torch.optim.Adam(parameters)
    return throughput(lambda: zemouri.algorithm1_iteration(model, images, labels, optimiser, parameters),
                      device, repeats)


def step2_throughput(device: str, latent: int, n_dis: int, beta: float, gamma: float,
                     after: bool, images: torch.Tensor, repeats: int) -> float:
    model = model_on(device, latent, n_dis, after)
    for network in (model.encoder, model.classifier):
        network.eval().requires_grad_(False)
    encoding = FrozenEncoding(model.encoder, images, precompute=after)
    optimisers = zemouri.optimisers(model)
    generator = torch.Generator().manual_seed(0)
    batch = torch.arange(BATCH)
    return throughput(lambda: zemouri.algorithm2_iteration(
        model, images, encoding, batch, optimisers, beta, gamma, generator, skip_zero_terms=after), device, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny size: checks that the script runs")
    args = parser.parse_args()
    repeats = 1 if args.smoke else 15
    torch.set_num_threads(1)
    images = torch.rand(256 if args.smoke else 15_000, 1, 28, 28)
    print(f"torch {torch.__version__}, CPU, 1 thread; images/s (higher is better); batch {BATCH}")
    start = time.perf_counter()
    FrozenEncoding(model_on("cpu", 2).encoder.eval().requires_grad_(False), images)
    print(f"precomputing the frozen encoder's outputs of {len(images):,} images: "
          f"{time.perf_counter() - start:.1f} s once per step-1 model and process")
    print(f"step 1, K_z = 2: {step1_throughput('cpu', 2, repeats):.0f} images/s")
    print(f"{'step 2':<8}{'K_z':>4}{'n_dis':>6}{'beta':>7}{'gamma':>7}{'before':>9}{'after':>9}{'ratio':>8}")
    for n_dis in (1,) if args.smoke else (1, 5):
        for beta, gamma in SETTINGS[:1] if args.smoke else SETTINGS:
            before = step2_throughput("cpu", 2, n_dis, beta, gamma, False, images, repeats)
            after = step2_throughput("cpu", 2, n_dis, beta, gamma, True, images, repeats)
            print(f"{'':<8}{2:>4}{n_dis:>6}{beta:>7}{gamma:>7}{before:>9.0f}{after:>9.0f}{after / before:>7.2f}x")
    if torch.cuda.is_available():
        gpu = images[:4096].cuda()
        print(f"{torch.cuda.get_device_name(0)}, K_z = 100, n_dis = 5, beta 0.01, gamma 0.1: "
              f"{step2_throughput('cuda', 100, 5, 0.01, 0.1, True, gpu, repeats):.0f} images/s")
    else:
        print("no GPU here: a GPU row is printed only where torch.cuda.is_available()")


if __name__ == "__main__":
    main()
