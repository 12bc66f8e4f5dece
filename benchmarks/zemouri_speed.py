"""Training throughput (images/s) of Zemouri (2020) step 1 (Algorithm 1) and step 2
(Algorithm 2, n_dis = 1) at the networks of notebooks 02/03 (28 x 28, widths (8, 16, 32)), on the
CPU at 1 and 2 threads, and on a GPU when one is present. Run: ``python benchmarks/zemouri_speed.py``.
"""

from __future__ import annotations

import time

import torch

from avalib.zemouri import trainer as zemouri
from avalib.zemouri.model import ZemouriModel


def model_on(device: str, latent: int) -> ZemouriModel:
    model = ZemouriModel.build(zemouri.ZemouriConfig(latent_size=latent), channels=1, size=28, classes=10)
    for network in (model.encoder, model.classifier, model.decoder, model.discriminator):
        network.to(device)
    return model


def throughput(step, batch: int, device: str, repeats: int = 20) -> float:
    for _ in range(3):                              # warm-up (allocator, cuDNN autotuning)
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - start)


def measure(device: str, latent: int, batch: int) -> tuple[float, float]:
    model = model_on(device, latent)
    images = torch.rand(4096, 1, 28, 28, device=device)
    labels = torch.randint(10, (batch,), device=device)
    step1_parameters = [*model.encoder.parameters(), *model.classifier.parameters()]
    step1_optimiser = torch.optim.Adam(step1_parameters)
    step1 = throughput(lambda: zemouri.algorithm1_iteration(model, images[:batch], labels,
                                                            step1_optimiser, step1_parameters),
                       batch, device)
    for network in (model.encoder, model.classifier):
        network.eval().requires_grad_(False)
    optimisers = zemouri.optimisers(model)
    generator = torch.Generator().manual_seed(0)
    batch_index = torch.arange(batch)
    step2 = throughput(lambda: zemouri.algorithm2_iteration(
        model, images, batch_index, optimisers, 0.01, 0.1, generator), batch, device)
    return step1, step2


def main() -> None:
    print(f"torch {torch.__version__}; images/s (higher is better); batch 64 unless stated")
    print(f"{'device':<28}{'Kz':>5}{'batch':>7}{'step 1':>10}{'step 2':>10}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for latent in (2, 100):
            step1, step2 = measure("cpu", latent, 64)
            print(f"{f'cpu, {threads} thread(s)':<28}{latent:>5}{64:>7}{step1:>10.0f}{step2:>10.0f}")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        for batch in (64, 512):
            step1, step2 = measure("cuda", 100, batch)
            print(f"{name[:27]:<28}{100:>5}{batch:>7}{step1:>10.0f}{step2:>10.0f}")
    else:
        print("no GPU here: GPU rows are printed only where torch.cuda.is_available()")


if __name__ == "__main__":
    main()
