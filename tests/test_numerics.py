"""Portable numerics: the variables reach a fresh process, take effect there (ATen's capability,
MKL's CNR branch in its verbose log, oneDNN's convolution kernels in its verbose log), and a
process where they did not is refused before it trains."""

import subprocess
import sys

import pytest

from avalib import numerics

pytestmark = pytest.mark.skipif(not numerics.portable_supported()[0],
                                reason="portable numerics needs an x86-64 CPU with AVX2 and FMA")

WORK = """
import avalib, torch
from avalib import numerics
numerics.pin(1)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 26 * 26, 3))
loss = net(torch.rand(8, 1, 28, 28)).square().mean()
loss.backward()
print("capability", torch.backends.cpu.get_cpu_capability())
print("digest", __import__("avalib.cache", fromlist=["x"]).fingerprint(net))
"""

# A forward and backward pass through every convolutional network of the study, on grey 28 x 28
# and colour 32 x 32 images.
EVERY_NETWORK = WORK + """
from avalib.comparison.networks import DCGANEncoder, DCGANGenerator
from avalib.domain_classifier import DomainClassifier
from avalib.zemouri.networks import ZemouriDecoder, ZemouriDiscriminator, ZemouriEncoder
for channels, size in ((1, 28), (3, 32)):
    x = torch.rand(8, channels, size, size)
    mean, _, _ = ZemouriEncoder(channels, size, 2).encode(x)
    image = ZemouriDecoder(channels, size, 2)(mean)
    image = DCGANGenerator(4, channels, size)(torch.rand(8, 4)) + image
    loss = ZemouriDiscriminator(channels, size)(image).sum() + DCGANEncoder(channels, size, 1)(image).sum()
    loss = loss + DomainClassifier(channels, size, 10)(x).sum()
    loss.backward()
"""


def _run(code, **variables):
    return subprocess.run([sys.executable, "-c", code], env=numerics.unpinned_environment(**variables),
                          capture_output=True, text=True)


def test_portable_takes_effect_in_a_fresh_process():
    done = _run(WORK, AVALIB_NUMERICS="portable", MKL_VERBOSE="1", ONEDNN_VERBOSE="1")
    assert done.returncode == 0, done.stderr
    assert "capability AVX2" in done.stdout
    gemms = [line for line in done.stdout.splitlines() if line.startswith("MKL_VERBOSE") and "GEMM" in line]
    assert gemms and all("CNR:COMPATIBLE" in line and "NThr:1" in line for line in gemms)



def test_portable_convolutions_run_only_the_kernels_it_names():
    """Every oneDNN primitive a portable process runs is one of ``ONEDNN_KERNELS`` (convolutions
    configured by shape and ISA alone) or a float32 reorder; never a cache-sized brgemm kernel."""
    done = _run(EVERY_NETWORK, AVALIB_NUMERICS="portable", ONEDNN_VERBOSE="1")
    assert done.returncode == 0, done.stderr
    kernels = numerics.onednn_primitives(done.stdout)
    convolutions = {kernel for kind, kernel in kernels if kind in ("convolution", "deconvolution")}
    assert convolutions and convolutions <= set(numerics.ONEDNN_KERNELS), kernels
    assert {kind for kind, _ in kernels} <= {"convolution", "deconvolution", "reorder"}, kernels


def test_portable_is_the_same_bits_in_every_fresh_process():
    first, second = (_run(WORK, AVALIB_NUMERICS="portable") for _ in range(2))
    digests = [line for done in (first, second) for line in done.stdout.splitlines() if line.startswith("digest")]
    assert len(digests) == 2 and digests[0] == digests[1]


def test_a_process_that_ran_torch_first_is_refused():
    """torch fixes its CPU capability at its first operator. The process starts at ATen's lowest
    level (``default``), a level no CPU selects by itself as AVX2, so on every CPU the capability
    torch fixed before ``avalib`` set ``avx2`` is not AVX2. (Started without the variable, a CPU
    whose best level is AVX2 would fix AVX2 and compute portably anyway.)"""
    code = "import torch; torch.ones(3).sum(); import avalib; from avalib import numerics; numerics.pin(1)"
    done = _run(code, AVALIB_NUMERICS="portable", ATEN_CPU_CAPABILITY="default")
    assert done.returncode != 0 and "NumericsError" in done.stderr and "CPU capability" in done.stderr


def test_portable_refuses_two_threads_and_native_allows_them(monkeypatch):
    monkeypatch.setenv(numerics.NUMERICS_VARIABLE, "portable")
    with pytest.raises(numerics.NumericsError, match="threads=2"):
        numerics.pin(2)
    monkeypatch.setenv(numerics.NUMERICS_VARIABLE, "native")
    assert numerics.describe() == {"numerics": "native"}


def test_an_unknown_mode_is_named(monkeypatch):
    monkeypatch.setenv(numerics.NUMERICS_VARIABLE, "fast")
    with pytest.raises(ValueError, match="AVALIB_NUMERICS='fast' is unknown; allowed: portable, native"):
        numerics.requested()
