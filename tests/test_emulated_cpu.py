"""The cross-vendor check on one machine: the study's kernels and its two Nguyen smoke units run
natively and under qemu's user-mode emulation of an AMD EPYC (``qemu-x86_64 -cpu EPYC-Milan-v1``:
AMD's CPUID, so every library dispatches as on an AMD CPU, and each instruction computed by
software to its specification). A kernel whose bits differ there leans on an instruction whose
result the CPU model decides, or dispatches by vendor: MKL's vector square root and Adam's steps
that take it did (``avalib.kernels``). The Zemouri and comparison smoke units take minutes each
under emulation; ``make test`` on the other vendor checks them (``test_smoke_fingerprints.py``).
Debian's ``qemu-user`` provides qemu-x86_64 (``make test`` installs it where apt can)."""

import shutil
import subprocess
import sys

import pytest

from avalib import numerics

QEMU = shutil.which("qemu-x86_64")
EMULATED = [QEMU, "-cpu", "EPYC-Milan-v1"] if QEMU else []
pytestmark = [pytest.mark.skipif(not numerics.portable_supported()[0],
                                 reason="portable numerics needs an x86-64 CPU with AVX2 and FMA"),
              pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 is not installed (Debian: apt-get install qemu-user)")]

# A forward and backward pass through every network family of the study (grey 28 x 28 and colour
# 32 x 32), an Adam step, and the element-wise functions the trainers and scores run.
KERNELS = """
import avalib, torch
from avalib import kernels, numerics
from avalib.cache import fingerprint
from avalib.comparison.networks import DCGANEncoder, DCGANGenerator
from avalib.domain_classifier import DomainClassifier
from avalib.metrics import frechet_distance, precision_recall
from avalib.zemouri.networks import ZemouriDecoder, ZemouriDiscriminator, ZemouriEncoder
numerics.pin(1)
torch.manual_seed(0)
for channels, size in ((1, 28), (3, 32)):
    x = torch.rand(2, channels, size, size)
    networks = [ZemouriEncoder(channels, size, 2), ZemouriDecoder(channels, size, 2), DCGANGenerator(4, channels, size),
                ZemouriDiscriminator(channels, size), DCGANEncoder(channels, size, 1), DomainClassifier(channels, size, 10)]
    encoder, decoder, generator, discriminator, dcgan_encoder, judge = networks
    mean, log_variance, _ = encoder.encode(x)
    image = decoder(mean + kernels.sqrt(log_variance.exp()) * torch.randn_like(mean)) + generator(torch.rand(2, 4))
    loss = (discriminator(image).sigmoid().log1p().sum() + dcgan_encoder(image).tanh().sum()
            + judge(x).log_softmax(1).sum() + torch.nn.functional.binary_cross_entropy(image.clamp(0, 1), x))
    loss.backward()
    parameters = [p for network in networks for p in network.parameters()]
    kernels.adam(parameters, 1e-3).step()
    print(channels, "networks", fingerprint([p.detach() for p in parameters]))
features = torch.randn(200, 16)
print("scores", frechet_distance(features, features * 1.1 + 0.1), precision_recall(features, features + 0.3))
"""


def _run(command, **variables):
    environment = numerics.unpinned_environment(AVALIB_NUMERICS="portable", AVALIB_NO_CACHE="1", **variables)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)


def test_every_kernel_gives_the_same_bits_on_an_emulated_amd_cpu():
    native = _run([sys.executable, "-c", KERNELS])
    emulated = _run([*EMULATED, sys.executable, "-c", KERNELS])
    assert native.returncode == 0 and emulated.returncode == 0, native.stderr[-2000:] + emulated.stderr[-2000:]
    assert native.stdout.count("networks") == 2
    assert emulated.stdout == native.stdout


def test_the_nguyen_smoke_units_give_the_committed_fingerprints_on_an_emulated_amd_cpu():
    done = _run([*EMULATED, sys.executable, "-m", "avalib.smoke_units",
                 "--units", "nguyen_exact_float32,nguyen_reference_float64"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "all 2 units bit for bit the same as committed" in done.stdout
